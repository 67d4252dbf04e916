"""Figure-level lineage: a reported figure traced down to the source batches it came from.

The chain, for one figure of one period:

    release → figure → indicator definition → rollup → daily facts → raw rows → batches

with the sum at each level, and whether it reconciles with the level above. The SQL views in
the ``lineage`` schema (dbt models ``lineage_figure_*``) hold the same chain for auditors; this
module reads them, except the raw rows, which it reads from ``lineage.lineage_indicator_raw_rows``
with the indicator and its days as constants so that PostgreSQL skips every other indicator.

A batch is also checked against itself: when all its rows are still in raw (no later load replaced
part of its window), the SHA-256 of its records, recomputed from raw and the quarantine, must equal
the checksum the loader recorded as the records arrived.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from egov.core.periods import Period
from egov.core.values import json_value, plain_number

RAW_ROWS_VIEW = "lineage.lineage_indicator_raw_rows"
LEVELS = ("release", "figure", "rollup", "daily_facts", "raw_rows", "batches")
SIX_PLACES = Decimal("0.000001")
#: The levels below the release: the warehouse's own chain from its figure's rollup to the batches.
WAREHOUSE_LEVELS = ("rollup", "daily_facts", "raw_rows", "batches")


class TraceError(RuntimeError):
    """The figure cannot be traced (unknown figure, period not in the warehouse)."""


@dataclass(frozen=True)
class Component:
    """A part of a figure: the indicator itself (flows, stocks) or a ratio's numerator or denominator."""

    role: str
    indicator_code: str
    measure_kind: str
    first_day: object
    last_day: object


def components(conn: psycopg.Connection, period: Period, figure_id: str | None = None) -> dict[str, list[Component]]:
    try:
        rows = conn.execute(
            "select figure_id, component_role, indicator_code, measure_kind, first_day, last_day "
            "from lineage.lineage_figure_components where period = %s and (%s::text is null or figure_id = %s) "
            "order by figure_id, component_role desc",
            (period.label, figure_id, figure_id)).fetchall()
    except psycopg.errors.UndefinedTable:
        raise TraceError(
            "the lineage views are missing: a dbt run that replaced a table they read drops them with it "
            "(PostgreSQL's cascade); re-create them with `egov dbt run --select lineage` (or build with "
            "`--select model+`)") from None
    found: dict[str, list[Component]] = {}
    for figure, *component in rows:
        found.setdefault(figure, []).append(Component(*component))
    return found


def _raw_rows_select(figure_id: str, component: Component) -> sql.Composed:
    # Constants, not a join: the view is a union of one branch per indicator, and only a constant
    # indicator_code lets the planner drop the other branches.
    return sql.SQL(
        "select {figure}::text as figure_id, {role}::text as component_role, indicator_code, date_day, agency_code, "
        "raw_table, batch_id, record_index, contribution from {view} "
        "where indicator_code = {indicator} and date_day between {first} and {last}"
    ).format(figure=sql.Literal(figure_id), role=sql.Literal(component.role),
             view=sql.SQL(RAW_ROWS_VIEW), indicator=sql.Literal(component.indicator_code),
             first=sql.Literal(component.first_day), last=sql.Literal(component.last_day))


def figure_raw_rows_query(conn: psycopg.Connection, figures: dict[str, list[Component]]) -> str:
    """SQL selecting the raw rows behind ``figures`` (each figure's components) with their contributions."""
    parts = [_raw_rows_select(figure, component) for figure, found in figures.items() for component in found]
    return sql.SQL("\nunion all\n").join(parts).as_string(conn)


def batches_used_query(conn: psycopg.Connection, figures: dict[str, list[Component]]) -> str:
    """SQL: the load batches behind ``figures`` and how many of their rows they use.

    A stock stated on a day its source had nothing (no site online) has a row without a batch: no batch
    is behind it."""
    return f"""
        select batch_id, raw_table, count(distinct record_index) as rows_used
        from ({figure_raw_rows_query(conn, figures)}) as used
        where batch_id is not null
        group by batch_id, raw_table
    """


def period_components(conn: psycopg.Connection, period: Period) -> dict[str, list[Component]]:
    """Every figure of ``period`` with its components; an error if the warehouse has none."""
    figures = components(conn, period)
    if not figures:
        raise TraceError(f"the warehouse has no figures for {period.label}")
    return figures


@dataclass
class BatchCheck:
    """Whether a batch's records in raw (and in quarantine) are still the records that arrived."""

    verified: bool | None
    detail: str


