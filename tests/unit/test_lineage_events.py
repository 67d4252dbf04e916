"""OpenLineage events: START/COMPLETE/FAIL pairs with our ids, the file, console and HTTP transports,
the Airflow parent run, and the extract and dbt wiring."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import threading
import uuid
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from loading import source_of_its_own
from openlineage.client.uuid import generate_static_uuid

from egov.core import db
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.core.sources import ONESTOP
from egov.ingest.connectors.base import Page
from egov.ingest.loader import load_batch
from egov.openlineage import runs

FACETS_SCHEMA = Path(runs.__file__).parents[1] / "data" / "openlineage_facets.json"
COUNTS = next(e for e in ONESTOP.entities if e.name == "dossier_counts")
LOGICAL_DATE = datetime(2019, 1, 2, 17, 0, tzinfo=UTC)


@pytest.fixture()
def events_path(tmp_path, monkeypatch) -> Path:
    """The file transport, writing to a file of the test's own."""
    path = tmp_path / "lineage" / "events.jsonl"
    monkeypatch.setattr(runs, "events_file", lambda: path)
    for var in (runs.TRANSPORT_VAR, runs.URL_VAR, runs.API_KEY_VAR,
                runs.NAMESPACE_VAR, "AIRFLOW__OPENLINEAGE__NAMESPACE", "OPENLINEAGE_NAMESPACE",
                "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(var, raising=False)
    return path


def written(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def facet_errors(facet: dict) -> list[str]:
    """What is wrong with a custom facet, checked against the schema its ``_schemaURL`` names, which must be
    the one the package ships (the spec's RunFacet it extends is stood in for: there is no network)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = json.loads(FACETS_SCHEMA.read_text())
    assert facet["_schemaURL"].startswith(schema["$id"] + "#/$defs/")
    spec_run_facet = {"type": "object", "required": ["_producer", "_schemaURL"],
                      "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"},
                                     "_deleted": {"type": "boolean"}}}
    registry = Registry().with_resources([
        (schema["$id"], Resource.from_contents(schema)),
        ("https://openlineage.io/spec/2-0-2/OpenLineage.json", Resource.from_contents(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {"RunFacet": spec_run_facet}})),
    ])
    validator = Draft202012Validator({"$ref": facet["_schemaURL"]}, registry=registry,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(facet)]


def assert_spec_shaped(event: dict) -> None:
    """The fields the OpenLineage spec requires of a RunEvent, with the values this project gives them."""
    assert event["eventType"] in ("START", "COMPLETE", "FAIL", "ABORT")
    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
    assert event["producer"] == runs.PRODUCER
    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/OpenLineage.json#")
    uuid.UUID(event["run"]["runId"])
    assert event["job"]["namespace"] == "egov" and event["job"]["name"]
    for dataset in event["inputs"] + event["outputs"]:
        assert dataset["namespace"] and dataset["name"]
    for facet in event["run"]["facets"].values():
        assert facet["_producer"] and facet["_schemaURL"]


def test_a_job_run_is_a_start_and_a_complete_of_one_run_with_our_facets(events_path):
    batch_id = str(uuid.uuid4())
    with runs.job_run(
        "extract.ca.agencies",
        inputs=[runs.source_dataset("ca", "agencies")],
        facets=[runs.BatchRunFacet(batch_id=batch_id, source="ca", entity="agencies",
                                             raw_table="raw.ca__agencies")],
    ) as run:
        assert [e["eventType"] for e in written(events_path)] == ["START"]
        run.update(runs.BatchRunFacet, row_count=133, rejected_count=0, replaced_rows=130,
                   checksum="ab" * 32)

    start, complete = written(events_path)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"] == run.run_id
    for event in (start, complete):
        assert_spec_shaped(event)
        assert event["job"]["name"] == "extract.ca.agencies"
        assert event["inputs"][0]["namespace"] == "egov-source://ca" and event["inputs"][0]["name"] == "agencies"
        assert event["run"]["facets"]["egov_batch"]["batch_id"] == batch_id
        assert facet_errors(event["run"]["facets"]["egov_batch"]) == []
        assert "parent" not in event["run"]["facets"]
    assert "row_count" not in start["run"]["facets"]["egov_batch"]
    assert complete["run"]["facets"]["egov_batch"]["row_count"] == 133


def test_every_custom_facet_matches_the_schema_it_names():
    from openlineage.client.serde import Serde

    ids = [str(uuid.uuid4()) for _ in range(4)]
    facets = [
        runs.BatchRunFacet(batch_id=ids[0], source="mail", entity="accounts_daily",
                                     raw_table="raw.mail__accounts_daily", window_start="2019-01-01",
                                     window_end="2019-04-01", row_count=90, rejected_count=1, replaced_rows=0,
                                     checksum="0f" * 32),
        runs.DbtRunFacet(command="build", invocation_id=ids[1], statuses={"success": 48, "pass": 143}),
        runs.ValidationRunFacet(validation_id=ids[2], gx_run_id="run-1", period="2019Q1", success=False,
                                          dbt_invocation_id=ids[1]),
        runs.ReleaseRunFacet(release_id=ids[3], period="2019", version=2, content_hash="e3" * 32,
                                       validation_id=ids[2], created=True),
    ]
    for facet in facets:
        assert facet_errors(Serde.to_dict(facet)) == [], type(facet).__name__


def test_the_shipped_schema_catches_a_facet_that_does_not_match_it(events_path):
    with runs.job_run("publish.2019Q1", facets=[runs.ReleaseRunFacet(
            release_id="not-a-uuid", period="2019Q1", version=0, content_hash="x", validation_id=str(uuid.uuid4()),
            created=True)]):
        pass
    errors = facet_errors(written(events_path)[0]["run"]["facets"]["egov_release"])
    assert any("not-a-uuid" in e for e in errors)
    assert any("less than the minimum" in e for e in errors)
    assert any("does not match" in e for e in errors)


def test_a_failing_job_emits_fail_with_the_error_and_the_error_propagates(events_path):
    with pytest.raises(ValueError, match="control total"), runs.job_run("extract.mail.accounts_daily"):
        raise ValueError("control total does not add up")

    start, fail = written(events_path)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"]
    assert_spec_shaped(fail)
    error = fail["run"]["facets"]["errorMessage"]
    assert error["message"] == "control total does not add up"
    assert error["programmingLanguage"] == "python" and "ValueError" in error["stackTrace"]
    assert error["_schemaURL"].endswith("ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet")


def test_an_interrupted_job_is_aborted(events_path):
    with pytest.raises(KeyboardInterrupt), runs.job_run("dbt.build"):
        raise KeyboardInterrupt
    assert [e["eventType"] for e in written(events_path)] == ["START", "ABORT"]


def test_inside_airflow_the_parent_is_the_task_instance_with_the_providers_run_ids(events_path, monkeypatch):
    task = RunContext(dag_id="egov_extract_ca", run_id="scheduled__2019-01-02", task_id="extract_agencies",
                      logical_date=LOGICAL_DATE, try_number=2)
    with runs.job_run("extract.ca.agencies", parent=task):
        pass
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "tra_vinh")
    with runs.job_run("extract.ca.agencies", parent=task):
        pass
    with runs.job_run("extract.ca.agencies", parent=OUTSIDE_AIRFLOW):
        pass

    default_ns, configured_ns, cli = (written(events_path)[i]["run"]["facets"] for i in (0, 2, 4))
    parent = default_ns["parent"]
    # apache-airflow-providers-openlineage: OpenLineageAdapter.build_task_instance_run_id / build_dag_run_id
    assert parent["job"] == {"namespace": "default", "name": "egov_extract_ca.extract_agencies", "facets": {}}
    assert parent["run"]["runId"] == str(generate_static_uuid(
        instant=LOGICAL_DATE, data=b"default.egov_extract_ca.extract_agencies.2.-1"))
    assert parent["root"]["job"] == {"namespace": "default", "name": "egov_extract_ca", "facets": {}}
    assert parent["root"]["run"]["runId"] == str(generate_static_uuid(
        instant=LOGICAL_DATE, data=b"default.egov_extract_ca.0"))
    assert configured_ns["parent"]["job"]["namespace"] == "tra_vinh"
    assert configured_ns["parent"]["run"]["runId"] != parent["run"]["runId"]
    assert "parent" not in cli


def test_a_retry_is_another_parent_run():
    first, retry = (runs.airflow_parent(RunContext("d", "r", "t", LOGICAL_DATE, try_number))
                    for try_number in (1, 2))
    assert first.run.runId != retry.run.runId
    assert first.root.run.runId == retry.root.run.runId


def test_read_events_returns_every_event_of_the_runs_with_that_id(events_path):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for batch_id in ids:
        with runs.job_run("extract.portal.sites", facets=[runs.BatchRunFacet(
                batch_id=batch_id, source="portal", entity="sites", raw_table="raw.portal__sites")]):
            pass
    with events_path.open("a") as handle:
        handle.write('{"eventType": "START", "run": {"runId"')  # a line still being appended

    one = runs.read_events(runs.BatchRunFacet, "batch_id", ids[1])
    assert [e["eventType"] for e in one] == ["START", "COMPLETE"]
    assert {e["run"]["facets"]["egov_batch"]["batch_id"] for e in one} == {ids[1]}
    assert len(runs.read_events(runs.BatchRunFacet, "batch_id", ids[:2])) == 4
    assert runs.read_events(runs.ReleaseRunFacet, "release_id", ids[0]) == []


def test_read_events_finds_a_run_by_an_id_known_only_when_it_completed(events_path):
    """The dbt invocation id is learnt at the end; its START is still part of the run."""
    with runs.job_run("dbt.build", facets=[runs.DbtRunFacet(command="build")]) as run:
        run.update(runs.DbtRunFacet, invocation_id="f24f7591-ed81-4dba-b0ed-aae6b929c20a")
    events = runs.read_events(runs.DbtRunFacet, "invocation_id",
                                        "f24f7591-ed81-4dba-b0ed-aae6b929c20a")
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]


def test_read_events_of_a_missing_file_is_empty(events_path):
    assert runs.read_events(runs.BatchRunFacet, "batch_id", "x") == []


def test_console_transport_logs_the_events_and_writes_no_file(events_path, monkeypatch, caplog):
    monkeypatch.setenv(runs.TRANSPORT_VAR, "console")
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"), \
            runs.job_run("gate.2019Q1"):
        pass
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "openlineage.client.transport.console"]
    assert [e["eventType"] for e in logged] == ["START", "COMPLETE"]
    assert not events_path.exists()


class FakeMarquez:
    """Records what is POSTed to it, as Marquez's lineage endpoint would receive it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_http_transport_posts_each_event_to_marquez_with_the_api_key(events_path, monkeypatch):
    with FakeMarquez() as marquez:
        monkeypatch.setenv(runs.URL_VAR, marquez.url)
        monkeypatch.setenv(runs.API_KEY_VAR, "s3cret")
        with runs.job_run("publish.2019Q1"):
            pass
    assert [(path, auth) for path, auth, _ in marquez.received] == [
        ("/api/v1/lineage", "Bearer s3cret"), ("/api/v1/lineage", "Bearer s3cret")]
    start, complete = (event for _, _, event in marquez.received)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert_spec_shaped(complete)
    assert not events_path.exists(), "HTTP replaces the file, it does not add to it"


def test_a_lineage_server_that_is_down_only_costs_a_warning(events_path, monkeypatch, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv(runs.URL_VAR, f"http://127.0.0.1:{closed_port}")
    with caplog.at_level(logging.WARNING, logger="egov.openlineage.runs"), runs.job_run("gate.2019Q1"):
        outcome = "the work was done"
    assert outcome == "the work was done"
    warnings = [r.getMessage() for r in caplog.records if r.name == "egov.openlineage.runs"]
    assert len(warnings) == 2 and all("was not emitted" in w for w in warnings)
    assert "START" in warnings[0] and "COMPLETE" in warnings[1]


@pytest.mark.parametrize(("settings", "message"), [
    ({runs.URL_VAR: "marquez:5000"}, "not an http"),
    ({runs.URL_VAR: "http://marquez:5000/api/v1/lineage"}, "give the base URL"),
    ({runs.TRANSPORT_VAR: "http"}, "needs EGOV_OPENLINEAGE_URL"),
    ({runs.TRANSPORT_VAR: "kafka"}, "choose one of file, console, http"),
])
def test_a_misconfiguration_is_a_clear_error_before_the_job_runs(events_path, monkeypatch, settings, message):
    for var, value in settings.items():
        monkeypatch.setenv(var, value)
    ran = []
    with pytest.raises(runs.LineageConfigError, match=message), runs.job_run("dbt.build"):
        ran.append(True)
    assert ran == []


# --- wiring ----------------------------------------------------------------------------------------------


@pytest.fixture()
def source(database):
    """The one-stop source under a raw table name of the test's own."""
    with source_of_its_own("l") as own:
        yield own


def count_record(day: str, count=1) -> dict:
    return {"date": day, "unit_code": "842", "procedure_code": "1.000001", "channel": "online",
            "event": "received", "count": count}


def test_a_load_completes_its_run_after_the_batch_is_committed(events_path, source, database, monkeypatch):
    committed_at_complete = []
    emit = runs._emit

    def emit_and_look(emitter, run, state, error=None):
        if state.value == "COMPLETE":
            batch_id = run.facets["egov_batch"].batch_id
            with db.connect(db.admin_target()) as other:  # another session sees only what was committed
                committed_at_complete.append(other.execute(
                    "select row_count from audit.load_batches where batch_id = %s", (batch_id,)).fetchone())
        emit(emitter, run, state, error)

    monkeypatch.setattr(runs, "_emit", emit_and_look)
    window = (date(2019, 1, 1), date(2019, 1, 3))
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, window, [
            Page("GET a", [count_record("2019-01-01"), count_record("2019-01-02", 2), {"date": "2019-01-02"}])])

    assert committed_at_complete == [(2,)]
    start, complete = written(events_path)
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"]["name"] == f"extract.{source.key}.dossier_counts"
    assert complete["inputs"] == [{"namespace": f"egov-source://{source.key}", "name": "dossier_counts",
                                   "facets": {}, "inputFacets": {}}]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [
        (f"postgres://{database.host}:{database.port}", f"{database.dbname}.raw.{source.key}__dossier_counts")]
    batch = complete["run"]["facets"]["egov_batch"]
    assert batch == {**batch, "batch_id": str(result.batch_id), "window_start": "2019-01-01",
                     "window_end": "2019-01-03", "row_count": 2, "rejected_count": 1, "replaced_rows": 0,
                     "checksum": result.checksum}
    assert start["run"]["facets"]["egov_batch"]["batch_id"] == str(result.batch_id)
    assert facet_errors(batch) == []


def test_a_load_that_fails_is_a_failed_run_of_a_batch_that_never_landed(events_path, source):
    from egov.ingest.errors import SchemaDriftError

    renamed = [{k: v for k, v in count_record("2019-01-01").items() if k != "count"} | {"so_luong": 1}]
    with db.connect(db.admin_target()) as conn, pytest.raises(SchemaDriftError):
        load_batch(conn, source, COUNTS, (date(2019, 1, 1), date(2019, 1, 2)), [Page("GET renamed", renamed)])
    start, fail = written(events_path)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    batch_id = fail["run"]["facets"]["egov_batch"]["batch_id"]
    assert "so_luong" in fail["run"]["facets"]["errorMessage"]["message"]
    with db.connect(db.admin_target()) as conn:
        assert conn.execute("select 1 from audit.load_batches where batch_id = %s", (batch_id,)).fetchone() is None


MANIFEST = {
    "nodes": {
        "model.egov.stg_ca__agencies": {"resource_type": "model", "schema": "staging", "alias": "stg_ca__agencies",
                                        "name": "stg_ca__agencies",
                                        "depends_on": {"nodes": ["source.egov.ca.ca__agencies"]}},
        "model.egov.dim_agency": {"resource_type": "model", "schema": "marts", "alias": "dim_agency",
                                  "name": "dim_agency",
                                  "depends_on": {"nodes": ["model.egov.stg_ca__agencies", "seed.egov.channels"]}},
        "model.egov.fct_broken": {"resource_type": "model", "schema": "marts", "alias": "fct_broken",
                                  "name": "fct_broken", "depends_on": {"nodes": ["source.egov.portal.portal__sites"]}},
        "model.egov.rpt_not_selected": {"resource_type": "model", "schema": "reporting", "alias": "rpt_not_selected",
                                        "name": "rpt_not_selected",
                                        "depends_on": {"nodes": ["source.egov.mail.mail__accounts_daily"]}},
        "seed.egov.channels": {"resource_type": "seed", "schema": "marts", "alias": "channels", "name": "channels",
                               "depends_on": {"nodes": []}},
    },
    "sources": {
        "source.egov.ca.ca__agencies": {"schema": "raw", "identifier": "ca__agencies", "name": "ca__agencies"},
        "source.egov.portal.portal__sites": {"schema": "raw", "identifier": "portal__sites", "name": "portal__sites"},
        "source.egov.mail.mail__accounts_daily": {"schema": "raw", "identifier": "mail__accounts_daily",
                                                  "name": "mail__accounts_daily"},
    },
}


@pytest.fixture()
def fake_dbt(tmp_path, monkeypatch):
    """dbt replaced by a process that leaves a manifest and run_results as dbt would, exiting with ``exit_code``."""
    from egov.transform import dbt

    monkeypatch.setattr(dbt, "target_dir", lambda: tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    invocation = {"exit_code": 0, "id": str(uuid.uuid4())}

    def run(cmd, **kwargs):
        statuses = {"model.egov.stg_ca__agencies": "success", "model.egov.dim_agency": "success",
                    "model.egov.fct_broken": "error", "seed.egov.channels": "success"}
        (tmp_path / "run_results.json").write_text(json.dumps({
            "metadata": {"invocation_id": invocation["id"]}, "elapsed_time": 1.5,
            "results": [{"unique_id": u, "status": s} for u, s in statuses.items()]}))
        return subprocess.CompletedProcess(cmd, invocation["exit_code"], "1 of 4 ERROR fct_broken\n", "")

    monkeypatch.setattr(dbt.subprocess, "run", run)
    return invocation


def test_a_dbt_invocation_is_a_run_from_its_sources_and_seeds_to_the_models_it_built(
        events_path, fake_dbt, database):
    from egov.transform import dbt

    result = dbt.build(db.job_target("dbt"), select="staging")
    start, complete = written(events_path)
    assert (start["job"]["name"], start["eventType"], complete["eventType"]) == ("dbt.build", "START", "COMPLETE")
    namespace = f"postgres://{database.host}:{database.port}"
    assert {(d["namespace"], d["name"]) for d in complete["inputs"]} == {
        (namespace, f"{database.dbname}.raw.ca__agencies"), (namespace, f"{database.dbname}.raw.portal__sites"),
        (namespace, f"{database.dbname}.marts.channels")}
    assert [d["name"] for d in complete["outputs"]] == [
        f"{database.dbname}.marts.dim_agency", f"{database.dbname}.staging.stg_ca__agencies"]
    facet = complete["run"]["facets"]["egov_dbt"]
    assert (facet["command"], facet["invocation_id"]) == ("build --select staging", result.invocation_id)
    assert facet["statuses"] == {"success": 3, "error": 1}
    assert facet_errors(facet) == []


def test_a_failed_dbt_invocation_is_a_failed_run_with_its_invocation_id(events_path, fake_dbt, database):
    from egov.transform import dbt

    fake_dbt["exit_code"] = 1
    with pytest.raises(dbt.DbtError, match="fct_broken"):
        dbt.run_dbt(["run"], db.job_target("dbt"))
    start, fail = written(events_path)
    assert (fail["job"]["name"], start["eventType"], fail["eventType"]) == ("dbt.run", "START", "FAIL")
    assert fail["run"]["facets"]["egov_dbt"]["invocation_id"] == fake_dbt["id"]
    assert "fct_broken" in fail["run"]["facets"]["errorMessage"]["message"]
    assert len(fail["outputs"]) == 2, "the models that were built before the failure are still outputs"
