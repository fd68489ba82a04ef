-- The marts' attendees per event against the vendor's own count: Rev attendeeCount (hosts
-- and moderators left out), Cast unique_view, Webcasts.com registrants with a session.
{{ config(severity=var('engagement_reconciliation_severity', 'error'), tags=['reconciliation']) }}
select source_system, source_event_id, attendees, vendor_attendees
from {{ ref('engagement__event_metrics') }}
where vendor_attendees is not null and attendees <> vendor_attendees
