{# The parts that are not NULL, joined with `separator`, as PostgreSQL's and DuckDB's concat_ws
   join them; Snowflake's CONCAT_WS is NULL when any part is NULL. NULL parts only: '' stays. #}
{% macro engagement_concat_present(separator, parts) -%}
  substr({% for part in parts %}coalesce('{{ separator }}' || {{ part }}, ''){% if not loop.last %} || {% endif %}{% endfor %}, {{ (separator | length) + 1 }})
{%- endmacro %}
