"""The report as an XLSX workbook: a figures sheet of real numbers, a charts sheet with openpyxl bar charts
over their data, and a trace sheet the figures link to; one function per sheet."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from egov.core.values import json_value
from egov.publication.report.charts import Chart, charts
from egov.publication.report.data import Figure, ReportData
from egov.publication.report.layout import sections, trace_command
from egov.publication.report.text import Language
from egov.publication.trace import FigureTrace

BOLD = Font(bold=True)
HEADING = Font(bold=True, size=14)
WARNING = Font(bold=True, color="B00020")
LINK = Font(color="1F4E79", underline="single")
CODE = Font(name="Courier New")
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
WRAP = Alignment(wrap_text=True, vertical="top")


def render_xlsx(data: ReportData, t: Language) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook["Sheet"])  # the sheet a new workbook opens with: ours follow, figures first
    figures_sheet = workbook.create_sheet(t("sheet_figures"))
    charts_sheet = workbook.create_sheet(t("sheet_charts"))
    trace_sheet = workbook.create_sheet(t("sheet_trace"))
    # The trace sheet first, so that each figure's link knows the row its trace starts on.
    trace_rows = _trace_sheet(trace_sheet, data, t)
    _figures_sheet(figures_sheet, data, t, {figure_id: f"'{trace_sheet.title}'!A{row}"
                                            for figure_id, row in trace_rows.items()})
    _charts_sheet(charts_sheet, data, t)
    return _workbook_bytes(workbook, data.release.published_at)


def _header_row(sheet: Worksheet, row: int, titles: Sequence[str]) -> None:
    for column, title in enumerate(titles, start=1):
        cell = sheet.cell(row, column, title)
        cell.font, cell.fill = BOLD, HEADER_FILL


def _number(sheet: Worksheet, row: int, column: int, value: Decimal | int | None, unit: str | None) -> Cell:
    cell = sheet.cell(row, column, _cell_number(value))
    cell.number_format = _number_format(value, unit)
    return cell


def _cell_number(value: Decimal | int | None) -> int | float | None:
    if value is None:
        return None
    return cast("int | float", json_value(Decimal(value)))


def _number_format(value: Decimal | int | None, unit: str | None) -> str:
    """Excel number formats are locale-neutral: the reader's Excel shows 38.751 or 38,751 by its locale."""
    if unit == "share":
        return "0.0%"
    if value is None or Decimal(value) == Decimal(value).to_integral_value():
        return "#,##0"
    return "#,##0.0#####"


# ---------------------------------------------------------------- the trace sheet


def _trace_sheet(sheet: Worksheet, data: ReportData, t: Language) -> dict[str, int]:
    """Each figure's chain and batches; the row each figure's trace starts on."""
    starts: dict[str, int] = {}
    sheet.cell(1, 1, t("appendix")).font = HEADING
    sheet.cell(2, 1, t("appendix_intro")).alignment = Alignment(wrap_text=False)
    row = 4
    for figure in data.figures:
        starts[figure.figure_id] = row
        row = _figure_trace(sheet, row, figure, data, t) + 1
    for column, width in zip("ABCDEFGHI", (38, 40, 16, 34, 40, 30, 16, 44, 12), strict=True):
        sheet.column_dimensions[column].width = width
    return starts


def _figure_trace(sheet: Worksheet, row: int, figure: Figure, data: ReportData, t: Language) -> int:
    """One figure's entry from ``row`` on; the row after it."""
    trace = data.traces.get(figure.figure_id)
    sheet.cell(row, 1, figure.figure_id).font = BOLD
    sheet.cell(row, 2, t.name(figure)).font = BOLD
    _number(sheet, row, 3, figure.value, figure.unit).font = BOLD
    sheet.cell(row, 4, t.reconciled(trace.reconciled) if trace else t("trace_missing"))
    sheet.cell(row + 1, 1, t("reproduce"))
    sheet.cell(row + 1, 2, trace_command(data, figure.figure_id)).font = CODE
    row += 2
    if trace:
        row = _levels_table(sheet, row, trace, figure, t)
        row = _batches_table(sheet, row, trace, t)
    return row


def _levels_table(sheet: Worksheet, header: int, trace: FigureTrace, figure: Figure, t: Language) -> int:
    _header_row(sheet, header, [t("col_level"), t("col_level_value"), t("col_rows"), t("col_reconciled"),
                                t("col_detail")])
    for row, level in enumerate(trace.levels, start=header + 1):
        sheet.cell(row, 1, t.level(level.level))
        _number(sheet, row, 2, level.value, figure.unit)
        sheet.cell(row, 3, level.rows)
        sheet.cell(row, 4, t.mark(level.reconciled))
        sheet.cell(row, 5, level.detail)
    return header + len(trace.levels) + 1


def _batches_table(sheet: Worksheet, header: int, trace: FigureTrace, t: Language) -> int:
    _header_row(sheet, header, [t("col_batch"), t("col_source"), t("col_raw_table"), t("col_window"),
                                t("col_loaded_at"), t("col_checksum"), t("col_checksum_verified"), t("col_run"),
                                t("col_rows_used")])
    for row, batch in enumerate(trace.batches, start=header + 1):
        values: list[str | int] = [
            batch.batch_id, batch.source_system, batch.raw_table, t.window(batch), t.moment(batch.loaded_at),
            batch.checksum, t.mark(batch.checksum_verified), batch.run_id or t("outside_airflow"), batch.rows_used]
        for column, value in enumerate(values, start=1):
            sheet.cell(row, column, value)
    return header + len(trace.batches) + 1


# ---------------------------------------------------------------- the figures sheet


