-- One row per event: our figures, and the vendor's own figures beside them (vendor_*).
with people as (
    select
        event_key,
        cast(sum(case when is_registered then 1 else 0 end) as bigint) as registered,
        cast(sum(case when attended then 1 else 0 end) as bigint) as attendees,
        cast(sum(case when attended and is_registered then 1 else 0 end) as bigint) as attendees_registered,
        cast(sum(case when attended_live then 1 else 0 end) as bigint) as live_attendees,
        cast(sum(case when attended_on_demand then 1 else 0 end) as bigint) as on_demand_viewers,
        sum(minutes_viewed) as total_minutes_viewed,
        sum(live_minutes) as live_minutes,
        sum(on_demand_minutes) as on_demand_minutes,
        sum(vendor_minutes) as vendor_minutes_non_staff,
        cast(sum(case when engagement_score >= {{ var('engagement_engaged_threshold') }} then 1 else 0 end)
            as bigint) as engaged_attendees,
        avg(engagement_score) as avg_engagement_score,
        cast(sum(views) as bigint) as views,
        cast(sum(plays) as bigint) as plays,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(feedbacks) as bigint) as feedbacks,
        cast(sum(questions_asked) as bigint) as questions,
        cast(sum(comments) as bigint) as comments,
        cast(sum(poll_answers) as bigint) as poll_answers,
        cast(sum(survey_answers) as bigint) as survey_answers
    from {{ ref('engagement__person_event_metrics') }}
    group by event_key
),

peaks as (
    select event_key, max(viewers) as peak_concurrent_viewers
    from {{ ref('int_engagement__concurrency') }}
    group by event_key
),

{% if var('engagement_using_rev', true) %}
-- Rev's own figures per webcast, aggregated once: a subquery per webcast reads every session
-- once per webcast (at a million sessions PostgreSQL did not finish in minutes).
rev_vendor_minutes as (
    -- Rev's durations summed over every run-0 session, as Rev reports them.
    select source_event_id,
        cast(sum(vendor_viewing_ms) as double precision) / 60000 as vendor_minutes_viewed
    from {{ ref('stg_rev__attendee_sessions') }}
    where run_number = 0
    group by source_event_id
),

rev_reactions as (
    select source_event_id, cast(sum(reactions) as bigint) as vendor_reactions
    from {{ ref('stg_rev__reactions') }}
    where run_number = 0
    group by source_event_id
),

rev_poll_responses as (
    select source_event_id, cast(sum(total_responses) as bigint) as vendor_poll_responses
    from {{ ref('stg_rev__poll_results') }}
    where run_number = 0
    group by source_event_id
),
{% endif %}

