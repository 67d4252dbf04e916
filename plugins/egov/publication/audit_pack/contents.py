"""What goes into an audit pack: the release and everything behind it, read from the warehouse, by member."""

from __future__ import annotations

import csv
import io
import json
import logging

import psycopg
from psycopg.rows import dict_row

from egov.core.periods import Period
from egov.core.values import json_value
from egov.openlineage import runs
from egov.publication import trace
from egov.publication.release import latest_release, release_diff

log = logging.getLogger(__name__)


class AuditPackError(RuntimeError):
    """The pack cannot be written: nothing published, a release that cannot be traced."""


def _json_default(value):
    found = json_value(value)
    return str(found) if found is value else found


def _dumps(document) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False, default=_json_default).encode()


def _csv(rows: list[dict], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _json_default(value) if value is not None and not isinstance(value, str) else value
                         for key, value in row.items()})
    # A BOM, so that spreadsheet programs read the Vietnamese text as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode()


def _rows(conn: psycopg.Connection, query: str, params: tuple) -> list[dict]:
    return _table(conn, query, params)[0]


def _table(conn: psycopg.Connection, query: str, params: tuple) -> tuple[list[dict], list[str]]:
    """The rows of ``query`` and its column names (a CSV keeps its header when there are no rows)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(query, params).fetchall()
        return rows, [column.name for column in cursor.description or ()]


def release_of(conn: psycopg.Connection, period: Period, version: int | None) -> dict:
    found = latest_release(conn, period, version)
    if not found:
        raise AuditPackError(f"{period.label} has no release" + (f" version {version}" if version else "")
                             + "; publish it first (egov publish, or the egov_publish_quarterly DAG)")
    return found


def contents(conn: psycopg.Connection, period: Period, release: dict) -> dict[str, bytes]:
    """The members of the pack of ``release`` (a row of :func:`release_of`) that its manifest lists, by path."""
    release_id = release["release_id"]
    figures = _table(conn, """
        select figures.figure_id, figures.value, figures.unit, catalogue.report_section, catalogue.quote_vi,
               catalogue.meaning_en
        from published.report_figures as figures
        left join marts.report_figure_catalogue as catalogue using (figure_id)
        where figures.release_id = %s order by catalogue.display_order""", (release_id,))
    # As the release recorded them, not as the catalogue says today.
    definitions = _table(conn, "select * from published.release_indicators where release_id = %s "
                               "order by indicator_code", (release_id,))
    batches = _table(conn, """
        select used.batch_id, batches.source_system, batches.entity, batches.raw_table, batches.window_start,
               batches.window_end, batches.request, batches.pages, batches.row_count, batches.rejected_count,
               batches.checksum, used.rows_used, batches.loaded_at, batches.dag_id, batches.run_id, batches.task_id
        from published.release_batches as used
        join audit.load_batches as batches using (batch_id)
        where used.release_id = %s
        order by batches.raw_table, batches.window_start nulls first""", (release_id,))
    gate = _rows(conn, "select * from audit.validation_runs where validation_id = %s", (release["validation_id"],))[0]
    checkpoint = gate.pop("result")
    dbt_run = _rows(conn, "select run_results, manifest from audit.dbt_invocations where invocation_id = %s",
                    (release["dbt_invocation_id"],))
    try:
        traced = trace.trace_period(conn, period, release["version"])
    except trace.TraceError as untraceable:
        raise AuditPackError(str(untraceable)) from None
    batch_ids = [str(batch["batch_id"]) for batch in batches[0]]
    events = [
        *runs.read_events(runs.ReleaseRunFacet, "release_id", str(release_id)),
        *runs.read_events(runs.ValidationRunFacet, "validation_id", str(release["validation_id"])),
        *runs.read_events(runs.DbtRunFacet, "invocation_id",
                                    [release["dbt_invocation_id"]] if release["dbt_invocation_id"] else []),
        *runs.read_events(runs.BatchRunFacet, "batch_id", batch_ids),
    ]
    # Releases published before the project recorded these have none; the pack says so rather than guess.
    not_recorded = [name for name, missing in (
        ("dbt invocation and its artifacts", not dbt_run), ("Great Expectations run id", not release["gx_run_id"]),
        ("batches used", not batches[0]), ("indicator definitions at publication", not definitions[0]),
        ("OpenLineage events (they went to a server, not the state folder's file)",
         runs.transport_kind() != "file")) if missing]
    release_document = {
        **release,
        "not_recorded": not_recorded,
        "figures": {figure["figure_id"]: {"value": figure["value"], "unit": figure["unit"]} for figure in figures[0]},
        "diff_against_previous_version": release_diff(conn, period, release["version"]),
        "reconciled": all(found.reconciled for found in traced.values()),
    }
    files = {
        "release.json": _dumps(release_document),
        "figures.csv": _csv(*figures),
        "indicator_definitions.csv": _csv(*definitions),
        "batch_manifest.csv": _csv(*batches),
        "validation/gate.json": _dumps(gate),
        "validation/checkpoint.json": _dumps(checkpoint),
        "lineage/trace.json": _dumps(trace.to_json(traced)),
        "lineage/openlineage.jsonl": "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events).encode(),
        # null when not recorded (release.json's not_recorded says so): the list of members stays fixed.
        "dbt/run_results.json": _dumps(dbt_run[0]["run_results"] if dbt_run else None),
        "dbt/manifest.json": _dumps(dbt_run[0]["manifest"] if dbt_run else None),
    }
    for name in not_recorded:
        log.warning("release %s of %s: %s not recorded (published before the project kept it)",
                    release["version"], period.label, name)
    return files
