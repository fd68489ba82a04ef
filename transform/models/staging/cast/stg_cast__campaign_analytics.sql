{{ config(enabled=var('engagement_using_cast', true)) }}
-- Cast's own counters per campaign (vendor-reported, for reconciliation and comparison).
select
    generation_id as source_event_id,
    cast(unique_view as bigint) as unique_view,
    cast(total_view as bigint) as total_view,
    cast(unique_play as bigint) as unique_play,
    cast(total_play as bigint) as total_play,
    cast(unique_action as bigint) as unique_action,
    cast(total_action as bigint) as total_action,
    cast(unique_feedback as bigint) as unique_feedback,
    cast(total_feedback as bigint) as total_feedback
from {{ source('cast', 'campaign_analytics') }}
{{ engagement_live_rows(source('cast', 'campaign_analytics')) }}
