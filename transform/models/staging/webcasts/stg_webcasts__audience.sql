{{ config(enabled=var('engagement_using_webcasts', true)) }}
-- One row per registrant of an event, with the vendor's per-person viewing totals.
select
    cast(ei as varchar) as source_event_id,
    {{ engagement_normalize_email('email') }} as email,
    nullif(trim({{ engagement_concat_present(' ', ['first_name', 'last_name']) }}), '') as display_name,
    nullif(trim(company), '') as company,
    registration_date as registered_at,
    nullif(trim(source_tracking_id), '') as source_tracking_id,
    last_activity_at,
    cast(session_count as bigint) as vendor_session_count,
    cast(viewing_seconds as bigint) as vendor_viewing_seconds
from {{ source('webcasts', 'audience') }}
{{ engagement_live_rows(source('webcasts', 'audience')) }}
