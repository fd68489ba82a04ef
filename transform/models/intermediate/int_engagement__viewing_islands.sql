-- The union of each person's viewing intervals per event (gaps and islands): overlapping or
-- touching sessions merge into one island. mode_scope 'all' merges every mode; 'live' and
-- 'on_demand' (and 'sim_live' when it is not counted as live) merge within the mode.
-- Staff sessions and Rev pre-production runs are left out.
-- With var engagement_incremental, only events whose sessions changed are rebuilt (see
-- macros/engagement_incremental.sql); input_fingerprint is what tells them apart.
{{ config(
    materialized='incremental' if var('engagement_incremental', false) else 'table',
    incremental_strategy='delete+insert',
    unique_key='event_key',
    on_schema_change='fail',
    post_hook="{{ engagement_drop_gone_events(ref('engagement__sessions'), engagement_island_sessions_filter()) }}"
) }}
with all_sessions as (
    select event_key, person_key, viewing_mode, viewing_started_at, left_at
    from {{ ref('engagement__sessions') }}
    where {{ engagement_island_sessions_filter() }}
),

fingerprints as (
    -- The var changes the islands without changing the sessions: it is part of the print.
    select
        event_key,
        '{{ var('engagement_sim_live_is_live') }}:' || {{ engagement_fingerprint(
            "concat(coalesce(person_key, '-'), '|', viewing_mode, '|', "
            ~ "cast(viewing_started_at as varchar), '|', cast(left_at as varchar))") }}
            as input_fingerprint
    from all_sessions
    group by event_key
),

sessions as (
    select * from all_sessions
    {{ engagement_changed_events('fingerprints') }}
),

scoped as (
    select event_key, person_key, 'all' as mode_scope, viewing_started_at, left_at
    from sessions
    union all
    select
        event_key,
        person_key,
        case
            when viewing_mode = 'sim_live' and {{ 'true' if var('engagement_sim_live_is_live') else 'false' }}
                then 'live'
            else viewing_mode
        end as mode_scope,
        viewing_started_at,
        left_at
    from sessions
),

ordered as (
    select
        *,
        max(left_at) over (
            partition by event_key, person_key, mode_scope
            order by viewing_started_at, left_at
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end
    from scoped
),

flagged as (
    select
        *,
        case when previous_max_end is null or viewing_started_at > previous_max_end then 1 else 0 end
            as starts_island
    from ordered
),

numbered as (
    select
        *,
        sum(starts_island) over (
            partition by event_key, person_key, mode_scope
            order by viewing_started_at, left_at
            rows between unbounded preceding and current row
        ) as island_number
    from flagged
),

islands as (
    select
        event_key,
        person_key,
        mode_scope,
        island_number,
        min(viewing_started_at) as started_at,
        max(left_at) as ended_at,
        {{ engagement_ms_between('min(viewing_started_at)', 'max(left_at)') }} as island_ms,
        count(*) as sessions
    from numbered
    group by event_key, person_key, mode_scope, island_number
)

select islands.*, fingerprints.input_fingerprint
from islands
inner join fingerprints on islands.event_key = fingerprints.event_key
