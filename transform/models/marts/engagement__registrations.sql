-- One row per event and person in the event's audience: Cast recipients, Webcasts.com
-- registrants, registrants of Rev's Public webcasts (Rev's other webcasts have no list).
with
{% if var('engagement_using_cast', true) %}
cast_rows as (
    select
        source_event_id,
        'cast' as source_system,
        email,
        min(contact_id) as source_registration_id,
        -- Cast has no registration: a contact joins the audience when the campaign reaches them.
        coalesce(
            min(case when event_type = 'delivered' then occurred_at end), min(occurred_at)
        ) as registered_at,
        'recipient' as registration_source,
        cast(null as varchar) as company,
        cast(null as varchar) as source_tracking_id
    from {{ ref('stg_cast__analytics_events') }}
    where email is not null
    group by source_event_id, email
),
{% endif %}
{% if var('engagement_using_webcasts', true) %}
webcasts_rows as (
    select
        source_event_id,
        'webcasts' as source_system,
        email,
        cast(null as varchar) as source_registration_id,  -- the vendor keys a registrant by email
        registered_at,
        'registration' as registration_source,
        company,
        source_tracking_id
    from {{ ref('stg_webcasts__audience') }}
    where email is not null
),
{% endif %}
{% if var('engagement_using_rev', true) %}
rev_rows as (
    select
        source_event_id,
        'rev' as source_system,
        email,
        min(registration_id) as source_registration_id,
        cast(null as timestamp) as registered_at,  -- Rev gives no registration date
        'registration' as registration_source,
        cast(null as varchar) as company,
        cast(null as varchar) as source_tracking_id
    from {{ ref('stg_rev__registrations') }}
    where email is not null
    group by source_event_id, email
),
{% endif %}
unioned as (
    {{ engagement_union_vendor_rows() }}
)

select
    {{ engagement_key(['source_system', 'source_event_id', engagement_person_key('email')]) }}
        as registration_key,
    {{ engagement_key(['source_system', 'source_event_id']) }} as event_key,
    {{ engagement_person_key('email') }} as person_key,
    source_system,
    source_event_id,
    source_registration_id,
    registered_at,
    registration_source,
    company,
    source_tracking_id
from unioned
