-- The union of each person's viewing intervals per event (gaps and islands): overlapping or
-- touching sessions merge into one island. mode_scope 'all' merges every mode; 'live' and
-- 'on_demand' (and 'sim_live' when it is not counted as live) merge within the mode.
-- Staff sessions and Rev pre-production runs are left out.
with sessions as (
    select event_key, person_key, viewing_mode, viewing_started_at, left_at
    from {{ ref('engagement__sessions') }}
    where not is_staff
      and viewing_mode <> 'pre_production'
      and viewing_started_at is not null
      and left_at >= viewing_started_at
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
)

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
