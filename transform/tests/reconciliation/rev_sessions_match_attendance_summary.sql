-- Rev's attendance summary, per webcast and run, against the sessions we landed: session
-- rows = totalSessions; distinct usernames other than hosts and moderators = attendeeCount;
-- eCDN and public CDN time summed = Rev's totals. A missing session fails here.
{{ config(severity=var('engagement_reconciliation_severity', 'error'), tags=['reconciliation'],
          enabled=var('engagement_using_rev', true)) }}
with sessions as (
    select
        source_event_id,
        run_number,
        count(*) as sessions,
        count(distinct case when not is_staff then username end) as attendees,
        sum(ecdn_ms) as ecdn_ms,
        sum(public_cdn_ms) as public_cdn_ms
    from {{ ref('stg_rev__attendee_sessions') }}
    group by source_event_id, run_number
)

select
    coalesce(summary.source_event_id, sessions.source_event_id) as source_event_id,
    coalesce(summary.run_number, sessions.run_number) as run_number,
    sessions.sessions, summary.total_sessions,
    sessions.attendees, summary.attendee_count,
    sessions.ecdn_ms, summary.total_ecdn_ms,
    sessions.public_cdn_ms, summary.total_public_cdn_ms
from {{ ref('stg_rev__attendance_summary') }} as summary
full outer join sessions
    on summary.source_event_id = sessions.source_event_id
    and summary.run_number = sessions.run_number
where coalesce(sessions.sessions, 0) <> coalesce(summary.total_sessions, -1)
   or coalesce(sessions.attendees, 0) <> coalesce(summary.attendee_count, -1)
   or coalesce(sessions.ecdn_ms, 0) <> coalesce(summary.total_ecdn_ms, -1)
   or coalesce(sessions.public_cdn_ms, 0) <> coalesce(summary.total_public_cdn_ms, -1)
