{#- A daily stock from start and end moments: the count of items started and not yet ended at the
    end of each local day, per the ``dimensions`` columns. ``items`` is a relation or CTE with
    ``started_at`` and ``ended_at`` (null while live) and the dimension columns; an item counts
    on day D if it started by the end of D and ends after it. Days stop where ``source_key`` has
    been loaded to (int_source_days). Built as +1/-1 events and a running
    sum, so it costs in proportion to days × groups, not days × items. -#}
{% macro running_stock(items, dimensions, value_name, source_key) -%}
    {%- set tz = var('timezone') -%}
    {%- set dims = dimensions | join(', ') -%}
    select
        days.date_day,
        {% for dimension in dimensions %}groups.{{ dimension }}, {% endfor %}
        (
            coalesce(sum(events.delta) over (
                partition by {% for dimension in dimensions %}groups.{{ dimension }}{{ ", " if not loop.last }}{% endfor %}
                order by days.date_day
            ), 0)
            + coalesce(opening.stock, 0)
        )::int as {{ value_name }}
    from {{ ref('int_source_days') }} as days
    cross join (select distinct {{ dims }} from {{ items }}) as groups
    left join (
        select
            {{ dims }},
            day,
            sum(delta) as delta
        from (
            select
                {{ dims }},
                (started_at at time zone '{{ tz }}' - interval '1 microsecond')::date as day,
                1 as delta
            from {{ items }}
            union all
            select
                {{ dims }},
                (ended_at at time zone '{{ tz }}' - interval '1 microsecond')::date as day,
                -1 as delta
            from {{ items }}
            where ended_at is not null
        ) as moves
        group by {{ dims }}, day
    ) as events
        on
            days.date_day = events.day
            {% for dimension in dimensions %}
            and groups.{{ dimension }} = events.{{ dimension }}{% endfor %}
    left join (
        select
            {{ dims }},
            sum(case when (started_at at time zone '{{ tz }}' - interval '1 microsecond')::date
                < (select min(date_day) from {{ ref('int_snapshot_days') }}) then 1 else 0 end)
            - sum(case when (ended_at at time zone '{{ tz }}' - interval '1 microsecond')::date
                < (select min(date_day) from {{ ref('int_snapshot_days') }}) then 1 else 0 end) as stock
        from {{ items }}
        group by {{ dims }}
    ) as opening
        on true{% for dimension in dimensions %}
            and groups.{{ dimension }} = opening.{{ dimension }}{% endfor %}
    where days.source_key = '{{ source_key }}'
{%- endmacro %}
