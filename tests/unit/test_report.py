"""`egov report`: the renderers on a hand-built ReportData (no database), and the command's errors."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import replace
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from report_data import UNRECONCILED, sample_report, with_changed_warehouse

from egov import cli
from egov.core import config, db
from egov.publication import report
from egov.publication.report import ReportError, format_value, render
from egov.publication.report.data import check_traces


class PageParser(HTMLParser):
    """The ids of a page, the text of its figure values and its charts, and whatever it would fetch."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.figure_links: dict[str, tuple[str, str]] = {}  # figure_id -> (href, text shown)
        self.svg_count = 0
        self.chart_values: list[str] = []
        self.fetches: list[str] = []
        self._open: tuple[str, str] | None = None  # what the text being read belongs to

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag in ("script", "link", "img", "iframe", "object", "embed") or "src" in attributes:
            self.fetches.append(tag)
        if tag == "svg":
            self.svg_count += 1
        classes = (attributes.get("class") or "").split()
        if tag == "a" and "figure-value" in classes:
            self._open = ("figure", attributes["data-figure-id"])
            self.figure_links[attributes["data-figure-id"]] = (attributes["href"], "")
        elif tag == "text" and "chart-value" in classes:
            self._open = ("chart", "")
            self.chart_values.append("")

    def handle_data(self, data):
        if self._open and self._open[0] == "figure":
            href, text = self.figure_links[self._open[1]]
            self.figure_links[self._open[1]] = (href, text + data)
        elif self._open:
            self.chart_values[-1] += data

    def handle_endtag(self, tag):
        if tag in ("a", "text"):
            self._open = None


def parse(page: bytes) -> PageParser:
    parser = PageParser()
    parser.feed(page.decode())
    return parser


@pytest.fixture(scope="module")
def data():
    return sample_report()


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "unit", "lang", "shown"),
    [
        (38751, "dossier", "vi", "38.751"),
        (38751, "dossier", "en", "38,751"),
        (Decimal("38751.000000"), "dossier", "vi", "38.751"),
        (Decimal("0.937"), "share", "vi", "93,7 %"),
        (Decimal("0.937"), "share", "en", "93.7%"),
        (Decimal("0.937354"), "share", "vi", "93,7 %"),
        (Decimal("0.93750"), "share", "en", "93.8%"),
        (Decimal("1234567.5"), None, "vi", "1.234.567,5"),
        (Decimal("1234567.5"), None, "en", "1,234,567.5"),
        (7, "question", "vi", "7"),
        (None, "dossier", "vi", "–"),
    ],
)
def test_numbers_are_written_the_way_each_language_writes_them(value, unit, lang, shown):
    assert format_value(value, unit, lang) == shown


# ---------------------------------------------------------------- HTML


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_figure_is_shown_with_its_released_value_and_linked_to_its_trace(data, lang):
    page = parse(render(data, lang, "html"))
    assert set(page.figure_links) == {f.figure_id for f in data.figures}
    for figure in data.figures:
        href, shown = page.figure_links[figure.figure_id]
        assert shown == format_value(figure.value, figure.unit, lang)
        assert href == f"#trace-{figure.figure_id}"
        assert f"trace-{figure.figure_id}" in page.ids, "the link must land on the figure's trace"
        assert f"figure-{figure.figure_id}" in page.ids


def test_the_vietnamese_page_prints_the_seed_reports_numbers_in_its_style(data):
    links = parse(render(data, "vi", "html")).figure_links
    assert links["onestop_dossiers_received"][1] == "38.751"
    assert links["docmgmt_electronic_share"][1] == "93,7 %"
    assert links["docmgmt_users"][1] == "7.848"
    english = parse(render(data, "en", "html")).figure_links
    assert (english["onestop_dossiers_received"][1], english["docmgmt_electronic_share"][1]) == ("38,751", "93.7%")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_groups_figures_by_section_under_headings_in_its_language(data, lang):
    page = render(data, lang, "html").decode()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    expected = {"vi": ["2.1. Về Thông tin - Báo chí - Xuất bản", "2.2. Về Bưu chính - Viễn thông, Công nghệ thông tin",
                       "2.3. Về công tác thanh tra, kiểm tra, giải quyết khiếu nại, tố cáo",
                       "2.5. Hoạt động của Cổng thông tin điện tử tỉnh", "Phụ lục: truy vết số liệu"],
                "en": ["2.1. Information, press and publishing",
                       "2.2. Post, telecommunications and information technology",
                       "2.3. Inspections, complaints and denunciations", "2.5. The provincial web portal",
                       "Appendix: figure traces"]}
    assert headings == expected[lang]
    # The figures keep the report's order within their sections.
    shown = list(parse(render(data, lang, "html")).figure_links)
    assert shown == [f.figure_id for f in data.figures]
    wording = "Quý 1/2019 hệ thống đã tiếp nhận 38.751 hồ sơ" if lang == "vi" else \
        "Dossiers received in the quarter, all units, all channels"
    assert wording in page


