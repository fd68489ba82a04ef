-- One row per vendor viewing session (Webcasts.com and Rev; Cast has no sessions).
with
{% if var('engagement_using_webcasts', true) %}
webcasts_rows as (
    select
        session_key,
        'webcasts' as source_system,
        source_event_id,
        {{ engagement_key(["'webcasts'", 'source_event_id']) }} as event_key,
        {{ engagement_person_key('email') }} as person_key,
        cast(null as bigint) as run_number,
        viewing_mode,
        false as is_staff,
        cast(null as varchar) as attendee_role,
        joined_at,
        viewing_started_at,
        left_at,
        {{ engagement_ms_between('viewing_started_at', 'left_at') }} as viewing_ms,
        vendor_viewing_ms,
        cast(null as varchar) as device_type,
        cast(null as varchar) as browser,
        cast(null as varchar) as delivery
    from {{ ref('stg_webcasts__sessions') }}
),
{% endif %}
{% if var('engagement_using_rev', true) %}
rev_rows as (
    select
        sessions.session_key,
        'rev' as source_system,
        sessions.source_event_id,
        {{ engagement_key(["'rev'", 'sessions.source_event_id']) }} as event_key,
        {{ engagement_rev_person('sessions.email', 'sessions.username', 'usernames') }} as person_key,
        sessions.run_number,
        -- Rev's post-event report holds live viewing only; runs 1 and up are rehearsals.
        case when sessions.run_number = 0 then 'live' else 'pre_production' end as viewing_mode,
        sessions.is_staff,
        sessions.attendee_type as attendee_role,
        sessions.joined_at,
        sessions.viewing_started_at,
        sessions.left_at,
        {{ engagement_ms_between('sessions.viewing_started_at', 'sessions.left_at') }} as viewing_ms,
        sessions.vendor_viewing_ms,
        sessions.device_type,
        sessions.browser,
        sessions.delivery
    from {{ ref('stg_rev__attendee_sessions') }} as sessions
    left join {{ ref('int_engagement__rev_username_map') }} as usernames
        on sessions.username = usernames.username
),
{% endif %}
{% if not var('engagement_using_webcasts', true) and not var('engagement_using_rev', true) %}
none_rows as (
    select
        cast(null as varchar) as session_key, cast(null as varchar) as source_system,
        cast(null as varchar) as source_event_id, cast(null as varchar) as event_key,
        cast(null as varchar) as person_key, cast(null as bigint) as run_number,
        cast(null as varchar) as viewing_mode, false as is_staff,
        cast(null as varchar) as attendee_role, cast(null as timestamp) as joined_at,
        cast(null as timestamp) as viewing_started_at, cast(null as timestamp) as left_at,
        cast(null as bigint) as viewing_ms, cast(null as bigint) as vendor_viewing_ms,
        cast(null as varchar) as device_type, cast(null as varchar) as browser,
        cast(null as varchar) as delivery
    where 1 = 0
),
{% endif %}
unioned as (
    {%- set parts = [] -%}
    {%- if var('engagement_using_webcasts', true) %}{% do parts.append('webcasts_rows') %}{% endif -%}
    {%- if var('engagement_using_rev', true) %}{% do parts.append('rev_rows') %}{% endif -%}
    {%- if not parts %}{% do parts.append('none_rows') %}{% endif -%}
    {%- for part in parts %}
    {% if not loop.first %}union all{% endif %}
    select * from {{ part }}
    {%- endfor %}
)

select * from unioned
