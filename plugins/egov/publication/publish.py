"""Publish a period's validated figures as an immutable, versioned release."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

from egov.core.periods import Period
from egov.core.rows import one_row
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.openlineage import runs
from egov.publication.release import latest_release
from egov.publication.review import PendingReview, changes_against, hold_for_review
from egov.publication.trace import WAREHOUSE_LEVELS, TraceError, batches_used_query, period_components, trace_period
from egov.transform.figures import content_hash, period_figures

log = logging.getLogger(__name__)


class PublicationError(RuntimeError):
    """The release cannot be made (no validated slice, nothing to publish, no reason for a new version…)."""


class ReviewPending(PublicationError):
    """The figures of an already-published period changed and no reason was given: they were held for review
    (``audit.pending_reviews``) and nothing was published."""

    def __init__(self, review: PendingReview):
        super().__init__(review.explain())
        self.review = review


@dataclass(frozen=True)
class Release:
    release_id: uuid.UUID
    period: str
    version: int
    content_hash: str
    published_at: datetime
    created: bool  # False when the figures equal the latest release, which stays


def publish(conn: psycopg.Connection, period: Period, validation_id: uuid.UUID,
            run: RunContext = OUTSIDE_AIRFLOW, reason: str | None = None) -> Release:
    """Write the period's figures from ``reporting`` as the next version, unless they are unchanged.

    One OpenLineage job run ``publish.<period>``, from the reporting figures to ``published.report_figures``,
    with the release in its ``egov_release`` facet.
    """
    with runs.job_run(
        f"publish.{period.label}",
        inputs=[runs.warehouse_dataset(conn, "reporting.rpt_report_figures")],
        outputs=[runs.warehouse_dataset(conn, "published.report_figures")],
        parent=run,
    ) as openlineage_run:
        release = _publish(conn, period, validation_id, run, reason)
        if isinstance(release, PendingReview):
            raise ReviewPending(release)
        if not release.created:
            openlineage_run.outputs = []  # nothing written: the latest release stands
        openlineage_run.add(runs.ReleaseRunFacet(
            release_id=str(release.release_id), period=release.period, version=release.version,
            content_hash=release.content_hash, validation_id=str(validation_id), created=release.created))
    return release


def _publish(conn: psycopg.Connection, period: Period, validation_id: uuid.UUID, run: RunContext,
             reason: str | None) -> Release | PendingReview:
    with conn.transaction():
        # One publisher per period at a time; versions stay gap-free.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"publish:{period.label}",))
        validation = conn.execute(
            "select success, figures_hash from audit.validation_runs "
            "where validation_id = %s and period = %s",
            (validation_id, period.label),
        ).fetchone()
        if not validation or not validation[0]:
            raise PublicationError(f"validation {validation_id} did not pass the gate for {period.label}")
        figures = period_figures(conn, period)
        if not figures:
            raise PublicationError(f"reporting.rpt_report_figures has no figures for {period.label}")
        digest = content_hash(figures)
        if digest != validation[1]:
            raise PublicationError(
                f"the figures of {period.label} changed after validation {validation_id} (a rebuild ran in "
                "between); run the gate again before publishing"
            )
        latest = latest_release(conn, period)
        if latest and latest["content_hash"] == digest:
            log.info("figures of %s unchanged since version %d; no new release", period.label, latest["version"])
            return Release(latest["release_id"], period.label, latest["version"], digest, latest["published_at"],
                           created=False)
        version = latest["version"] + 1 if latest else 1
        # What changed against the latest version: held for review without a reason, else the release's diff.
        changes = changes_against(conn, latest["release_id"], figures) if latest else ()
        if latest and not (reason or "").strip():
            # A changed figure of a published period is never republished without a person's reason. The hold is
            # recorded and committed; publish() raises it once this transaction is over.
            return hold_for_review(conn, period, validation_id, digest, latest, changes, run)
        _refuse_unreconciled(conn, period)
        release_id = uuid.uuid4()
        (published_at,) = one_row(
            conn,
            """
            insert into published.releases (release_id, period, version, content_hash, figure_count,
                validation_id, reason, published_at, dag_id, run_id)
            values (%s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s, %s)
            returning published_at
            """,
            (release_id, period.label, version, digest, len(figures), validation_id,
             reason or "first publication",
             run.dag_id, run.run_id),
        )
        _record_trace(conn, release_id, period)
        with conn.cursor().copy(
            "copy published.report_figures (release_id, period, version, figure_id, value, unit) from stdin"
        ) as copy:
            for figure_id, value, unit in figures:
                copy.write_row((release_id, period.label, version, figure_id, value, unit))
        with conn.cursor().copy("copy published.release_diffs (release_id, period, version, figure_id, "
                                "previous_value, value) from stdin") as copy:
            for change in changes:
                copy.write_row((release_id, period.label, version, change.figure_id, change.previous_value,
                                change.value))
    log.info("published %s version %d (%d figures, %s)", period.label, version, len(figures), digest[:12])
    return Release(release_id, period.label, version, digest, published_at, created=True)


def _refuse_unreconciled(conn: psycopg.Connection, period: Period) -> None:
    """Publish only figures whose raw rows, daily facts and rollups agree: a load that committed after the
    build would otherwise leave the release resting on batches its figures were not computed from."""
    try:
        traces = trace_period(conn, period, verify_checksums=False)
    except TraceError as untraceable:
        raise PublicationError(f"the figures of {period.label} cannot be traced: {untraceable}") from None
    # The figure differing from the last release is why a version is made: only the chain below it counts.
    broken = {figure_id: [level.level for level in found.levels
                          if level.level in WAREHOUSE_LEVELS and not level.reconciled]
              for figure_id, found in traces.items() if not found.warehouse_reconciled}
    if broken:
        raise PublicationError(
            f"the figures of {period.label} do not reconcile with their raw rows ("
            + "; ".join(f"{figure_id}: {', '.join(levels)}" for figure_id, levels in sorted(broken.items()))
            + "): raw data changed since the build; build and run the gate again (egov trace shows the chain)")


def _record_trace(conn: psycopg.Connection, release_id: uuid.UUID, period: Period) -> None:
    """Store what the release rests on: the load batches of the raw rows behind its figures (found by the
    trace), and the definitions of the indicators it reports, as they are at publication."""
    conn.execute(
        f"""
        insert into published.release_batches (release_id, batch_id, raw_table, rows_used)
        select %s, batch_id, raw_table, rows_used
        from ({batches_used_query(conn, period_components(conn, period))}) as used
        """,
        (release_id,),
    )
    conn.execute(
        """
        insert into published.release_indicators (release_id, indicator_code, indicator_name_vi, indicator_name_en,
            measure_kind, unit, numerator_code, denominator_code, definition, legal_basis, valid_from, valid_to)
        select %s, indicator_code, indicator_name_vi, indicator_name_en, measure_kind, unit, numerator_code,
               denominator_code, definition, legal_basis, valid_from, valid_to
        from marts.dim_indicator
        where indicator_code in (
            select figure_id from lineage.lineage_figure_components where period = %s
            union select indicator_code from lineage.lineage_figure_components where period = %s)
        """,
        (release_id, period.label, period.label),
    )
