"""OpenLineage events for the pipeline's jobs: extract, dbt, the gate and publication.

Each job run emits START, then COMPLETE or FAIL (ABORT when interrupted), with the
same run id, through the official ``openlineage-python`` client. Where they go is
configured from the environment:

- ``EGOV_OPENLINEAGE_URL`` (Marquez's base URL, e.g. ``http://marquez:5000``) sends
  them over HTTP to ``<url>/api/v1/lineage``, with ``EGOV_OPENLINEAGE_API_KEY`` as a
  bearer token if set;
- otherwise they are appended, one JSON object per line, to
  ``<state>/lineage/events.jsonl``, which :func:`read_events` reads back;
- ``EGOV_OPENLINEAGE_TRANSPORT`` = ``console``, ``file`` or ``http`` chooses explicitly
  (console logs each event at INFO, into the Airflow task log).

Runs carry custom run facets with the project's own ids (batch, dbt invocation,
validation, release) so that the table-level graph joins the figure-level trace;
inside Airflow they also carry the parent run facet of the task instance, built as
``apache-airflow-providers-openlineage`` builds it, so they join Airflow's events.

Emitting never fails the pipeline: a transport error is logged as a warning. A
misconfiguration (an invalid URL, an unknown transport) raises
:class:`LineageConfigError` when the job run starts, before any work is done.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Dataset, InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, error_message_run, parent_run
from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport
from openlineage.client.transport.transport import Transport
from openlineage.client.uuid import generate_new_uuid, generate_static_uuid

from egov.core import config
from egov.core.run_context import RunContext

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/egov-warehouse/egov-warehouse"
#: Who wrote an event or facet (the spec asks for a URI identifying the producing code).
PRODUCER = PROJECT_URL
#: JSON Schema of the custom facets below, shipped in the package (plugins/egov/data/).
FACETS_SCHEMA_URL = (
    "https://raw.githubusercontent.com/egov-warehouse/egov-warehouse/main/plugins/egov/data/"
    "openlineage_facets.json"
)

TRANSPORT_VAR = "EGOV_OPENLINEAGE_TRANSPORT"
URL_VAR = "EGOV_OPENLINEAGE_URL"
API_KEY_VAR = "EGOV_OPENLINEAGE_API_KEY"
NAMESPACE_VAR = "EGOV_OPENLINEAGE_NAMESPACE"
TRANSPORTS = ("file", "console", "http")
DEFAULT_NAMESPACE = "egov"
#: Marquez's endpoint under its base URL.
LINEAGE_ENDPOINT = "api/v1/lineage"
#: A lineage server that is down costs each event about a second of retries, not the client's default ~10 s.
HTTP_RETRY = {"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2}
HTTP_TIMEOUT_S = 5.0


class LineageConfigError(ValueError):
    """The OpenLineage settings in the environment cannot work."""


# --- custom run facets ---------------------------------------------------------------------------------


@attr.define
class EgovRunFacet(RunFacet):
    """A run facet of this project: keyed by ``KEY`` in ``run.facets``, described in FACETS_SCHEMA_URL."""

    KEY: ClassVar[str]

    def __attrs_post_init__(self) -> None:
        # Not through the client's global set_producer: the Airflow provider may share this process.
        self._producer = self._producer or PRODUCER
        super().__attrs_post_init__()

    @classmethod
    def _get_schema(cls) -> str:
        return f"{FACETS_SCHEMA_URL}#/$defs/{cls.__name__}"


@attr.define
class BatchRunFacet(EgovRunFacet):
    """The raw batch an extract run loads (``audit.load_batches``); the counts once it is committed."""

    KEY: ClassVar[str] = "egov_batch"
    batch_id: str
    source: str
    entity: str
    raw_table: str
    window_start: str | None = None
    window_end: str | None = None  # exclusive; no window: the whole snapshot is replaced
    row_count: int | None = None
    rejected_count: int | None = None
    replaced_rows: int | None = None
    checksum: str | None = None


@attr.define
class DbtRunFacet(EgovRunFacet):
    """A dbt invocation: its arguments, then its invocation id and node statuses from run_results.json."""

    KEY: ClassVar[str] = "egov_dbt"
    command: str
    invocation_id: str | None = None
    statuses: dict[str, int] | None = None


@attr.define
class ValidationRunFacet(EgovRunFacet):
    """A run of the publication gate (``audit.validation_runs``)."""

    KEY: ClassVar[str] = "egov_validation"
    validation_id: str
    gx_run_id: str
    period: str
    success: bool
    dbt_invocation_id: str | None = None  # the build whose figures it judged


@attr.define
class ReleaseRunFacet(EgovRunFacet):
    """A publication (``published.releases``); ``created`` is false when the figures equalled the last release."""

    KEY: ClassVar[str] = "egov_release"
    release_id: str
    period: str
    version: int
    content_hash: str
    validation_id: str
    created: bool


# --- datasets ------------------------------------------------------------------------------------------


def warehouse_dataset(conn: psycopg.Connection, relation: str) -> Dataset:
    """``relation`` (``schema.table``) in the database ``conn`` is connected to, named as OpenLineage names
    PostgreSQL tables: namespace ``postgres://host:port``, name ``database.schema.table``."""
    info = conn.info
    return Dataset(namespace=f"postgres://{info.host}:{info.port}", name=f"{info.dbname}.{relation}")


