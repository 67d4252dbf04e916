"""Changed figures held for a person's review.

A period published once is published again only with a reason. When a run (a scheduled DAG, ``egov run`` or
``egov publish`` without ``--reason``) finds that the figures of an already-published period changed, it
publishes nothing: it records what changed in ``audit.pending_reviews`` and stops with the diff. The release
stands until an operator publishes the changed figures with a reason (``egov publish --period P --reason …``,
or ``reason`` in the publish DAG's conf). The first publication of a period needs no reason.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

from egov.core.periods import Period
from egov.core.rows import one_row
from egov.core.run_context import RunContext
from egov.core.values import plain_number

#: ``egov run`` and ``egov publish`` exit with this code when they held changed figures for review.
EXIT_PENDING_REVIEW = 4


@dataclass(frozen=True)
class Change:
    figure_id: str
    previous_value: Decimal | None  # None: a figure the previous version did not have
    value: Decimal | None  # None: a figure no longer reported


@dataclass(frozen=True)
class PendingReview:
    review_id: uuid.UUID
    period: str
    previous_version: int
    content_hash: str
    changes: tuple[Change, ...]
    detected_at: datetime

    def explain(self) -> str:
        """The diff and how to approve it, for a task log or a terminal."""
        lines = [f"the figures of {self.period} differ from the published version {self.previous_version} in "
                 f"{len(self.changes)} figure(s); nothing was published, version {self.previous_version} stands "
                 f"(held for review {self.review_id}):"]
        lines += [f"  {change.figure_id:<44} {plain_number(change.previous_value, missing='-'):>14} -> "
                  f"{plain_number(change.value, missing='-'):>14}" for change in self.changes]
        lines += [f"to publish them as version {self.previous_version + 1}, give the reason for the change:",
                  f"  egov publish --period {self.period} --reason \"...\"",
                  f"  or trigger egov_publish_quarterly with conf {{\"period\": \"{self.period}\", "
                  "\"reason\": \"...\"}"]
        return "\n".join(lines)


def changes_against(conn: psycopg.Connection, release_id: uuid.UUID,
                    figures: list[tuple[str, Decimal, str]]) -> tuple[Change, ...]:
    """What ``figures`` (figure_id, value, unit) change against the figures of release ``release_id``."""
    published: dict[str, Decimal] = dict(conn.execute(
        "select figure_id, value from published.report_figures where release_id = %s", (release_id,)).fetchall())
    now = {figure_id: value for figure_id, value, _unit in figures}
    return tuple(Change(figure_id, published.get(figure_id), now.get(figure_id))
                 for figure_id in sorted(published.keys() | now.keys())
                 if published.get(figure_id) != now.get(figure_id))


def hold_for_review(conn: psycopg.Connection, period: Period, validation_id: uuid.UUID, digest: str,
                    latest: dict, changes: tuple[Change, ...], run: RunContext) -> PendingReview:
    """Record that the period's figures changed without a reason; every detection is kept, with its run."""
    review_id = uuid.uuid4()
    payload = [{"figure_id": c.figure_id, "previous_value": _number(c.previous_value), "value": _number(c.value)}
               for c in changes]
    (detected_at,) = one_row(
        conn,
        "insert into audit.pending_reviews (review_id, period, validation_id, content_hash, previous_release_id, "
        "previous_version, changes, dag_id, run_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "returning detected_at",
        (review_id, period.label, validation_id, digest, latest["release_id"], latest["version"],
         json.dumps(payload), run.dag_id, run.run_id))
    return PendingReview(review_id, period.label, latest["version"], digest, changes, detected_at)


def open_reviews(conn: psycopg.Connection, period: Period | None = None,
                 run_id: str | None = None) -> list[PendingReview]:
    """The latest detection of each period whose changed figures still wait for a reason: made against the
    period's current release, not published since, and not settled by a later gate run that found the figures
    back at the release's. ``run_id`` keeps only what that Airflow run held."""
    rows = conn.execute(
        """
        select distinct on (reviews.period) reviews.review_id, reviews.period, reviews.previous_version,
               reviews.content_hash, reviews.changes, reviews.detected_at, reviews.run_id
        from audit.pending_reviews as reviews
        join published.releases as current
            on current.period = reviews.period
            and current.version = (select max(version) from published.releases where period = reviews.period)
        where reviews.previous_release_id = current.release_id
            and (%(period)s::text is null or reviews.period = %(period)s)
            -- Settled if a later gate run found the figures back at the release's (the source withdrew it).
            and not exists (
                select from audit.validation_runs as later
                where later.period = reviews.period and later.validated_at > reviews.detected_at
                    and later.figures_hash = current.content_hash)
        order by reviews.period, reviews.detected_at desc
        """, {"period": period.label if period else None}).fetchall()
    return [PendingReview(review_id, label, version, digest, tuple(
                Change(c["figure_id"], _decimal(c["previous_value"]), _decimal(c["value"])) for c in changes),
                detected_at)
            for review_id, label, version, digest, changes, detected_at, held_by in rows
            if run_id is None or held_by == run_id]


def _number(value: Decimal | None) -> str | None:
    # As text: a JSON number would pass through a float on the way back.
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
