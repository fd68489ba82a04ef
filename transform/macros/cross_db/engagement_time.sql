{# Whole milliseconds from a to b (timestamps without time zone, UTC). #}
{% macro engagement_ms_between(a, b) -%}
  {{ return(adapter.dispatch('engagement_ms_between', 'webinar_engagement')(a, b)) }}
{%- endmacro %}

{% macro default__engagement_ms_between(a, b) -%}
  datediff(millisecond, {{ a }}, {{ b }})
{%- endmacro %}

{% macro duckdb__engagement_ms_between(a, b) -%}
  (epoch_ms({{ b }}) - epoch_ms({{ a }}))
{%- endmacro %}

{% macro postgres__engagement_ms_between(a, b) -%}
  cast(round(extract(epoch from ({{ b }} - {{ a }})) * 1000) as bigint)
{%- endmacro %}

{# Rev's durations, '[d.]hh:mm:ss[.fffffff]' (.NET TimeSpan), as bigint milliseconds.
   Portable: split_part and casts only. #}
{% macro engagement_timespan_ms(column) -%}
  {%- set head = "split_part(" ~ column ~ ", ':', 1)" -%}
  case when {{ column }} is not null then cast(round(1000 * (
      case when position('.' in {{ head }}) > 0
        then cast(split_part({{ head }}, '.', 1) as bigint) * 86400
             + cast(split_part({{ head }}, '.', 2) as bigint) * 3600
        else cast({{ head }} as bigint) * 3600 end
      + cast(split_part({{ column }}, ':', 2) as bigint) * 60
      + cast(split_part({{ column }}, ':', 3) as decimal(18, 7))
  )) as bigint) end
{%- endmacro %}

{# round() that takes a double on every warehouse (PostgreSQL rounds only numeric). #}
{% macro engagement_round(expr, digits) -%}
  {{ return(adapter.dispatch('engagement_round', 'webinar_engagement')(expr, digits)) }}
{%- endmacro %}

{% macro default__engagement_round(expr, digits) -%}
  {#- A double's 17.25 may be 17.2499999...: settle it first, so halves round up as
      PostgreSQL's exact numeric does. -#}
  round(round({{ expr }}, 9), {{ digits }})
{%- endmacro %}

{% macro postgres__engagement_round(expr, digits) -%}
  cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}
