{#- The days to rebuild in an incremental fact: those whose rows in ``staged`` were loaded
    after the newest load the fact already holds. A reload or backfill of any old window is
    picked up, and a daily run reads only its new batch. -#}
{% macro reloaded_days(staged) -%}
    select distinct staged.report_date
    from {{ staged }} as staged
    where staged.loaded_at > (
        select coalesce(max(built.source_loaded_at), '-infinity') from {{ this }} as built
    )
{%- endmacro %}
