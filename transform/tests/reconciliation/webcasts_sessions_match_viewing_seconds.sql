-- Webcasts.com's per-person totals (audience.viewing_seconds, session_count) against the
-- sessions we landed, per event and person. A missing session or registrant fails here.
{{ config(severity=var('engagement_reconciliation_severity', 'error'), tags=['reconciliation'],
          enabled=var('engagement_using_webcasts', true)) }}
with sessions as (
    select source_event_id, email, count(*) as sessions, sum(vendor_viewing_ms) as viewing_ms
    from {{ ref('stg_webcasts__sessions') }}
    group by source_event_id, email
)

select
    coalesce(audience.source_event_id, sessions.source_event_id) as source_event_id,
    sessions.sessions, audience.vendor_session_count,
    sessions.viewing_ms, audience.vendor_viewing_seconds
from {{ ref('stg_webcasts__audience') }} as audience
full outer join sessions
    on audience.source_event_id = sessions.source_event_id and audience.email = sessions.email
where audience.email is null  -- a session of nobody in the audience
   or coalesce(sessions.sessions, 0) <> coalesce(audience.vendor_session_count, 0)
   or coalesce(sessions.viewing_ms, 0) <> coalesce(audience.vendor_viewing_seconds, 0) * 1000
