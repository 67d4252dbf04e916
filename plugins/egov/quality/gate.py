"""The Great Expectations publication gate.

For one period it validates, as query assets restricted to that period, the
slices of the models that feed the release (suites in ``egov_expectations``),
stores the outcome in ``audit.validation_runs`` and updates Data Docs. The
gate passes when no ``critical`` expectation failed; ``warning`` ones are
reported and recorded but do not block.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field

import psycopg

from egov.core import config
from egov.core.periods import Period
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.openlineage import runs
from egov.transform.figures import content_hash, period_figures

log = logging.getLogger(__name__)

CHECKPOINT = "publication_gate"
DATASOURCE = "warehouse"
CONNECTION_VAR = "EGOV_GX_WAREHOUSE_URL"


@dataclass(frozen=True)
class Failure:
    suite: str
    expectation: str
    severity: str
    description: str
    observed: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.suite}: {self.description} ({self.expectation}; {self.observed})"


@dataclass
class GateResult:
    validation_id: uuid.UUID
    period: str
    success: bool
    gx_run_id: str
    failures: list[Failure] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)
    figures_hash: str | None = None
    dbt_invocation_id: str | None = None
    #: Coverage waivers that excused gaps of the period (see ``egov waive``).
    waivers: list[dict] = field(default_factory=list)
    #: GX's keys of the run's validation results, for Data Docs (``build_data_docs``).
    result_keys: list = field(default_factory=list, repr=False)

    @property
    def blocking(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity != "critical"]

    def explain(self) -> str:
        if self.success:
            head = f"gate passed for {self.period}"
        else:
            head = f"gate BLOCKED publication of {self.period}: {len(self.blocking)} blocking failure(s)"
        waived = [f"  - waived: {w['source_key']} {w['first_day']}..{w['last_day']}"
                  f"{' unit ' + w['agency_code'] if w['agency_code'] else ''} ({w['gaps']} gaps): {w['reason']} "
                  f"[{w['waived_by']}]" for w in self.waivers]
        return "\n".join([head, *(f"  - {failure}" for failure in self.failures), *waived])


def gx_root() -> str:
    return str(config.state_dir() / "gx")


def _context():
    """A context that keeps suites, validation results and Data Docs in the project's GX folder, in the file
    layout of a file context, and holds the datasource, validation definitions and checkpoint in memory.

    Those three are rebuilt from the suites' code on every run anyway. A file context wrote them back to
    great_expectations.yml after every asset it added (the file growing with every period validated) and read
    the config-variables file again at every access to a setting, which cost more than the validation's SQL.
    """
    # No usage analytics leave the machine (and none could: only package registries are reachable).
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    layout = FilesystemStoreBackendDefaults(root_directory=os.path.join(gx_root(), "gx"))
    for store in (layout.checkpoint_store_name, layout.validation_definition_store_name):
        layout.stores[store]["store_backend"] = {"class_name": "InMemoryStoreBackend"}
    return gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=layout, analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False)))


def _exception_message(info) -> str | None:
    """The first error message in GX's exception info (flat, or keyed by the metric that raised)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception") or info.get("exception_message"):
        return info.get("exception_message") or "raised an exception"
    return next((found for item in info.values() if (found := _exception_message(item))), None)


def _observed(result: dict) -> str:
    details = result.get("result") or {}
    rows = (details.get("details") or {}).get("unexpected_rows")
    if rows:
        # The rows a query expectation found: they name the unit, day or figure at fault.
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in rows[:5])
        more = f" (+{details['observed_value'] - 5} more)" if isinstance(details.get("observed_value"), int) \
            and details["observed_value"] > 5 else ""
        return f"{details.get('observed_value', len(rows))} rows: {shown}{more}"[:600]
    for key in ("observed_value", "unexpected_count", "unexpected_list", "details"):
        if key in details and details[key] not in (None, [], {}):
            return f"{key}={json.dumps(details[key], default=str)[:300]}"
    return "no details"


