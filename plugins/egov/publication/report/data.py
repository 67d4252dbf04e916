"""What the report shows, read from the warehouse in one snapshot into the plain ``ReportData``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg

from egov.core.periods import Period, month_starts
from egov.core.rows import one_row
from egov.publication.release import latest_release
from egov.publication.trace import FigureTrace, TraceError, trace_period

#: The figure the per-month chart must add up to.
RECEIVED_FIGURE = "onestop_dossiers_received"
#: The figures the districts' online dossiers must add up to, province-wide (level 3 + level 4).
ONLINE_FIGURES = ("level3_dossiers_online", "level4_dossiers_online")
ONLINE_INDICATOR = "onestop_dossiers_level34_online"
RECEIVED_LEVEL34_INDICATOR = "onestop_dossiers_level34_received"


class ReportError(RuntimeError):
    """The report cannot be made (nothing published for the period, a figure without its trace…)."""


@dataclass(frozen=True)
class Release:
    release_id: str
    period: str
    version: int
    content_hash: str
    figure_count: int
    validation_id: str
    reason: str | None
    published_at: datetime
    dag_id: str | None
    run_id: str | None


@dataclass(frozen=True)
class Figure:
    """A released figure with its place in the report and its indicator's definition."""

    figure_id: str
    value: Decimal | None
    unit: str
    report_section: str | None  # None: released, but no longer in the catalogue
    display_order: int | None
    source_system: str | None
    measure_kind: str | None
    quote_vi: str
    meaning_en: str
    name_vi: str | None
    name_en: str | None
    definition: str | None
    legal_basis: str | None


@dataclass(frozen=True)
class MonthCount:
    month: date
    dossiers: int


@dataclass(frozen=True)
class UnitShare:
    """Level-3/4 dossiers of one administrative unit: received online, and received by any channel."""

    admin_unit_code: str
    admin_unit_name: str
    online: int
    received: int

    @property
    def share(self) -> Decimal | None:
        return Decimal(self.online) / Decimal(self.received) if self.received else None


@dataclass(frozen=True)
class ChartCheck:
    """A chart's total in the warehouse now beside the released figures it must add up to."""

    figure_ids: tuple[str, ...]
    released: Decimal | None  # None: the release does not carry every one of them
    warehouse: Decimal
    unit: str

    @property
    def matches(self) -> bool:
        return self.released is not None and self.released == self.warehouse


@dataclass(frozen=True)
class ReportData:
    period: str
    period_start: date
    period_end: date  # exclusive
    province_name: str  # without its type: "Trà Vinh"
    release: Release
    figures: tuple[Figure, ...]  # in the report's order
    dossiers_per_month: tuple[MonthCount, ...]
    online_share_by_district: tuple[UnitShare, ...]
    online_share_province: UnitShare | None
    charts_read_at: datetime
    traces: dict[str, FigureTrace]  # figure_id -> its chain (egov.publication.trace)

    def figure(self, figure_id: str) -> Figure | None:
        return next((f for f in self.figures if f.figure_id == figure_id), None)

    def _released_sum(self, figure_ids: Sequence[str]) -> Decimal | None:
        values = [getattr(self.figure(fid), "value", None) for fid in figure_ids]
        known = [v for v in values if v is not None]
        return None if len(known) < len(values) else sum(known, Decimal(0))

    @property
    def months_check(self) -> ChartCheck:
        total = sum((Decimal(m.dossiers) for m in self.dossiers_per_month), Decimal(0))
        return ChartCheck((RECEIVED_FIGURE,), self._released_sum([RECEIVED_FIGURE]), total, "dossier")

    @property
    def districts_check(self) -> ChartCheck:
        online = Decimal(self.online_share_province.online if self.online_share_province else 0)
        return ChartCheck(ONLINE_FIGURES, self._released_sum(ONLINE_FIGURES), online, "dossier")


def load_report(conn: psycopg.Connection, period: Period) -> ReportData:
    """Everything the report shows, from one snapshot of the warehouse (``conn`` must be idle)."""
    with conn.transaction():
        # One snapshot: the release, the charts and the traces must describe the same warehouse.
        conn.execute("set transaction isolation level repeatable read")
        release = _latest_release(conn, period)
        figures = _released_figures(conn, release.release_id)
        months = _dossiers_per_month(conn, period)
        districts, province = _online_share(conn, period)
        province_name = _province_name(conn, period)
        (read_at,) = one_row(conn, "select now()")
        try:
            traces = trace_period(conn, period, version=release.version)
        except TraceError as untraceable:
            raise ReportError(f"the figures of {period.label} cannot be traced: {untraceable}") from None
    check_traces(release, figures, traces)
    return ReportData(
        period=period.label, period_start=period.start, period_end=period.end,
        province_name=province_name, release=release, figures=figures,
        dossiers_per_month=months, online_share_by_district=districts, online_share_province=province,
        charts_read_at=read_at, traces=traces,
    )


