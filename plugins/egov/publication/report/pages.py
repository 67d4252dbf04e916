"""The report as an HTML page or a Markdown file, from the Jinja templates in ``egov/templates``."""

from __future__ import annotations

import jinja2

from egov.publication.report.charts import charts, svg_bar_chart
from egov.publication.report.data import ReportData
from egov.publication.report.layout import charts_section, sections, trace_command
from egov.publication.report.text import Language


def _template_context(data: ReportData, t: Language) -> dict:
    return {"data": data, "t": t, "release": data.release, "sections": sections(data),
            "charts_section": charts_section(data), "charts": charts(data, t), "trace_command": trace_command}


def render_html(data: ReportData, t: Language) -> bytes:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("egov", "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.globals["svg_bar_chart"] = svg_bar_chart
    return environment.get_template("report.html.j2").render(**_template_context(data, t)).encode()


def markdown_escape(value: object) -> str:
    """What a table cell or a line of Markdown may hold: no HTML, no cell breaks, no line breaks."""
    text = str(value)
    # Underscores stay: they make no emphasis inside words, and figure ids are also HTML anchors.
    for raw, safe in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"),
                      ("*", "\\*"), ("`", "\\`"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(raw, safe)
    return " ".join(text.split())


def render_markdown(data: ReportData, t: Language) -> bytes:
    # Markdown's own escaping is applied to every expression's output, as autoescape does for HTML;
    # the template's literal text carries the Markdown syntax.
    environment = jinja2.Environment(loader=jinja2.PackageLoader("egov", "templates"), autoescape=False,
                                     finalize=markdown_escape, undefined=jinja2.StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return environment.get_template("report.md.j2").render(**_template_context(data, t)).encode()
