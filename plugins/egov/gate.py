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

from egov import config
from egov.extract import OUTSIDE_AIRFLOW, RunContext
from egov.periods import Period

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
        return "\n".join([head, *(f"  - {failure}" for failure in self.failures)])


def gx_root() -> str:
    return str(config.state_dir() / "gx")


def _context():
    # No usage analytics leave the machine (and none could: only package registries are reachable).
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=gx_root())
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _observed(result: dict) -> str:
    details = result.get("result") or {}
    for key in ("observed_value", "unexpected_count", "unexpected_list", "details"):
        if key in details and details[key] not in (None, [], {}):
            return f"{key}={json.dumps(details[key], default=str)[:300]}"
    return "no details"


def validate(period: Period, target: config.PgTarget) -> tuple[GateResult, dict]:
    """Run the checkpoint for ``period``; return the outcome and the raw GX result."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    from egov_expectations import SUITES

    context = _context()
    # GX writes its datasource config to disk: it keeps a ${VAR} reference, never the password.
    os.environ[CONNECTION_VAR] = target.url("postgresql+psycopg2")
    datasource = context.data_sources.add_or_update_postgres(
        name=DATASOURCE, connection_string="${" + CONNECTION_VAR + "}"
    )
    definitions = []
    for module in SUITES:
        model = module.MODEL.split(".")[1]
        asset_name = f"{model}__{period.label}"
        if asset_name in datasource.get_asset_names():
            datasource.delete_asset(asset_name)
        asset = datasource.add_query_asset(name=asset_name, query=module.slice_query(period))
        batch = asset.add_batch_definition_whole_table(f"{asset_name}__slice")
        suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=asset_name, expectations=module.expectations(period))
        )
        definitions.append(context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=asset_name, data=batch, suite=suite)
        ))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=f"{CHECKPOINT}__{period.label}",
        validation_definitions=definitions,
        actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
    ))
    checkpoint_result = checkpoint.run()
    failures = []
    evaluated = 0
    for suite_result in checkpoint_result.run_results.values():
        for outcome in suite_result.results:
            evaluated += 1
            if outcome.success:
                continue
            expectation = outcome.expectation_config
            raised = (outcome.exception_info or {}).get("exception_message")
            failures.append(Failure(
                suite=suite_result.suite_name.rsplit("__", 1)[0],  # the guarded model
                expectation=expectation.type,
                severity=str(getattr(expectation.severity, "value", expectation.severity) or "critical"),
                description=expectation.description or expectation.type,
                observed=f"error: {raised}" if raised else _observed(outcome.to_json_dict()),
            ))
    gate = GateResult(
        validation_id=uuid.uuid4(),
        period=period.label,
        success=not any(f.severity == "critical" for f in failures),
        gx_run_id=str(checkpoint_result.run_id),
        failures=failures,
        statistics={"evaluated": evaluated, "failed": len(failures)},
    )
    return gate, checkpoint_result.describe_dict()


def record(conn: psycopg.Connection, gate: GateResult, raw: dict, run: RunContext = OUTSIDE_AIRFLOW) -> None:
    with conn.transaction():
        conn.execute(
            """
            insert into audit.validation_runs (validation_id, period, checkpoint, success, gx_run_id,
                failed, statistics, result, dag_id, run_id, figures_hash)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (gate.validation_id, gate.period, CHECKPOINT, gate.success, gate.gx_run_id,
             json.dumps([f.__dict__ for f in gate.failures]), json.dumps(gate.statistics),
             json.dumps(raw, default=str), run.dag_id, run.run_id, gate.figures_hash),
        )


def run_gate(conn: psycopg.Connection, period: Period, target: config.PgTarget,
             run: RunContext = OUTSIDE_AIRFLOW) -> GateResult:
    from egov.publish import content_hash, period_figures

    before = content_hash(period_figures(conn, period))
    gate, raw = validate(period, target)
    conn.commit()  # end the snapshot the first hash was read in
    if content_hash(period_figures(conn, period)) != before:
        raise RuntimeError(f"the figures of {period.label} were rebuilt during validation; run the gate again")
    gate.figures_hash = before
    record(conn, gate, raw, run)
    log.info(gate.explain())
    return gate
