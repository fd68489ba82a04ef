{{ config(enabled=var('engagement_using_rev', true)) }}
select
    poll_id,
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    cast(total_responses as bigint) as total_responses
from {{ source('rev', 'poll_results') }}
{{ engagement_live_rows(source('rev', 'poll_results')) }}