def source_dataset(source_key: str, entity: str) -> Dataset:
    """An entity of an agency system. Named by the registry rather than by host and port, which differ between
    the simulators' runs and the real systems, so one entity stays one dataset in the graph."""
    return Dataset(namespace=f"egov-source://{source_key}", name=entity)


# --- configuration -------------------------------------------------------------------------------------


def events_file() -> Path:
    return config.state_dir() / "lineage" / "events.jsonl"


def job_namespace() -> str:
    return os.environ.get(NAMESPACE_VAR) or DEFAULT_NAMESPACE


def airflow_namespace() -> str:
    """The namespace the Airflow OpenLineage provider puts DAGs and tasks in (its ``[openlineage] namespace``)."""
    return os.environ.get("AIRFLOW__OPENLINEAGE__NAMESPACE") or os.environ.get("OPENLINEAGE_NAMESPACE", "default")


def transport_kind() -> str:
    """The transport the environment chooses: file (the default), console, or http (with a URL)."""
    url = os.environ.get(URL_VAR, "").strip()
    return os.environ.get(TRANSPORT_VAR, "").strip().lower() or ("http" if url else "file")


def client() -> OpenLineageClient:
    """The client for the transport the environment chooses; raises :class:`LineageConfigError` if it cannot work."""
    url = os.environ.get(URL_VAR, "").strip()
    kind = transport_kind()
    if kind not in TRANSPORTS:
        raise LineageConfigError(f"{TRANSPORT_VAR}={kind!r}: choose one of {', '.join(TRANSPORTS)}")
    if kind != "http":
        return _client(kind, str(events_file()) if kind == "file" else "", None)
    if not url:
        raise LineageConfigError(f"{TRANSPORT_VAR}=http needs {URL_VAR}, Marquez's base URL")
    parts, shown = urlsplit(url), config.redact(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LineageConfigError(
            f"{URL_VAR}={shown!r} is not an http(s) URL: give Marquez's base URL, e.g. http://marquez:5000")
    if LINEAGE_ENDPOINT in parts.path:
        raise LineageConfigError(f"{URL_VAR}={shown!r}: give the base URL; /{LINEAGE_ENDPOINT} is added to it")
    return _client(kind, url, os.environ.get(API_KEY_VAR) or None)


@lru_cache(maxsize=4)
def _client(kind: str, location: str, api_key: str | None) -> OpenLineageClient:
    transport: Transport
    if kind == "file":
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        transport = FileTransport(FileConfig(log_file_path=location, append=True))
    elif kind == "console":
        transport = ConsoleTransport(ConsoleConfig())
    else:
        settings = {"url": location, "endpoint": LINEAGE_ENDPOINT, "timeout": HTTP_TIMEOUT_S, "retry": HTTP_RETRY}
        if api_key:
            settings["auth"] = {"type": "api_key", "apiKey": api_key}
        transport = HttpTransport(HttpConfig.from_dict(settings))
    return OpenLineageClient(transport=transport)


# --- job runs ------------------------------------------------------------------------------------------


def airflow_parent(run: RunContext) -> parent_run.ParentRunFacet | None:
    """The task instance that ran this job, and its DAG run as the root, with the run ids the Airflow
    OpenLineage provider gives them (``OpenLineageAdapter.build_task_instance_run_id`` and
    ``build_dag_run_id``); None outside Airflow."""
    if not (run.dag_id and run.task_id and run.logical_date and run.try_number is not None):
        return None
    namespace = airflow_namespace()
    task_run_id = generate_static_uuid(
        instant=run.logical_date,
        data=f"{namespace}.{run.dag_id}.{run.task_id}.{run.try_number}.{run.map_index}".encode())
    dag_run_id = generate_static_uuid(
        instant=run.logical_date, data=f"{namespace}.{run.dag_id}.{run.clear_number}".encode())
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=str(task_run_id)),
        job=parent_run.Job(namespace=namespace, name=f"{run.dag_id}.{run.task_id}"),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=str(dag_run_id)),
            job=parent_run.RootJob(namespace=namespace, name=run.dag_id),
        ),
        producer=PRODUCER,
    )


