"""Reading releases back: the latest (or a given) version of a period, its figures, what it changed, and
what it recorded at publication. Below ``publish`` (which writes releases) and ``trace`` (which follows
them down to the raw rows), so that both read them the same way."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from egov.core.periods import Period
from egov.transform.figures import content_hash


def latest_release(conn: psycopg.Connection, period: Period, version: int | None = None) -> dict | None:
    """The period's latest release (or its ``version``): its row of ``published.releases`` with the Great
    Expectations run and the dbt build of the gate run that let it through; None if there is none."""
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            "select releases.*, gate.gx_run_id, gate.dbt_invocation_id from published.releases "
            "join audit.validation_runs as gate using (validation_id) "
            "where releases.period = %s and (%s::int is null or releases.version = %s) "
            "order by releases.version desc limit 1", (period.label, version, version)).fetchone()


def published_figures(conn: psycopg.Connection, period: Period) -> list[dict]:
    rows = conn.execute(
        """
        select f.figure_id, f.value, f.unit, f.version, f.release_id, f.published_at, f.validation_id
        from published.current_figures f
        where f.period = %s
        order by f.figure_id
        """,
        (period.label,),
    ).fetchall()
    return [
        {"figure_id": r[0], "value": r[1], "unit": r[2], "version": r[3], "release_id": str(r[4]),
         "published_at": r[5].isoformat(), "validation_id": str(r[6])}
        for r in rows
    ]


def release_diff(conn: psycopg.Connection, period: Period, version: int) -> list[dict]:
    """What ``version`` of ``period`` changed against the version before it."""
    rows = conn.execute(
        "select figure_id, previous_value, value from published.release_diffs where period = %s and version = %s "
        "order by figure_id", (period.label, version)).fetchall()
    return [{"figure_id": r[0], "previous_value": r[1], "value": r[2]} for r in rows]


def release_intact(conn: psycopg.Connection, release_id: str, recorded_hash: str) -> bool:
    """Whether the release's stored figures still hash to the content hash recorded with them."""
    figures = conn.execute("select figure_id, value, unit from published.report_figures "
                           "where release_id = %s", (release_id,)).fetchall()
    return content_hash(figures) == recorded_hash


def release_batch_ids(conn: psycopg.Connection, release_id: str) -> set[str]:
    """The load batches the release recorded at publication, as text."""
    return {row[0] for row in conn.execute(
        "select batch_id::text from published.release_batches where release_id = %s", (release_id,))}
