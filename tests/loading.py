"""Loads for the end-to-end tests: the project's connector and loader, called directly (as a DAG task
calls them) with the source's Airflow connection read from the environment, so that a drill takes
seconds instead of an Airflow run."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

from psycopg import sql

from egov.core import db
from egov.core.sources import ONESTOP, SOURCES, Source
from egov.core.warehouse import ensure_raw_table
from egov.ingest.connectors import connector_for
from egov.ingest.connectors.base import Endpoint
from egov.ingest.loader import LoadResult, extract_source


def endpoint(source: Source, **extra) -> Endpoint:
    """The source's Airflow connection, read from the environment exactly as Airflow reads it."""
    conn = json.loads(os.environ[f"AIRFLOW_CONN_{source.connection_id.upper()}"])
    return Endpoint.from_connection({**conn, "extra": {**conn.get("extra", {}), **extra}})


def extract(key: str, window: tuple[date, date], entities: tuple[str, ...] | None = None,
            **extra) -> list[LoadResult]:
    """Load ``window`` of source ``key`` (only ``entities``, if given); ``extra`` overrides connection extras."""
    source = SOURCES[key]
    if entities:
        source = replace(source, entities=tuple(e for e in source.entities if e.name in entities))
    connector = connector_for(source.connector, endpoint(source, **extra))
    with db.connect(db.job_target("loader")) as conn:
        return extract_source(conn, source, connector, window)


@contextmanager
def source_of_its_own(prefix: str) -> Iterator[Source]:
    """The one-stop source under raw tables of the test's own, made (and dropped) as `egov db up` would."""
    source = Source(**{**ONESTOP.__dict__, "key": f"{prefix}{uuid.uuid4().hex[:8]}"})
    tables = [source.raw_table(entity) for entity in source.entities]
    with db.connect(db.admin_target(), autocommit=True) as conn:
        for table in tables:
            ensure_raw_table(conn, table)
    try:
        yield source
    finally:
        with db.connect(db.admin_target(), autocommit=True) as conn:
            for table in tables:
                conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(*table.split("."))))
