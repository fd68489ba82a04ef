-- What each person did at each event: one row per event and person who registered, viewed
-- or interacted. Staff sessions and Rev pre-production runs do not count.
with registrations as (
    select distinct event_key, person_key from {{ ref('engagement__registrations') }}
),

sessions as (
    select
        event_key,
        person_key,
        cast(count(*) as bigint) as session_count,
        min(joined_at) as first_joined_at,
        max(left_at) as last_left_at,
        cast(sum(vendor_viewing_ms) as bigint) as vendor_viewing_ms,
        max(case when viewing_mode in ('live', 'sim_live') then 1 else 0 end) = 1 as attended_live,
        max(case when viewing_mode = 'on_demand' then 1 else 0 end) = 1 as attended_on_demand
    from {{ ref('engagement__sessions') }}
    where not is_staff and viewing_mode <> 'pre_production'
    group by event_key, person_key
),

islands as (
    select
        event_key,
        person_key,
        cast(sum(case when mode_scope = 'all' then island_ms end) as bigint) as viewed_ms,
        cast(sum(case when mode_scope = 'live' then island_ms end) as bigint) as live_ms,
        cast(sum(case when mode_scope = 'on_demand' then island_ms end) as bigint) as on_demand_ms
    from {{ ref('int_engagement__viewing_islands') }}
    group by event_key, person_key
),

interactions as (
    select
        event_key,
        person_key,
        cast(sum(case when interaction_type = 'view' then 1 else 0 end) as bigint) as views,
        cast(sum(case when interaction_type = 'play' then 1 else 0 end) as bigint) as plays,
        cast(sum(case when interaction_type = 'click' then 1 else 0 end) as bigint) as clicks,
        cast(sum(case when interaction_type = 'feedback' then 1 else 0 end) as bigint) as feedbacks,
        cast(sum(case when interaction_type = 'question' then 1 else 0 end) as bigint) as questions_asked,
        cast(sum(case when interaction_type = 'comment' then 1 else 0 end) as bigint) as comments,
        cast(sum(case when interaction_type = 'survey_answer' then 1 else 0 end) as bigint) as survey_answers,
        cast(sum(case when interaction_type = 'poll_answer' then 1 else 0 end) as bigint) as poll_answers,
        count(distinct case when interaction_type = 'poll_answer' then prompt_id end)
            as polls_answered
    from {{ ref('engagement__interactions') }}
    where coalesce(run_number, 0) = 0
    group by event_key, person_key
),

event_polls as (
    -- Polls of an event that logged at least one person's answer.
    select event_key, count(distinct prompt_id) as event_polls
    from {{ ref('engagement__interactions') }}
    where interaction_type = 'poll_answer' and coalesce(run_number, 0) = 0
    group by event_key
),

people as (
    select event_key, person_key from registrations
    union
    select event_key, person_key from sessions
    union
    select event_key, person_key from interactions
)

select
    people.event_key,
    people.person_key,
    events.source_system,
    events.source_event_id,
    events.reference_duration_ms,
    registrations.person_key is not null as is_registered,
    case
        when events.source_system = 'cast' then coalesce(interactions.views, 0) > 0
        else coalesce(sessions.session_count, 0) > 0
    end as attended,
    coalesce(sessions.attended_live, false) as attended_live,
    coalesce(sessions.attended_on_demand, false) as attended_on_demand,
    coalesce(sessions.session_count, 0) as session_count,
    sessions.first_joined_at,
    sessions.last_left_at,
    islands.viewed_ms,
    islands.live_ms,
    islands.on_demand_ms,
    sessions.vendor_viewing_ms,
    coalesce(interactions.views, 0) as views,
    coalesce(interactions.plays, 0) as plays,
    coalesce(interactions.clicks, 0) as clicks,
    coalesce(interactions.feedbacks, 0) as feedbacks,
    coalesce(interactions.questions_asked, 0) as questions_asked,
    coalesce(interactions.comments, 0) as comments,
    coalesce(interactions.survey_answers, 0) as survey_answers,
    coalesce(interactions.poll_answers, 0) as poll_answers,
    coalesce(interactions.polls_answered, 0) as polls_answered,
    coalesce(event_polls.event_polls, 0) as event_polls
from people
inner join {{ ref('engagement__events') }} as events on people.event_key = events.event_key
left join registrations
    on people.event_key = registrations.event_key and people.person_key = registrations.person_key
left join sessions
    on people.event_key = sessions.event_key and people.person_key = sessions.person_key
left join islands
    on people.event_key = islands.event_key and people.person_key = islands.person_key
left join interactions
    on people.event_key = interactions.event_key and people.person_key = interactions.person_key
left join event_polls on people.event_key = event_polls.event_key
