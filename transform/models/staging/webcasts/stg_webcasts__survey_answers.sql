{{ config(enabled=var('engagement_using_webcasts', true)) }}
-- Survey answers; surveys named like var engagement_webcasts_poll_pattern are polls.
select
    answer_key as source_interaction_id,
    cast(ei as varchar) as source_event_id,
    {{ engagement_normalize_email('email') }} as email,
    answered_at as occurred_at,
    survey || ': ' || question as prompt_text,
    survey like '{{ var("engagement_webcasts_poll_pattern") }}' as is_poll
from {{ source('webcasts', 'audience_survey_answers') }}
{{ engagement_live_rows(source('webcasts', 'audience_survey_answers')) }}
