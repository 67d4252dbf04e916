{#- '2019Q1' for a date: the period key used across reporting and publication. -#}
{% macro quarter_label(date_expr) -%}
    (extract(year from {{ date_expr }})::int::text || 'Q' || extract(quarter from {{ date_expr }})::int::text)
{%- endmacro %}