@dataclass
class Tracer:
    conn: psycopg.Connection
    verify_checksums: bool = True
    _checked: dict[str, BatchCheck] = field(default_factory=dict)

    # ------------------------------------------------------------ batches

    def check_batch(self, batch: dict) -> BatchCheck:
        key = batch["batch_id"]
        if key not in self._checked:
            self._checked[key] = self._check_batch(batch) if self.verify_checksums else BatchCheck(
                None, "checksum not recomputed (--no-verify)")
        return self._checked[key]

    def _check_batch(self, batch: dict) -> BatchCheck:
        table = sql.Identifier(*batch["raw_table"].split("."))
        present = self.conn.execute(sql.SQL("select count(*) from {} where batch_id = %s").format(table),
                                    (batch["batch_id"],)).fetchone()[0]
        if present != batch["row_count"]:
            return BatchCheck(None, f"{batch['row_count'] - present} of its {batch['row_count']} rows were replaced "
                                    "by later loads of the same days; the checksum covers the batch as loaded")
        digest = hashlib.sha256()
        with self.conn.cursor(name="batch_records") as cursor:
            cursor.itersize = 20_000
            cursor.execute(
                sql.SQL("select record_index, payload from {} where batch_id = %(batch)s union all "
                        "select record_index, payload from audit.rejected_records where batch_id = %(batch)s "
                        "order by record_index").format(table),
                {"batch": batch["batch_id"]})
            for _, payload in cursor:
                digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                              .encode())
                digest.update(b"\n")
        if digest.hexdigest() == batch["checksum"]:
            return BatchCheck(True, "SHA-256 of its records recomputed from raw equals the checksum taken at load")
        return BatchCheck(False, f"SHA-256 recomputed from raw is {digest.hexdigest()[:16]}…, the load recorded "
                                 f"{batch['checksum'][:16]}…: raw rows were changed after loading")

    # ------------------------------------------------------------ one figure

    def trace(self, period: Period, figure_id: str, version: int | None = None,
              found: list[Component] | None = None) -> dict:
        """The chain of ``figure_id``; ``found`` are its components when the caller has read them already."""
        found = found or components(self.conn, period, figure_id).get(figure_id)
        if not found:
            known = self.conn.execute("select count(*) from lineage.lineage_figure_components where period = %s",
                                      (period.label,)).fetchone()[0]
            if not known:
                raise TraceError(f"the warehouse has no figures for {period.label}")
            raise TraceError(f"{figure_id!r} is not a figure of the report (see marts.report_figure_catalogue)")
        release = self._release(period, figure_id, version)
        figure = self._figure(period, figure_id)
        indicator = self._indicator(figure_id, release)
        levels: list[dict] = []
        if release:
            same = release["value"] == figure["value"]
            intact = self._release_intact(release)
            levels.append(_level("release", release["value"], 1, intact,
                                 f"published.report_figures, release {release['release_id']} version "
                                 f"{release['version']}: " + (
                                     "its figures hash to the content hash recorded at publication" if intact else
                                     "its figures do NOT hash to the content hash recorded at publication")))
            levels.append(_level("figure", figure["value"], 1, same,
                                 "reporting.rpt_report_figures equals the release" if same else
                                 "reporting.rpt_report_figures differs from the release: sources changed since; "
                                 "the levels below explain the warehouse's value, a new version would publish it"))
        else:
            levels.append(_level("figure", figure["value"], 1, True,
                                 f"reporting.rpt_report_figures (not published: no release of {period.label})"))
        reconciliation = {row["component_role"]: row for row in self._reconciliation(period, figure_id)}
        rollup_ok, rollup_detail = self._rollup_agrees(indicator, figure, reconciliation)
        levels.append(_level("rollup", figure["value"], len(found), rollup_ok, rollup_detail))
        parts = []
        daily_ok = raw_ok = True
        daily_rows = raw_rows = 0
        for component in found:
            daily = self._daily_facts(period, figure_id, component)
            raw = self._raw_rows(figure_id, component)
            rollup_value = reconciliation[component.role]["rollup_value"]
            component_daily_ok = rollup_value is not None and daily["sum"].quantize(SIX_PLACES, ROUND_HALF_UP) \
                == rollup_value
            differing = _cells_differing(daily["cells"], raw["cells"])
            component_raw_ok = raw["sum"] == daily["sum"] and not differing
            daily_ok &= component_daily_ok
            raw_ok &= component_raw_ok
            daily_rows += daily["rows"]
            raw_rows += raw["rows"]
            parts.append({
                "role": component.role, "indicator_code": component.indicator_code,
                "measure_kind": component.measure_kind, "first_day": str(component.first_day),
                "last_day": str(component.last_day), "rollup_value": rollup_value,
                "daily_rows": daily["rows"], "daily_sum": daily["sum"], "daily_reconciled": component_daily_ok,
                "raw_rows": raw["rows"], "raw_sum": raw["sum"], "raw_tables": raw["tables"],
                "cells_differing": differing[:10], "raw_reconciled": component_raw_ok,
            })
        levels.append(_level(
            "daily_facts", _single_sum(parts, "daily_sum"), daily_rows, daily_ok,
            "; ".join(f"{p['role']} {p['indicator_code']}: {p['daily_rows']} rows of "
                      f"intermediate.int_indicator_daily {p['first_day']}..{p['last_day']}, "
                      f"Σ {plain_number(p['daily_sum'])} {'=' if p['daily_reconciled'] else '≠'} "
                      f"rollup {plain_number(p['rollup_value'])}" for p in parts)))
        levels.append(_level(
            "raw_rows", _single_sum(parts, "raw_sum"), raw_rows, raw_ok,
            "; ".join(f"{p['role']} {p['indicator_code']}: {p['raw_rows']} rows of {', '.join(p['raw_tables'])}, "
                      f"Σ {plain_number(p['raw_sum'])} {'=' if p['raw_reconciled'] else '≠'} daily facts"
                      + (f", {len(p['cells_differing'])} day × agency cells differ" if p["cells_differing"] else "")
                      for p in parts)))
        batches = self._batches({figure_id: found})
        for batch in batches:
            check = self.check_batch(batch)
            batch["checksum_verified"], batch["checksum_detail"] = check.verified, check.detail
        broken = [b for b in batches if b["checksum_verified"] is False]
        verified = sum(b["checksum_verified"] is True for b in batches)
        detail = (f"{len(batches)} load batches; {verified} verified against their load checksum, "
                  f"{len(batches) - verified - len(broken)} partly replaced by later loads (not verifiable), "
                  f"{len(broken)} changed after loading")
        if release:
            recorded = self._release_batches(release["release_id"])
            later = [b for b in batches if b["batch_id"] not in recorded]
            for batch in batches:
                batch["recorded_by_release"] = batch["batch_id"] in recorded
            detail += ("; all of them the batches the release recorded" if not later else
                       f"; {len(later)} loaded after the release (the days or snapshots were reloaded; the sums "
                       "above show whether the values still agree)")
        levels.append(_level("batches", None, len(batches), not broken, detail))
        return {
            "period": period.label, "figure_id": figure_id,
            "reconciled": all(level["reconciled"] for level in levels),
            # The warehouse's figure down to raw, whatever the release says: what a new release may rest on.
            "warehouse_reconciled": all(level["reconciled"] for level in levels if level["level"] in WAREHOUSE_LEVELS),
            "release": release, "figure": figure, "indicator": indicator,
            "components": parts, "levels": levels, "batches": batches,
        }

    def _release(self, period: Period, figure_id: str, version: int | None) -> dict | None:
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
        keys = ("release_id", "version", "published_at", "reason", "content_hash", "value", "validation_id",
                "gx_run_id", "dbt_invocation_id", "dag_id", "airflow_run_id")
        release = dict(zip(keys, row, strict=True))
        for key in ("release_id", "validation_id", "published_at"):
            release[key] = release[key].isoformat() if key == "published_at" else str(release[key])
        validation = self.conn.execute(
            "select validated_at, statistics, failed, waivers from audit.validation_runs where validation_id = %s",
            (release["validation_id"],)).fetchone()
        release["validated_at"], release["validation_statistics"] = validation[0].isoformat(), validation[1]
        release["warnings"] = [f"{f['suite']}: {f['description']}" for f in validation[2]]
        release["waivers"] = validation[3]
        return release

    def _figure(self, period: Period, figure_id: str) -> dict:
        row = self.conn.execute(
            """
            select figures.figure_value, figures.unit, figures.measure_kind, catalogue.report_section,
                   catalogue.quote_vi, catalogue.meaning_en
            from reporting.rpt_report_figures as figures
            join marts.report_figure_catalogue as catalogue using (figure_id)
            where figures.period = %s and figures.figure_id = %s
            """, (period.label, figure_id)).fetchone()
        keys = ("value", "unit", "measure_kind", "report_section", "quote_vi", "meaning_en")
        return dict(zip(keys, row, strict=True))

    def _indicator(self, figure_id: str, release: dict | None) -> dict:
        """The indicator's definition as the release recorded it (or, unpublished, as the warehouse has it)."""
        columns = ("indicator_code, indicator_name_vi, indicator_name_en, measure_kind, unit, numerator_code, "
                   "denominator_code, definition, legal_basis, valid_from, valid_to")
        current = self.conn.execute(f"select {columns} from marts.dim_indicator where indicator_code = %s",
                                    (figure_id,)).fetchone()
        recorded = release and self.conn.execute(
            f"select {columns} from published.release_indicators where release_id = %s and indicator_code = %s",
            (release["release_id"], figure_id)).fetchone()
        keys = ("indicator_code", "name_vi", "name_en", "measure_kind", "unit", "numerator_code", "denominator_code",
                "definition", "legal_basis", "valid_from", "valid_to")
        indicator = dict(zip(keys, recorded or current, strict=True))
        indicator["valid_from"] = str(indicator["valid_from"])
        indicator["valid_to"] = indicator["valid_to"] and str(indicator["valid_to"])
        indicator["as_of"] = "the release" if recorded else "the warehouse now"
        indicator["changed_since_release"] = bool(recorded) and tuple(recorded) != tuple(current)
        return indicator

    def _release_intact(self, release: dict) -> bool:
        """Whether the release's stored figures still hash to the content hash recorded with them."""
        from egov.publication.publish import content_hash

        figures = self.conn.execute("select figure_id, value, unit from published.report_figures "
                                    "where release_id = %s", (release["release_id"],)).fetchall()
        return content_hash(figures) == release["content_hash"]

    def _release_batches(self, release_id: str) -> set[str]:
        return {row[0] for row in self.conn.execute(
            "select batch_id::text from published.release_batches where release_id = %s", (release_id,))}

    def _reconciliation(self, period: Period, figure_id: str) -> list[dict]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
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

    def _rollup_agrees(self, indicator: dict, figure: dict, reconciliation: dict) -> tuple[bool, str]:
        if indicator["measure_kind"] == "ratio":
            numerator, denominator = reconciliation["numerator"], reconciliation["denominator"]
            recomputed = None
            if numerator["rollup_value"] is not None and denominator["rollup_value"]:
                # As numeric(20, 6) rounds: half away from zero (Python's round() would round half to even).
                recomputed = (numerator["rollup_value"] / denominator["rollup_value"]).quantize(SIX_PLACES,
                                                                                              ROUND_HALF_UP)
            parts_ok = all(_agency_sum_ok(part) for part in (numerator, denominator))
            ok = recomputed == figure["value"] and parts_ok
            return ok, (f"reporting.rpt_indicator_period: {plain_number(numerator['rollup_value'])} / "
                        f"{plain_number(denominator['rollup_value'])} = {plain_number(recomputed)} "
                        f"{'=' if recomputed == figure['value'] else '≠'} the figure; numerator and denominator "
                        f"{'each equal' if parts_ok else 'do NOT each equal'} their sums over agencies")
        value = reconciliation["value"]
        ok = value["rollup_value"] == figure["value"] and _agency_sum_ok(value)
        return ok, (f"reporting.rpt_indicator_period: {plain_number(value['rollup_value'])} "
                    f"{'=' if value['rollup_value'] == figure['value'] else '≠'} the figure; "
                    f"Σ {value['agency_rows']} agency rows of intermediate.int_indicator_agency_period = "
                    f"{plain_number(value['agency_sum'])}")

    def _daily_facts(self, period: Period, figure_id: str, component: Component) -> dict:
        rows = self.conn.execute(
            "select date_day, agency_code, indicator_value from intermediate.int_indicator_daily "
            "where indicator_code = %s and date_day between %s and %s",
            (component.indicator_code, component.first_day, component.last_day)).fetchall()
        cells: dict[tuple, Decimal] = {}
        for day, agency, value in rows:
            cells[(day, agency)] = cells.get((day, agency), Decimal(0)) + value
        return {"rows": len(rows), "sum": sum(cells.values(), Decimal(0)), "cells": cells}

    def _raw_rows(self, figure_id: str, component: Component) -> dict:
        rows = self.conn.execute(
            sql.SQL("select date_day, agency_code, raw_table, sum(contribution), count(*) from ({}) as raw "
                    "group by date_day, agency_code, raw_table").format(_raw_rows_select(figure_id, component))
        ).fetchall()
        cells: dict[tuple, Decimal] = {}
        tables: set[str] = set()
        count = 0
        for day, agency, table, contribution, n in rows:
            cells[(day, agency)] = cells.get((day, agency), Decimal(0)) + contribution
            if table is not None:  # a stock of zero on a day its source had nothing: no raw row behind it
                tables.add(table)
                count += n
        return {"rows": count, "sum": sum(cells.values(), Decimal(0)), "cells": cells, "tables": sorted(tables)}

    def _batches(self, figures: dict[str, list[Component]]) -> list[dict]:
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
        return rows


