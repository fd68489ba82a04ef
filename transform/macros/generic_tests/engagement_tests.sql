{# The generic tests dbt_utils would give, so the project needs no `dbt deps` (no network). #}

{% test engagement_accepted_range(model, column_name, min_value=none, max_value=none) %}
select * from {{ model }}
where {{ column_name }} is not null and (
  {% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}false{% endif %}
  or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}false{% endif %})
{% endtest %}

{% test engagement_unique_combination(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test engagement_expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
