{{ config(enabled=var('engagement_using_rev', true)) }}
-- Rev's own totals per webcast run (vendor-reported, for reconciliation).
select
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    cast(attendee_count as bigint) as attendee_count,
    cast(host_count as bigint) as host_count,
    cast(moderator_count as bigint) as moderator_count,
    cast(total_sessions as bigint) as total_sessions,
    {{ engagement_timespan_ms('total_ecdn_time') }} as total_ecdn_ms,
    {{ engagement_timespan_ms('total_public_cdn_time') }} as total_public_cdn_ms
from {{ source('rev', 'webcast_attendance_summary') }}
{{ engagement_live_rows(source('rev', 'webcast_attendance_summary')) }}
