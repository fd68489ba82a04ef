-- How many of the interactions that name a Rev username (not an email) resolved to a person
-- with an email through Rev's own sessions: one row per source system and interaction type.
select
    source_system,
    interaction_type,
    count(*) as interactions,
    sum(case when identity_resolution = 'username_via_sessions' then 1 else 0 end)
        as interactions_resolved,
    sum(case when identity_resolution = 'username_only' then 1 else 0 end)
        as interactions_unresolved,
    count(distinct person_key) as people,
    count(distinct case when identity_resolution = 'username_via_sessions' then person_key end)
        as people_resolved
from {{ ref('engagement__interactions') }}
where identity_resolution <> 'email'
group by source_system, interaction_type
