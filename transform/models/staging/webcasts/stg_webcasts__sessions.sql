{{ config(enabled=var('engagement_using_webcasts', true)) }}
-- One row per viewing session: live, on_demand or sim_live.
select
    -- The vendor gives no session id: event, person, mode and start identify one (the tap's key).
    {{ engagement_key(["'webcasts'", 'ei', engagement_person_key(engagement_normalize_email('email')), 'session_type', 'session_start']) }}
        as session_key,
    cast(ei as varchar) as source_event_id,
    {{ engagement_normalize_email('email') }} as email,
    session_type as viewing_mode,
    session_start as joined_at,
    session_start as viewing_started_at,
    session_end as left_at,
    cast(duration_seconds as bigint) * 1000 as vendor_viewing_ms
from {{ source('webcasts', 'audience_sessions') }}
{{ engagement_live_rows(source('webcasts', 'audience_sessions')) }}
