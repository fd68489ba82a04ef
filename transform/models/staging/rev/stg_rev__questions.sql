{{ config(enabled=var('engagement_using_rev', true)) }}
-- Q&A carries the asker's username (user_name), never an email.
select
    question_id as source_interaction_id,
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    nullif(lower(trim(user_name)), '') as username,
    when_asked as occurred_at,
    nullif(trim(reply), '') is not null as is_answered
from {{ source('rev', 'questions') }}
{{ engagement_live_rows(source('rev', 'questions')) }}
