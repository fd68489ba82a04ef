{{ config(enabled=var('engagement_using_rev', true)) }}
-- Registrations exist only for Public webcasts; Rev gives no registration date.
select
    registration_id,
    webcast_id as source_event_id,
    {{ engagement_normalize_email('email') }} as email,
    name as display_name
from {{ source('rev', 'registrations') }}
{{ engagement_live_rows(source('rev', 'registrations')) }}
