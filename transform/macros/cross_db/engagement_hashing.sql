{# Lower-case hex SHA-256 of a text expression: the same digest on every warehouse. #}
{% macro engagement_sha256(expr) -%}
  {{ return(adapter.dispatch('engagement_sha256', 'webinar_engagement')(expr)) }}
{%- endmacro %}

{% macro default__engagement_sha256(expr) -%}
  sha2({{ expr }}, 256)
{%- endmacro %}

{% macro duckdb__engagement_sha256(expr) -%}
  sha256({{ expr }})
{%- endmacro %}

{% macro postgres__engagement_sha256(expr) -%}
  encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex')
{%- endmacro %}

{# A deterministic key from several columns: md5 of the parts joined with '|'. #}
{% macro engagement_key(parts) -%}
  md5({% for part in parts %}coalesce(cast({{ part }} as varchar), ''){% if not loop.last %} || '|' || {% endif %}{% endfor %})
{%- endmacro %}

{# Emails are compared lower-cased and trimmed; plus tags and dots are kept (they can be
   different people: Cast's 37 contacts would become 17 without their +tags). #}
{% macro engagement_normalize_email(column) -%}
  nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{% macro engagement_salt() -%}
  {%- set salt = var('engagement_identity_salt', '') -%}
  '{{ (salt if salt else "webinar-taps-public-demo-salt") | replace("'", "''") }}'
{%- endmacro %}

{# The person key of a normalised email; NULL stays NULL. #}
{% macro engagement_person_key(email) -%}
  case when {{ email }} is not null then {{ engagement_sha256(engagement_salt() ~ " || " ~ email) }} end
{%- endmacro %}

{# The key of a Rev username no session resolves to an email (a person of its own). #}
{% macro engagement_username_key(username) -%}
  case when {{ username }} is not null
    then {{ engagement_sha256(engagement_salt() ~ " || 'rev-username:' || " ~ username) }} end
{%- endmacro %}

{% macro engagement_warn_default_salt() %}
  {% if execute and not var('engagement_identity_salt', '') %}
    {{ log("ENGAGEMENT_IDENTITY_SALT is not set: person keys use the public demo salt, so anyone can test an email against them. Set it (any long random text, the same for every run) before modelling real people.", info=True) }}
  {% endif %}
  select 1
{% endmacro %}
