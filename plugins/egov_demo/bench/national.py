"""A national-scale run: one-stop daily data for 10,000 communes over a year, generated, loaded and rolled up.

Issue: "a national-scale simulation: at least 10,000 units × 1 year of one-stop daily data generated,
loaded and rolled up, reporting rows per second and total time".

**Generated.** The one-stop simulator models one province (18 agencies, 9 districts, 106 communes). The
nation here is that province's communes replicated with new codes until there are ``Bench.units`` of them:
replica *r* is province ``N<r>`` with the same districts (``N<r>.842``) and communes (``N<r>.29236``). Each
commune is a one-stop unit with the demand weight its original has in the simulator, and its dossiers follow
the simulator's own model (``egov_demo.simulators.onestop.generator``): the calibrated demand per procedure and
day (weekday, holiday, month and growth factors, the catalogue's service levels in force), the online
take-up of level-3/4 services, processing times against each procedure's deadline, and the aggregation into
daily counts per unit × procedure × channel × event and each unit's daily close. What it leaves out is the
pinning of Q1/2019 to the province's report and the one reserved dossier per unit and quarter; dossiers are
drawn per commune and day (Poisson) rather than per quarter and then spread, so that 3 million of them
are drawn in a few numpy calls. The days start on 1 January 2019 with no dossiers pending.

**Loaded** through the project's loader (``egov.ingest.loader.load_batch``): the units and the catalogue as
snapshots, the dossier counts and daily closes one batch per entity and month, as a backfill run makes them
(``extract_source`` splits a window by the entity's longest window, a year; a month keeps the batch's
records in memory to half a gigabyte).

**Rolled up** by the project's dbt models, ``dbt run`` of the chain up to the reporting rollups
(``+rpt_indicator_admin_unit_period +rpt_report_figures +rpt_onestop_quarterly``) on the bench warehouse,
after ``dbt seed`` and the replicated provinces, districts and communes added to its ``admin_units`` seed
table (the README's way to add units: rows in ``seeds/admin_units.csv``). Tests are not run: they are the
gate's cost, not the rollup's.

The warehouse is kept for ``egov_demo.bench.queries`` (the next module that needs it) and dropped at exit unless
``Bench.keep``.
"""

from __future__ import annotations

import atexit
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import psycopg

from egov.core import config, db
from egov.core.run_context import RunContext
from egov.core.sources import ONESTOP
from egov.ingest.connectors.base import Page
from egov.ingest.loader import load_batch, split_window
from egov.transform import dbt
from egov_demo.bench import Bench, BenchError, Row, say
from egov_demo.bench.incremental import create_warehouse, drop_database

NAME = "national"
DATABASE = "bench_national"
FIRST_DAY = date(2019, 1, 1)
SEED = 2019
#: Days per load batch of the dated entities.
LOAD_WINDOW = timedelta(days=31)
ROLLUPS = ("rpt_indicator_admin_unit_period", "rpt_report_figures", "rpt_onestop_quarterly")
ENTITIES = {entity.name: entity for entity in ONESTOP.entities}
COMMUNE = "commune"
RUN = RunContext(dag_id="egov_bench", run_id="bench_national")


def _say(text: str) -> None:
    say(NAME, text)


# ---------------------------------------------------------------- the nation's units


@dataclass(frozen=True)
class Nation:
    """The replicated provinces: one-stop units (communes) and the administrative units above them."""

    #: One-stop unit rows as the simulator's /units serves them.
    unit_rows: list[dict]
    #: Rows for the admin_units seed table: provinces, districts and communes, valid from 2018.
    admin_unit_rows: list[tuple]
    #: Each commune's demand weight, as the simulator gives its original.
    weights: np.ndarray

    @property
    def codes(self) -> list[str]:
        return [row["code"] for row in self.unit_rows]


def replica_code(replica: int, code: str | None = None) -> str:
    """The code of province ``replica``, or of unit ``code`` of the province in that replica."""
    province = f"N{replica:03d}"
    return province if code is None else f"{province}.{code}"


