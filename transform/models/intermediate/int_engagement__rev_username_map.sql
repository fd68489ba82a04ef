-- Rev usernames resolved to an email through Rev's own sessions (post-event and real-time),
-- tenant-wide: usernames are unique per tenant. A username seen with two emails stays
-- unresolved (email NULL) instead of being guessed.
{% if var('engagement_using_rev', true) %}
with seen as (
    select username, email from {{ ref('stg_rev__attendee_sessions') }}
    where username is not null and email is not null
    union
    select username, email from {{ ref('stg_rev__realtime_attendees') }}
    where username is not null and email is not null
)

select
    username,
    case when count(distinct email) = 1 then min(email) end as email,
    count(distinct email) as emails_seen
from seen
group by username
{% else %}
select cast(null as varchar) as username, cast(null as varchar) as email, 0 as emails_seen
where 1 = 0
{% endif %}
