"""The chain of one figure read level by level, each level checked against the one above it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from psycopg import sql
from psycopg.rows import class_row, dict_row

from egov.core.periods import Period
from egov.core.rows import one_row
from egov.core.values import plain_number
from egov.publication.release import release_batch_ids, release_intact
from egov.publication.trace.components import (
    Component,
    TraceError,
    batches_used_query,
    components,
    period_components,
    raw_rows_select,
)
from egov.publication.trace.results import (
    WAREHOUSE_LEVELS,
    CellDifference,
    FigureTrace,
    Level,
    LoadBatch,
    TracedBatch,
    TracedComponent,
    TracedFigure,
    TracedIndicator,
    TracedRelease,
)

SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class BatchCheck:
    """Whether a batch's records in raw (and in quarantine) are still the records that arrived."""

    verified: bool | None
    detail: str


@dataclass(frozen=True)
class Rollup:
    """A component's row of ``reporting.rpt_indicator_period`` beside the sum of its agency rows."""

    component_role: str
    indicator_code: str
    indicator_value: Decimal | None
    rollup_value: Decimal | None
    agency_sum: Decimal | None
    agency_rows: int
    numerator_value: Decimal | None
    denominator_value: Decimal | None


@dataclass(frozen=True)
class Cells:
    """A component's rows at one level (daily facts or raw rows), summed per day × agency."""

    rows: int
    total: Decimal
    cells: dict[tuple[date, str | None], Decimal]
    tables: tuple[str, ...] = ()


