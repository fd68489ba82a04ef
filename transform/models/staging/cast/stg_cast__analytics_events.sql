{{ config(enabled=var('engagement_using_cast', true)) }}
-- One row per analytics event (delivered, view, play, action, feedback) of a contact.
select
    'cast' as source_system,
    event_key as source_interaction_id,
    generation_id as source_event_id,
    cast(cast_id as varchar) as cast_id,
    contact_id,
    {{ engagement_normalize_email('contact_email') }} as email,
    contact_name as display_name,
    event_type,
    event_at as occurred_at,
    status as contact_status,
    device_type,
    browser_name as browser
from {{ source('cast', 'analytics_events') }}
{{ engagement_live_rows(source('cast', 'analytics_events')) }}