vendor as (
    {%- set parts = [] %}
    {% if var('engagement_using_cast', true) %}{% do parts.append('cast') %}
    select
        {{ engagement_key(["'cast'", 'campaigns.source_event_id']) }} as event_key,
        campaigns.recipient_count as vendor_recipients,
        counters.unique_view as vendor_attendees,
        cast(null as double precision) as vendor_minutes_viewed,
        cast(null as bigint) as vendor_sessions,
        counters.unique_view as vendor_unique_views,
        counters.total_view as vendor_total_views,
        counters.unique_play as vendor_unique_plays,
        counters.unique_action as vendor_unique_actions,
        counters.total_feedback as vendor_total_feedback,
        cast(null as bigint) as vendor_reactions,
        cast(null as bigint) as vendor_poll_responses
    from {{ ref('stg_cast__campaigns') }} as campaigns
    left join {{ ref('stg_cast__campaign_analytics') }} as counters
        on campaigns.source_event_id = counters.source_event_id
    {% endif %}
    {% if var('engagement_using_webcasts', true) %}
    {% if parts %}union all{% endif %}{% do parts.append('webcasts') %}
    select
        {{ engagement_key(["'webcasts'", 'source_event_id']) }} as event_key,
        cast(null as bigint) as vendor_recipients,
        cast(sum(case when vendor_session_count > 0 then 1 else 0 end) as bigint) as vendor_attendees,
        cast(sum(vendor_viewing_seconds) as double precision) / 60 as vendor_minutes_viewed,
        cast(sum(vendor_session_count) as bigint) as vendor_sessions,
        cast(null as bigint) as vendor_unique_views,
        cast(null as bigint) as vendor_total_views,
        cast(null as bigint) as vendor_unique_plays,
        cast(null as bigint) as vendor_unique_actions,
        cast(null as bigint) as vendor_total_feedback,
        cast(null as bigint) as vendor_reactions,
        cast(null as bigint) as vendor_poll_responses
    from {{ ref('stg_webcasts__audience') }}
    group by source_event_id
    {% endif %}
    {% if var('engagement_using_rev', true) %}
    {% if parts %}union all{% endif %}{% do parts.append('rev') %}
    select
        {{ engagement_key(["'rev'", 'webcasts.source_event_id']) }} as event_key,
        webcasts.estimated_attendees as vendor_recipients,
        summary.attendee_count as vendor_attendees,
        minutes.vendor_minutes_viewed,
        summary.total_sessions as vendor_sessions,
        cast(null as bigint) as vendor_unique_views,
        cast(null as bigint) as vendor_total_views,
        cast(null as bigint) as vendor_unique_plays,
        cast(null as bigint) as vendor_unique_actions,
        cast(null as bigint) as vendor_total_feedback,
        reactions.vendor_reactions,
        polls.vendor_poll_responses
    from {{ ref('stg_rev__webcasts') }} as webcasts
    left join {{ ref('stg_rev__attendance_summary') }} as summary
        on webcasts.source_event_id = summary.source_event_id and summary.run_number = 0
    left join rev_vendor_minutes as minutes on webcasts.source_event_id = minutes.source_event_id
    left join rev_reactions as reactions on webcasts.source_event_id = reactions.source_event_id
    left join rev_poll_responses as polls on webcasts.source_event_id = polls.source_event_id
    {% endif %}
)

select
    events.event_key,
    events.source_system,
    events.source_event_id,
    events.event_title,
    events.scheduled_start_at,
    events.event_status,
    -- NULL where the vendor keeps no audience list for the event (Rev's non-Public webcasts).
    case when events.has_audience_list then coalesce(people.registered, 0) end as registrants,
    coalesce(people.attendees, 0) as attendees,
    coalesce(people.attendees_registered, 0) as attendees_registered,
    case when events.has_audience_list and people.registered > 0
        then cast(people.attendees_registered as double precision) / people.registered
    end as attendance_rate,
    coalesce(people.live_attendees, 0) as live_attendees,
    coalesce(people.on_demand_viewers, 0) as on_demand_viewers,
    -- NULL where the vendor has no durations (Cast).
    case when events.source_system <> 'cast' then coalesce(people.total_minutes_viewed, 0) end
        as total_minutes_viewed,
    case when events.source_system <> 'cast' then coalesce(people.live_minutes, 0) end
        as live_minutes,
    case when events.source_system <> 'cast' then coalesce(people.on_demand_minutes, 0) end
        as on_demand_minutes,
    case when events.source_system <> 'cast' and people.attendees > 0
        then people.total_minutes_viewed / people.attendees end as avg_minutes_per_attendee,
    case when events.source_system <> 'cast' then coalesce(peaks.peak_concurrent_viewers, 0) end
        as peak_concurrent_viewers,
    coalesce(people.engaged_attendees, 0) as engaged_attendees,
    people.avg_engagement_score,
    coalesce(people.views, 0) as views,
    coalesce(people.plays, 0) as plays,
    coalesce(people.clicks, 0) as clicks,
    coalesce(people.feedbacks, 0) as feedbacks,
    coalesce(people.questions, 0) as questions,
    coalesce(people.comments, 0) as comments,
    coalesce(people.poll_answers, 0) as poll_answers,
    coalesce(people.survey_answers, 0) as survey_answers,
    vendor.vendor_recipients,
    vendor.vendor_attendees,
    vendor.vendor_minutes_viewed,
    vendor.vendor_sessions,
    vendor.vendor_unique_views,
    vendor.vendor_total_views,
    vendor.vendor_unique_plays,
    vendor.vendor_unique_actions,
    vendor.vendor_total_feedback,
    vendor.vendor_reactions,
    vendor.vendor_poll_responses
from {{ ref('engagement__events') }} as events
left join people on events.event_key = people.event_key
left join peaks on events.event_key = peaks.event_key
left join vendor on events.event_key = vendor.event_key