@dataclass
class Tracer:
    conn: psycopg.Connection
    verify_checksums: bool = True
    _checked: dict[str, BatchCheck] = field(default_factory=dict)

    def trace(self, period: Period, figure_id: str, version: int | None = None,
              found: list[Component] | None = None) -> FigureTrace:
        """The chain of ``figure_id``; ``found`` are its components when the caller has read them already."""
        found = found or self._components(period, figure_id)
        release = self.release(period, figure_id, version)
        figure = self.figure(period, figure_id)
        indicator = self.indicator(figure_id, release)
        levels = [self.release_level(release)] if release else []
        levels.append(self.figure_level(period, release, figure))
        rollups = {row.component_role: row for row in self.rollups(period, figure_id)}
        levels.append(self.rollup_level(indicator, figure, rollups, len(found)))
        parts = tuple(self.component(figure_id, component, rollups[component.role].rollup_value)
                      for component in found)
        levels += [self.daily_facts_level(parts), self.raw_rows_level(parts)]
        batches = self.batches(figure_id, found, release)
        levels.append(self.batches_level(batches, release))
        return FigureTrace(
            period=period.label, figure_id=figure_id, reconciled=all(level.reconciled for level in levels),
            warehouse_reconciled=all(level.reconciled for level in levels if level.level in WAREHOUSE_LEVELS),
            release=release, figure=figure, indicator=indicator, components=parts, levels=tuple(levels),
            batches=batches)

    def _components(self, period: Period, figure_id: str) -> list[Component]:
        found = components(self.conn, period, figure_id).get(figure_id)
        if not found:
            (known,) = one_row(self.conn, "select count(*) from lineage.lineage_figure_components where period = %s",
                               (period.label,))
            if not known:
                raise TraceError(f"the warehouse has no figures for {period.label}")
            raise TraceError(f"{figure_id!r} is not a figure of the report (see marts.report_figure_catalogue)")
        return found

    # ------------------------------------------------------------ release

    def release(self, period: Period, figure_id: str, version: int | None) -> TracedRelease | None:
        """The release carrying the figure (its latest, or ``version``) and the gate run that let it through."""
        row = self.conn.execute(
            """
            select release_id, version, published_at, reason, content_hash, released_value, validation_id,
                   gx_run_id, dbt_invocation_id, dag_id, airflow_run_id
            from lineage.lineage_figure_releases
            where period = %s and figure_id = %s and (%s::int is null or version = %s)
            order by version desc limit 1
            """, (period.label, figure_id, version, version)).fetchone()
        if row is None:
            if version is not None:
                raise TraceError(f"{period.label} has no release version {version}")
            return None
        (release_id, number, published_at, reason, digest, value, validation_id, gx_run_id, dbt_invocation_id,
         dag_id, airflow_run_id) = row
        validated_at, statistics, failed, waivers = one_row(
            self.conn,
            "select validated_at, statistics, failed, waivers from audit.validation_runs where validation_id = %s",
            (str(validation_id),))
        return TracedRelease(
            release_id=str(release_id), version=number, published_at=published_at.isoformat(), reason=reason,
            content_hash=digest, value=value, validation_id=str(validation_id), gx_run_id=gx_run_id,
            dbt_invocation_id=dbt_invocation_id, dag_id=dag_id, airflow_run_id=airflow_run_id,
            validated_at=validated_at.isoformat(), validation_statistics=statistics,
            warnings=tuple(f"{f['suite']}: {f['description']}" for f in failed), waivers=waivers)

    def release_level(self, release: TracedRelease) -> Level:
        intact = release_intact(self.conn, release.release_id, release.content_hash)
        return Level("release", release.value, 1, intact,
                     f"published.report_figures, release {release.release_id} version {release.version}: " + (
                         "its figures hash to the content hash recorded at publication" if intact else
                         "its figures do NOT hash to the content hash recorded at publication"))

    # ------------------------------------------------------------ figure

    def figure(self, period: Period, figure_id: str) -> TracedFigure:
        return TracedFigure(*one_row(
            self.conn,
            """
            select figures.figure_value, figures.unit, figures.measure_kind, catalogue.report_section,
                   catalogue.quote_vi, catalogue.meaning_en
            from reporting.rpt_report_figures as figures
            join marts.report_figure_catalogue as catalogue using (figure_id)
            where figures.period = %s and figures.figure_id = %s
            """, (period.label, figure_id)))

    def indicator(self, figure_id: str, release: TracedRelease | None) -> TracedIndicator:
        """The indicator's definition as the release recorded it (or, unpublished, as the warehouse has it)."""
        columns = ("indicator_code, indicator_name_vi, indicator_name_en, measure_kind, unit, numerator_code, "
                   "denominator_code, definition, legal_basis, valid_from, valid_to")
        current = one_row(self.conn, f"select {columns} from marts.dim_indicator where indicator_code = %s",
                          (figure_id,))
        recorded = self.conn.execute(
            f"select {columns} from published.release_indicators where release_id = %s and indicator_code = %s",
            (release.release_id, figure_id)).fetchone() if release else None
        (code, name_vi, name_en, measure_kind, unit, numerator, denominator, definition, legal_basis, valid_from,
         valid_to) = recorded or current
        return TracedIndicator(
            indicator_code=code, name_vi=name_vi, name_en=name_en, measure_kind=measure_kind, unit=unit,
            numerator_code=numerator, denominator_code=denominator, definition=definition, legal_basis=legal_basis,
            valid_from=str(valid_from), valid_to=valid_to and str(valid_to),
            as_of="the release" if recorded else "the warehouse now",
            changed_since_release=recorded is not None and recorded != current)

    def figure_level(self, period: Period, release: TracedRelease | None, figure: TracedFigure) -> Level:
        if release is None:
            return Level("figure", figure.value, 1, True,
                         f"reporting.rpt_report_figures (not published: no release of {period.label})")
        same = release.value == figure.value
        return Level("figure", figure.value, 1, same,
                     "reporting.rpt_report_figures equals the release" if same else
                     "reporting.rpt_report_figures differs from the release: sources changed since; "
                     "the levels below explain the warehouse's value, a new version would publish it")

    # ------------------------------------------------------------ rollup

    def rollups(self, period: Period, figure_id: str) -> list[Rollup]:
        with self.conn.cursor(row_factory=class_row(Rollup)) as cursor:
            # Only the rollup levels: the daily and raw sums are read below, with constants.
            return cursor.execute(
                """
                select components.component_role, components.indicator_code, rollups.indicator_value,
                       case components.component_role when 'numerator' then rollups.numerator_value
                            when 'denominator' then rollups.denominator_value
                            else rollups.indicator_value end as rollup_value,
                       (select sum(agencies.indicator_value) from intermediate.int_indicator_agency_period as agencies
                        where agencies.period_label = components.period
                          and agencies.indicator_code = components.indicator_code) as agency_sum,
                       (select count(*) from intermediate.int_indicator_agency_period as agencies
                        where agencies.period_label = components.period
                          and agencies.indicator_code = components.indicator_code) as agency_rows,
                       rollups.numerator_value, rollups.denominator_value
                from lineage.lineage_figure_components as components
                join reporting.rpt_indicator_period as rollups
                    on rollups.period_label = components.period and rollups.indicator_code = components.figure_id
                where components.period = %s and components.figure_id = %s
                """, (period.label, figure_id)).fetchall()

    def rollup_level(self, indicator: TracedIndicator, figure: TracedFigure, rollups: dict[str, Rollup],
                     parts: int) -> Level:
        if indicator.measure_kind != "ratio":
            value = rollups["value"]
            ok = value.rollup_value == figure.value and _agency_sum_ok(value)
            return Level("rollup", figure.value, parts, ok, (
                f"reporting.rpt_indicator_period: {plain_number(value.rollup_value)} "
                f"{'=' if value.rollup_value == figure.value else '≠'} the figure; "
                f"Σ {value.agency_rows} agency rows of intermediate.int_indicator_agency_period = "
                f"{plain_number(value.agency_sum)}"))
        numerator, denominator = rollups["numerator"], rollups["denominator"]
        recomputed = None
        if numerator.rollup_value is not None and denominator.rollup_value:
            # As numeric(20, 6) rounds: half away from zero (Python's round() would round half to even).
            recomputed = (numerator.rollup_value / denominator.rollup_value).quantize(SIX_PLACES, ROUND_HALF_UP)
        parts_ok = all(_agency_sum_ok(part) for part in (numerator, denominator))
        return Level("rollup", figure.value, parts, recomputed == figure.value and parts_ok, (
            f"reporting.rpt_indicator_period: {plain_number(numerator.rollup_value)} / "
            f"{plain_number(denominator.rollup_value)} = {plain_number(recomputed)} "
            f"{'=' if recomputed == figure.value else '≠'} the figure; numerator and denominator "
            f"{'each equal' if parts_ok else 'do NOT each equal'} their sums over agencies"))

    # ------------------------------------------------------------ daily facts and raw rows

    def component(self, figure_id: str, component: Component, rollup_value: Decimal | None) -> TracedComponent:
        """One part of the figure from its rollup down to its raw rows, summed at each level."""
        daily, raw = self.daily_facts(component), self.raw_rows(figure_id, component)
        differing = _cells_differing(daily.cells, raw.cells)
        return TracedComponent(
            role=component.role, indicator_code=component.indicator_code, measure_kind=component.measure_kind,
            first_day=str(component.first_day), last_day=str(component.last_day), rollup_value=rollup_value,
            daily_rows=daily.rows, daily_sum=daily.total,
            daily_reconciled=rollup_value is not None
            and daily.total.quantize(SIX_PLACES, ROUND_HALF_UP) == rollup_value,
            raw_rows=raw.rows, raw_sum=raw.total, raw_tables=raw.tables, cells_differing=tuple(differing[:10]),
            raw_reconciled=raw.total == daily.total and not differing)

    def daily_facts(self, component: Component) -> Cells:
        rows = self.conn.execute(
            "select date_day, agency_code, indicator_value from intermediate.int_indicator_daily "
            "where indicator_code = %s and date_day between %s and %s",
            (component.indicator_code, component.first_day, component.last_day)).fetchall()
        cells: dict[tuple, Decimal] = {}
        for day, agency, value in rows:
            cells[(day, agency)] = cells.get((day, agency), Decimal(0)) + value
        return Cells(len(rows), sum(cells.values(), Decimal(0)), cells)

    def raw_rows(self, figure_id: str, component: Component) -> Cells:
        rows = self.conn.execute(
            sql.SQL("select date_day, agency_code, raw_table, sum(contribution), count(*) from ({}) as raw "
                    "group by date_day, agency_code, raw_table").format(raw_rows_select(figure_id, component))
        ).fetchall()
        cells: dict[tuple, Decimal] = {}
        tables: set[str] = set()
        count = 0
        for day, agency, table, contribution, n in rows:
            cells[(day, agency)] = cells.get((day, agency), Decimal(0)) + contribution
            if table is not None:  # a stock of zero on a day its source had nothing: no raw row behind it
                tables.add(table)
                count += n
        return Cells(count, sum(cells.values(), Decimal(0)), cells, tuple(sorted(tables)))

    def daily_facts_level(self, parts: tuple[TracedComponent, ...]) -> Level:
        return Level(
            "daily_facts", parts[0].daily_sum if len(parts) == 1 else None, sum(p.daily_rows for p in parts),
            all(p.daily_reconciled for p in parts),
            "; ".join(f"{p.role} {p.indicator_code}: {p.daily_rows} rows of "
                      f"intermediate.int_indicator_daily {p.first_day}..{p.last_day}, "
                      f"Σ {plain_number(p.daily_sum)} {'=' if p.daily_reconciled else '≠'} "
                      f"rollup {plain_number(p.rollup_value)}" for p in parts))

    def raw_rows_level(self, parts: tuple[TracedComponent, ...]) -> Level:
        # A ratio's level has two sums, shown in the detail, and no single value.
        return Level(
            "raw_rows", parts[0].raw_sum if len(parts) == 1 else None, sum(p.raw_rows for p in parts),
            all(p.raw_reconciled for p in parts),
            "; ".join(f"{p.role} {p.indicator_code}: {p.raw_rows} rows of {', '.join(p.raw_tables)}, "
                      f"Σ {plain_number(p.raw_sum)} {'=' if p.raw_reconciled else '≠'} daily facts"
                      + (f", {len(p.cells_differing)} day × agency cells differ" if p.cells_differing else "")
                      for p in parts))

    # ------------------------------------------------------------ batches

    def batches(self, figure_id: str, found: list[Component],
                release: TracedRelease | None) -> tuple[TracedBatch, ...]:
        """The load batches behind the figure, each checked against its checksum and the release's record."""
        recorded = release_batch_ids(self.conn, release.release_id) if release else None
        traced = []
        for batch in self._load_batches({figure_id: found}):
            check = self.check_batch(batch)
            traced.append(TracedBatch(
                **vars(batch), checksum_verified=check.verified, checksum_detail=check.detail,
                recorded_by_release=None if recorded is None else batch.batch_id in recorded))
        return tuple(traced)

    def _load_batches(self, figures: dict[str, list[Component]]) -> list[LoadBatch]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(
                f"""
                select used.batch_id::text, batches.source_system, batches.entity, batches.raw_table,
                       batches.window_start, batches.window_end, batches.request, batches.checksum,
                       batches.row_count, batches.rejected_count, batches.loaded_at, batches.dag_id,
                       batches.run_id, batches.task_id, used.rows_used
                from ({batches_used_query(self.conn, figures)}) as used
                join audit.load_batches as batches using (batch_id)
                order by batches.raw_table, batches.window_start nulls first, batches.loaded_at
                """).fetchall()
        for row in rows:
            for key in ("window_start", "window_end", "loaded_at"):
                row[key] = row[key] and row[key].isoformat()
        return [LoadBatch(**row) for row in rows]

    def check_batch(self, batch: LoadBatch) -> BatchCheck:
        if batch.batch_id not in self._checked:
            self._checked[batch.batch_id] = self._check_batch(batch) if self.verify_checksums else BatchCheck(
                None, "checksum not recomputed (--no-verify)")
        return self._checked[batch.batch_id]

    def _check_batch(self, batch: LoadBatch) -> BatchCheck:
        table = sql.Identifier(*batch.raw_table.split("."))
        (present,) = one_row(self.conn, sql.SQL("select count(*) from {} where batch_id = %s").format(table),
                             (batch.batch_id,))
        if present != batch.row_count:
            return BatchCheck(None, f"{batch.row_count - present} of its {batch.row_count} rows were replaced "
                                    "by later loads of the same days; the checksum covers the batch as loaded")
        digest = hashlib.sha256()
        with self.conn.cursor(name="batch_records") as cursor:
            cursor.itersize = 20_000
            cursor.execute(
                sql.SQL("select record_index, payload from {} where batch_id = %(batch)s union all "
                        "select record_index, payload from audit.rejected_records where batch_id = %(batch)s "
                        "order by record_index").format(table),
                {"batch": batch.batch_id})
            for _, payload in cursor:
                digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                              .encode())
                digest.update(b"\n")
        if digest.hexdigest() == batch.checksum:
            return BatchCheck(True, "SHA-256 of its records recomputed from raw equals the checksum taken at load")
        return BatchCheck(False, f"SHA-256 recomputed from raw is {digest.hexdigest()[:16]}…, the load recorded "
                                 f"{batch.checksum[:16]}…: raw rows were changed after loading")

    def batches_level(self, batches: tuple[TracedBatch, ...], release: TracedRelease | None) -> Level:
        broken = [b for b in batches if b.checksum_verified is False]
        verified = sum(b.checksum_verified is True for b in batches)
        detail = (f"{len(batches)} load batches; {verified} verified against their load checksum, "
                  f"{len(batches) - verified - len(broken)} partly replaced by later loads (not verifiable), "
                  f"{len(broken)} changed after loading")
        if release:
            later = [b for b in batches if not b.recorded_by_release]
            detail += ("; all of them the batches the release recorded" if not later else
                       f"; {len(later)} loaded after the release (the days or snapshots were reloaded; the sums "
                       "above show whether the values still agree)")
        return Level("batches", None, len(batches), not broken, detail)


