{#- Layers live in fixed schemas (staging, marts, reporting) that BI tools and
    auditors address by name, so a folder's +schema is used as is instead of
    dbt's default <target_schema>_<custom_schema>. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
