-- Every published figure with the release that carries it (and what made that release: the gate
-- run, the GX checkpoint run, the dbt build, the Airflow run), its indicator's definition, and the
-- value the warehouse holds for it now. The top of a figure's trace.
-- Reads the published releases with source() outside staging, as rpt_figures_published_and_current
-- does: they are the Python side's tables, read as they are, with nothing to rename or cast.

with

releases as (
    select * from {{ source('published', 'releases') }}
),

gate as (
    select * from {{ source('audit', 'validation_runs') }}
),

figures as (
    select * from {{ source('published', 'report_figures') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

current_figures as (
    select * from {{ ref('rpt_report_figures') }}
),

final as (
    select
        figures.period,
        figures.figure_id,
        figures.version,
        figures.release_id,
        releases.published_at,
        releases.reason,
        releases.content_hash,
        figures.value as released_value,
        figures.unit,
        current_figures.figure_value as current_value,
        indicators.indicator_name_vi,
        indicators.indicator_name_en,
        indicators.measure_kind,
        indicators.definition,
        indicators.legal_basis,
        indicators.valid_from as definition_valid_from,
        indicators.numerator_code,
        indicators.denominator_code,
        releases.validation_id,
        gate.gx_run_id,
        gate.dbt_invocation_id,
        releases.dag_id,
        releases.run_id as airflow_run_id
    from figures
    inner join releases on figures.release_id = releases.release_id
    inner join gate on releases.validation_id = gate.validation_id
    left join indicators on figures.figure_id = indicators.indicator_code
    left join current_figures
        on figures.period = current_figures.period and figures.figure_id = current_figures.figure_id
)

select * from final