def _figures_sheet(sheet: Worksheet, data: ReportData, t: Language, trace_links: dict[str, str]) -> None:
    """The release's colophon, then one row per figure with a real number, linked to its trace."""
    row = _colophon(sheet, data, t)
    _header_row(sheet, row, [t("col_section"), t("col_no"), t("col_figure_id"), t("col_indicator"),
                             t("col_wording"), t("col_value"), t("col_unit"), t("col_trace")])
    sheet.freeze_panes = sheet.cell(row + 1, 1).coordinate
    row += 1
    for section in sections(data):
        sheet.cell(row, 1, t.section(section.key)).font = BOLD
        row += 1
        for index, figure in enumerate(section.figures, start=1):
            sheet.cell(row, 1, section.key)
            sheet.cell(row, 2, index)
            _figure_row(sheet, row, figure, data.traces.get(figure.figure_id), t, trace_links[figure.figure_id])
            row += 1
    if t.lang == "vi":
        sheet.cell(row + 1, 1, t("wording_note"))
    for column, width in zip("ABCDEFGH", (10, 5, 40, 42, 60, 14, 18, 18), strict=True):
        sheet.column_dimensions[column].width = width


def _colophon(sheet: Worksheet, data: ReportData, t: Language) -> int:
    """The title and the release; the row the figures' header goes on."""
    release = data.release
    sheet.cell(1, 1, t("title", period=t.period(data.period))).font = HEADING
    sheet.cell(2, 1, f"{t('parent_authority', province_upper=data.province_name.upper())} — {t('authority')}")
    colophon: list[tuple[str, str | int]] = [
        (t("period"), data.period), (t("version"), release.version), (t("release_id"), release.release_id),
        (t("content_hash"), release.content_hash), (t("published_at"), t.moment(release.published_at)),
        (t("validation_id"), release.validation_id)]
    if release.version > 1:
        colophon.append((t("reason"), release.reason or ""))
    for row, (label, value) in enumerate(colophon, start=4):
        sheet.cell(row, 1, label).font = BOLD
        sheet.cell(row, 2, value)
    sheet.cell(4 + len(colophon), 1, t("source_note"))
    return 4 + len(colophon) + 2


def _figure_row(sheet: Worksheet, row: int, figure: Figure, trace: FigureTrace | None, t: Language,
                trace_link: str) -> None:
    sheet.cell(row, 3, figure.figure_id)
    sheet.cell(row, 4, t.name(figure)).alignment = WRAP
    sheet.cell(row, 5, t.wording(figure)).alignment = WRAP
    _number(sheet, row, 6, figure.value, figure.unit)
    sheet.cell(row, 7, t.unit(figure))
    link = sheet.cell(row, 8, t.reconciled(trace.reconciled) if trace else t("trace_missing"))
    link.hyperlink = Hyperlink(ref=link.coordinate, location=trace_link)
    link.font = LINK


# ---------------------------------------------------------------- the charts sheet


def _charts_sheet(sheet: Worksheet, data: ReportData, t: Language) -> None:
    """Each chart's data as a table, an openpyxl bar chart beside it, and its check."""
    sheet.cell(1, 1, f"{t('charts_read_at')} {t.moment(data.charts_read_at)}")
    row = 3
    for chart in charts(data, t):
        row = _chart_block(sheet, row, chart, t)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 14


def _chart_block(sheet: Worksheet, top: int, chart: Chart, t: Language) -> int:
    """One chart from row ``top`` on; the row the next one starts on."""
    sheet.cell(top, 1, chart.title).font = BOLD
    check = sheet.cell(top + 1, 1, t.check(chart.check))
    check.font = BOLD if chart.check.matches else WARNING
    header = top + 2
    _header_row(sheet, header, [t("month") if chart.unit == "dossier" else t("district"), chart.value_heading])
    first, last = header + 1, header + len(chart.rows)  # last: the header's row when the chart has no rows
    for row, chart_row in enumerate(chart.rows, start=first):
        sheet.cell(row, 1, chart_row.label)
        _number(sheet, row, 2, chart_row.value, chart.unit)
    if chart.reference:
        sheet.cell(last + 1, 1, chart.reference.label).font = BOLD
        _number(sheet, last + 1, 2, chart.reference.value, chart.unit).font = BOLD
    if chart.rows:
        sheet.add_chart(_bar_chart(sheet, chart, first, last), f"D{first - 2}")
    sheet.cell(last + 2, 1, chart.source)
    return max(last + 4, first + 18 + int(len(chart.rows) * 0.8))


def _bar_chart(sheet: Worksheet, chart: Chart, first: int, last: int) -> BarChart:
    bars = BarChart()
    bars.type = "col" if chart.unit == "dossier" else "bar"
    bars.title = chart.title if chart.check.matches else f"{chart.title} (!)"
    bars.legend = None
    bars.y_axis.numFmt = "0%" if chart.unit == "share" else "#,##0"
    bars.add_data(Reference(sheet, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    bars.width, bars.height = 18, 7 + 0.4 * len(chart.rows)
    return bars


# ---------------------------------------------------------------- the file


def _workbook_bytes(workbook: Workbook, published_at: datetime) -> bytes:
    # The same release renders to the same bytes: the workbook's dates and the archive's entry times are the
    # release's publication time, not the moment of rendering.
    published = published_at.astimezone(UTC).replace(tzinfo=None)
    workbook.properties.created = workbook.properties.modified = published
    buffer = io.BytesIO()
    # ExcelWriter rather than workbook.save, which stamps the workbook with the time of saving.
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _with_entry_times(buffer.getvalue(), published)


def _with_entry_times(archive: bytes, moment: datetime) -> bytes:
    """``archive`` (a zip) with every entry's time set to ``moment``."""
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, \
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            fixed.compress_type, fixed.external_attr = entry.compress_type, entry.external_attr
            target.writestr(fixed, source.read(entry))
    return rewritten.getvalue()