def build_nation(units: int, template_units, template_weights: np.ndarray, unit_types: dict[str, str],
                 first_day: date) -> Nation:
    """``units`` communes: the template province's communes (``template_units``, in order, with their demand
    weights and, by code, their ``unit_types``) replicated under new province and district codes until there
    are enough."""
    communes = [(index, unit) for index, unit in enumerate(template_units) if unit.level == COMMUNE]
    districts = {unit.code: unit for unit in template_units if unit.level == "district"}
    unit_rows, weights, admin_rows = [], [], []
    for position in range(units):
        replica, offset = divmod(position, len(communes))
        index, commune = communes[offset]
        if offset == 0:
            admin_rows.append(_admin_row(replica_code(replica), None, f"Tỉnh mô phỏng {replica + 1}", "Tỉnh",
                                         "province"))
            admin_rows += [_admin_row(replica_code(replica, district.code), replica_code(replica),
                                      district.name, unit_types[district.code], "district")
                           for district in districts.values()]
        code = replica_code(replica, commune.code)
        unit_rows.append({"code": code, "name": commune.name, "level": COMMUNE,
                          "parent_code": replica_code(replica, commune.parent_code), "admin_unit_code": code,
                          "onboarded_on": first_day.isoformat()})
        admin_rows.append(_admin_row(code, replica_code(replica, commune.parent_code), commune.name,
                                     unit_types[commune.code], COMMUNE))
        weights.append(template_weights[index])
    return Nation(unit_rows, admin_rows, np.array(weights))


def _admin_row(code: str, parent: str | None, name: str, unit_type: str, level: str) -> tuple:
    return (code, parent, name, unit_type, level, date(2018, 1, 1), None, None, "bench: replicated province")


# ---------------------------------------------------------------- the dossiers


@dataclass
class Generated:
    """The simulated one-stop data of the nation, with the time its simulation took."""

    nation: Nation
    days: int
    counts: object  # the simulator's _DatedTable of dossier counts
    closes: object  # ... and of daily closes
    dossiers: int
    simulate_s: float

    def records(self, entity: str, window: tuple[date, date]) -> list[dict]:
        table = {"dossier_counts": self.counts, "daily_closes": self.closes}[entity]
        return table.rows(window[0], window[1] - timedelta(days=1))


def generate(units: int, days: int, first_day: date = FIRST_DAY, seed: int = SEED) -> Generated:
    """Simulate every dossier of ``units`` communes over ``days`` days from ``first_day`` with the one-stop
    simulator's model and aggregate them as the simulator serves them."""
    from egov_demo.simulators.onestop import generator as model
    from egov_demo.simulators.onestop.catalog import load_catalogue
    from egov_demo.simulators.onestop.units import LEVELS, Unit, _admin_units_rows, load_units
    from egov_demo.simulators.workdays import day_range, working_days

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    template_units, procedures = load_units(), load_catalogue()
    demand = model._Demand(rng, template_units, procedures)
    per_unit_mass = demand.calibrate_level_demand(day_range(*model.CALIBRATED_QUARTER))
    unit_types = {row["code"]: row["unit_type"] for row in _admin_units_rows()}
    nation = build_nation(units, template_units, demand.unit_weight, unit_types, first_day)

    last_day = first_day + timedelta(days=days - 1)
    calendar = day_range(first_day, last_day)
    levels = demand.levels(calendar)
    # What the communes handle that day: the commune-tier procedures in force, by popularity.
    procedure_mass = demand.proc_weight * (demand.proc_handler == demand.commune_handler) * (levels > 0)
    expected = (per_unit_mass * model._intensity(calendar) * procedure_mass.sum(axis=1))[:, None] * nation.weights
    per_cell = rng.poisson(expected)  # dossiers received per day × commune
    cell = np.repeat(np.arange(per_cell.size), per_cell.ravel())
    received, unit = np.divmod(cell, units)
    per_day = per_cell.sum(axis=1)
    proc = np.concatenate([model._draw(rng, procedure_mass[day], count) for day, count in enumerate(per_day.tolist())])
    level = levels[received, proc].astype(np.int64)
    tier = np.full(len(received), LEVELS.index(COMMUNE))
    channel = model._assign_channels(rng, calendar[received], level, tier, np.zeros(len(received), dtype=bool))

    open_days = working_days(first_day, last_day + timedelta(days=model.CALENDAR_TAIL_DAYS))
    received_position = np.searchsorted(open_days, calendar[received])
    deadline = demand.deadline[proc]
    resolved_on = open_days[received_position + model._processing_working_days(rng, deadline, tier)]
    resolved = (resolved_on - np.datetime64(first_day, "D")).astype(np.int64)
    on_time = np.searchsorted(open_days, resolved_on) - received_position <= deadline

    labels = np.array([day.isoformat() for day in calendar.astype(date)], dtype=object)
    unit_objects = tuple(Unit(row["code"], row["name"], COMMUNE, row["parent_code"], row["admin_unit_code"],
                              first_day) for row in nation.unit_rows)
    counts = model._aggregate_counts(first_day, labels, unit_objects, procedures, received, resolved, unit, proc,
                                     channel, on_time)
    closes = model._daily_closes(first_day, labels, nation.codes, received, resolved, unit,
                                 np.ones((days, units), dtype=bool))
    return Generated(nation, days, counts, closes, len(received), time.perf_counter() - started)


