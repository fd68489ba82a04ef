-- One row per identity a vendor knows a person by: a normalised email, or a Rev username.
-- identity_hash is the salted SHA-256 of the identity; person_key joins identities across
-- vendors (the email's hash; a username resolved through Rev's sessions takes its email's).
with
{% if var('engagement_using_cast', true) %}
cast_rows as (
    select 'cast' as source_system, 'email' as identity_type, email as identity, email,
        min(occurred_at) as first_seen_at, max(occurred_at) as last_seen_at
    from {{ ref('stg_cast__analytics_events') }}
    where email is not null
    group by email
),
{% endif %}
{% if var('engagement_using_webcasts', true) %}
webcasts_rows as (
    select 'webcasts' as source_system, 'email' as identity_type, email as identity, email,
        min(registered_at) as first_seen_at,
        max(coalesce(last_activity_at, registered_at)) as last_seen_at
    from {{ ref('stg_webcasts__audience') }}
    where email is not null
    group by email
),
{% endif %}
{% if var('engagement_using_rev', true) %}
rev_emails as (
    select email, joined_at as seen_at from {{ ref('stg_rev__attendee_sessions') }}
    union all
    select email, joined_at from {{ ref('stg_rev__realtime_attendees') }}
    union all
    select email, cast(null as timestamp) from {{ ref('stg_rev__registrations') }}
),
rev_usernames as (
    select username, joined_at as seen_at from {{ ref('stg_rev__attendee_sessions') }}
    union all
    select username, joined_at from {{ ref('stg_rev__realtime_attendees') }}
    union all
    select username, occurred_at from {{ ref('stg_rev__comments') }}
    union all
    select username, occurred_at from {{ ref('stg_rev__questions') }}
),
rev_rows as (
    select 'rev' as source_system, 'email' as identity_type, email as identity, email,
        min(seen_at) as first_seen_at, max(seen_at) as last_seen_at
    from rev_emails
    where email is not null
    group by email
    union all
    select 'rev' as source_system, 'rev_username' as identity_type, seen.username as identity,
        min(usernames.email) as email, min(seen.seen_at) as first_seen_at,
        max(seen.seen_at) as last_seen_at
    from rev_usernames as seen
    left join {{ ref('int_engagement__rev_username_map') }} as usernames
        on seen.username = usernames.username
    where seen.username is not null
    group by seen.username
),
{% endif %}
unioned as (
    {{ engagement_union_vendor_rows() }}
)

select
    {{ engagement_key(['source_system', 'identity_type', 'identity_hash']) }} as identity_key,
    *
from (
    select
        source_system,
        identity_type,
        case when identity_type = 'email' then {{ engagement_person_key('identity') }}
             else {{ engagement_username_key('identity') }} end as identity_hash,
        coalesce({{ engagement_person_key('email') }}, {{ engagement_username_key('identity') }})
            as person_key,
        case when identity_type = 'email' then 'email'
             when email is not null then 'username_via_sessions'
             else 'username_only' end as resolution,
        split_part(email, '@', 2) as email_domain,
        {% if var('engagement_keep_emails') %}email{% else %}cast(null as varchar){% endif %} as email,
        first_seen_at,
        last_seen_at
    from unioned
) as identities
