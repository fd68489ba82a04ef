{{ config(enabled=var('engagement_using_rev', true)) }}
-- One row per Rev attendee session, every run (0 = the event, 1 and up = pre-production).
select
    session_key,
    webcast_id as source_event_id,
    cast(run_number as bigint) as run_number,
    {{ engagement_normalize_email('email') }} as email,
    nullif(lower(trim(username)), '') as username,
    name as display_name,
    attendee_type,
    -- Rev's attendee counts leave out hosts and moderators; so do ours.
    coalesce(attendee_type in ('Host', 'Moderator'), false) as is_staff,
    entered_date as joined_at,
    viewing_start_time as viewing_started_at,
    exited_date as left_at,
    {{ engagement_timespan_ms('viewing_time') }} as vendor_viewing_ms,
    {{ engagement_timespan_ms('session_time') }} as vendor_session_ms,
    {{ engagement_timespan_ms('ecdn_time') }} as ecdn_ms,
    {{ engagement_timespan_ms('public_cdn_time') }} as public_cdn_ms,
    device_type,
    browser,
    stream_accessed as delivery,
    polls
from {{ source('rev', 'attendee_sessions') }}
{{ engagement_live_rows(source('rev', 'attendee_sessions')) }}
