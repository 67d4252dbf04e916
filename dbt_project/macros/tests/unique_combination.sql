{#- A row is unique on a combination of columns (what dbt_utils offers; the project takes no
    package dependencies so that `dbt deps` needs no network). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