@dataclass
class JobRun:
    """One run of a job, as :func:`job_run` yields it: add facets and datasets learnt while it runs."""

    job_name: str
    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Dataset] = field(default_factory=list)
    facets: dict[str, RunFacet] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: str(generate_new_uuid()))

    def add(self, facet: EgovRunFacet) -> None:
        """Attach ``facet`` to this and later events, replacing an earlier one of its kind."""
        self.facets[facet.KEY] = facet

    def update(self, facet_type: type[EgovRunFacet], **fields) -> None:
        """Set ``fields`` of the ``facet_type`` facet added earlier (counts known only at the end)."""
        self.facets[facet_type.KEY] = attr.evolve(self.facets[facet_type.KEY], **fields)

    def event(self, state: RunState, error: BaseException | None = None) -> RunEvent:
        facets = dict(self.facets)
        if error is not None:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=str(error) or type(error).__name__, programmingLanguage="python",
                stackTrace="".join(traceback.format_exception(error)), producer=PRODUCER)
        return RunEvent(
            eventType=state,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=self.run_id, facets=facets),
            job=Job(namespace=job_namespace(), name=self.job_name),
            inputs=[InputDataset(namespace=d.namespace, name=d.name, facets=d.facets) for d in self.inputs],
            outputs=[OutputDataset(namespace=d.namespace, name=d.name, facets=d.facets) for d in self.outputs],
            producer=PRODUCER,
        )


@contextmanager
def job_run(job_name: str, inputs: Iterable[Dataset] = (), outputs: Iterable[Dataset] = (),
            facets: Iterable[EgovRunFacet] = (), parent: RunContext | None = None) -> Iterator[JobRun]:
    """Emit START now, then COMPLETE when the block ends, or FAIL (with the error message facet) if it raises
    and ABORT if it is interrupted; the exception propagates unchanged."""
    emitter = client()
    run = JobRun(job_name, list(inputs), list(outputs))
    for facet in facets:
        run.add(facet)
    if parent is not None and (parent_facet := airflow_parent(parent)) is not None:
        run.facets["parent"] = parent_facet
    _emit(emitter, run, RunState.START)
    try:
        yield run
    except Exception as error:
        _emit(emitter, run, RunState.FAIL, error)
        raise
    except BaseException:
        _emit(emitter, run, RunState.ABORT)
        raise
    _emit(emitter, run, RunState.COMPLETE)


def _emit(emitter: OpenLineageClient, run: JobRun, state: RunState, error: BaseException | None = None) -> None:
    try:
        emitter.emit(run.event(state, error))
    except Exception as failure:  # lineage is a record of the work, never a reason to fail it
        log.warning("OpenLineage %s event of %s (run %s) was not emitted: %s", state.value, run.job_name,
                    run.run_id, failure)


# --- reading the file transport back -------------------------------------------------------------------


def read_events(facet: type[EgovRunFacet], field_name: str, values: str | Iterable[str],
                path: Path | None = None) -> list[dict]:
    """Every event, in the order written, of the runs whose ``facet`` has ``field_name`` in ``values``, e.g.
    ``read_events(ReleaseRunFacet, "release_id", str(release_id))`` or ``read_events(BatchRunFacet,
    "batch_id", batch_ids)``. Reads the file transport's events (``events_file()`` unless ``path``)."""
    wanted = {values} if isinstance(values, str) else {str(value) for value in values}
    path = path or events_file()
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            # A line being appended by a running task as this reads it.
            log.warning("%s:%d is not a complete JSON event; skipped", path, number)
    matching_runs = {
        event["run"]["runId"] for event in events
        if (value := event["run"].get("facets", {}).get(facet.KEY, {}).get(field_name)) is not None
        and str(value) in wanted
    }
    return [event for event in events if event["run"]["runId"] in matching_runs]
