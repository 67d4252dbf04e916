"""Changed figures held for review: recorded by the publisher's own role, listed while they wait, and no longer
listed once a release is made with a reason or a later gate run finds the figures back at the release's.

Each test works in one transaction it rolls back (the tables are append-only), under a period no run uses. That
the publisher's role may append a hold and no role may change one is tested with the rest of the grants
(test_access_roles) and through the publish DAG (tests/e2e/test_pipeline.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
import pytest

from egov.core import db
from egov.core.periods import parse_period
from egov.core.run_context import RunContext
from egov.publication import review

PERIOD = parse_period("2099Q4")
FIGURES = [("a_flow", Decimal(10), "count"), ("b_share", Decimal("0.5"), "ratio")]


@pytest.fixture
def conn(database):
    db.bootstrap()
    with psycopg.connect(db.admin_target().url()) as connection:
        yield connection
        connection.rollback()


def _validation(conn: psycopg.Connection, figures_hash: str) -> uuid.UUID:
    validation_id = uuid.uuid4()
    conn.execute("insert into audit.validation_runs (validation_id, period, checkpoint, success, failed, statistics, "
                 "result, figures_hash) values (%s, %s, 'test', true, '[]', '{}', '{}', %s)",
                 (validation_id, PERIOD.label, figures_hash))
    return validation_id


def _release(conn: psycopg.Connection, version: int, digest: str, figures) -> dict:
    release_id = uuid.uuid4()
    conn.execute("insert into published.releases (release_id, period, version, content_hash, figure_count, "
                 "validation_id, published_at) values (%s, %s, %s, %s, %s, %s, clock_timestamp())",
                 (release_id, PERIOD.label, version, digest, len(figures), _validation(conn, digest)))
    for figure_id, value, unit in figures:
        conn.execute("insert into published.report_figures values (%s, %s, %s, %s, %s, %s)",
                     (release_id, PERIOD.label, version, figure_id, value, unit))
    return {"release_id": release_id, "version": version}


def _hold(conn: psycopg.Connection, latest: dict, figures, digest: str) -> review.PendingReview:
    changes = review.changes_against(conn, latest["release_id"], figures)
    return review.hold_for_review(conn, PERIOD, _validation(conn, digest), digest, latest, changes,
                                  RunContext(dag_id="egov_publish_quarterly", run_id="scheduled__test"))


def test_a_hold_lists_each_changed_added_and_dropped_figure_until_a_release_supersedes_it(conn):
    latest = _release(conn, 1, "h1", FIGURES)
    changed = [("a_flow", Decimal(11), "count"), ("c_new", Decimal(3), "count")]
    held = _hold(conn, latest, changed, "h2")
    assert [(c.figure_id, c.previous_value, c.value) for c in held.changes] == [
        ("a_flow", Decimal(10), Decimal(11)), ("b_share", Decimal("0.5"), None), ("c_new", None, Decimal(3))]
    [listed] = review.open_reviews(conn, PERIOD)
    assert listed.review_id == held.review_id and listed.changes == held.changes
    assert review.open_reviews(conn, PERIOD, run_id="scheduled__test") == [listed]
    assert review.open_reviews(conn, PERIOD, run_id="another run") == []
    assert "version 2" in listed.explain() and f"--period {PERIOD.label} --reason" in listed.explain()

    _release(conn, 2, "h2", changed)  # an operator published them, with a reason
    assert review.open_reviews(conn, PERIOD) == []


def test_a_hold_is_settled_when_a_later_gate_run_finds_the_figures_back_at_the_release(conn):
    latest = _release(conn, 1, "h1", FIGURES)
    _hold(conn, latest, [("a_flow", Decimal(12), "count"), FIGURES[1]], "h2")
    _validation(conn, "h3")  # still changed, differently: the hold stands
    assert len(review.open_reviews(conn, PERIOD)) == 1
    _validation(conn, "h1")  # the source withdrew its change
    assert review.open_reviews(conn, PERIOD) == []

