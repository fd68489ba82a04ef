{{ config(enabled=var('engagement_using_webcasts', true)) }}
select
    'webcasts' as source_system,
    cast(ei as varchar) as source_event_id,
    title as event_title,
    sched_start as scheduled_start_at,
    sched_end as scheduled_end_at,
    timezone as event_timezone,
    expired
from {{ source('webcasts', 'events') }}
{{ engagement_live_rows(source('webcasts', 'events')) }}
