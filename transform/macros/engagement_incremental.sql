{# Opt-in incremental builds (var engagement_incremental, false by default). A model that
   uses them stores, on each of its rows, its event's input fingerprint; an incremental run
   rebuilds only the events whose fingerprint changed (delete+insert by event_key) and drops
   the events no longer in its input. Identity is taken care of by fingerprinting the rows
   after person keys are resolved: a username re-keyed by a later webcast changes the
   fingerprint of every older event it appears in. #}

{# A 64-bit hash of a text expression (differs per warehouse; compared only within one). #}
{% macro engagement_row_hash(expr) -%}
  {{ return(adapter.dispatch('engagement_row_hash', 'webinar_engagement')(expr)) }}
{%- endmacro %}

{% macro default__engagement_row_hash(expr) -%}
  hash({{ expr }})
{%- endmacro %}

{% macro postgres__engagement_row_hash(expr) -%}
  hashtextextended({{ expr }}, 0)
{%- endmacro %}

{# An event's fingerprint: its row count and the sum of its rows' hashes (order-free). #}
{% macro engagement_fingerprint(row_text) -%}
  cast(count(*) as varchar) || ':' || cast(sum({{ engagement_row_hash(row_text) }}) as varchar)
{%- endmacro %}

{# Rows of the events to (re)build: all of them in a full build; in an incremental one, the
   events whose fingerprint differs from the one stored with their rows (or that are new). #}
{% macro engagement_changed_events(fingerprints) -%}
  {%- if var('engagement_incremental', false) and this is not none and is_incremental() -%}
    where event_key in (
        select fingerprints.event_key
        from {{ fingerprints }} as fingerprints
        left join (select distinct event_key, input_fingerprint from {{ this }}) as built
            on fingerprints.event_key = built.event_key
            and fingerprints.input_fingerprint = built.input_fingerprint
        where built.event_key is null
    )
  {%- endif -%}
{%- endmacro %}

{# Post-hook of an incremental run: events no longer in the input lose their rows. #}
{% macro engagement_drop_gone_events(input_relation, input_filter) -%}
  {%- if var('engagement_incremental', false) and this is not none and is_incremental() -%}
    delete from {{ this }}
    where event_key not in (select event_key from {{ input_relation }} where {{ input_filter }})
  {%- endif -%}
{%- endmacro %}

{# The sessions int_engagement__viewing_islands merges: no staff, no Rev pre-production
   runs, a start and an end not before it. #}
{% macro engagement_island_sessions_filter() -%}
  not is_staff
  and viewing_mode <> 'pre_production'
  and viewing_started_at is not null
  and left_at >= viewing_started_at
{%- endmacro %}
