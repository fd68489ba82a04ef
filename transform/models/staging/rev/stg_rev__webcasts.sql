{{ config(enabled=var('engagement_using_rev', true)) }}
select
    'rev' as source_system,
    id as source_event_id,
    title as event_title,
    start_date as scheduled_start_at,
    end_date as scheduled_end_at,
    status as vendor_status,
    listing_type,
    cast(estimated_attendees as bigint) as estimated_attendees
from {{ source('rev', 'webcasts') }}
{{ engagement_live_rows(source('rev', 'webcasts')) }}
