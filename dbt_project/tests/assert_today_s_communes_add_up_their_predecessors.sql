-- A commune of today holds, on today's boundaries, exactly what its predecessors held on theirs: for
-- every flow and stock and period, the as_is value of a current commune equals the sum of the as_was
-- values of the commune versions whose territory it holds now (Phường Trà Vinh: Phường 1, 2, 3, 6
-- and 9 of 2019). District and province agencies count in no commune, on either boundary.

with

rollup as (
    select * from {{ ref('rpt_indicator_admin_unit_period') }}
    where admin_level = 'commune'
),

units as (
    select * from {{ ref('dim_admin_unit') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
    where measure_kind in ('flow', 'stock')
),

predecessors as (
    select
        rollup.period_label,
        rollup.indicator_code,
        units.current_unit_code as admin_unit_code,
        sum(rollup.indicator_value) as indicator_value
    from rollup
    inner join indicators on rollup.indicator_code = indicators.indicator_code
    inner join units on rollup.admin_unit_key = units.admin_unit_key
    where rollup.boundary = 'as_was'
    group by rollup.period_label, rollup.indicator_code, units.current_unit_code
),

today as (
    select
        rollup.period_label,
        rollup.indicator_code,
        rollup.admin_unit_code,
        rollup.indicator_value
    from rollup
    inner join indicators on rollup.indicator_code = indicators.indicator_code
    where rollup.boundary = 'as_is'
),

final as (
    select
        coalesce(today.period_label, predecessors.period_label) as period_label,
        coalesce(today.indicator_code, predecessors.indicator_code) as indicator_code,
        coalesce(today.admin_unit_code, predecessors.admin_unit_code) as admin_unit_code,
        today.indicator_value as as_is_value,
        predecessors.indicator_value as predecessors_as_was_value
    from today
    full outer join predecessors
        on
            today.period_label = predecessors.period_label
            and today.indicator_code = predecessors.indicator_code
            and today.admin_unit_code = predecessors.admin_unit_code
    where today.indicator_value is distinct from predecessors.indicator_value
)

select * from final
