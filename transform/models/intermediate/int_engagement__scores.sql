-- The engagement score, 0-100, an open formula (docs/engagement-model.md):
--   A (attention, 0-1) always; each other component c (0-1) only where the vendor supplies
--   it per person and someone at the event produced it; with M such components
--   score = 100 * (M * A + sum(c)) / (2 * M), or 100 * A when M = 0; NULL for non-attendees.
-- Attention weighs as much as all the others together, as in GoToWebinar's interest rating.
with components as (
    select
        event_key,
        person_key,
        source_system,
        attended,
        case
            -- Cast has no durations: a play is full attention, a view alone half.
            when source_system = 'cast' then case when plays > 0 then 1.0 when views > 0 then 0.5 else 0.0 end
            when reference_duration_ms > 0
                then least(1.0, cast(coalesce(viewed_ms, 0) as double precision) / reference_duration_ms)
            when coalesce(viewed_ms, 0) > 0 then 1.0
            else 0.0
        end as attention,
        case when attended_live then 1.0 else 0.0 end as live,
        least(1.0, cast(questions_asked as double precision)) as asked,
        case when event_polls > 0 then cast(polls_answered as double precision) / event_polls else 0.0 end as polled,
        case when survey_answers > 0 then 1.0 else 0.0 end as surveyed,
        least(1.0, cast(comments as double precision)) as chatted,
        case when clicks > 0 then 1.0 else 0.0 end as clicked,
        case when feedbacks > 0 then 1.0 else 0.0 end as gave_feedback,
        -- Which components the event offers: the vendor supplies it, someone produced it.
        case when source_system = 'webcasts'
            and max(case when attended_live then 1 else 0 end) over (partition by event_key) = 1
            then 1 else 0 end as has_live,
        case when source_system in ('webcasts', 'rev')
            and max(questions_asked) over (partition by event_key) > 0 then 1 else 0 end as has_asked,
        case when source_system in ('webcasts', 'rev') and event_polls > 0 then 1 else 0 end as has_polled,
        case when source_system = 'webcasts'
            and max(survey_answers) over (partition by event_key) > 0 then 1 else 0 end as has_surveyed,
        case when source_system = 'rev'
            and max(comments) over (partition by event_key) > 0 then 1 else 0 end as has_chatted,
        case when source_system = 'cast'
            and max(clicks) over (partition by event_key) > 0 then 1 else 0 end as has_clicked,
        case when source_system = 'cast'
            and max(feedbacks) over (partition by event_key) > 0 then 1 else 0 end as has_feedback
    from {{ ref('int_engagement__person_event_activity') }}
),

weighed as (
    select
        *,
        has_live + has_asked + has_polled + has_surveyed + has_chatted + has_clicked + has_feedback
            as offered,
        has_live * live + has_asked * asked + has_polled * polled + has_surveyed * surveyed
            + has_chatted * chatted + has_clicked * clicked + has_feedback * gave_feedback
            as earned
    from components
)

select
    event_key,
    person_key,
    attention,
    case when attended then
        {{ engagement_round(
            "case when offered = 0 then 100 * attention
                  else 100 * (offered * attention + earned) / (2 * offered) end", 1) }}
    end as engagement_score,
    case when attended then {{ engagement_concat_present(',', [
        "'A'",
        "case when has_live = 1 then 'L' end",
        "case when has_asked = 1 then 'Q' end",
        "case when has_polled = 1 then 'P' end",
        "case when has_surveyed = 1 then 'S' end",
        "case when has_chatted = 1 then 'C' end",
        "case when has_clicked = 1 then 'K' end",
        "case when has_feedback = 1 then 'F' end"]) }} end as score_components,
    source_system = 'cast' as attention_is_proxy
from weighed
