{#- dbt's relationships test, with a condition on each side (what dbt_utils.relationships_where offers;
    the project takes no package dependencies): only rows meeting `from_condition` must find their
    value among the reference rows meeting `to_condition`. Nulls are not checked, as in dbt's test. -#}
{% test relationships_where(model, column_name, to, field, from_condition='true', to_condition='true') %}
with

children as (
    select {{ column_name }} as code
    from {{ model }}
    where {{ column_name }} is not null and ({{ from_condition }})
),

parents as (
    select {{ field }} as code
    from {{ to }}
    where {{ to_condition }}
)

select children.code, count(*) as occurrences
from children
left join parents on children.code = parents.code
where parents.code is null
group by children.code
{% endtest %}
