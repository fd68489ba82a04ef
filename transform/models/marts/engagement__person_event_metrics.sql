-- One row per event and person who registered, viewed or interacted.
select
    activity.event_key,
    activity.person_key,
    activity.source_system,
    activity.source_event_id,
    activity.is_registered,
    activity.attended,
    activity.attended_live,
    activity.attended_on_demand,
    case
        when activity.attended_live and activity.attended_on_demand then 'both'
        when activity.attended_live then 'live_only'
        when activity.attended_on_demand then 'on_demand_only'
    end as viewing_mode_class,
    activity.session_count,
    activity.first_joined_at,
    activity.last_left_at,
    -- Minutes are the union of the person's intervals, never a sum of sessions; NULL where
    -- the vendor has no durations (Cast) or the person did not view.
    cast(activity.viewed_ms as double precision) / 60000 as minutes_viewed,
    cast(activity.live_ms as double precision) / 60000 as live_minutes,
    cast(activity.on_demand_ms as double precision) / 60000 as on_demand_minutes,
    cast(activity.vendor_viewing_ms as double precision) / 60000 as vendor_minutes,
    case when activity.reference_duration_ms > 0 and activity.attended
        then least(1.0, cast(coalesce(activity.live_ms, 0) as double precision)
                        / activity.reference_duration_ms)
    end as percent_watched,
    activity.views,
    activity.plays,
    activity.clicks,
    activity.feedbacks,
    activity.questions_asked,
    activity.comments,
    activity.poll_answers,
    activity.polls_answered,
    activity.survey_answers,
    scores.attention,
    scores.engagement_score,
    scores.score_components,
    scores.attention_is_proxy
from {{ ref('int_engagement__person_event_activity') }} as activity
inner join {{ ref('int_engagement__scores') }} as scores
    on activity.event_key = scores.event_key and activity.person_key = scores.person_key
