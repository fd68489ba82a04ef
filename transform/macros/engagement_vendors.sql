{# The vendors this build models (vars engagement_using_<vendor>). #}
{% macro engagement_vendors() -%}
  {%- set vendors = [] -%}
  {%- for vendor in ['cast', 'webcasts', 'rev'] -%}
    {%- if var('engagement_using_' ~ vendor, true) -%}{%- do vendors.append(vendor) -%}{%- endif -%}
  {%- endfor -%}
  {%- if not vendors -%}
    {{ exceptions.raise_compiler_error("Every vendor is switched off: set at least one of the vars engagement_using_cast, engagement_using_webcasts, engagement_using_rev to true.") }}
  {%- endif -%}
  {{ return(vendors) }}
{%- endmacro %}

{# `select * from <vendor>_rows` for each modelled vendor, joined by union all. #}
{% macro engagement_union_vendor_rows() -%}
  {%- for vendor in engagement_vendors() %}
    {% if not loop.first %}union all{% endif %}
    select * from {{ vendor }}_rows
  {%- endfor %}
{%- endmacro %}

{# A Rev username's person: the email its sessions resolve it to, else the username itself. #}
{% macro engagement_rev_person(email, username, map_alias) -%}
  coalesce(
    {{ engagement_person_key(email) }},
    {{ engagement_person_key(map_alias ~ '.email') }},
    {{ engagement_username_key(username) }})
{%- endmacro %}

{% macro engagement_rev_resolution(email, map_alias) -%}
  case when {{ email }} is not null then 'email'
       when {{ map_alias }}.email is not null then 'username_via_sessions'
       else 'username_only' end
{%- endmacro %}
