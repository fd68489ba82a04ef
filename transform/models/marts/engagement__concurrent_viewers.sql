-- Viewers watching an event over time: one row per event and instant the number changed.
select
    events.event_key,
    events.source_system,
    events.source_event_id,
    concurrency.changed_at,
    concurrency.viewers
from {{ ref('int_engagement__concurrency') }} as concurrency
inner join {{ ref('engagement__events') }} as events on concurrency.event_key = events.event_key
