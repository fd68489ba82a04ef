{{ config(enabled=var('engagement_using_webcasts', true)) }}
select
    question_key as source_interaction_id,
    cast(ei as varchar) as source_event_id,
    {{ engagement_normalize_email('email') }} as email,
    asked_at as occurred_at,
    -- An empty answer is no answer (target-duckdb lands it as NULL, target-postgres as '').
    nullif(trim(answer), '') is not null as is_answered
from {{ source('webcasts', 'audience_questions') }}
{{ engagement_live_rows(source('webcasts', 'audience_questions')) }}
