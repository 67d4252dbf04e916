"""Raw load throughput: the project's loader against a plain COPY and pandas ``to_sql`` of the same rows.

Issue: "raw load throughput against plain PostgreSQL COPY of the same rows (target ≥ 0.7 of COPY), and
against pandas to_sql with default settings".

The rows are one year of the one-stop system's daily dossier counts as its simulator serves them (2019,
about 290,000 records), loaded into ``raw.onestop__dossier_counts`` of a bench warehouse made as ``egov db
up`` makes one. Each method runs once per repeat, in turn, on the emptied table:

- loader: ``egov.ingest.loader.load_batch``, the records as received: validation, key deduplication, the SHA-256
  checksum, canonical JSON, the audit row, COPY, all in one transaction;
- COPY: the same rows (payloads already serialised, record dates already read) through psycopg's COPY
  ``write_row``, plus the batch row their foreign key needs, in one transaction: the physical baseline;
- COPY text: the same again, but as COPY's text format prepared in advance, so that only the server's work
  remains (reported beside the baseline: the floor no client can go below);
- pandas: ``DataFrame.to_sql`` of the same rows with its default method and chunk size (SQLAlchemy's
  executemany), given the table's column types so that it can append to it.

The fastest run of each counts (the machine is shared; the medians are in the details).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg import sql

from egov.core import config, db
from egov.core.sources import ONESTOP
from egov.ingest import loader
from egov.ingest.connectors.base import Page
from egov_demo.bench import Bench, BenchError, Row, say
from egov_demo.bench.incremental import create_warehouse, drop_database

NAME = "load"
DATABASE = "bench_load"
ENTITY = next(entity for entity in ONESTOP.entities if entity.name == "dossier_counts")
RAW_TABLE = ONESTOP.raw_table(ENTITY)
WINDOW = (date(2019, 1, 1), date(2020, 1, 1))
TARGET_OF_COPY = 0.7
#: to_sql is an order of magnitude slower than the others: it runs at most this many times.
MAX_TO_SQL_RUNS = 3
COPY_COLUMNS = "batch_id, record_date, record_index, payload, loaded_at"
COPY_TEXT_BLOCK = 1 << 20


def _say(text: str) -> None:
    say(NAME, text)


def onestop_records(window: tuple[date, date]) -> list[dict]:
    """The one-stop simulator's dossier-count records for ``window`` (end exclusive), as its API serves them."""
    from egov_demo.simulators.onestop.generator import build_dataset

    first, end = window
    return build_dataset().dossier_counts(first, date.fromordinal(end.toordinal() - 1))


@dataclass(frozen=True)
class PreparedRows:
    """The rows the loader would write, worked out before the baselines' clocks start."""

    #: (record_date, record_index, payload as canonical JSON)
    rows: list[tuple[date, int, str]]

    @classmethod
    def of(cls, records: list[dict]) -> PreparedRows:
        return cls([(date.fromisoformat(record[ENTITY.date_field]), index, loader.canonical_json(record))
                    for index, record in enumerate(records)])

    def copy_text(self, batch_id: uuid.UUID, loaded_at: datetime) -> str:
        """The rows in COPY's text format, as ``egov.ingest.loader`` writes them."""
        return "".join(f"{batch_id}\t{day.isoformat()}\t{index}\t{loader.copy_text(payload)}\t{loaded_at.isoformat()}\n"
                       for day, index, payload in self.rows)


def _insert_batch(conn: psycopg.Connection, row_count: int) -> tuple[uuid.UUID, datetime]:
    """The audit row the raw rows' foreign key needs."""
    batch_id = uuid.uuid4()
    (loaded_at,) = conn.execute(
        "insert into audit.load_batches (batch_id, source_system, entity, raw_table, window_start, window_end,"
        " request, pages, row_count, rejected_count, checksum, replaced_rows)"
        " values (%s, %s, %s, %s, %s, %s, 'bench baseline', 1, %s, 0, '-', 0) returning loaded_at",
        (batch_id, ONESTOP.system, ENTITY.name, RAW_TABLE, *WINDOW, row_count)).fetchone()
    return batch_id, loaded_at


def _copy_statement() -> sql.Composed:
    schema, table = RAW_TABLE.split(".")
    return sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(schema, table), sql.SQL(COPY_COLUMNS))


def load_with_loader(conn: psycopg.Connection, records: list[dict]) -> float:
    started = time.perf_counter()
    loader.load_batch(conn, ONESTOP, ENTITY, WINDOW, [Page("bench: one-stop dossier counts 2019", records)])
    return time.perf_counter() - started


def load_with_copy(conn: psycopg.Connection, prepared: PreparedRows) -> float:
    started = time.perf_counter()
    with conn.transaction():
        batch_id, loaded_at = _insert_batch(conn, len(prepared.rows))
        with conn.cursor().copy(_copy_statement()) as copy:
            for day, index, payload in prepared.rows:
                copy.write_row((batch_id, day, index, payload, loaded_at))
    return time.perf_counter() - started


