"""The star schema over a whole year: rollup semantics, consistency tests that can fail, boundaries, access.

All of 2019 is loaded from the six systems, then `dbt build` runs the models with their contracts,
unit tests and the consistency tests. Expected values are read from the systems themselves
(``source_readers``), never from the models.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from egov_demo.admin_unit_seed import JANUARY_2025_ABSORBED_BY, read_reference_files
from loading import extract
from source_readers import all_figures

from egov.core import db
from egov.core.periods import parse_period
from egov.core.sources import SOURCES
from egov.transform import dbt

pytestmark = pytest.mark.e2e

YEAR = parse_period("2019")
CONSISTENCY_TESTS = (
    "assert_flows_of_the_quarters_add_up_to_the_year",
    "assert_year_end_stock_equals_q4_end_stock",
    "assert_ratios_equal_their_recomputed_parts",
    "assert_mail_accounts_reconcile",
    "assert_as_was_and_as_is_agree_over_the_province",
    "assert_today_s_communes_add_up_their_predecessors",
    "assert_every_unit_version_leads_to_a_unit_of_today",
)


def figures(period: str) -> dict[str, Decimal]:
    with db.connect(db.admin_target()) as conn:
        return dict(conn.execute("select figure_id, figure_value from reporting.rpt_report_figures "
                                 "where period = %s", (period,)).fetchall())


def one(sql: str, params=()):
    with db.connect(db.admin_target()) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def built_2019(loaded_q1):
    """All of 2019 from every system (the loader called directly, as the DAG tasks call it), then dbt build."""
    for key, source in SOURCES.items():
        extract(key, (source.full_load_start(YEAR.start), YEAR.end))
    result = dbt.build(db.job_target("dbt"))
    return loaded_q1, result


def test_dbt_build_passes_with_every_consistency_test_run(built_2019):
    _, result = built_2019
    ran = {name: status for name, status in result.nodes.items() if name.split(".")[-1] in CONSISTENCY_TESTS}
    assert len(ran) == len(CONSISTENCY_TESTS), ran
    assert set(ran.values()) == {"pass"}, ran
    assert any(name.startswith("unit_test.") for name in result.nodes), "the unit tests ran too"


def test_the_year_and_a_quarter_equal_what_the_systems_say(built_2019):
    sources, _ = built_2019
    for label in ("2019", "2019Q3"):
        period = parse_period(label)
        expected = all_figures(sources, period.start, period.last_day)
        actual = figures(label)
        assert set(actual) == set(expected), label
        for figure_id, value in expected.items():
            assert actual[figure_id] == round(Decimal(value), 6), (label, figure_id)


def test_stocks_are_not_summed_and_flows_are(built_2019):
    users = {label: figures(label)["docmgmt_users"] for label in ("2019Q1", "2019Q2", "2019Q3", "2019Q4", "2019")}
    received = {label: figures(label)["onestop_dossiers_received"]
                for label in ("2019Q1", "2019Q2", "2019Q3", "2019Q4", "2019")}
    assert users["2019"] == users["2019Q4"] != sum(users[q] for q in ("2019Q1", "2019Q2", "2019Q3", "2019Q4"))
    assert received["2019"] == sum(received[q] for q in ("2019Q1", "2019Q2", "2019Q3", "2019Q4"))


@pytest.mark.parametrize(("corruption", "test_name"), [  # the first table the corruption names is rebuilt after
    ("update reporting.rpt_indicator_period set indicator_value = indicator_value + 1 "
     "where period_label = '2019Q2' and indicator_code = 'mail_accounts_created'",
     "assert_flows_of_the_quarters_add_up_to_the_year"),
    ("update reporting.rpt_indicator_period set indicator_value = indicator_value + 1 "
     "where period_label = '2019' and indicator_code = 'docmgmt_users'",
     "assert_year_end_stock_equals_q4_end_stock"),
    ("update reporting.rpt_indicator_period set indicator_value = 0.5 "
     "where period_label = '2019Q3' and indicator_code = 'onestop_on_time_rate'",
     "assert_ratios_equal_their_recomputed_parts"),
    ("update marts.fct_mail_accounts_daily set accounts_total = accounts_total + 1 "
     "where date_day = '2019-06-30' and agency_code = (select min(agency_code) from marts.fct_mail_accounts_daily)",
     "assert_mail_accounts_reconcile"),
    ("update reporting.rpt_indicator_admin_unit_period set indicator_value = indicator_value - 1 "
     "where boundary = 'as_is' and admin_level = 'province' and period_label = '2019' "
     "and indicator_code = 'onestop_dossiers_received'",
     "assert_as_was_and_as_is_agree_over_the_province"),
    ("update reporting.rpt_indicator_admin_unit_period set indicator_value = indicator_value + 1 "
     "where boundary = 'as_is' and admin_level = 'commune' and period_label = '2019Q2' "
     "and admin_unit_code = '29242' and indicator_code = 'onestop_dossiers_received'",
     "assert_today_s_communes_add_up_their_predecessors"),
    ("update marts.dim_admin_unit set current_unit_code = '842' where admin_unit_key = '29239@2018-01-01'",
     "assert_every_unit_version_leads_to_a_unit_of_today"),
])
def test_each_consistency_test_fails_on_a_wrong_rollup(built_2019, corruption, test_name):
    with db.connect(db.admin_target()) as conn:
        conn.execute(corruption)
    try:
        with pytest.raises(dbt.DbtError) as failed:
            dbt.run_dbt(["test", "--select", test_name], db.job_target("dbt"))
    finally:
        corrupted = corruption.split()[1].split(".")[1]
        # Replacing a table drops the views on it (PostgreSQL's cascade): the lineage views are re-created too.
        dbt.run_dbt(["run", "--full-refresh", "--select", corrupted, "lineage"], db.job_target("dbt"))
    assert failed.value.data_failure and "FAIL" in str(failed.value) and test_name in str(failed.value)


def _predecessors_of_today_s_communes() -> dict[str, tuple[str, set[str]]]:
    """Each commune of today (code -> name and the 2019 communes it holds), read from the reference files."""
    files = read_reference_files()
    absorbed_by = {**JANUARY_2025_ABSORBED_BY,
                   **{move.old_code: move.old_code for move in files.communes_2025_07}}
    new_code = {move.old_code: move.new_code for move in files.communes_2025_07}
    names = {move.new_code: move.new_name for move in files.communes_2025_07}
    held: dict[str, set[str]] = {code: set() for code in names}
    for unit in files.units_2019:
        if unit.level == "commune":
            held[new_code[absorbed_by[unit.code]]].add(unit.code)
    return {code: (names[code], communes) for code, communes in held.items()}


def test_as_is_rolls_2019_up_to_today_s_units(built_2019):
    def values(boundary: str, level: str) -> dict[str, tuple[str, Decimal]]:
        with db.connect(db.admin_target()) as conn:
            rows = conn.execute(
                "select admin_unit_code, admin_unit_name, indicator_value"
                " from reporting.rpt_indicator_admin_unit_period where period_label = '2019'"
                " and indicator_code = 'onestop_dossiers_received' and boundary = %s and admin_level = %s",
                (boundary, level)).fetchall()
        return {code: (name, value) for code, name, value in rows}

    province = figures("2019")["onestop_dossiers_received"]
    assert values("as_was", "province") == {"84": ("Tỉnh Trà Vinh", province)}
    assert values("as_is", "province") == {"86": ("Tỉnh Vĩnh Long", province)}
    assert len(values("as_was", "district")) == 9 and values("as_is", "district") == {}
    was = values("as_was", "commune")
    assert len(was) == 106, "a 2019 year is reported by its own 106 communes"
    today = _predecessors_of_today_s_communes()
    assert len(today) == 41
    # Each commune of today holds what its 2019 predecessors held: Phường Trà Vinh (29242) those of
    # Phường 1, 3 and 9, and of Phường 2 and 6, which went into Phường 3 on 1 January 2025.
    assert today["29242"][1] == {"29239", "29242", "29245", "29251", "29260"}
    with db.connect(db.admin_target()) as conn:
        current = dict(conn.execute("select admin_unit_code, current_unit_code from marts.dim_admin_unit"
                                    " where admin_level = 'commune' and valid_from = '2018-01-01'").fetchall())
    assert current == {old: code for code, (_, communes) in today.items() for old in communes}
    assert values("as_is", "commune") == {
        code: (name, sum(was[old][1] for old in communes)) for code, (name, communes) in today.items()}


def test_the_bi_role_reads_what_dbt_built_but_not_raw(built_2019):
    with psycopg.connect(db.job_target("bi").url()) as conn:
        assert conn.execute("select count(*) from reporting.rpt_report_figures").fetchone()[0] > 0
        assert conn.execute("select count(*) from marts.fct_documents_daily").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.onestop__units limit 1")


def test_any_quarter_or_year_prints_from_the_command_line(built_2019):
    for label in ("2019Q3", "2019"):
        out = subprocess.run([sys.executable, "-m", "egov.cli", "figures", "--period", label, "--current", "--json"],
                             capture_output=True, text=True, check=True).stdout
        document = json.loads(out)
        assert len(document["figures"]) == 39
        assert document["figures"]["onestop_dossiers_received"]["value"] == int(
            figures(label)["onestop_dossiers_received"])
    assert date(2019, 12, 31) == YEAR.last_day


def test_every_model_and_column_is_described_and_the_descriptions_reach_postgresql(built_2019):
    from egov.transform.dbt import target_dir

    manifest = json.loads((target_dir() / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert all(node["description"].strip() for node in models), [n["name"] for n in models if not n["description"]]
    with db.connect(db.admin_target()) as conn:
        for node in models:
            columns = [row[0] for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                (node["schema"], node["alias"])).fetchall()]
            assert columns, node["name"]
            undocumented = [c for c in columns if not node["columns"].get(c, {}).get("description", "").strip()]
            assert not undocumented, (node["name"], undocumented)
        published_models = [f"{node['schema']}.{node['alias']}" for node in manifest["nodes"].values()
                            if node["resource_type"] in ("model", "seed") and node["schema"] in ("marts", "reporting")]
        uncommented = conn.execute("""
            select c.table_schema || '.' || c.table_name || '.' || c.column_name
            from information_schema.columns as c
            join pg_class as t on t.relname = c.table_name
            join pg_namespace as n on n.oid = t.relnamespace and n.nspname = c.table_schema
            where c.table_schema || '.' || c.table_name = any(%s)
              and col_description(t.oid, c.ordinal_position) is null
        """, (published_models,)).fetchall()
    assert not uncommented, uncommented[:10]
