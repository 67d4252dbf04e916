{{ config(indexes=[{'columns': ['period_label', 'indicator_code', 'boundary', 'admin_unit_key'], 'unique': true}]) }}

-- Every indicator per quarter and year and administrative unit, on two sets of boundaries:
-- "as_was", the units of the facts' own days (a 2019 figure rolls up to its 2019 commune, district and
-- Trà Vinh), and "as_is", today's units (the new commune its commune went into, and Vĩnh Long).
-- A period that straddles a change of boundaries is rolled up segment by segment
-- (int_indicator_agency_segment): "as was", the year 2025 shows Trà Vinh's communes and districts with
-- the first half and Vĩnh Long's new communes with the second. Rows are unit versions (admin_unit_key),
-- since a reused code (29242) names a different territory on each side of 1 July 2025. Indicators
-- without an agency (portal, registers, the procedure catalogue) belong to the province as a whole.

with

agency_segments as (
    select * from {{ ref('int_indicator_agency_segment') }}
),

agencies as (
    select * from {{ ref('dim_agency') }}
),

units as (
    select * from {{ ref('dim_admin_unit') }}
),

ancestors as (
    select * from {{ ref('int_admin_unit_ancestors') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

-- Stocks are reported only where their source has been loaded through the period's end.
known as (
    select
        period_label,
        indicator_code
    from {{ ref('rpt_indicator_period') }}
    where measure_kind = 'flow' or is_complete
),

agency_units as (
    select
        agency_segments.*,
        coalesce(agencies.admin_unit_code, '{{ var("province_code") }}') as admin_unit_code
    from agency_segments
    inner join known
        on agency_segments.period_label = known.period_label and agency_segments.indicator_code = known.indicator_code
    left join agencies on agency_segments.agency_code = agencies.agency_code
),

last_versions as (
    -- Each agency unit's latest version begun by the segment's end, for units merged away before it.
    select distinct on (agency_units.period_label, agency_units.segment_end, agency_units.admin_unit_code)
        agency_units.period_label,
        agency_units.segment_end,
        agency_units.admin_unit_code,
        -- A unit whose level was abolished has no successor: its territory went to its current unit.
        coalesce(units.successor_code, units.current_unit_code) as successor_code
    from agency_units
    inner join units
        on agency_units.admin_unit_code = units.admin_unit_code and agency_units.segment_end >= units.valid_from
    order by
        agency_units.period_label asc, agency_units.segment_end asc, agency_units.admin_unit_code asc,
        units.valid_from desc
),

placed as (
    -- The unit version each value belongs to at its segment's end: its own unit's, or if that unit was
    -- merged away before the segment ended, the version of the unit that absorbed it.
    select
        agency_units.period_label,
        agency_units.indicator_code,
        agency_units.indicator_value,
        coalesce(own.admin_unit_key, absorbing.admin_unit_key) as admin_unit_key,
        coalesce(own.current_unit_code, absorbing.current_unit_code) as current_unit_code
    from agency_units
    left join units as own
        on
            agency_units.admin_unit_code = own.admin_unit_code
            and agency_units.segment_end >= own.valid_from
            and (agency_units.segment_end < own.valid_to or own.valid_to is null)
    left join last_versions
        on
            agency_units.period_label = last_versions.period_label
            and agency_units.segment_end = last_versions.segment_end
            and agency_units.admin_unit_code = last_versions.admin_unit_code
    left join units as absorbing
        on
            last_versions.successor_code = absorbing.admin_unit_code
            and agency_units.segment_end >= absorbing.valid_from
            and (agency_units.segment_end < absorbing.valid_to or absorbing.valid_to is null)
),

as_was as (
    select
        placed.period_label,
        placed.indicator_code,
        'as_was' as boundary,
        ancestors.ancestor_level as admin_level,
        ancestors.ancestor_key as admin_unit_key,
        ancestors.ancestor_code as admin_unit_code,
        ancestors.ancestor_name as admin_unit_name,
        sum(placed.indicator_value) as indicator_value
    from placed
    inner join ancestors on placed.admin_unit_key = ancestors.admin_unit_key
    group by
        placed.period_label, placed.indicator_code, ancestors.ancestor_level, ancestors.ancestor_key,
        ancestors.ancestor_code, ancestors.ancestor_name
),

as_is as (
    select
        placed.period_label,
        placed.indicator_code,
        'as_is' as boundary,
        ancestors.ancestor_level as admin_level,
        ancestors.ancestor_key as admin_unit_key,
        ancestors.ancestor_code as admin_unit_code,
        ancestors.ancestor_name as admin_unit_name,
        sum(placed.indicator_value) as indicator_value
    from placed
    inner join units as today on placed.current_unit_code = today.admin_unit_code and today.is_current
    inner join ancestors on today.admin_unit_key = ancestors.admin_unit_key
    group by
        placed.period_label, placed.indicator_code, ancestors.ancestor_level, ancestors.ancestor_key,
        ancestors.ancestor_code, ancestors.ancestor_name
),

additive as (
    select * from as_was
    union all
    select * from as_is
),

ratios as (
    select
        numerator.period_label,
        indicators.indicator_code,
        numerator.boundary,
        numerator.admin_level,
        numerator.admin_unit_key,
        numerator.admin_unit_code,
        numerator.admin_unit_name,
        numerator.indicator_value / nullif(denominator.indicator_value, 0) as indicator_value,
        numerator.indicator_value as numerator_value,
        denominator.indicator_value as denominator_value
    from indicators
    inner join additive as numerator on indicators.numerator_code = numerator.indicator_code
    inner join additive as denominator
        on
            indicators.denominator_code = denominator.indicator_code
            and numerator.period_label = denominator.period_label
            and numerator.boundary = denominator.boundary
            and numerator.admin_unit_key = denominator.admin_unit_key
    where indicators.measure_kind = 'ratio'
),

final as (
    select
        period_label::text as period_label,
        indicator_code::text as indicator_code,
        boundary::text as boundary,
        admin_level::text as admin_level,
        admin_unit_key::text as admin_unit_key,
        admin_unit_code::text as admin_unit_code,
        admin_unit_name::text as admin_unit_name,
        indicator_value::numeric(20, 6) as indicator_value,
        null::numeric(20, 6) as numerator_value,
        null::numeric(20, 6) as denominator_value
    from additive
    union all
    select
        period_label::text,
        indicator_code::text,
        boundary::text,
        admin_level::text,
        admin_unit_key::text,
        admin_unit_code::text,
        admin_unit_name::text,
        indicator_value::numeric(20, 6),
        numerator_value::numeric(20, 6),
        denominator_value::numeric(20, 6)
    from ratios
)

select * from final
