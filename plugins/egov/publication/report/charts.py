"""The report's two charts: what each shows in a language (``Chart``), and its drawing as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from egov.publication.report.data import ChartCheck, ReportData, UnitShare
from egov.publication.report.text import Language


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: Decimal
    shown: str  # the value as printed beside the bar


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    source: str
    unit: str
    value_heading: str
    rows: tuple[ChartRow, ...]
    reference: ChartRow | None  # drawn as a line across the bars
    check: ChartCheck


def charts(data: ReportData, t: Language) -> list[Chart]:
    period = t.period(data.period)
    months = Chart(
        "dossiers_per_month", t("chart_months_title", period=period), t("chart_months_source"), "dossier",
        t("dossiers"),
        tuple(ChartRow(t.month(m.month), Decimal(m.dossiers), t.value(m.dossiers, "dossier"))
              for m in data.dossiers_per_month),
        None, data.months_check)
    by_share = sorted(((d.share, d) for d in data.online_share_by_district if d.share is not None),
                      key=lambda shared: (-shared[0], shared[1].admin_unit_code))
    province = data.online_share_province
    districts = Chart(
        "online_share_by_district", t("chart_districts_title", period=period), t("chart_districts_source"),
        "share", t("share"),
        tuple(ChartRow(d.admin_unit_name, share, _share_shown(d, t)) for share, d in by_share),
        ChartRow(t("province_total"), province.share, _share_shown(province, t))
        if province and province.share is not None else None,
        data.districts_check)
    return [months, districts]


def _share_shown(unit: UnitShare, t: Language) -> str:
    return f"{t.value(unit.share, 'share')} ({t.value(unit.online, None)}/{t.value(unit.received, None)})"


def svg_bar_chart(chart: Chart, t: Language) -> Markup:
    """Horizontal bars with their values printed beside them, and an optional reference line."""
    label_width, bars_width, value_width, row_height, bar_height = 190, 420, 190, 30, 18
    left = label_width + 10
    top = 8
    reference_space = 34 if chart.reference else 0
    height = top + max(len(chart.rows), 1) * row_height + reference_space + 10
    width = left + bars_width + value_width
    parts = [f'<svg class="bars" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(chart.title)}">',
             f"<title>{escape(chart.title)}</title>"]
    if not chart.rows:
        parts.append(f'<text x="{width / 2}" y="{top + 20}" text-anchor="middle">{escape(t("no_data"))}</text>')
        return Markup("".join([*parts, "</svg>"]))
    largest = max([row.value for row in chart.rows] + ([chart.reference.value] if chart.reference else []))
    scale = bars_width / float(largest) if largest > 0 else 0.0
    for index, row in enumerate(chart.rows):
        y = top + index * row_height
        bar = max(float(row.value) * scale, 1.0 if row.value > 0 else 0.0)
        middle = y + row_height / 2
        parts.append(f'<text class="bar-label" x="{label_width}" y="{middle + 4:.1f}" '
                     f'text-anchor="end">{escape(row.label)}</text>')
        parts.append(f'<rect class="bar" x="{left}" y="{middle - bar_height / 2:.1f}" width="{bar:.1f}" '
                     f'height="{bar_height}"><title>{escape(row.label)}: {escape(row.shown)}</title></rect>')
        parts.append(f'<text class="bar-value chart-value" x="{left + bar + 6:.1f}" y="{middle + 4:.1f}">'
                     f"{escape(row.shown)}</text>")
    bottom = top + len(chart.rows) * row_height
    parts.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>')
    if chart.reference:
        x = left + float(chart.reference.value) * scale
        parts.append(f'<line class="reference" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom + 6}"/>')
        parts.append(f'<text class="reference-label chart-value" x="{x:.1f}" y="{bottom + 22}" '
                     f'text-anchor="middle">{escape(chart.reference.label)}: {escape(chart.reference.shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
