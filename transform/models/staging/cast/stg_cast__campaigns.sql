{{ config(enabled=var('engagement_using_cast', true)) }}
-- One row per campaign (a generation of a cast): the event of Cast.
select
    'cast' as source_system,
    generation_id as source_event_id,
    cast(id as varchar) as campaign_id,
    cast(cast_id as varchar) as cast_id,
    -- target-duckdb lands an empty text as NULL, target-postgres as '': both mean none.
    coalesce(nullif(trim(name), ''), 'Campaign ' || cast(id as varchar)) as event_title,
    -- Cast campaigns are sent, then watched at any time: the send is the start.
    coalesce(delivery_date, scheduled_delivery_date, created_at) as scheduled_start_at,
    status as vendor_status,
    cast(total_count as bigint) as recipient_count
from {{ source('cast', 'campaigns') }}
{{ engagement_live_rows(source('cast', 'campaigns')) }}
