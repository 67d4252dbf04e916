"""The server switch: embedded by default, an external server through EGOV_DATABASE_URL."""

from __future__ import annotations

import psycopg
import pytest

from egov.core import config, db


def test_external_url_points_warehouse_and_airflow_at_the_same_server(monkeypatch):
    monkeypatch.setenv("EGOV_DATABASE_URL", "postgresql://egov:s%40cret@db.example.internal:6543/warehouse")
    monkeypatch.setenv("EGOV_AIRFLOW_DB", "airflow_meta")
    warehouse, airflow = db.admin_target(), db.airflow_target()
    assert (warehouse.host, warehouse.port, warehouse.user, warehouse.password, warehouse.dbname) == (
        "db.example.internal", 6543, "egov", "s@cret", "warehouse")
    assert airflow.dbname == "airflow_meta" and airflow.host == warehouse.host
    # Airflow signs in as the owner of its database, not as the administrator of the URL.
    assert airflow.url("postgresql+psycopg2").startswith("postgresql+psycopg2://egov_airflow:")
    assert airflow.url().endswith("@db.example.internal:6543/airflow_meta")
    assert config.redact(warehouse.url()) == "postgresql://egov:***@db.example.internal:6543/warehouse"


@pytest.mark.parametrize(("url", "problem"), [
    ("mysql://u@h/db", "postgresql:// URL"),
    ("postgresql:///egov", "needs a host"),
])
def test_bad_external_urls_are_refused_clearly(monkeypatch, url, problem):
    monkeypatch.setenv("EGOV_DATABASE_URL", url)
    with pytest.raises(ValueError, match=problem):
        db.admin_target()


def test_an_external_server_is_bootstrapped_but_never_stopped(monkeypatch, database):
    """The test server stands in for an external one reached by URL."""
    server = database.with_db("egov_external_probe")
    monkeypatch.setenv("EGOV_DATABASE_URL", server.url())
    monkeypatch.setenv("EGOV_AIRFLOW_DB", "airflow_external_probe")
    try:
        status = db.up()
        assert status.mode == "external" and status.running
        with psycopg.connect(server.url()) as conn:
            schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
            assert set(config.WAREHOUSE_SCHEMAS) <= schemas
            assert conn.execute("select to_regclass('raw.onestop__dossier_counts')").fetchone()[0]
        db.up()  # idempotent
        with pytest.raises(db.DatabaseError, match="not ours to stop"):
            db.down()
    finally:
        with psycopg.connect(database.with_db("postgres").url(), autocommit=True) as conn:
            conn.execute("drop database if exists egov_external_probe")
            conn.execute("drop database if exists airflow_external_probe")


@pytest.mark.skipif(bool(db.external_url()), reason="runs on the embedded server only")
def test_embedded_server_status_and_url(database):
    status = db.status()
    assert status.mode == "embedded" and status.running and status.pid
    # The superuser's secret is never printed.
    assert status.url == config.redact(database.url()) and ":***@" in status.url
    with psycopg.connect(database.url()) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == config.warehouse_db_name()


def test_named_databases_hold_inside_the_block_only(monkeypatch):
    from egov.core import config

    monkeypatch.setenv("EGOV_WAREHOUSE_DB", "egov_before")
    monkeypatch.delenv("EGOV_AIRFLOW_DB", raising=False)
    with config.named_databases("bench_x", "airflow_x"):
        assert (config.warehouse_db_name(), config.airflow_db_name()) == ("bench_x", "airflow_x")
    assert (config.warehouse_db_name(), config.airflow_db_name()) == ("egov_before", "airflow")