def _agency_sum_ok(part: dict) -> bool:
    """A rollup equals the sum of its agency rows (an unknown stock has neither)."""
    if part["rollup_value"] is None:
        return part["agency_sum"] is None or part["indicator_value"] is None
    return round(part["agency_sum"] or Decimal(0), 6) == part["rollup_value"]


def _cells_differing(daily: dict, raw: dict) -> list[dict]:
    return [{"date_day": str(day), "agency_code": agency, "daily": daily.get((day, agency)),
             "raw": raw.get((day, agency))}
            for day, agency in sorted(set(daily) | set(raw), key=lambda k: (k[0], k[1] or ""))
            if daily.get((day, agency), Decimal(0)) != raw.get((day, agency), Decimal(0))]


def _single_sum(parts: list[dict], key: str) -> Decimal | None:
    """The level's value: the component's sum, or none for a ratio (two sums, shown in the detail)."""
    return parts[0][key] if len(parts) == 1 else None


def _level(name: str, value, rows: int, reconciled: bool, detail: str) -> dict:
    return {"level": name, "value": value, "rows": rows, "reconciled": bool(reconciled), "detail": detail}


def trace_figure(conn: psycopg.Connection, period: Period, figure_id: str, version: int | None = None,
                 verify_checksums: bool = True) -> dict:
    return Tracer(conn, verify_checksums).trace(period, figure_id, version)


