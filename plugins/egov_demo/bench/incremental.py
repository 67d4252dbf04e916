"""The cost of one incremental daily run with 1 year against 3 years of history.

Issue: "the cost of one incremental daily run (extract, load, dbt, gate) with 1 year against 3 years of
history (target ratio ≤ 1.3, showing that cost grows with new data, not history)".

Two bench warehouses are filled with the one-stop and document-management systems' history: one with
the year before the first timed day, one with the three years before it. These are the two simulators
whose history reaches the end of 2020, three years after the one-stop system's launch; the CA, portal,
mail and registers simulators cover 2018-2019 only, so they would give the two warehouses two years
each, not one and three. The one-stop dossier counts and closes and the documents are the bulk of raw
(about 480,000 of every year's records).

The history is loaded through the project's loader (``egov.ingest.loader``), one batch per entity and
window as a backfill run makes them; the one-stop records come from its simulator's dataset in process
rather than over HTTP (the same records its API serves, without paging ~1 million of them through
JSON). Then ``dbt build`` (without its tests, which are not what is timed). The 3-year warehouse is a copy
of the 1-year one with the two earlier years backfilled and built incrementally, as a backfill would be.

Then, on each warehouse, each timed day is one daily run as the DAGs make it:

- extract: each source's extract DAG for the day's data interval plus its lookback
  (``pipeline.extract_window``), through its real connector: the one-stop HTTP simulator and the
  document-management database;
- dbt: ``dbt build``, as the transform DAG runs it (``pipeline.build_models``): its raw-lineage test on the
  days loaded since the previous build, in the warehouse's own dbt target folder (``own_dbt_target``);
- gate: the Great Expectations gate on the current quarter (``egov.quality.gate.run_gate``), recorded; it blocks,
  since four of the six systems are not loaded, and it is timed all the same.

The two warehouses run each day in turn, so that a change in the machine's load hits both alike.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pendulum
import psycopg
from psycopg import sql

from egov.core import config, db
from egov.core.periods import Period, quarter_of
from egov.core.run_context import RunContext
from egov.core.sources import DOCMGMT, ONESTOP, Entity, Source
from egov.ingest.connectors import connector_for
from egov.ingest.connectors.base import Connector, Endpoint, Page
from egov.ingest.loader import extract_source
from egov.orchestration.tasks import extract_window
from egov.quality import gate
from egov.transform import dbt
from egov_demo.bench import Bench, BenchError, Row, say

NAME = "incremental"
TARGET_RATIO = 1.3
#: The last day both the one-stop and the document-management simulators have data for.
LAST_SIMULATED_DAY = date(2020, 12, 31)
HISTORY_YEARS = (1, 3)
BENCHED_SOURCES = (ONESTOP, DOCMGMT)
#: Timed days per warehouse, at most: each is a daily run on both warehouses.
MAX_DAYS = 3
PHASES = ("extract", "dbt", "gate")
#: Records per page when the one-stop dataset is read in process, as its connector pages the API.
PAGE_SIZE = 5000


def _say(text: str) -> None:
    say(NAME, text)


# ---------------------------------------------------------------- bench databases


def _server() -> config.PgTarget:
    return db.admin_target().with_db("postgres")


def drop_database(name: str) -> None:
    """Drop the database ``name``, and the dbt target folder the bench kept for it (``own_dbt_target``)."""
    with psycopg.connect(_server().url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    shutil.rmtree(_dbt_target_folder(name), ignore_errors=True)


def create_warehouse(name: str, template: str | None = None) -> config.PgTarget:
    """A new warehouse database ``name`` (dropped first if it exists): empty with the schemas, tables and roles
    ``egov db up`` makes, or a copy of the warehouse ``template``."""
    if not name.startswith("bench_"):
        raise BenchError(f"bench databases are named bench_*, not {name!r}")
    with config.named_databases(name):
        if db.admin_target().dbname != name:
            raise BenchError(f"{config.EXTERNAL_URL_VAR} names a database; the benchmarks need a server URL whose "
                             "role may create databases (bench_*), e.g. postgresql://user:password@host:5432/")
    drop_database(name)
    if template:
        with psycopg.connect(_server().url(), autocommit=True) as conn:
            conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name),
                                                                          sql.Identifier(template)))
    else:
        with config.named_databases(name):
            db.bootstrap()
    return db.admin_target().with_db(name)


# ---------------------------------------------------------------- the sources


class OneStopDatasetConnector:
    """The one-stop simulator's records read from its dataset in process: what its API serves for a window,
    without HTTP. For loading history only; the timed runs use the real connector."""

    def __init__(self, dataset):
        self.dataset = dataset

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        if window is None:
            rows = {"units": self.dataset.unit_rows, "procedures": self.dataset.procedure_versions}[entity.name]()
            yield Page(f"simulator dataset {entity.name}", rows)
            return
        read = {"dossier_counts": self.dataset.dossier_counts, "daily_closes": self.dataset.daily_closes}[entity.name]
        first, last = window[0], window[1] - timedelta(days=1)
        rows = read(first, last)
        for offset in range(0, max(len(rows), 1), PAGE_SIZE):
            yield Page(f"simulator dataset {entity.name} {first}..{last} offset {offset}",
                       rows[offset:offset + PAGE_SIZE])


@dataclass
class Systems:
    """The simulated agency systems, reached through the connectors and Airflow connections the DAGs use, and
    the simulators the bench started (stopped afterwards; ones already running are left alone)."""

    connectors: dict[str, Connector]
    onestop_dataset: object
    started: list[str] = field(default_factory=list)

    def connector(self, source: Source, history: bool = False) -> Connector:
        if history and source.key == ONESTOP.key:
            return OneStopDatasetConnector(self.onestop_dataset)
        return self.connectors[source.key]

    def close(self) -> None:
        from egov_demo.simulators import service

        for name in self.started:
            service.down(name)


def start_systems(sources: tuple[Source, ...]) -> Systems:
    """Bring up the simulated systems behind ``sources`` as ``make run`` does (reusing running simulators)."""
    from egov.orchestration.airflow_env import connection_env
    from egov_demo.simulators import service
    from egov_demo.simulators.onestop.generator import build_dataset

    started = []
    for source in sources:
        if source.interface == "http":
            state = service.read_state(source.key)
            if not (state and service.healthy(state)):
                started.append(source.key)
            service.up(source.key)
        elif source.interface == "sql":
            service.up_docmgmt(db.admin_target())
    if any(source.interface == "file" for source in sources):
        service.drop_files()
    connections = connection_env()
    connectors = {}
    for source in sources:
        conn = json.loads(connections[f"AIRFLOW_CONN_{source.connection_id.upper()}"])
        connectors[source.key] = connector_for(source.connector, Endpoint.from_connection(conn))
    # The one-stop simulator's default dataset: the one its API serves.
    return Systems(connectors, build_dataset(), started)


# ---------------------------------------------------------------- the runs


def load_history(target: config.PgTarget, systems: Systems, sources: tuple[Source, ...],
                 window: tuple[date, date]) -> int:
    """Load ``window`` of each of ``sources`` as a backfill run of its extract DAG would (a source whose stock
    is derived from its whole feed from its history's start); the rows loaded."""
    rows = 0
    with db.connect(target) as conn:
        for source in sources:
            run = RunContext(dag_id=f"egov_extract_{source.key}", run_id=f"bench_backfill_{window[0]}")
            loaded = (source.full_load_start(window[0]), window[1])
            results = extract_source(conn, source, systems.connector(source, history=True), loaded, run)
            rows += sum(result.row_count for result in results)
    return rows


def _dbt_target_folder(dbname: str) -> Path:
    return dbt.target_dir().with_name(f"target-{dbname}")


@contextlib.contextmanager
def own_dbt_target(target: config.PgTarget) -> Iterator[None]:
    """dbt writes to a target folder of ``target``'s own inside the block.

    dbt keeps its partial-parse state in its target folder and parses the whole project again when the profile
    it was made with changes, and the database is part of the profile. A deployment builds one warehouse;
    builds alternating between the bench's warehouses in one folder would each pay a full parse.
    """
    shared = dbt.target_dir
    folder = _dbt_target_folder(target.dbname)
    dbt.target_dir = lambda: folder
    try:
        yield
    finally:
        dbt.target_dir = shared


@contextlib.contextmanager
def own_gx_folder(bench: Bench, name: str) -> Iterator[None]:
    """The gate keeps its GX results and Data Docs in a folder of the benchmark's own inside the block (removed
    afterwards unless ``bench.keep``): bench runs stay out of the project's Data Docs, and the gate does not
    depend on how many results the project has stored (the Data Docs index reads every one)."""
    shared = gate.gx_root
    folder = bench.out_dir / f"gx-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    gate.gx_root = lambda: str(folder)
    try:
        yield
    finally:
        gate.gx_root = shared
        if not bench.keep:
            shutil.rmtree(folder, ignore_errors=True)


def build_without_tests(target: config.PgTarget) -> None:
    """``dbt build`` of a bench warehouse's models and seeds: its tests take time that is not measured."""
    with own_dbt_target(target):
        dbt.run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"], target)


def _interval(day: date) -> dict:
    """What Airflow hands a daily run's tasks: the data interval (in UTC) and no explicit window."""
    start = pendulum.datetime(day.year, day.month, day.day, tz=config.LOCAL_TIMEZONE.key)
    return {"params": {}, "data_interval_start": start.in_timezone("UTC"),
            "data_interval_end": start.add(days=1).in_timezone("UTC")}


@dataclass
class DailyRun:
    day: date
    #: When the dbt build began, as the transform DAG's next run reads it (``prev_start_date_success``).
    build_started: datetime | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    rows_loaded: int = 0
    dbt_statuses: dict = field(default_factory=dict)
    gate_passed: bool | None = None

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def daily_run(target: config.PgTarget, systems: Systems, day: date, period: Period,
              previous_build_started: datetime) -> DailyRun:
    """One day as the DAGs run it: each extract DAG, the transform DAG's dbt build (``pipeline.build_models``,
    its previous successful run having started at ``previous_build_started``), then the gate."""
    outcome = DailyRun(day)
    context = _interval(day)
    started = time.perf_counter()
    with db.connect(target) as conn:
        for source in BENCHED_SOURCES:
            window = extract_window(context, source.lookback_days)
            run = RunContext(dag_id=f"egov_extract_{source.key}", run_id=f"bench_scheduled_{day}")
            results = extract_source(conn, source, systems.connector(source), window, run)
            outcome.rows_loaded += sum(result.row_count for result in results)
    outcome.seconds["extract"] = time.perf_counter() - started

    started = time.perf_counter()
    outcome.build_started = datetime.now(UTC)
    try:
        with db.connect(target) as conn:
            scope = dbt.lineage_scope_env(conn, previous_build_started)
        with own_dbt_target(target):
            built = dbt.build(target, run=RunContext(dag_id="egov_transform", run_id=f"bench_{day}"), extra_env=scope)
    except dbt.DbtError as failed:
        raise BenchError(f"dbt build of the daily run {day} on {target.dbname} failed: {failed}") from None
    outcome.seconds["dbt"] = time.perf_counter() - started
    outcome.dbt_statuses = built.statuses

    started = time.perf_counter()
    with db.connect(target) as conn:
        result = gate.run_gate(conn, period, target, RunContext(dag_id="egov_bench", run_id=f"bench_{day}"),
                               built.invocation_id)
    outcome.seconds["gate"] = time.perf_counter() - started
    outcome.gate_passed = result.success
    return outcome


def _median(runs: list[DailyRun], phase: str | None = None) -> float:
    return statistics.median(run.total if phase is None else run.seconds[phase] for run in runs)


def warehouse_name(years: int) -> str:
    return f"bench_{NAME}_{years}y"


def run(bench: Bench) -> list[Row]:
    days = max(1, min(bench.repeats, MAX_DAYS))
    run_days = [LAST_SIMULATED_DAY - timedelta(days=days - 1 - i) for i in range(days)]
    first_day = run_days[0]
    period = quarter_of(run_days[-1])
    starts = {years: first_day - timedelta(days=round(365.25 * years)) for years in HISTORY_YEARS}
    _say(f"daily runs of {run_days[0]} .. {run_days[-1]} after {', '.join(f'{y} year(s)' for y in HISTORY_YEARS)} of "
         f"{', '.join(s.key for s in BENCHED_SOURCES)} history; gate on {period.label}")
    with own_gx_folder(bench, NAME):
        return _run(bench, run_days, period, starts)


def _run(bench: Bench, run_days: list[date], period: Period, starts: dict[int, date]) -> list[Row]:
    first_day = run_days[0]
    systems = start_systems(BENCHED_SOURCES)
    targets: dict[int, config.PgTarget] = {}
    build_started: dict[int, datetime] = {}
    setup: dict[int, dict] = {}
    try:
        previous: int | None = None
        for years in HISTORY_YEARS:
            name = warehouse_name(years)
            started = time.perf_counter()
            targets[years] = create_warehouse(name, template=warehouse_name(previous) if previous else None)
            window = (starts[years], starts[previous] if previous else first_day)
            rows = load_history(targets[years], systems, BENCHED_SOURCES, window)
            loaded_s = time.perf_counter() - started
            started = time.perf_counter()
            build_started[years] = datetime.now(UTC)
            build_without_tests(targets[years])
            built_s = time.perf_counter() - started
            setup[years] = {"history": f"{starts[years]}..{first_day - timedelta(days=1)}",
                            "rows_added": rows, "load_s": round(loaded_s, 1), "dbt_build_s": round(built_s, 1)}
            _say(f"{name}: loaded {window[0]} .. {window[1] - timedelta(days=1)} ({rows:,} rows) in {loaded_s:.0f}s, "
                 f"dbt build {built_s:.0f}s")
            previous = years

        runs: dict[int, list[DailyRun]] = {years: [] for years in HISTORY_YEARS}
        for day in run_days:
            for years in HISTORY_YEARS:
                outcome = daily_run(targets[years], systems, day, period, build_started[years])
                build_started[years] = outcome.build_started
                runs[years].append(outcome)
                _say(f"{years}y {day}: " + ", ".join(f"{p} {outcome.seconds[p]:.1f}s" for p in PHASES)
                     + f", total {outcome.total:.1f}s ({outcome.rows_loaded:,} rows loaded, "
                       f"gate {'passed' if outcome.gate_passed else 'blocked'})")
    finally:
        systems.close()
        if not bench.keep:
            for years in HISTORY_YEARS:
                drop_database(warehouse_name(years))
    return rows_of(runs, setup)


def rows_of(runs: dict[int, list[DailyRun]], setup: dict[int, dict]) -> list[Row]:
    short, long = HISTORY_YEARS
    rows = []
    for phase in PHASES:
        seconds = {years: _median(runs[years], phase) for years in HISTORY_YEARS}
        rows.append(Row(NAME, f"{phase}: {short}y {seconds[short]:.1f}s, {long}y {seconds[long]:.1f}s",
                        seconds[long] / seconds[short], "-", None,
                        {f"{years}y_s": [round(r.seconds[phase], 2) for r in runs[years]] for years in HISTORY_YEARS}))
    totals = {years: _median(runs[years]) for years in HISTORY_YEARS}
    ratio = totals[long] / totals[short]
    rows.append(Row(
        NAME,
        f"daily run (extract, load, dbt, gate), median of {len(runs[short])}: {short}y {totals[short]:.1f}s, "
        f"{long}y {totals[long]:.1f}s",
        ratio, f"{long}y/{short}y ≤ {TARGET_RATIO}", ratio <= TARGET_RATIO,
        {"setup": setup, "days": [str(r.day) for r in runs[short]],
         **{f"{years}y_total_s": [round(r.total, 2) for r in runs[years]] for years in HISTORY_YEARS}}))
    return rows