def load_with_copy_text(conn: psycopg.Connection, prepared: PreparedRows) -> float:
    with conn.transaction():
        batch_id, loaded_at = _insert_batch(conn, len(prepared.rows))
    text = prepared.copy_text(batch_id, loaded_at).encode()
    started = time.perf_counter()
    with conn.transaction(), conn.cursor().copy(_copy_statement()) as copy:
        for offset in range(0, len(text), COPY_TEXT_BLOCK):
            copy.write(text[offset:offset + COPY_TEXT_BLOCK])
    return time.perf_counter() - started


def load_with_to_sql(target: config.PgTarget, prepared: PreparedRows) -> float:
    import pandas as pd
    import sqlalchemy
    from sqlalchemy.dialects.postgresql import JSONB

    # The payloads are JSON already: the engine passes them through rather than encoding them again.
    engine = sqlalchemy.create_engine(target.url("postgresql+psycopg"), json_serializer=lambda payload: payload)
    try:
        with psycopg.connect(target.url(), autocommit=True) as conn:
            batch_id, loaded_at = _insert_batch(conn, len(prepared.rows))
        frame = pd.DataFrame({
            "batch_id": [batch_id] * len(prepared.rows),
            "record_date": [day for day, _, _ in prepared.rows],
            "record_index": [index for _, index, _ in prepared.rows],
            "payload": [payload for _, _, payload in prepared.rows],
            "loaded_at": [loaded_at] * len(prepared.rows),
        })
        schema, table = RAW_TABLE.split(".")
        started = time.perf_counter()
        frame.to_sql(table, engine, schema=schema, if_exists="append", index=False,
                     dtype={"batch_id": sqlalchemy.Uuid(), "payload": JSONB()})
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _timed_run(conn: psycopg.Connection, method: str, load: Callable[[], float], expected_rows: int) -> float:
    """Empty the table, run ``load`` (which times its own work, not what it prepares), check that it wrote
    ``expected_rows``; its seconds."""
    table = sql.Identifier(*RAW_TABLE.split("."))
    conn.execute(sql.SQL("truncate {}").format(table))
    seconds = load()
    written = conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0]
    if written != expected_rows:
        raise BenchError(f"{method} wrote {written:,} rows into {RAW_TABLE}, not the {expected_rows:,} expected")
    return seconds


def run(bench: Bench) -> list[Row]:
    started = time.perf_counter()
    records = onestop_records(WINDOW)
    prepared = PreparedRows.of(records)
    rows = len(records)
    _say(f"{rows:,} one-stop dossier-count records of {WINDOW[0].year} into {RAW_TABLE} of {DATABASE}, "
         f"{bench.repeats} runs of each method")
    target = create_warehouse(DATABASE)
    seconds: dict[str, list[float]] = {"loader": [], "copy": [], "copy_text": [], "to_sql": []}
    try:
        with db.connect(target, autocommit=True) as conn:
            runs = {
                "loader": lambda: load_with_loader(conn, records),
                "copy": lambda: load_with_copy(conn, prepared),
                "copy_text": lambda: load_with_copy_text(conn, prepared),
                "to_sql": lambda: load_with_to_sql(target, prepared),
            }
            for repeat in range(1, bench.repeats + 1):
                for method, load in runs.items():
                    if method == "to_sql" and repeat > MAX_TO_SQL_RUNS:
                        continue
                    seconds[method].append(_timed_run(conn, method, load, rows))
                _say(f"run {repeat}/{bench.repeats}: " + ", ".join(
                    f"{method} {values[-1]:.2f}s" for method, values in seconds.items() if len(values) == repeat))
    finally:
        if not bench.keep:
            drop_database(DATABASE)
    _say(f"done in {time.perf_counter() - started:.0f}s")
    return rows_of(rows, seconds)


def rows_of(rows: int, seconds: dict[str, list[float]]) -> list[Row]:
    """The table's rows from each method's run times: rates of the fastest runs, and their ratios."""
    rate = {method: rows / min(values) for method, values in seconds.items()}
    details = {
        "rows": rows,
        "rows_per_s": {method: round(value) for method, value in rate.items()},
        "median_rows_per_s": {method: round(rows / statistics.median(values)) for method, values in seconds.items()},
        "runs_s": {method: [round(value, 3) for value in values] for method, values in seconds.items()},
        "loader_of_copy_text": round(rate["loader"] / rate["copy_text"], 3),
    }
    of_copy = rate["loader"] / rate["copy"]
    of_to_sql = rate["loader"] / rate["to_sql"]
    return [
        Row(NAME, f"loader {rate['loader']:,.0f} rows/s vs plain COPY {rate['copy']:,.0f} rows/s "
                  f"(COPY of prepared text {rate['copy_text']:,.0f})",
            of_copy, f"loader/COPY ≥ {TARGET_OF_COPY}", of_copy >= TARGET_OF_COPY, details),
        Row(NAME, f"loader {rate['loader']:,.0f} rows/s vs pandas to_sql {rate['to_sql']:,.0f} rows/s",
            of_to_sql, "loader/to_sql > 1", of_to_sql > 1, details),
    ]