def trace_period(conn: psycopg.Connection, period: Period, version: int | None = None,
                 verify_checksums: bool = True) -> dict[str, dict]:
    """Every figure of ``period`` traced; a batch's checksum is recomputed once however many figures use it."""
    tracer = Tracer(conn, verify_checksums)
    return {figure_id: tracer.trace(period, figure_id, version, found)
            for figure_id, found in period_components(conn, period).items()}


def format_trace(trace: dict) -> str:
    """The chain as text, one level a line, with a verdict on each."""
    indicator, figure, release = trace["indicator"], trace["figure"], trace["release"]
    mark = {True: "✓", False: "✗"}
    lines = [f"{trace['period']} {trace['figure_id']}: {indicator['name_vi']} / {indicator['name_en']} "
             f"({indicator['measure_kind']}, {figure['unit']})"]
    if release:
        lines.append(f"  release    {plain_number(release['value']):>14}  version {release['version']} "
                     f"({release['release_id']}), published {release['published_at']}"
                     + (f" by {release['dag_id']} run {release['airflow_run_id']}" if release["dag_id"] else
                        " from the command line"))
        lines.append(f"             reason: {release['reason']}; content hash {release['content_hash'][:16]}…")
        unrecorded = "not recorded (released before it was)"
        lines.append(f"             gate {release['validation_id']} (Great Expectations run "
                     f"{release['gx_run_id'] or unrecorded}, {len(release['warnings'])} warnings, "
                     f"{len(release['waivers'])} coverage waivers), "
                     f"dbt build {release['dbt_invocation_id'] or unrecorded}")
    else:
        lines.append(f"  release    {'-':>14}  {trace['period']} is not published")
    for level in trace["levels"]:
        if level["level"] == "release":
            continue
        shown = "" if level["value"] is None else plain_number(level["value"])
        lines.append(f"  {level['level']:<10} {shown:>14}  {mark[level['reconciled']]} {level['detail']}")
        if level["level"] == "figure":
            lines.append(f"  indicator  {indicator['indicator_code']}, definition valid from "
                         f"{indicator['valid_from']} (as at {indicator['as_of']}"
                         + ("; CHANGED since the release" if indicator["changed_since_release"] else "")
                         + f"): {indicator['definition']} [{indicator['legal_basis']}]")
    for batch in trace["batches"]:
        window = f"{batch['window_start']}..{batch['window_end']}" if batch["window_start"] else "snapshot"
        verdict = {True: "checksum verified", False: "CHECKSUM MISMATCH", None: "checksum not verifiable"}[
            batch["checksum_verified"]]
        lines.append(f"    batch {batch['batch_id']} {batch['source_system']} {batch['raw_table']} {window}: "
                     f"{batch['rows_used']} of {batch['row_count']} rows used; {batch['request']}; loaded "
                     f"{batch['loaded_at']} by {batch['run_id'] or 'the command line'}; "
                     f"sha256 {batch['checksum'][:16]}… {verdict}")
    lines.append("reconciled at every level" if trace["reconciled"] else
                 "NOT reconciled: see the levels marked ✗")
    return "\n".join(lines)


def to_json(value):
    """JSON-ready copy of a trace: Decimals as numbers, keys of cells as text."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items() if key != "cells"}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return json_value(value)