# ---------------------------------------------------------------- the warehouse


@dataclass
class NationalWarehouse:
    """The bench warehouse with the nation loaded and rolled up, for the queries benchmark."""

    target: config.PgTarget
    units: int
    days: int
    first_day: date
    keep: bool
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


_built: NationalWarehouse | None = None


def release() -> None:
    """Drop the national warehouse unless it is to be kept; the queries benchmark calls it when done, and the
    process at exit if no benchmark did."""
    global _built
    if _built is not None and not _built.keep:
        drop_database(_built.target.dbname)
    _built = None


def load(target: config.PgTarget, generated: Generated) -> tuple[dict[str, int], float, float]:
    """Load the nation through the loader: snapshots of units and catalogue, then a batch per dated entity
    and window. Rows loaded per entity, the seconds spent loading, and those spent making the records."""
    from egov_demo.simulators.onestop.catalog import procedure_versions

    loaded: dict[str, int] = {}
    load_s = records_s = 0.0
    window = (FIRST_DAY, FIRST_DAY + timedelta(days=generated.days))
    chunks = split_window(window, LOAD_WINDOW)
    with db.connect(target) as conn:
        for name, entity in ENTITIES.items():
            for chunk in (chunks if entity.windowed else [None]):
                started = time.perf_counter()
                if chunk is None:
                    records = generated.nation.unit_rows if name == "units" else procedure_versions()
                else:
                    records = generated.records(name, chunk)
                made = time.perf_counter()
                result = load_batch(conn, ONESTOP, entity, chunk, [Page(f"bench national {name}", records)], RUN)
                records_s += made - started
                load_s += time.perf_counter() - made
                if result.rejected_count:
                    raise BenchError(f"the loader rejected {result.rejected_count:,} of the generated {name} records "
                                     f"of {chunk}: see audit.rejected_records of batch {result.batch_id} in "
                                     f"{target.dbname}")
                loaded[name] = loaded.get(name, 0) + result.row_count
            if entity.windowed:
                _say(f"loaded {loaded[name]:,} {name} rows in {len(chunks)} batches")
    return loaded, load_s, records_s


def roll_up(target: config.PgTarget, nation: Nation) -> tuple[float, float]:
    """dbt seed, the nation's administrative units added to the seed table, dbt run of the rollups' chain;
    the seconds of the seeds and of the run."""
    started = time.perf_counter()
    _dbt(["seed"], target)
    with db.connect(target) as conn, conn.cursor().copy(
        "copy marts.admin_units (admin_unit_code, parent_code, admin_unit_name, unit_type, admin_level, "
        "valid_from, valid_to, successor_code, change_basis) from stdin"
    ) as copy:
        for row in nation.admin_unit_rows:
            copy.write_row(row)
    seeded = time.perf_counter()
    _dbt(["run", "--select", " ".join(f"+{model}" for model in ROLLUPS)], target)
    return seeded - started, time.perf_counter() - seeded


def _dbt(args: list[str], target: config.PgTarget) -> None:
    try:
        result = dbt.run_dbt(args, target, RUN)
    except dbt.DbtError as failed:
        raise BenchError(f"dbt {args[0]} on the national warehouse {target.dbname} failed: {failed}") from None
    _say(f"dbt {args[0]}: {result.statuses} in {result.elapsed_s:.0f}s")