def validate(period: Period, target: config.PgTarget) -> tuple[GateResult, dict]:
    """Run the checkpoint for ``period``; return the outcome and the raw GX result (Data Docs: ``build_data_docs``)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.datasource.fluent import PostgresDatasource

    from egov_expectations import SUITES

    context = _context()
    # The datasource names the URL by a ${VAR} reference, so nothing GX keeps holds the password.
    os.environ[CONNECTION_VAR] = target.url("postgresql+psycopg2")
    # Each slice is read once into a temporary table that the suite's expectations then query: as a subquery
    # it was computed again by every metric (two to four per expectation), and fetched whole to learn its
    # column names.
    datasource = PostgresDatasource(name=DATASOURCE, connection_string="${" + CONNECTION_VAR + "}",
                                    create_temp_table=True)
    for suite_spec in SUITES:
        asset = datasource.add_query_asset(name=f"{suite_spec.name}__{period.label}",
                                           query=suite_spec.slice_query(period).strip())
        asset.add_batch_definition_whole_table(f"{asset.name}__slice")
    # Added to the context once, with its assets: the context saves its whole configuration at every change.
    datasource = context.data_sources.add_postgres(datasource=datasource)
    definitions = []
    for suite_spec in SUITES:
        asset_name = f"{suite_spec.name}__{period.label}"
        batch = datasource.get_asset(asset_name).get_batch_definition(f"{asset_name}__slice")
        suite = context.suites.add_or_update(gx.ExpectationSuite(
            name=asset_name, expectations=suite_spec.expectations(period),
            meta={"guarded_table": suite_spec.table, "layer": suite_spec.layer}))
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=asset_name, data=batch, suite=suite)
        ))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=f"{CHECKPOINT}__{period.label}",
        validation_definitions=definitions,
        # COMPLETE: query expectations then return the rows they found (a missing unit and day, a figure
        # out of range), which name the cause; long lists are cut before the result is stored.
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": 5},
    ))
    validation_id = uuid.uuid4()
    # The GX run is named after the gate run, so Data Docs (filed by run name) and audit.validation_runs join.
    run_id = RunIdentifier(run_name=f"{CHECKPOINT}__{period.label}__{validation_id}")
    checkpoint_result = checkpoint.run(run_id=run_id)
    failures = []
    evaluated = 0
    for suite_result in checkpoint_result.run_results.values():
        for outcome in suite_result.results:
            evaluated += 1
            if outcome.success:
                continue
            expectation = outcome.expectation_config
            raised = _exception_message(outcome.exception_info)
            failures.append(Failure(
                suite=suite_result.suite_name.rsplit("__", 1)[0],  # the guarded model
                expectation=expectation.type,
                severity=str(getattr(expectation.severity, "value", expectation.severity) or "critical"),
                description=expectation.description or expectation.type,
                observed=f"error: {raised}" if raised else _observed(outcome.to_json_dict()),
            ))
    gate = GateResult(
        validation_id=validation_id,
        period=period.label,
        success=not any(f.severity == "critical" for f in failures),
        gx_run_id=f"{run_id.run_name}@{checkpoint_result.run_id.run_time.isoformat()}",
        failures=failures,
        statistics={"evaluated": evaluated, "failed": len(failures), "suites": len(definitions)},
        result_keys=list(checkpoint_result.run_results),
    )
    return gate, _compact(checkpoint_result.describe_dict())


def build_data_docs(gate: GateResult) -> None:
    """Data Docs for the gate run's results and suites, in one build.

    Not part of ``validate``: the verdict does not wait for the pages. GX's UpdateDataDocsAction rebuilt the site
    index once per suite, and the index reads every validation result ever stored, so its cost grows with
    every gate run.
    """
    _context().build_data_docs(resource_identifiers=[
        *gate.result_keys, *{key.expectation_suite_identifier for key in gate.result_keys}])


#: Longest list kept of a result (unexpected values, indexes, rows) when it is stored.
KEPT_LIST_ITEMS = 20


def _compact(value):
    """``value`` with every list cut to KEPT_LIST_ITEMS items (and a note of how many there were)."""
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items()}
    if isinstance(value, list):
        kept = [_compact(item) for item in value[:KEPT_LIST_ITEMS]]
        return [*kept, f"... {len(value) - KEPT_LIST_ITEMS} more"] if len(value) > KEPT_LIST_ITEMS else kept
    return value


def waivers_applied(conn: psycopg.Connection, period: Period) -> list[dict]:
    """The coverage waivers that excuse a gap of ``period`` (what the coverage suite let through)."""
    from egov_expectations import coverage

    rows = conn.execute(
        f"""
        select waivers.waiver_id, waivers.source_key, waivers.first_day, waivers.last_day, waivers.agency_code,
               waivers.reason, waivers.waived_by, waivers.waived_at, count(*) as gaps
        from ({coverage.slice_query(period)}) as deliveries
        join audit.coverage_waivers as waivers using (waiver_id)
        where deliveries.status = 'waived'
        group by waivers.waiver_id
        order by waivers.waived_at
        """).fetchall()
    keys = ("waiver_id", "source_key", "first_day", "last_day", "agency_code", "reason", "waived_by", "waived_at",
            "gaps")
    return [{key: value if isinstance(value, int | str | None) else str(value) for key, value in zip(keys, row,
                                                                                                     strict=True)}
            for row in rows]


def record(conn: psycopg.Connection, gate: GateResult, raw: dict, run: RunContext = OUTSIDE_AIRFLOW) -> None:
    with conn.transaction():
        conn.execute(
            """
            insert into audit.validation_runs (validation_id, period, checkpoint, success, gx_run_id,
                failed, statistics, result, dag_id, run_id, figures_hash, dbt_invocation_id, waivers)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (gate.validation_id, gate.period, CHECKPOINT, gate.success, gate.gx_run_id,
             json.dumps([f.__dict__ for f in gate.failures]), json.dumps(gate.statistics),
             json.dumps(raw, default=str), run.dag_id, run.run_id, gate.figures_hash, gate.dbt_invocation_id,
             json.dumps(gate.waivers)),
        )


