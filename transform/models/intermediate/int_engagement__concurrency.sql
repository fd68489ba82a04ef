-- Viewers watching at each moment an event's audience changed: +1 where a person's island
-- starts, -1 where it ends, netted per instant (an end and a start at the same instant
-- cancel), then a running sum. A person counts once however many sessions they had open.
with edges as (
    select event_key, started_at as changed_at, 1 as delta
    from {{ ref('int_engagement__viewing_islands') }}
    where mode_scope = 'all'
    union all
    select event_key, ended_at as changed_at, -1 as delta
    from {{ ref('int_engagement__viewing_islands') }}
    where mode_scope = 'all'
),

net as (
    select event_key, changed_at, sum(delta) as delta
    from edges
    group by event_key, changed_at
)

select
    event_key,
    changed_at,
    cast(sum(delta) over (
        partition by event_key order by changed_at
        rows between unbounded preceding and current row
    ) as bigint) as viewers
from net
