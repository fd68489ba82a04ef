-- One row per person-level interaction. Aggregate-only facts (Rev reactions and poll
-- totals, Cast's counters) are not here: they sit beside ours in engagement__event_metrics.
with
{% if var('engagement_using_cast', true) %}
cast_rows as (
    select
        source_interaction_id,
        'cast' as source_system,
        source_event_id,
        cast(null as bigint) as run_number,
        {{ engagement_person_key('email') }} as person_key,
        'email' as identity_resolution,
        case event_type when 'action' then 'click' else event_type end as interaction_type,
        occurred_at,
        cast(null as varchar) as prompt_text,
        cast(null as varchar) as prompt_id,
        cast(null as boolean) as is_answered,
        false as is_hidden
    from {{ ref('stg_cast__analytics_events') }}
),
{% endif %}
{% if var('engagement_using_webcasts', true) %}
webcasts_rows as (
    select
        source_interaction_id,
        'webcasts' as source_system,
        source_event_id,
        cast(null as bigint) as run_number,
        {{ engagement_person_key('email') }} as person_key,
        'email' as identity_resolution,
        'question' as interaction_type,
        occurred_at,
        cast(null as varchar) as prompt_text,
        cast(null as varchar) as prompt_id,
        is_answered,
        false as is_hidden
    from {{ ref('stg_webcasts__questions') }}
    union all
    select
        source_interaction_id,
        'webcasts' as source_system,
        source_event_id,
        cast(null as bigint) as run_number,
        {{ engagement_person_key('email') }} as person_key,
        'email' as identity_resolution,
        case when is_poll then 'poll_answer' else 'survey_answer' end as interaction_type,
        occurred_at,
        prompt_text,
        prompt_text as prompt_id,
        cast(null as boolean) as is_answered,
        false as is_hidden
    from {{ ref('stg_webcasts__survey_answers') }}
),
{% endif %}
{% if var('engagement_using_rev', true) %}
rev_rows as (
    select
        q.source_interaction_id,
        'rev' as source_system,
        q.source_event_id,
        q.run_number,
        {{ engagement_rev_person('cast(null as varchar)', 'q.username', 'usernames') }} as person_key,
        {{ engagement_rev_resolution('cast(null as varchar)', 'usernames') }} as identity_resolution,
        'question' as interaction_type,
        q.occurred_at,
        cast(null as varchar) as prompt_text,
        cast(null as varchar) as prompt_id,
        q.is_answered,
        false as is_hidden
    from {{ ref('stg_rev__questions') }} as q
    left join {{ ref('int_engagement__rev_username_map') }} as usernames
        on q.username = usernames.username
    union all
    select
        c.source_interaction_id,
        'rev' as source_system,
        c.source_event_id,
        c.run_number,
        {{ engagement_rev_person('cast(null as varchar)', 'c.username', 'usernames') }} as person_key,
        {{ engagement_rev_resolution('cast(null as varchar)', 'usernames') }} as identity_resolution,
        'comment' as interaction_type,
        c.occurred_at,
        cast(null as varchar) as prompt_text,
        cast(null as varchar) as prompt_id,
        cast(null as boolean) as is_answered,
        c.is_hidden
    from {{ ref('stg_rev__comments') }} as c
    left join {{ ref('int_engagement__rev_username_map') }} as usernames
        on c.username = usernames.username
    union all
    select
        p.source_interaction_id,
        'rev' as source_system,
        p.source_event_id,
        p.run_number,
        {{ engagement_rev_person('p.email', 'p.username', 'usernames') }} as person_key,
        {{ engagement_rev_resolution('p.email', 'usernames') }} as identity_resolution,
        'poll_answer' as interaction_type,
        p.occurred_at,
        p.prompt_text,
        p.poll_id as prompt_id,
        cast(null as boolean) as is_answered,
        false as is_hidden
    from {{ ref('stg_rev__poll_responses') }} as p
    left join {{ ref('int_engagement__rev_username_map') }} as usernames
        on p.username = usernames.username
),
{% endif %}
unioned as (
    {{ engagement_union_vendor_rows() }}
)

select
    {{ engagement_key(['source_system', 'source_interaction_id']) }} as interaction_key,
    source_system,
    source_interaction_id,
    {{ engagement_key(['source_system', 'source_event_id']) }} as event_key,
    source_event_id,
    run_number,
    person_key,
    identity_resolution,
    interaction_type,
    occurred_at,
    prompt_text,
    prompt_id,
    is_answered,
    is_hidden
from unioned