def _latest_release(conn: psycopg.Connection, period: Period) -> Release:
    row = latest_release(conn, period)
    if row is None:
        raise ReportError(f"nothing published for {period.label}: publish it first "
                          f"(egov run --period {period.label}, or egov publish --period {period.label})")
    return Release(str(row["release_id"]), row["period"], row["version"], row["content_hash"], row["figure_count"],
                   str(row["validation_id"]), row["reason"], row["published_at"], row["dag_id"], row["run_id"])


def _released_figures(conn: psycopg.Connection, release_id: str) -> tuple[Figure, ...]:
    rows = conn.execute(
        """
        select f.figure_id, f.value, f.unit, c.report_section, c.display_order, c.source_system, c.measure_kind,
               coalesce(c.quote_vi, ''), coalesce(c.meaning_en, ''),
               -- The definitions the release recorded; the catalogue's for releases made before it did.
               coalesce(r.indicator_name_vi, i.indicator_name_vi), coalesce(r.indicator_name_en, i.indicator_name_en),
               coalesce(r.definition, i.definition), coalesce(r.legal_basis, i.legal_basis)
        from published.report_figures as f
        left join marts.report_figure_catalogue as c on f.figure_id = c.figure_id
        left join marts.dim_indicator as i on f.figure_id = i.indicator_code
        left join published.release_indicators as r on f.release_id = r.release_id and f.figure_id = r.indicator_code
        where f.release_id = %s
        order by c.display_order nulls last, f.figure_id
        """, (release_id,)).fetchall()
    return tuple(Figure(*row) for row in rows)


def _dossiers_per_month(conn: psycopg.Connection, period: Period) -> tuple[MonthCount, ...]:
    counted: dict[date, int] = dict(conn.execute(
        """
        select date_trunc('month', date_day)::date, sum(dossier_count)::bigint
        from marts.fct_onestop_dossiers_daily
        where event_code = 'received' and date_day >= %s and date_day < %s
        group by 1
        """, (period.start, period.end)).fetchall())
    return tuple(MonthCount(month, counted.get(month, 0)) for month in month_starts(period.start, period.last_day))


def _online_share(conn: psycopg.Connection, period: Period) -> tuple[tuple[UnitShare, ...], UnitShare | None]:
    """Per district and province-wide, on the period's own boundaries ("as was")."""
    rows = conn.execute(
        """
        select admin_level, admin_unit_code, admin_unit_name,
               coalesce(sum(indicator_value) filter (where indicator_code = %(online)s), 0)::bigint,
               coalesce(sum(indicator_value) filter (where indicator_code = %(received)s), 0)::bigint
        from reporting.rpt_indicator_admin_unit_period
        where period_label = %(period)s and boundary = 'as_was' and admin_level in ('province', 'district')
          and indicator_code in (%(online)s, %(received)s)
        group by admin_level, admin_unit_code, admin_unit_name
        order by admin_unit_code
        """, {"period": period.label, "online": ONLINE_INDICATOR, "received": RECEIVED_LEVEL34_INDICATOR}).fetchall()
    districts = tuple(UnitShare(*row[1:]) for row in rows if row[0] == "district")
    province = next((UnitShare(*row[1:]) for row in rows if row[0] == "province"), None)
    return districts, province


def _province_name(conn: psycopg.Connection, period: Period) -> str:
    row = conn.execute(
        "select admin_unit_name, unit_type from marts.dim_admin_unit where admin_level = 'province' "
        "and valid_from <= %(day)s and (valid_to is null or valid_to > %(day)s) order by admin_unit_code limit 1",
        {"day": period.last_day}).fetchone()
    if row is None:
        raise ReportError(f"marts.dim_admin_unit has no province for {period.label}: build the warehouse first")
    name, unit_type = row
    return name.removeprefix(f"{unit_type} ")


def check_traces(release: Release, figures: Iterable[Figure], traces: dict[str, FigureTrace]) -> None:
    """Every figure has its trace, and every trace follows this release."""
    untraced = [f.figure_id for f in figures if f.figure_id not in traces]
    if untraced:
        raise ReportError(f"egov.publication.trace gave no trace for {len(untraced)} figures of {release.period}: "
                          + ", ".join(untraced))
    other = {str(t.release.release_id if t.release else None) for t in traces.values()} - {release.release_id}
    if other:
        raise ReportError(f"the traces of {release.period} follow release {', '.join(sorted(other))}, "
                          f"not the latest release {release.release_id}")
