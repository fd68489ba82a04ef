{{ config(enabled=var('engagement_using_rev', true)) }}
-- A snapshot of a running webcast (no end time): only used to resolve usernames.
select
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    session_id,
    {{ engagement_normalize_email('email') }} as email,
    nullif(lower(trim(username)), '') as username,
    full_name as display_name,
    start_time as joined_at
from {{ source('rev', 'realtime_attendees') }}
{{ engagement_live_rows(source('rev', 'realtime_attendees')) }}
