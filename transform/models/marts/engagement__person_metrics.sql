-- One row per person: across every event and vendor.
select
    people.person_key,
    people.source_systems,
    people.source_system_list,
    people.is_username_only,
    people.first_seen_at,
    people.last_seen_at,
    cast(coalesce(sum(case when metrics.is_registered then 1 else 0 end), 0) as bigint) as events_registered,
    cast(coalesce(sum(case when metrics.attended then 1 else 0 end), 0) as bigint) as events_attended,
    sum(metrics.minutes_viewed) as total_minutes_viewed,
    avg(metrics.engagement_score) as avg_engagement_score,
    max(metrics.engagement_score) as max_engagement_score
from {{ ref('engagement__people') }} as people
left join {{ ref('engagement__person_event_metrics') }} as metrics
    on people.person_key = metrics.person_key
group by people.person_key, people.source_systems, people.source_system_list,
    people.is_username_only, people.first_seen_at, people.last_seen_at