def build(bench: Bench) -> NationalWarehouse:
    """Generate, load and roll up the nation into a new bench warehouse; remembered for :func:`warehouse`."""
    global _built
    started = time.perf_counter()
    _say(f"{bench.units:,} communes × {bench.days} days of one-stop data from {FIRST_DAY}")
    generated = generate(bench.units, bench.days)
    _say(f"simulated {generated.dossiers:,} dossiers into {len(generated.counts.day):,} dossier counts and "
         f"{len(generated.closes.day):,} daily closes in {generated.simulate_s:.1f}s")
    target = create_warehouse(DATABASE)
    built = NationalWarehouse(target, bench.units, bench.days, FIRST_DAY, bench.keep)
    _built = built
    loaded, load_s, records_s = load(target, generated)
    seed_s, run_s = roll_up(target, generated.nation)
    with db.connect(target) as conn:
        built.rows = {**{f"raw {name}": rows for name, rows in loaded.items()}, **_model_rows(conn)}
    built.seconds = {"simulate": generated.simulate_s, "records": records_s, "load": load_s, "dbt_seed": seed_s,
                     "dbt_run": run_s, "total": time.perf_counter() - started}
    return built


def _model_rows(conn: psycopg.Connection) -> dict[str, int]:
    tables = ("marts.fct_onestop_dossiers_daily", "marts.fct_onestop_daily_closes", "intermediate.int_indicator_daily",
              *(f"reporting.{model}" for model in ROLLUPS))
    return {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in tables}


def warehouse(bench: Bench) -> NationalWarehouse:
    """The national warehouse this process built, else one kept by an earlier ``--keep`` run at the same scale,
    else a new one."""
    if _built is not None:
        return _built
    kept = _kept(bench)
    return kept if kept is not None else build(bench)


def _kept(bench: Bench) -> NationalWarehouse | None:
    global _built
    target = db.admin_target().with_db(DATABASE)
    try:
        with db.connect(target) as conn:
            units, days = conn.execute(
                "select count(distinct agency_code), count(distinct date_day) from marts.fct_onestop_daily_closes"
            ).fetchone()
    except psycopg.Error:
        return None
    if (units, days) != (bench.units, bench.days):
        return None
    _say(f"reusing {DATABASE}, kept by an earlier run ({units:,} units × {days} days)")
    _built = NationalWarehouse(target, units, days, FIRST_DAY, keep=True)  # it was kept: keep it again
    return _built


atexit.register(release)


def run(bench: Bench) -> list[Row]:
    built = build(bench)
    seconds, rows = built.seconds, built.rows
    generated_rows = rows["raw dossier_counts"] + rows["raw daily_closes"]
    _say(f"done in {seconds['total']:.0f}s")
    details = {"units": bench.units, "days": bench.days, "first_day": str(FIRST_DAY), "rows": rows,
               "seconds": {name: round(value, 1) for name, value in seconds.items()},
               "load_window_days": LOAD_WINDOW.days, "database": DATABASE}
    scale = f"{bench.units:,} units × {bench.days} days"
    generate_s = seconds["simulate"] + seconds["records"]
    return [
        Row(NAME, f"generated {generated_rows:,} rows ({scale}) in {generate_s:.0f}s: "
                  f"{generated_rows / generate_s:,.0f} rows/s", None, "report", None, details),
        Row(NAME, f"loaded {generated_rows:,} rows through the loader in {seconds['load']:.0f}s: "
                  f"{generated_rows / seconds['load']:,.0f} rows/s", None, "report", None, details),
        Row(NAME, f"dbt rollup (run of {len(ROLLUPS)} reporting models and their chain) in {seconds['dbt_run']:.0f}s, "
                  f"{rows['intermediate.int_indicator_daily']:,} daily indicator rows, "
                  f"{rows['reporting.rpt_indicator_admin_unit_period']:,} admin-unit rollup rows",
            None, "report", None, details),
        Row(NAME, f"total {seconds['total']:.0f}s for {scale}", None, "report", None, details),
    ]