def _agency_sum_ok(part: Rollup) -> bool:
    """A rollup equals the sum of its agency rows (an unknown stock has neither)."""
    if part.rollup_value is None:
        return part.agency_sum is None or part.indicator_value is None
    return round(part.agency_sum or Decimal(0), 6) == part.rollup_value


def _cells_differing(daily: dict, raw: dict) -> list[CellDifference]:
    return [CellDifference(str(day), agency, daily.get((day, agency)), raw.get((day, agency)))
            for day, agency in sorted(set(daily) | set(raw), key=lambda k: (k[0], k[1] or ""))
            if daily.get((day, agency), Decimal(0)) != raw.get((day, agency), Decimal(0))]


def trace_figure(conn: psycopg.Connection, period: Period, figure_id: str, version: int | None = None,
                 verify_checksums: bool = True) -> FigureTrace:
    return Tracer(conn, verify_checksums).trace(period, figure_id, version)


def trace_period(conn: psycopg.Connection, period: Period, version: int | None = None,
                 verify_checksums: bool = True) -> dict[str, FigureTrace]:
    """Every figure of ``period`` traced; a batch's checksum is recomputed once however many figures use it."""
    tracer = Tracer(conn, verify_checksums)
    return {figure_id: tracer.trace(period, figure_id, version, found)
            for figure_id, found in period_components(conn, period).items()}
