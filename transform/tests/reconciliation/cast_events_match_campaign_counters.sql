-- Cast's own counters per campaign against the analytics events we landed: viewers,
-- players, clickers = unique_view, unique_play, unique_action; view rows = total_view; no
-- more contacts than campaigns.total_count (a recipient may have no event yet). A missing
-- event fails here. (Setting the tap's
-- event_types or start_date leaves events out on purpose: then set this test to warn.)
{{ config(severity=var('engagement_reconciliation_severity', 'error'), tags=['reconciliation'],
          enabled=var('engagement_using_cast', true)) }}
with events as (
    select
        source_event_id,
        count(distinct contact_id) as recipients,
        count(distinct case when event_type = 'view' then contact_id end) as viewers,
        count(distinct case when event_type = 'play' then contact_id end) as players,
        count(distinct case when event_type = 'action' then contact_id end) as clickers,
        sum(case when event_type = 'view' then 1 else 0 end) as views
    from {{ ref('stg_cast__analytics_events') }}
    group by source_event_id
)

select campaigns.source_event_id, events.*, campaigns.recipient_count, counters.*
from {{ ref('stg_cast__campaigns') }} as campaigns
left join {{ ref('stg_cast__campaign_analytics') }} as counters
    on campaigns.source_event_id = counters.source_event_id
left join events on campaigns.source_event_id = events.source_event_id
where coalesce(events.recipients, 0) > campaigns.recipient_count
   or coalesce(events.viewers, 0) <> counters.unique_view
   or coalesce(events.players, 0) <> counters.unique_play
   or coalesce(events.clickers, 0) <> counters.unique_action
   or coalesce(events.views, 0) <> counters.total_view