def run_gate(conn: psycopg.Connection, period: Period, target: config.PgTarget,
             run: RunContext = OUTSIDE_AIRFLOW, dbt_invocation_id: str | None = None) -> GateResult:
    """Validate ``period`` and record the outcome, tied to the dbt build (``dbt_invocation_id``) it judged.

    One OpenLineage job run ``gate.<period>`` over the guarded tables; a blocked gate still COMPLETEs (it
    judged), with ``success: false`` in its ``egov_validation`` facet.
    """
    from egov_expectations import SUITES

    with runs.job_run(
        f"gate.{period.label}",
        inputs=[runs.warehouse_dataset(conn, table) for table in sorted({s.table for s in SUITES})],
        parent=run,
    ) as openlineage_run:
        before = content_hash(period_figures(conn, period))
        waived_before = waivers_applied(conn, period)
        gate, raw = validate(period, target)
        conn.commit()  # end the snapshot the first hash was read in
        if content_hash(period_figures(conn, period)) != before:
            raise RuntimeError(f"the figures of {period.label} were rebuilt during validation; run the gate again")
        gate.waivers = waivers_applied(conn, period)
        if gate.waivers != waived_before:
            # What is recorded must be what GX judged: a waiver or a load landed while it ran.
            raise RuntimeError(f"the coverage waivers of {period.label} changed during validation; run the gate again")
        gate.figures_hash = before
        gate.dbt_invocation_id = dbt_invocation_id
        record(conn, gate, raw, run)
        openlineage_run.add(runs.ValidationRunFacet(
            validation_id=str(gate.validation_id), gx_run_id=gate.gx_run_id, period=gate.period,
            success=gate.success, dbt_invocation_id=dbt_invocation_id))
    log.info(gate.explain())
    build_data_docs(gate)
    return gate
