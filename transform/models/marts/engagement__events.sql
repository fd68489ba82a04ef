-- One row per vendor event: a Cast campaign, a Webcasts.com event, a Rev webcast.
with
{% if var('engagement_using_cast', true) %}
cast_rows as (
    select
        {{ engagement_key(["'cast'", 'source_event_id']) }} as event_key,
        source_system,
        source_event_id,
        cast_id as source_parent_id,
        event_title,
        'video_campaign' as event_format,
        scheduled_start_at,
        cast(null as timestamp) as scheduled_end_at,
        cast(null as bigint) as reference_duration_ms,
        cast(null as varchar) as event_timezone,
        case vendor_status
            when 'FINISHED' then 'completed'
            when 'PROCESSING' then 'in_progress'
            when 'FAILED' then 'failed'
            else lower(vendor_status)
        end as event_status,
        vendor_status,
        'recipients' as audience_type,
        true as has_audience_list
    from {{ ref('stg_cast__campaigns') }}
),
{% endif %}
{% if var('engagement_using_webcasts', true) %}
webcasts_rows as (
    select
        {{ engagement_key(["'webcasts'", 'source_event_id']) }} as event_key,
        source_system,
        source_event_id,
        cast(null as varchar) as source_parent_id,
        event_title,
        'webinar' as event_format,
        scheduled_start_at,
        scheduled_end_at,
        {{ engagement_ms_between('scheduled_start_at', 'scheduled_end_at') }} as reference_duration_ms,
        event_timezone,
        -- The event list says only whether an event expired.
        case when expired then 'expired' else 'available' end as event_status,
        case when expired then 'expired' end as vendor_status,
        'registration' as audience_type,
        true as has_audience_list
    from {{ ref('stg_webcasts__events') }}
),
{% endif %}
{% if var('engagement_using_rev', true) %}
rev_rows as (
    select
        {{ engagement_key(["'rev'", 'source_event_id']) }} as event_key,
        source_system,
        source_event_id,
        cast(null as varchar) as source_parent_id,
        event_title,
        'webcast' as event_format,
        scheduled_start_at,
        scheduled_end_at,
        {{ engagement_ms_between('scheduled_start_at', 'scheduled_end_at') }} as reference_duration_ms,
        cast(null as varchar) as event_timezone,
        case vendor_status
            when 'Completed' then 'completed'
            when 'Scheduled' then 'scheduled'
            when 'InProgress' then 'live'
            else lower(vendor_status)
        end as event_status,
        vendor_status,
        -- Only Public webcasts take registrations; the others admit tenant users.
        case when listing_type = 'Public' then 'registration' else 'tenant' end as audience_type,
        listing_type = 'Public' as has_audience_list
    from {{ ref('stg_rev__webcasts') }}
),
{% endif %}
unioned as (
    {{ engagement_union_vendor_rows() }}
)

select * from unioned
