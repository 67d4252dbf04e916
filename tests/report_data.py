"""A hand-built ``ReportData`` for the report tests: the seed report's Q1/2019 figures, no database."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from egov.core import config
from egov.publication.report.data import Figure, MonthCount, Release, ReportData, UnitShare
from egov.publication.trace import FigureTrace, Level, TracedBatch, TracedFigure, TracedIndicator, TracedRelease

SEEDS = config.DBT_PROJECT_DIR / "seeds"
REFERENCE = Path(__file__).parent / "data" / "q1_2019_report_figures.csv"

#: The seed report says "over 90%"; the warehouse's value for Q1/2019.
ELECTRONIC_SHARE = Decimal("0.937354")
#: Dossiers received in January, February and March 2019 (38,751 in all).
MONTHS = (14381, 9886, 14484)
#: A figure whose trace does not reconcile, to show the ✗.
UNRECONCILED = "portal_banners_removed"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def released_values() -> dict[str, Decimal]:
    return {row["figure_id"]: ELECTRONIC_SHARE if row["value"].startswith(">") else Decimal(row["value"])
            for row in _rows(REFERENCE)}


def sample_trace(release: Release, figure: Figure) -> FigureTrace:
    reconciled = figure.figure_id != UNRECONCILED
    raw_value = figure.value if reconciled else figure.value + 1
    return FigureTrace(
        period=release.period, figure_id=figure.figure_id, reconciled=reconciled, warehouse_reconciled=reconciled,
        release=TracedRelease(
            release_id=release.release_id, version=release.version, published_at=release.published_at.isoformat(),
            reason=release.reason, content_hash=release.content_hash, value=figure.value,
            validation_id=release.validation_id, gx_run_id=None, dbt_invocation_id=None, dag_id=release.dag_id,
            airflow_run_id=release.run_id, validated_at=release.published_at.isoformat(), validation_statistics={},
            warnings=(), waivers=[]),
        figure=TracedFigure(value=figure.value, unit=figure.unit, measure_kind=figure.measure_kind,
                            report_section=figure.report_section, quote_vi=figure.quote_vi,
                            meaning_en=figure.meaning_en),
        indicator=TracedIndicator(
            indicator_code=figure.figure_id, name_vi=figure.name_vi, name_en=figure.name_en,
            measure_kind=figure.measure_kind, unit=figure.unit, numerator_code=None, denominator_code=None,
            definition=figure.definition, legal_basis=figure.legal_basis, valid_from="2018-01-01", valid_to=None,
            as_of="the release", changed_since_release=False),
        components=(),
        levels=(
            Level(level="release", value=figure.value, rows=1, reconciled=True, detail="published"),
            Level(level="rollup", value=figure.value, rows=1, reconciled=True, detail="rpt_indicator_period"),
            Level(level="daily_facts", value=figure.value, rows=90, reconciled=True, detail="marts"),
            Level(level="raw_rows", value=raw_value, rows=1234, reconciled=reconciled, detail="raw"),
        ),
        batches=(TracedBatch(
            batch_id="6da52f49-0000-4000-8000-000000000001", source_system=figure.source_system,
            entity="dossier_counts", raw_table="raw.onestop__dossier_counts", window_start="2019-01-01",
            window_end="2019-04-01", request="GET /dossier-counts", loaded_at="2026-11-30T05:50:00+00:00",
            checksum="ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12", row_count=1234,
            rejected_count=0, dag_id="egov_extract_onestop", run_id="manual__2026-11-30T05:49:00+00:00",
            task_id="extract", rows_used=1234, checksum_verified=True, checksum_detail="", recorded_by_release=True),),
    )


def sample_report(months: tuple[int, ...] = MONTHS, version: int = 1,
                  reason: str = "first publication") -> ReportData:
    values = released_values()
    indicators = {row["indicator_code"]: row for row in _rows(SEEDS / "indicator_catalogue.csv")}
    figures = []
    for row in sorted(_rows(SEEDS / "report_figure_catalogue.csv"), key=lambda r: int(r["display_order"])):
        indicator = indicators[row["figure_id"]]
        figures.append(Figure(
            figure_id=row["figure_id"], value=values[row["figure_id"]], unit=row["unit"],
            report_section=row["report_section"], display_order=int(row["display_order"]),
            source_system=row["source_system"], measure_kind=row["measure_kind"], quote_vi=row["quote_vi"],
            meaning_en=row["meaning_en"], name_vi=indicator["indicator_name_vi"],
            name_en=indicator["indicator_name_en"], definition=indicator["definition"],
            legal_basis=indicator["legal_basis"]))
    release = Release(
        release_id="8c9ab75c-78dc-45a9-8f6a-596f34293b6f", period="2019Q1", version=version,
        content_hash="0ee281695bc64aa0fce95c713891e7799edad1744b60fe5dad4f6c7db3c1e5b4", figure_count=len(figures),
        validation_id="4ef558b1-2759-4703-bb96-847aa1469799", reason=reason,
        published_at=datetime(2019, 4, 8, 2, 30, tzinfo=UTC), dag_id="egov_publish_quarterly",
        run_id="scheduled__2019-04-01T00:00:00+00:00")
    districts = (
        UnitShare("842", "Thành phố Trà Vinh", 27, 426), UnitShare("844", "Huyện Càng Long", 17, 364),
        UnitShare("845", "Huyện Cầu Kè", 17, 296), UnitShare("846", "Huyện Tiểu Cần", 19, 327),
        UnitShare("847", "Huyện Châu Thành", 16, 323), UnitShare("848", "Huyện Cầu Ngang", 9, 315),
        UnitShare("849", "Huyện Trà Cú", 23, 357), UnitShare("850", "Huyện Duyên Hải", 12, 230),
        UnitShare("851", "Thị xã Duyên Hải", 10, 178),
    )
    return ReportData(
        period="2019Q1", period_start=date(2019, 1, 1), period_end=date(2019, 4, 1), province_name="Trà Vinh",
        release=release, figures=tuple(figures),
        dossiers_per_month=tuple(MonthCount(date(2019, m, 1), count) for m, count in enumerate(months, start=1)),
        online_share_by_district=districts, online_share_province=UnitShare("84", "Tỉnh Trà Vinh", 618, 6634),
        charts_read_at=datetime(2026, 11, 30, 10, 45, tzinfo=UTC),
        traces={figure.figure_id: sample_trace(release, figure) for figure in figures},
    )


def with_changed_warehouse(data: ReportData) -> ReportData:
    """The same release, but the warehouse lost 51 dossiers of March since it was published."""
    months = list(data.dossiers_per_month)
    months[-1] = MonthCount(months[-1].month, months[-1].dossiers - 51)
    return replace(data, dossiers_per_month=tuple(months))
