{# FROM-clause fragment: one row per element of a JSON array column, the element as `alias`. #}
{% macro engagement_unnest_json_array(column, alias) -%}
  {{ return(adapter.dispatch('engagement_unnest_json_array', 'webinar_engagement')(column, alias)) }}
{%- endmacro %}

{% macro default__engagement_unnest_json_array(column, alias) -%}
  , lateral flatten(input => {{ column }}) as {{ alias }}_f
{%- endmacro %}

{% macro duckdb__engagement_unnest_json_array(column, alias) -%}
  cross join unnest(cast(json_extract({{ column }}, '$[*]') as json[])) as _u_{{ alias }}({{ alias }})
{%- endmacro %}

{% macro postgres__engagement_unnest_json_array(column, alias) -%}
  cross join lateral jsonb_array_elements(cast({{ column }} as jsonb)) as _u_{{ alias }}({{ alias }})
{%- endmacro %}

{# The text of one key of a JSON object element. #}
{% macro engagement_json_text(element, key) -%}
  {{ return(adapter.dispatch('engagement_json_text', 'webinar_engagement')(element, key)) }}
{%- endmacro %}

{% macro default__engagement_json_text(element, key) -%}
  {{ element }}_f.value:{{ key }}::varchar
{%- endmacro %}

{% macro duckdb__engagement_json_text(element, key) -%}
  ({{ element }} ->> '{{ key }}')
{%- endmacro %}

{% macro postgres__engagement_json_text(element, key) -%}
  ({{ element }} ->> '{{ key }}')
{%- endmacro %}

{# Staging reads only live rows: target-postgres marks rows a full-table sync removed in
   _sdc_deleted_at; target-duckdb adds no such column. #}
{% macro engagement_live_rows(relation) -%}
  {%- if execute -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- if '_sdc_deleted_at' in names -%} where _sdc_deleted_at is null {%- endif -%}
  {%- endif -%}
{%- endmacro %}
