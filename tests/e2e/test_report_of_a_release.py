"""`egov report` against a real release: the loader's queries, the traces and the charts' checks."""

from __future__ import annotations

import io

import openpyxl
import pytest

from egov.core import db
from egov.core.periods import parse_period
from egov.orchestration.runner import run_dag
from egov.publication.report import FORMATS, LANGUAGES, format_value, load_report, render

pytestmark = pytest.mark.e2e

Q1 = parse_period("2019Q1")


@pytest.fixture(scope="module")
def report_data(loaded_q1):
    from egov.transform.figures import content_hash, period_figures

    with db.connect(db.admin_target()) as conn:
        latest = conn.execute("select content_hash from published.releases where period = %s "
                              "order by version desc limit 1", (Q1.label,)).fetchone()
        current = content_hash(period_figures(conn, Q1))
    if latest is None or latest[0] != current:
        # The reason only matters if an earlier test changed the sources.
        publish = run_dag("egov_publish_quarterly", "2019-04-01", {"period": Q1.label, "reason": "test run"})
        assert publish.succeeded, publish.summary()
    with db.connect(db.admin_target()) as conn:
        return load_report(conn, Q1)


def test_the_report_command_writes_a_page_whose_figures_equal_the_release(report_data, tmp_path):
    import re
    import subprocess
    import sys

    page = tmp_path / "report.html"
    out = subprocess.run([sys.executable, "-m", "egov.cli", "report", Q1.label, "--lang", "vi", "--format", "html",
                          "--output", str(page)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(page)
    shown = dict(re.findall(r'data-figure-id="([a-z0-9_]+)">([^<]+)</a>', page.read_text(encoding="utf-8")))
    with db.connect(db.admin_target()) as conn:
        released = conn.execute("select f.figure_id, f.value, f.unit from published.current_figures f "
                                "where f.period = %s", (Q1.label,)).fetchall()
    assert {figure_id: shown.get(figure_id) for figure_id, _, _ in released} == {
        figure_id: format_value(value, unit, "vi") for figure_id, value, unit in released}
    assert shown["onestop_dossiers_received"] == "38.751"


def test_the_report_carries_the_latest_release_and_exactly_its_figures(report_data):
    with db.connect(db.admin_target()) as conn:
        release_id, version = conn.execute(
            "select release_id, version from published.releases where period = %s order by version desc limit 1",
            (Q1.label,)).fetchone()
        released = dict(conn.execute("select figure_id, value from published.current_figures where period = %s",
                                     (Q1.label,)).fetchall())
    assert (report_data.release.release_id, report_data.release.version) == (str(release_id), version)
    assert {f.figure_id: f.value for f in report_data.figures} == released
    assert [f.display_order for f in report_data.figures] == sorted(f.display_order for f in report_data.figures)
    assert all(f.report_section and f.quote_vi and f.name_vi and f.definition for f in report_data.figures)
    assert report_data.province_name == "Trà Vinh"


def test_the_charts_add_up_to_the_release_of_an_unchanged_warehouse(report_data):
    assert [m.month.month for m in report_data.dossiers_per_month] == [1, 2, 3]
    assert report_data.months_check.matches, report_data.months_check
    assert report_data.districts_check.matches, report_data.districts_check
    assert len(report_data.online_share_by_district) == 9  # the province's districts of 2019
    province = report_data.online_share_province
    assert province.received >= sum(d.received for d in report_data.online_share_by_district)


def test_every_figure_has_its_trace_of_this_release_and_renders_everywhere(report_data):
    assert set(report_data.traces) == {f.figure_id for f in report_data.figures}
    assert all(t.release.release_id == report_data.release.release_id for t in report_data.traces.values())
    for lang in LANGUAGES:
        for fmt in FORMATS:
            assert render(report_data, lang, fmt)
    page = render(report_data, "vi", "html").decode()
    received = report_data.figure("onestop_dossiers_received")
    assert f'href="#trace-onestop_dossiers_received" data-figure-id="onestop_dossiers_received">' \
           f'{format_value(received.value, received.unit, "vi")}</a>' in page
    sheet = openpyxl.load_workbook(io.BytesIO(render(report_data, "en", "xlsx"))).worksheets[0]
    values = {row[2].value: row[5].value for row in sheet.iter_rows(min_col=1, max_col=8)}
    assert values["onestop_dossiers_received"] == received.value
