"""The figures section of the department's quarterly report, rendered from a published release.

``load_report`` reads, in one snapshot of the warehouse, the period's latest release (the figures
themselves come only from it), the report's layout (``marts.report_figure_catalogue``), the
indicator definitions (``marts.dim_indicator``), the data of the two charts and every figure's trace
(``egov.publication.trace``). ``render`` turns that plain ``ReportData`` into HTML (inline SVG charts, no script,
nothing fetched), XLSX (numeric cells, openpyxl charts, a trace sheet) or Markdown, in Vietnamese or
English, without touching the database.

The charts are drawn from the warehouse as it is now, not from the release: each chart is checked
against the released figures it must add up to, and says so on the chart when the warehouse has
changed since the release.

    data      ReportData and load_report: what the report shows, read in one snapshot
    text      the words of each language (catalogues in egov/data/report_<lang>.json), numbers and dates
    layout    the figures by section, where the charts go
    charts    the two charts, and their SVG
    pages     HTML and Markdown, from the Jinja templates in egov/templates
    workbook  XLSX, one function per sheet
"""

from egov.publication.report.data import ReportData, ReportError, load_report
from egov.publication.report.pages import render_html, render_markdown
from egov.publication.report.text import LANGUAGES, Language, format_value

FORMATS = ("html", "xlsx", "md")

__all__ = ["FORMATS", "LANGUAGES", "ReportData", "ReportError", "format_value", "load_report", "render"]


def render(data: ReportData, lang: str, fmt: str) -> bytes:
    """The report as the bytes of an HTML page, an XLSX workbook or a Markdown file."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "xlsx":
        # openpyxl (and numpy behind it) is a sixth of a second to import: only the workbook pays for it, not
        # every command of the CLI that imports this package for its formats and languages.
        from egov.publication.report.workbook import render_xlsx

        return render_xlsx(data, Language(lang))
    return (render_html if fmt == "html" else render_markdown)(data, Language(lang))
