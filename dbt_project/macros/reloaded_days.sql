{#- The days an incremental fact must rebuild: every day in the window of a batch loaded into
    ``raw_table`` after the newest batch the fact holds. Windows, not rows, decide, so a day a
    reload emptied is rebuilt (to nothing) too; loads of one raw table are serialised, so
    loaded_at follows commit order. The facts index source_loaded_at, so that finding their newest
    batch reads one index entry, not every row of their history. -#}
{% macro reloaded_days(raw_table) -%}
    select distinct reloaded.report_date::date
    from {{ ref('stg_audit__load_batches') }} as batches
    cross join lateral generate_series(
        batches.window_start, batches.window_end - 1, interval '1 day'
    ) as reloaded (report_date)
    where
        batches.raw_table = '{{ raw_table }}'
        and batches.loaded_at > (
            select coalesce(max(built.source_loaded_at), '-infinity') from {{ this }} as built
        )
{%- endmacro %}

{#- Pre-hook of an incremental fact: remove the reloaded days first, so that a day that now has
    no rows does not keep its old ones (delete+insert only deletes days present in the new data). -#}
{% macro delete_reloaded_days(raw_table) -%}
    {% if is_incremental() %}
        delete from {{ this }} where date_day in ({{ reloaded_days(raw_table) }})
    {% endif %}
{%- endmacro %}
