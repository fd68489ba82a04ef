{{ config(enabled=var('engagement_using_rev', true)) }}
-- Emoji reactions are counts per time bucket: no person, aggregate only.
select
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    cast("count" as bigint) as reactions
from {{ source('rev', 'reactions') }}
{{ engagement_live_rows(source('rev', 'reactions')) }}
