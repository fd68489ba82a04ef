{{ config(enabled=var('engagement_using_rev', true)) }}
-- Chat comments carry a username, never an email (user_id differs on every comment).
select
    comment_id as source_interaction_id,
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    nullif(lower(trim(username)), '') as username,
    date as occurred_at,
    coalesce(hidden, false) as is_hidden
from {{ source('rev', 'comments') }}
{{ engagement_live_rows(source('rev', 'comments')) }}