def test_the_page_is_self_contained_with_both_charts_drawn_inline(data):
    raw = render(data, "vi", "html")
    page = parse(raw)
    assert page.fetches == [], "no script, stylesheet, image or frame to fetch"
    assert not re.search(rb"https?://|url\(|@import", raw), "nothing on the network"
    assert page.svg_count == 2
    assert {"chart-dossiers_per_month", "chart-online_share_by_district"} <= page.ids
    assert page.chart_values[:3] == ["14.381", "9.886", "14.484"]
    assert "6,3 % (27/426)" in page.chart_values  # Thành phố Trà Vinh
    assert "Toàn tỉnh: 9,3 % (618/6.634)" in page.chart_values


def test_a_chart_that_matches_the_release_says_so_and_raises_no_alarm(data):
    page = render(data, "vi", "html").decode()
    assert 'role="alert"' not in page
    assert "Đã đối chiếu với bản phát hành: khớp (onestop_dossiers_received = 38.751)" in page


@pytest.mark.parametrize(("lang", "notice"), [
    ("vi", "kho dữ liệu đã thay đổi kể từ khi công bố. Biểu đồ cộng lại được 38.700, bản phát hành ghi 38.751"),
    ("en", "the warehouse has changed since the release. The chart adds up to 38,700, the release says 38,751"),
])
def test_the_month_chart_says_when_the_warehouse_changed_since_the_release(data, lang, notice):
    changed = with_changed_warehouse(data)
    assert not changed.months_check.matches
    html = render(changed, lang, "html").decode()
    alerts = re.findall(r'<p class="notice" role="alert">(.*?)</p>', html, re.S)
    assert len(alerts) == 1 and notice in alerts[0]
    # Placed inside the month chart's frame, before its drawing.
    chart = html[html.index('id="chart-dossiers_per_month"'):]
    assert chart.index('role="alert"') < chart.index("<svg")
    assert notice in render(changed, lang, "md").decode()
    sheet = openpyxl.load_workbook(io.BytesIO(render(changed, lang, "xlsx"))).worksheets[1]
    assert any(notice in str(cell.value) for row in sheet.iter_rows() for cell in row)


def test_the_district_chart_is_checked_against_the_released_online_dossiers(data):
    province = replace(data.online_share_province, online=600)
    html = render(replace(data, online_share_province=province), "en", "html").decode()
    assert "The chart adds up to 600, the release says 618 (level3_dossiers_online + level4_dossiers_online)" in html


def test_a_chart_whose_figure_is_not_released_says_it_cannot_be_checked(data):
    without = replace(data, figures=tuple(f for f in data.figures if f.figure_id != "onestop_dossiers_received"))
    html = render(without, "en", "html").decode()
    assert "the release has no onestop_dossiers_received figure, so the chart cannot be checked" in html


def test_the_colophon_names_the_release_and_a_later_version_its_reason(data):
    first = render(data, "vi", "html").decode()
    for shown in (data.release.release_id, data.release.content_hash, "09:30:00 ngày 08/04/2019 (giờ Việt Nam)",
                  "2019Q1 (quý I/2019, 01/01/2019 – 31/03/2019)"):
        assert shown in first
    assert 'id="release-reason"' not in first
    second = render(replace(data, release=replace(data.release, version=2, reason="nguồn sửa ngày 15/03")),
                    "vi", "html").decode()
    assert re.search(r'id="release-version">2<', second)
    assert re.search(r'id="release-reason">nguồn sửa ngày 15/03<', second)


def test_the_trace_appendix_shows_each_chain_its_batches_and_the_command(data):
    page = render(data, "en", "html").decode()
    entry = page[page.index('id="trace-onestop_dossiers_received"'):]
    entry = entry[:entry.index("</section>")]
    assert "egov trace 2019Q1 onestop_dossiers_received" in entry
    for shown in ("Release", "Period rollup", "Daily facts", "Raw rows", "raw.onestop__dossier_counts",
                  "2019-01-01 .. 2019-04-01", "ab12cd34ef56", "manual__2026-11-30T05:49:00+00:00", "✓ reconciled"):
        assert shown in entry
    broken = page[page.index(f'id="trace-{UNRECONCILED}"'):]
    assert "✗ not reconciled" in broken[:broken.index("</section>")]


def test_text_from_the_catalogue_is_escaped(data):
    figure = replace(data.figures[0], quote_vi="<script>alert(1)</script> | a & b")
    hostile = replace(data, figures=(figure, *data.figures[1:]))
    html = render(hostile, "vi", "html").decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; | a &amp; b" in html
    markdown = render(hostile, "vi", "md").decode()
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt; \\| a &amp; b" in markdown


# ---------------------------------------------------------------- Markdown


