"""The real DAGs through Airflow (`airflow dags test`), dbt and Great Expectations on PostgreSQL.

Expected figures are never computed by the code under test: they are summed here straight
from the simulator's HTTP API, or read from the seed report's figure table.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from source_readers import all_figures

from egov.core import db
from egov.core.periods import parse_period
from egov.orchestration.runner import run_dag

pytestmark = pytest.mark.e2e

Q1 = parse_period("2019Q1")
SEED_FIGURES = Path(__file__).parents[1] / "data" / "q1_2019_report_figures.csv"


def current_release(period) -> tuple | None:
    with db.connect(db.admin_target()) as conn:
        return conn.execute(
            "select release_id, version, content_hash from published.releases where period = %s "
            "order by version desc limit 1", (period.label,)).fetchone()


def published(period) -> dict[str, Decimal]:
    with db.connect(db.admin_target()) as conn:
        return dict(conn.execute("select figure_id, value from published.current_figures where period = %s",
                                 (period.label,)).fetchall())


def fact_rows(day: date) -> list[tuple]:
    with db.connect(db.admin_target()) as conn:
        return conn.execute(
            "select date_day, agency_code, procedure_code, procedure_version_key, service_level, channel_code,"
            " event_code, dossier_count from marts.fct_onestop_dossiers_daily where date_day = %s order by 2, 3, 6, 7",
            (day,)).fetchall()


@pytest.fixture(scope="module")
def published_q1(loaded_q1):
    # The reason only matters on a test database an earlier run left with other figures.
    publish = run_dag("egov_publish_quarterly", "2019-04-01", {"period": Q1.label, "reason": "test run"})
    assert publish.succeeded, publish.summary()
    return published(Q1)


def test_published_figures_equal_figures_taken_from_the_systems_themselves(published_q1, loaded_q1):
    expected = all_figures(loaded_q1, Q1.start, Q1.last_day)
    assert set(published_q1) == set(expected)
    for figure_id, value in expected.items():
        assert published_q1[figure_id] == round(Decimal(value), 6), figure_id


def test_q1_2019_reproduces_every_figure_of_the_seed_report(published_q1):
    with SEED_FIGURES.open(encoding="utf-8") as handle:
        seed = {row["figure_id"]: row["value"] for row in csv.DictReader(handle)}
    assert len(seed) == 39 and set(published_q1) == set(seed)
    for figure_id, stated in seed.items():
        if stated.startswith(">"):
            assert published_q1[figure_id] > Decimal(stated[1:]), figure_id
        else:
            assert published_q1[figure_id] == Decimal(stated), figure_id


def test_the_quarter_batch_accounts_for_every_raw_row(published_q1):
    with db.connect(db.admin_target()) as conn:
        batches = conn.execute(
            "select b.batch_id, b.row_count, b.rejected_count, count(r.*) from audit.load_batches b "
            "left join raw.onestop__dossier_counts r using (batch_id) "
            "where b.entity = 'dossier_counts' and b.window_start = %s and b.window_end = %s "
            "group by 1, 2, 3, b.loaded_at order by b.loaded_at", (Q1.start, Q1.end)).fetchall()
    assert batches, "the quarter was loaded as one batch"
    _, row_count, rejected, raw_rows = batches[-1]
    # Runs before the tests below reload single days of the quarter.
    assert raw_rows == row_count > 0 and rejected == 0


def egov(*args: str, check: bool = True):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "egov.cli", *args], capture_output=True, text=True, check=check)


def test_every_q1_figure_traces_down_to_its_batches_and_reconciles(published_q1):
    import json

    document = json.loads(egov("trace", Q1.label, "--json").stdout)
    traces = document["figures"]
    assert set(traces) == set(published_q1)
    release_id, version, _ = current_release(Q1)
    with db.connect(db.admin_target()) as conn:
        release_batches = dict(conn.execute(
            "select batch_id::text, rows_used from published.release_batches where release_id = %s",
            (release_id,)).fetchall())
    used: dict[str, int] = {}
    for figure_id, found in traces.items():
        levels = {level["level"]: level for level in found["levels"]}
        assert found["reconciled"], (figure_id, [lvl for lvl in found["levels"] if not lvl["reconciled"]])
        assert list(levels) == ["release", "figure", "rollup", "daily_facts", "raw_rows", "batches"]
        assert found["release"]["version"] == version and found["release"]["release_id"] == str(release_id)
        # The release names the GX run of the gate that let it through, and the dbt build it came from.
        assert found["release"]["gx_run_id"].startswith(
            f"publication_gate__{Q1.label}__{found['release']['validation_id']}@")
        assert found["release"]["dbt_invocation_id"]
        assert Decimal(str(levels["release"]["value"])) == published_q1[figure_id]
        for part in found["components"]:
            # Every component is made of raw rows whose contributions sum to its daily facts and its rollup.
            assert part["raw_rows"] > 0 and part["raw_sum"] == part["daily_sum"], (figure_id, part)
        assert found["batches"] and all(b["checksum_verified"] is not False for b in found["batches"])
        for batch in found["batches"]:
            used[batch["batch_id"]] = max(used.get(batch["batch_id"], 0), batch["rows_used"])
    # The release recorded the batches its figures trace to. A test database an earlier session left keeps
    # its release when the figures are unchanged, while every session reloads Q1 in new batches: a batch the
    # release did not record must then have been loaded after it, and one it recorded must since have
    # been replaced.
    with db.connect(db.admin_target()) as conn:
        published_at = conn.execute("select published_at from published.releases where release_id = %s",
                                    (release_id,)).fetchone()[0]
        loaded = dict(conn.execute("select batch_id::text, loaded_at from audit.load_batches "
                                   "where batch_id::text = any(%s)", (list(used),)).fetchall())
    for batch, rows in used.items():
        assert release_batches.get(batch, 0) >= rows or loaded[batch] > published_at, batch
    assert all(batch in used or not _still_loaded(batch) for batch in release_batches)
    verified = {b["batch_id"] for found in traces.values() for b in found["batches"] if b["checksum_verified"]}
    assert verified, "no batch was verified against its load checksum"
    with db.connect(db.admin_target()) as conn:
        # The auditors' SQL views say the same as the command: every level of every figure agrees.
        views = conn.execute(
            "select figure_id, component_role, daily_sum, raw_sum, rollup_equals_agency_sum and "
            "rollup_equals_daily_facts and daily_facts_equal_raw_rows from lineage.lineage_figure_reconciliation "
            "where period = %s", (Q1.label,)).fetchall()
    assert {figure_id for figure_id, *_ in views} == set(traces)
    for figure_id, role, daily_sum, raw_sum, agree in views:
        part = next(p for p in traces[figure_id]["components"] if p["role"] == role)
        assert agree, (figure_id, role)
        assert (Decimal(str(part["daily_sum"])), Decimal(str(part["raw_sum"]))) == (daily_sum, raw_sum)

    text = egov("trace", Q1.label, "onestop_dossiers_received").stdout
    assert "reconciled at every level" in text and "raw.onestop__dossier_counts" in text


def _still_loaded(batch_id: str) -> bool:
    """Whether any raw table still holds rows of the batch."""
    with db.connect(db.admin_target()) as conn:
        table = conn.execute("select raw_table from audit.load_batches where batch_id = %s", (batch_id,)).fetchone()[0]
        return conn.execute(f"select exists (select 1 from {table} where batch_id = %s)", (batch_id,)).fetchone()[0]


def test_a_raw_row_changed_after_loading_breaks_the_trace(published_q1):
    import json

    with db.connect(db.admin_target()) as conn:
        # A row of a batch whose rows are all still in raw, so that its checksum can be recomputed.
        batch_id, index, payload = conn.execute(
            """
            select raw.batch_id, raw.record_index, raw.payload
            from raw.onestop__dossier_counts as raw
            join audit.load_batches as batches using (batch_id)
            where raw.record_date between %s and %s and raw.payload ->> 'event' = 'received'
              and batches.row_count = (select count(*) from raw.onestop__dossier_counts as whole
                                       where whole.batch_id = batches.batch_id)
            order by raw.record_date, raw.record_index limit 1
            """, (Q1.start, Q1.last_day)).fetchone()
        conn.execute("update raw.onestop__dossier_counts set payload = jsonb_set(payload, '{count}', "
                     "to_jsonb((payload ->> 'count')::int + 1)) where batch_id = %s and record_index = %s",
                     (batch_id, index))
    try:
        broken = egov("trace", Q1.label, "onestop_dossiers_received", "--json", check=False)
        text = egov("trace", Q1.label, "onestop_dossiers_received", check=False).stdout
    finally:
        with db.connect(db.admin_target()) as conn:
            conn.execute("update raw.onestop__dossier_counts set payload = %s where batch_id = %s and "
                         "record_index = %s", (json_text(payload), batch_id, index))
    assert broken.returncode == 1
    found = json.loads(broken.stdout)
    levels = {level["level"]: level["reconciled"] for level in found["levels"]}
    assert levels == {"release": True, "figure": True, "rollup": True, "daily_facts": True, "raw_rows": False,
                      "batches": False}
    changed = next(b for b in found["batches"] if b["batch_id"] == str(batch_id))
    assert changed["checksum_verified"] is False
    assert "NOT reconciled" in text and "CHECKSUM MISMATCH" in text and "≠ daily facts" in text
    assert egov("trace", Q1.label, "onestop_dossiers_received").returncode == 0


def json_text(payload: dict) -> str:
    import json

    return json.dumps(payload, ensure_ascii=False)


def test_the_audit_pack_holds_the_release_and_verifies_against_its_manifest(published_q1, tmp_path):
    import csv as csv_module
    import io
    import json
    import zipfile

    path = tmp_path / "pack.zip"
    out = egov("audit-pack", Q1.label, "--output", str(path)).stdout
    assert "verified: its signature, its members and the warehouse's record of it" in out
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        release = json.loads(archive.read("release.json"))
        batches = list(csv_module.DictReader(io.StringIO(archive.read("batch_manifest.csv").decode("utf-8-sig"))))
        trace = json.loads(archive.read("lineage/trace.json"))
        run_results = json.loads(archive.read("dbt/run_results.json"))
        events = [json.loads(line) for line in archive.read("lineage/openlineage.jsonl").decode().splitlines()]
    assert {"figures.csv", "indicator_definitions.csv", "validation/gate.json", "validation/checkpoint.json",
            "dbt/manifest.json", "lineage/openlineage.jsonl", "MANIFEST.sha256"} <= names
    assert {k: Decimal(str(v["value"])) for k, v in release["figures"].items()} == published_q1
    assert release["reconciled"] is True and all(found["reconciled"] for found in trace.values())
    assert run_results["metadata"]["invocation_id"] == release["dbt_invocation_id"]
    with db.connect(db.admin_target()) as conn:
        recorded = {row[0] for row in conn.execute(
            "select batch_id::text from published.release_batches where release_id = %s",
            (release["release_id"],))}
    assert {row["batch_id"] for row in batches} == recorded
    # The OpenLineage events of the release and of the loads it rests on, joined by our ids.
    facets = [event["run"]["facets"] for event in events]
    assert any(f.get("egov_release", {}).get("release_id") == release["release_id"] for f in facets)
    assert any(f.get("egov_dbt", {}).get("invocation_id") == release["dbt_invocation_id"] for f in facets)
    assert {f["egov_batch"]["batch_id"] for f in facets if "egov_batch" in f} == recorded

    # One changed byte in one file, and the pack no longer verifies, naming the file.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as copy:
        for name in source.namelist():
            data = source.read(name)
            copy.writestr(name, data.replace(b"38751", b"38752") if name == "release.json" else data)
    checked = egov("audit-pack", "--verify", str(tampered), check=False)
    assert checked.returncode == 1
    assert "release.json: SHA-256 differs from the manifest" in checked.stdout


def test_the_audit_pack_is_signed_recorded_in_the_warehouse_and_checked_against_it(published_q1, tmp_path):
    import hashlib
    import subprocess
    import zipfile

    import psycopg
    from cryptography.hazmat.primitives import serialization

    from egov.publication.audit_pack import MEMBERS, SIGNATURE, seal, write_archive

    path = tmp_path / "pack.zip"
    egov("audit-pack", Q1.label, "--output", str(path))
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == list(MEMBERS)
        digest = hashlib.sha256(archive.read("MANIFEST.sha256")).hexdigest()
        signature = archive.read(SIGNATURE)
        signer = serialization.load_pem_public_key(archive.read("signing_key.pem")).public_bytes_raw()
    with db.connect(db.admin_target()) as conn:
        recorded = conn.execute(
            "select packs.release_id::text, packs.content_hash = releases.content_hash, packs.signature, "
            "keys.public_key, packs.made_by = 'egov_auditor' from audit.audit_packs as packs "
            "join audit.signing_keys as keys using (key_id) join published.releases as releases using (release_id) "
            "where packs.pack_sha256 = %s", (digest,)).fetchall()
    # One row each time a pack is made (by the auditor's role, which made it); a pack made again of the same
    # release has the same manifest.
    assert {(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4]) for r in recorded} == {
        (str(current_release(Q1)[0]), True, signature, signer, True)}
    with db.connect(db.admin_target()) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("update audit.audit_packs set made_by = 'someone else'")
    checked = egov("audit-pack", "--verify", str(path), "--against-warehouse")
    assert "verified: 10 members match MANIFEST.sha256" in checked.stdout
    assert "the pack is recorded in audit.audit_packs" in checked.stdout

    # The acceptance case: unzipped, one figure changed in figures.csv, the manifest recomputed, zipped again.
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    figures = folder / "figures.csv"
    figures.write_bytes(figures.read_bytes().replace(b"onestop_dossiers_received,38751,",
                                                     b"onestop_dossiers_received,38752,"))
    content = [name for name in MEMBERS if name not in ("MANIFEST.sha256", SIGNATURE, "signing_key.pem")]
    (folder / "MANIFEST.sha256").write_bytes(
        subprocess.run(["sha256sum", *content], cwd=folder, capture_output=True, check=True).stdout)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in MEMBERS:
            archive.write(folder / name, name)
    refused = egov("audit-pack", "--verify", str(forged), "--against-warehouse", check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"{SIGNATURE}: does not verify with the trusted key" in refused.stdout
    assert "figures.csv: onestop_dossiers_received = 38752; published.report_figures has 38751" in refused.stdout
    assert "audit.audit_packs has no pack with this manifest" in refused.stdout

    # Signed by a key of the forger's own, and checked with that key: only the warehouse tells it apart.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forger = Ed25519PrivateKey.generate()
    resealed = write_archive(seal({name: (folder / name).read_bytes() for name in content}, forger).members,
                             tmp_path / "resealed.zip")
    (tmp_path / "forger.pem").write_bytes(forger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    trusting_the_forger = ("audit-pack", "--verify", str(resealed), "--public-key", str(tmp_path / "forger.pem"))
    assert egov(*trusting_the_forger).returncode == 0
    refused = egov(*trusting_the_forger, "--against-warehouse", check=False)
    assert refused.returncode == 1
    assert "figures.csv: onestop_dossiers_received = 38752; published.report_figures has 38751" in refused.stdout
    assert "audit.audit_packs has no pack with this manifest" in refused.stdout


def test_a_partly_delivered_quarter_fails_the_coverage_gate(published_q1):
    from egov.quality import gate
    from egov.transform import dbt

    # A quarter no other test loads, so only its first three days are there.
    partial = parse_period("2018Q3")
    extract = run_dag("egov_extract_onestop", "2018-07-04", {"window_start": "2018-07-01",
                                                             "window_end": "2018-07-04"})
    assert extract.succeeded, extract.summary()
    dbt.build(db.job_target("dbt"))
    outcome, _ = gate.validate(partial, db.job_target("gate"))
    assert not outcome.success
    coverage = [f for f in outcome.blocking if f.description.startswith("every unit × source × day of 2018Q3")]
    assert coverage, outcome.explain()
    # Only the slice being published is judged: 2018Q3's gaps say nothing about 2019Q1, which still passes.
    assert gate.validate(Q1, db.job_target("gate"))[0].success


def test_the_gate_catches_a_raw_record_that_bypassed_the_loader_and_an_implausible_jump(published_q1):
    from egov.quality import gate

    day = Q1.start + timedelta(days=20)
    with db.connect(db.admin_target()) as conn:
        batch_id, payload = conn.execute(
            "select batch_id, payload from raw.mail__accounts_daily where record_date = %s limit 1",
            (day,)).fetchone()
        # A hand-made insert: the same key again, and a count written as text.
        conn.execute("insert into raw.mail__accounts_daily (batch_id, record_date, record_index, payload, loaded_at) "
                     "values (%s, %s, -1, %s, now())",
                     (batch_id, day, json_text({**payload, "Số tài khoản tạo mới": "-3"})))
        # A figure twenty times what it was the quarter before (the CA's feed is loaded from 2016: 2018Q4 is known).
        conn.execute("update reporting.rpt_report_figures set figure_value = figure_value * 20 "
                     "where period = %s and figure_id = 'digital_signature_certificates_active'", (Q1.label,))
    try:
        outcome, _ = gate.validate(Q1, db.job_target("gate"))
    finally:
        with db.connect(db.admin_target()) as conn:
            conn.execute("delete from raw.mail__accounts_daily where record_index = -1")
            conn.execute("update reporting.rpt_report_figures set figure_value = figure_value / 20 "
                         "where period = %s and figure_id = 'digital_signature_certificates_active'", (Q1.label,))
    assert not outcome.success
    blocking = {(f.suite, f.description): f.observed for f in outcome.blocking}
    kinds = blocking[("raw__mail__accounts_daily",
                      "every record of raw.mail__accounts_daily carries the registry's fields with their kinds and "
                      "ranges")]
    assert "field=Số tài khoản tạo mới" in kinds and "record_index=-1" in kinds
    assert ("raw__mail__accounts_daily", "one record of raw.mail__accounts_daily per Ngày, Mã đơn vị") in blocking
    jump = blocking[("rpt_report_figures", "no figure moves implausibly far against the previous period")]
    assert "figure_id=digital_signature_certificates_active" in jump and "previous_period=2018Q4" in jump
    assert gate.validate(Q1, db.job_target("gate"))[0].success


def test_a_scheduled_daily_run_extracts_its_local_day_and_the_lookback_before_it(published_q1):
    from egov.core.sources import ONESTOP

    outcome = run_dag("egov_extract_onestop", "2019-02-13")
    assert outcome.succeeded, outcome.summary()
    with db.connect(db.admin_target()) as conn:
        windows = conn.execute(
            "select distinct window_start, window_end from audit.load_batches where run_id = %s "
            "and window_start is not null", (outcome.run_id,)).fetchall()
    # The interval is the local day 2019-02-12; the lookback reloads the days before it for late data.
    assert windows == [(date(2019, 2, 12) - timedelta(days=ONESTOP.lookback_days), date(2019, 2, 13))]


def test_rerunning_a_day_gives_identical_downstream_rows(published_q1):
    day = date(2019, 3, 5)

    def run_day_and_transform() -> list[tuple]:
        extract = run_dag("egov_extract_onestop", "2019-03-06")
        assert extract.succeeded, extract.summary()
        transform = run_dag("egov_transform", "2019-03-06")
        assert transform.succeeded, transform.summary()
        return fact_rows(day)

    def batches_behind_the_day() -> set:
        with db.connect(db.admin_target()) as conn:
            return {r[0] for r in conn.execute(
                "select distinct source_batch_id from marts.fct_onestop_dossiers_daily where date_day = %s",
                (day,)).fetchall()}

    first = run_day_and_transform()
    first_batches = batches_behind_the_day()
    second = run_day_and_transform()
    assert first and first == second
    # The second run really rebuilt the day from its own batch rather than leaving it alone.
    assert len(batches_behind_the_day()) == 1 and batches_behind_the_day() != first_batches
    with db.connect(db.admin_target()) as conn:
        raw_count = conn.execute("select count(*) from raw.onestop__dossier_counts where record_date = %s",
                                 (day,)).fetchone()[0]
    assert raw_count == len(first)


def test_bad_records_block_publication_and_the_last_release_stays(published_q1, simulator):
    before = current_release(Q1)
    window = {"window_start": "2019-02-20", "window_end": "2019-02-22"}
    simulator.faults.negative_count_on.add(date(2019, 2, 20))
    simulator.faults.malformed_on.add(date(2019, 2, 21))
    try:
        extract = run_dag("egov_extract_onestop", "2019-04-01", window)
        assert extract.succeeded, extract.summary()
        blocked = run_dag("egov_publish_quarterly", "2019-04-01", {"period": Q1.label})
    finally:
        simulator.faults.negative_count_on.clear()
        simulator.faults.malformed_on.clear()
    assert blocked.state == "failed"
    assert blocked.tasks["quality_gate"] == "failed"
    assert blocked.tasks["publish"] == "upstream_failed"
    assert current_release(Q1) == before
    with db.connect(db.admin_target()) as conn:
        success, failed = conn.execute(
            "select success, failed from audit.validation_runs where period = %s and run_id = %s",
            (Q1.label, blocked.run_id)).fetchone()
        kept = [row[0] for row in conn.execute(
            "select reason from audit.rejected_records r join audit.load_batches b using (batch_id) "
            "where b.run_id = %s order by reason", (extract.run_id,)).fetchall()]
    assert success is False
    reasons = {(f["severity"], f["description"]) for f in failed}
    assert ("critical", "detail dossier counts add up to each unit's daily control totals") in reasons
    assert ("warning", "no source records of the period were rejected at load") in reasons
    # Both bad records are kept, not dropped: the negative count is refused at load by the registry's range, so
    # it never reaches the facts (whose own "no negative dossier counts" stays as a second line).
    assert kept == ["channel is missing; count is not an integer: 'abc'",
                    "count is -5, not in 0..2,147,483,647 (counts and identifiers are never negative; staging "
                    "reads it as integer)"]
    from egov_demo.cli import _gate_failures

    assert ("[critical] fct_onestop_daily_closes: detail dossier counts add up to each unit's daily control "
            "totals") in _gate_failures(blocked.run_id)

    # Once the source sends the days again, correctly, the same figures pass and no new version is made.
    assert run_dag("egov_extract_onestop", "2019-04-01", window).succeeded
    republished = run_dag("egov_publish_quarterly", "2019-04-01", {"period": Q1.label})
    assert republished.succeeded, republished.summary()
    assert current_release(Q1) == before


def test_a_unit_that_did_not_close_its_day_blocks_publication_until_the_gap_is_waived(published_q1, simulator):
    import subprocess
    import sys

    from egov_demo.cli import _gate_failures

    from egov.quality import gate

    with db.connect(db.admin_target()) as conn:
        unit = conn.execute("select agency_code from marts.dim_agency where is_onestop_unit and agency_level = "
                            "'commune' order by agency_code limit 1").fetchone()[0]
        waived = {row[0] for row in conn.execute(
            "select generate_series(first_day, last_day, interval '1 day')::date from audit.coverage_waivers "
            "where source_key = 'onestop' and (agency_code is null or agency_code = %s)", (unit,))}
    # A day no earlier run of this test database waived (waivers are append-only).
    day = next(d for d in reversed(Q1.days()) if d not in waived and d.weekday() < 5)
    window = {"window_start": str(day), "window_end": str(day + timedelta(days=1))}
    before = current_release(Q1)
    simulator.faults.unclosed.add((day, unit))
    try:
        assert run_dag("egov_extract_onestop", "2019-04-01", window).succeeded
        blocked = run_dag("egov_publish_quarterly", "2019-04-01", {"period": Q1.label})
    finally:
        simulator.reset_faults()
    assert blocked.tasks["quality_gate"] == "failed" and blocked.tasks["publish"] == "upstream_failed"
    assert current_release(Q1) == before
    cause = _gate_failures(blocked.run_id)
    assert f"every unit × source × day of {Q1.label} has arrived or is waived" in cause, cause
    assert f"source_key=onestop, entity=daily_closes, day={day}, agency_code={unit}" in cause, cause

    # The unit's office confirms the close is lost: a person waives the gap, with a reason, and the gate
    # lets it through, recording the waiver it relied on.
    reason = f"commune {unit} did not close {day}; its office confirmed no dossiers were lost"
    out = subprocess.run([sys.executable, "-m", "egov.cli", "waive", "--source", "onestop", "--day", str(day),
                          "--agency", unit, "--reason", reason, "--by", "test"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("waiver ")
    with db.connect(db.admin_target()) as conn:
        outcome = gate.run_gate(conn, Q1, db.job_target("gate"))
        stored = conn.execute("select success, waivers from audit.validation_runs where validation_id = %s",
                              (outcome.validation_id,)).fetchone()
    assert outcome.success, outcome.explain()
    assert stored[0] is True
    assert [(w["agency_code"], w["reason"], w["gaps"]) for w in stored[1]] == [(unit, reason, 1)]
    assert any(f.description == f"no gap of {Q1.label} had to be waived" for f in outcome.warnings)
    # The source sends the close after all; the next build has no gap.
    assert run_dag("egov_extract_onestop", "2019-04-01", window).succeeded


def test_published_releases_cannot_be_changed(published_q1):
    import psycopg

    with db.connect(db.admin_target()) as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("update published.report_figures set value = value + 1")


def test_figures_command_reads_the_release_back_keyed_by_figure_id(published_q1):
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "egov.cli", "figures", "--period", "2019Q1", "--json"],
                         capture_output=True, text=True, check=True).stdout
    document = json.loads(out)
    assert document["period"] == "2019Q1"
    assert document["release"]["version"] >= 1
    assert {k: v["value"] for k, v in document["figures"].items()} == {
        k: int(v) if v == v.to_integral_value() else float(v) for k, v in published_q1.items()}


def test_a_revised_source_day_is_held_for_review_and_republished_only_with_a_reason(published_q1, loaded_q1):
    from egov_demo import cli as demo_cli
    from loading import extract

    from egov.publication.release import release_diff

    portal = loaded_q1["portal"]
    day, window = date(2019, 2, 14), (date(2019, 2, 14), date(2019, 2, 15))

    def reload_day() -> None:
        extract("portal", window)

    before_id, before_version, before_hash = current_release(Q1)
    first = published(Q1)
    portal.faults.restated_on[day] = 3
    try:
        reload_day()
    finally:
        portal.reset_faults()

    # The publish step of `egov run`, as a scheduled run has it: no reason. Nothing is published; the diff is
    # held for review and printed with how to approve it.
    held = demo_cli._publish(Q1, "2019-04-01", None)
    assert held is not None and held.previous_version == before_version
    assert current_release(Q1) == (before_id, before_version, before_hash), "the release stands"
    changes = {c.figure_id: (c.previous_value, c.value) for c in held.changes}
    assert changes and all(figure_id.startswith("portal_") for figure_id in changes)
    assert sum(value - previous for previous, value in changes.values()) == 3
    assert all(first[figure_id] == previous for figure_id, (previous, _value) in changes.items())
    explained = held.explain()
    assert f"egov publish --period {Q1.label} --reason" in explained and "nothing was published" in explained
    with db.connect(db.admin_target()) as conn:
        (stored,) = conn.execute("select count(*) from audit.pending_reviews where review_id = %s",
                                 (held.review_id,)).fetchone()
    assert stored == 1
    pending = egov("pending", "--period", Q1.label, check=False)
    assert pending.returncode == 4, pending.stderr
    assert str(held.review_id) in pending.stdout and next(iter(changes)) in pending.stdout

    # An operator approves with a reason: the next version, with its reason and diff; nothing is pending.
    out = egov("publish", "--period", Q1.label, "--reason", "Portal CMS restated 14/02/2019", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    release_id, version, _ = current_release(Q1)
    assert version == before_version + 1 and f"published 2019Q1 version {version}" in out.stdout
    with db.connect(db.admin_target()) as conn:
        diff = release_diff(conn, Q1, version)
        (reason,) = conn.execute("select reason from published.releases where release_id = %s",
                                 (release_id,)).fetchone()
        unchanged = dict(conn.execute("select figure_id, value from published.report_figures where release_id = %s",
                                      (before_id,)).fetchall())
    assert reason == "Portal CMS restated 14/02/2019"
    assert {c["figure_id"]: (c["previous_value"], c["value"]) for c in diff} == changes
    assert unchanged == first, "the earlier version is never touched"
    assert egov("pending", "--period", Q1.label, check=False).returncode == 0

    # The source withdraws its restatement. The command line without a reason holds the change too (exit 4);
    # the DAG with a reason in its conf publishes it.
    reload_day()
    out = egov("publish", "--period", Q1.label, check=False)
    assert out.returncode == 4 and "held for review" in out.stdout, out.stdout + out.stderr
    assert current_release(Q1)[1] == version
    assert demo_cli._publish(Q1, "2019-04-01", "restatement of 14/02/2019 withdrawn") is None
    assert current_release(Q1)[1] == version + 1
    assert published(Q1) == first
