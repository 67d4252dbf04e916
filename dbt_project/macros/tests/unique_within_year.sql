{#- A number is unique within the year of its date: registers and issuers number from 1 again every
    January, so the same number in two years is two entries, and twice in one year a fault. `columns` is
    the number with whatever else scopes it (the issuer). -#}
{% test unique_within_year(model, columns, date_column) %}
select
    {{ columns | join(', ') }},
    extract(year from {{ date_column }})::int as numbering_year,
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}, extract(year from {{ date_column }})
having count(*) > 1
{% endtest %}
