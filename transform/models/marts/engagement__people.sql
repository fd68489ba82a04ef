-- One row per person: every identity sharing a person_key, across vendors.
select
    person_key,
    max(email) as email,  -- NULL unless var engagement_keep_emails is true
    max(email_domain) as email_domain,
    count(distinct source_system) as source_systems,
    {{ engagement_concat_present(',', [
        "max(case when source_system = 'cast' then 'cast' end)",
        "max(case when source_system = 'webcasts' then 'webcasts' end)",
        "max(case when source_system = 'rev' then 'rev' end)"]) }} as source_system_list,
    min(case when resolution = 'username_only' then 1 else 0 end) = 1 as is_username_only,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at
from {{ ref('engagement__person_identities') }}
group by person_key
