{{ config(enabled=var('engagement_using_rev', true)) }}
-- Per-person poll answers, from the polls array of each session. Rev repeats a person's
-- answer on every session they opened: keep the latest answer per person and poll.
with answers as (
    select
        sessions.source_event_id,
        sessions.run_number,
        sessions.email,
        sessions.username,
        {{ engagement_json_text('poll', 'poll_id') }} as poll_id,
        {{ engagement_json_text('poll', 'question') }} as prompt_text,
        cast(replace({{ engagement_json_text('poll', 'when') }}, 'Z', '') as timestamp) as occurred_at
    from {{ ref('stg_rev__attendee_sessions') }} as sessions
    {{ engagement_unnest_json_array('sessions.polls', 'poll') }}
    where sessions.polls is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_event_id, run_number, coalesce(email, username), poll_id
            order by occurred_at desc
        ) as answer_rank
    from answers
)

select
    {{ engagement_key(["'rev-poll'", 'source_event_id', 'run_number', 'coalesce(email, username)', 'poll_id']) }}
        as source_interaction_id,
    source_event_id,
    run_number,
    email,
    username,
    poll_id,
    prompt_text,
    occurred_at
from ranked
where answer_rank = 1