def test_markdown_links_every_value_to_its_trace_anchor_and_tabulates_the_charts(data):
    markdown = render(data, "vi", "md").decode()
    for figure in data.figures:
        value = format_value(figure.value, figure.unit, "vi")
        assert f"| [{value}](#trace-{figure.figure_id}) |" in markdown
        assert f'<a id="trace-{figure.figure_id}"></a>' in markdown
        assert f"`egov trace 2019Q1 {figure.figure_id}`" in markdown
    assert "| Tháng 01/2019 | 14.381 |\n| Tháng 02/2019 | 9.886 |\n| Tháng 03/2019 | 14.484 |" in markdown
    assert "| Huyện Cầu Ngang | 2,9 % (9/315) |" in markdown
    assert "## 2.2. Về Bưu chính - Viễn thông, Công nghệ thông tin" in markdown
    for line in markdown.splitlines():
        if line.startswith("| ") and "](#trace-" in line:
            assert line.count(" | ") == 5, f"a figure row must keep its six cells: {line}"


# ---------------------------------------------------------------- XLSX


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_workbook_has_numeric_cells_equal_to_the_figures_linked_to_the_trace_sheet(data, lang):
    workbook = openpyxl.load_workbook(io.BytesIO(render(data, lang, "xlsx")))
    figures_sheet, charts_sheet, trace_sheet = workbook.worksheets
    released = {f.figure_id: f for f in data.figures}
    rows = {row[2].value: row for row in figures_sheet.iter_rows(min_col=1, max_col=8) if row[2].value in released}
    assert set(rows) == set(released)
    for figure_id, row in rows.items():
        figure, value, link = released[figure_id], row[5], row[7]
        assert value.data_type == "n" and Decimal(str(value.value)) == figure.value
        assert value.number_format == ("0.0%" if figure.unit == "share" else "#,##0")
        sheet_name, cell = link.hyperlink.location.rsplit("!", 1)
        assert sheet_name.strip("'") == trace_sheet.title
        assert trace_sheet[cell].value == figure_id, "the link must land on the figure's trace"
    assert len(charts_sheet._charts) == 2
    months = [charts_sheet.cell(row, 2).value for row in range(1, 40)
              if str(charts_sheet.cell(row, 1).value).startswith(("Tháng 0", "Jan ", "Feb ", "Mar "))]
    assert months == [14381, 9886, 14484]
    shares = {charts_sheet.cell(row, 1).value: charts_sheet.cell(row, 2) for row in range(1, 80)}
    assert shares["Huyện Cầu Ngang"].number_format == "0.0%"
    assert abs(shares["Huyện Cầu Ngang"].value - 9 / 315) < 1e-12
    commands = [c.value for row in trace_sheet.iter_rows() for c in row if str(c.value).startswith("egov trace")]
    assert len(commands) == len(data.figures)


# ---------------------------------------------------------------- inputs and the command


def test_a_figure_without_its_trace_or_a_trace_of_another_release_is_refused(data):
    check_traces(data.release, data.figures, data.traces)
    missing = {k: v for k, v in data.traces.items() if k != "docmgmt_users"}
    with pytest.raises(ReportError, match="no trace for 1 figures of 2019Q1: docmgmt_users"):
        check_traces(data.release, data.figures, missing)
    users = data.traces["docmgmt_users"]
    stale = dict(data.traces, docmgmt_users=replace(users, release=replace(users.release, release_id="old")))
    with pytest.raises(ReportError, match="follow release old"):
        check_traces(data.release, data.figures, stale)


def test_unknown_languages_and_formats_are_refused(data, capsys):
    with pytest.raises(ValueError, match="language"):
        render(data, "fr", "html")
    with pytest.raises(ValueError, match="format"):
        render(data, "vi", "pdf")
    for argv in (["report", "2019Q1", "--lang", "fr"], ["report", "2019Q1", "--format", "pdf"]):
        with pytest.raises(SystemExit) as exited:
            cli.build_parser().parse_args(argv)
        assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_period_with_nothing_published_is_one_line_and_exit_2(capsys):
    assert cli.main(["report", "1999Q1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("egov: nothing published for 1999Q1")
    assert cli.main(["report", "2019Q5"]) == 2
    assert "2019Q1" in capsys.readouterr().err


@pytest.mark.parametrize(("fmt", "magic"), [("html", b"<!DOCTYPE html>"), ("md", b"**UBND"), ("xlsx", b"PK")])
def test_the_command_writes_the_report_under_the_state_folder_and_prints_the_path(
        data, monkeypatch, tmp_path, capsys, fmt, magic):
    monkeypatch.setattr(db, "job_target", lambda key: key)
    monkeypatch.setattr(db, "connect", lambda target: contextlib.nullcontext(None))
    monkeypatch.setattr(report, "load_report", lambda conn, period: data)
    monkeypatch.setattr(config, "state_dir", lambda: tmp_path)
    assert cli.main(["report", "2019Q1", "--lang", "vi", "--format", fmt]) == 0
    written = tmp_path / "reports" / f"2019Q1_vi.{fmt}"
    assert capsys.readouterr().out.strip() == str(written)
    assert written.read_bytes().startswith(magic)
    elsewhere = tmp_path / "out" / f"r.{fmt}"
    assert cli.main(["report", "2019Q1", "--format", fmt, "--output", str(elsewhere)]) == 0
    assert elsewhere.read_bytes() == written.read_bytes()
