"""The demo's commands, which ``egov`` finds through the ``egov.commands`` entry points:

    egov sim up|down|status          the agency simulators
    egov run --period 2019Q1         the main job on the simulated systems: extract, build, validate, publish, show
    egov bench [--only load,gate]    the performance table: each measurement against its baseline and target
    egov scale-out [--workers 2]     the DAGs on LocalExecutor, then on CeleryExecutor: identical releases?
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from decimal import Decimal

from egov.cli.common import CommandError, say
from egov.cli.figures import matches, reference_values, show_figures
from egov.core import config, db
from egov.core.periods import Period, parse_period
from egov.core.sources import SOURCES
from egov.orchestration.runner import DagRunOutcome, migrate, run_dag
from egov.publication import review, trace
from egov.publication.release import latest_release, release_batch_ids
from egov_demo import bench, scale_out
from egov_demo.simulators import service


def register_sim(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("sim", help="the agency simulators: HTTP APIs, the document database and the file drops")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--name", choices=["onestop", "ca", "portal"],
                   help="one HTTP simulator only (default: every system)")
    p.set_defaults(func=cmd_sim)


def cmd_sim(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else list(service.HTTP_SIMULATORS)
    if args.action == "up":
        if args.name:
            state = service.up(args.name)
            say(f"simulator {args.name} is up at {state.base_url} (pid {state.pid})")
        else:
            for name, where in service.up_all().items():
                say(f"{name:10} {where}")
    elif args.action == "down":
        for name in names:
            say(f"simulator {name} stopped" if service.down(name) else f"simulator {name} was not running")
    else:
        down = 0
        for name in names:
            state = service.read_state(name)
            if state is None or not service.healthy(state):
                say(f"simulator {name} is not running")
                down += 1
            else:
                say(f"simulator {name} running at {state.base_url} (pid {state.pid})")
        return 3 if down else 0
    return 0


def register_run(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("run", help="extract, build, validate and publish one period through Airflow")
    p.add_argument("--period", default="2019Q1", help="the quarter or year to publish")
    p.add_argument("--load-from", type=date.fromisoformat,
                   help="also load the sources from this day (default: the period's first day)")
    p.add_argument("--load-to", type=date.fromisoformat,
                   help="also load the sources up to this day, inclusive (default: the period's last day)")
    p.add_argument("--reason",
                   help="why the figures changed, if they differ from the period's last release: recorded with the "
                        "new version (without it, changed figures are held for review and the run exits 4)")
    p.set_defaults(func=cmd_run)


class _Steps:
    """The numbered headings of a long run, each with the seconds since the start."""

    def __init__(self, total: int):
        self.total, self.done, self.started = total, 0, time.monotonic()

    def heading(self, text: str) -> None:
        self.done += 1
        say(f"[{self.done}/{self.total}] {text}  (+{self.elapsed():.0f}s)")

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def cmd_run(args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    steps = _Steps(5 + len(SOURCES))
    heading = steps.heading
    heading("PostgreSQL")
    status = db.up()
    say(f"      {status.mode} server at {config.redact(status.url)}")
    heading("agency simulators")
    for name, where in service.up_all().items():
        say(f"      {name:10} {where}")
    heading("Airflow metadata database")
    say(f"      migrated in {migrate():.1f}s")
    load_from = min(args.load_from or period.start, period.start)
    load_end = max(args.load_to + timedelta(days=1) if args.load_to else period.end, period.end)
    for key, source in SOURCES.items():
        # Stocks derived from a feed of changes (active certificates) need the feed from its beginning.
        start = source.full_load_start(load_from)
        heading(f"extract {key} ({source.interface}) {start} .. {load_end - timedelta(days=1)} "
                f"(Airflow DAG egov_extract_{key})")
        run_id = _run_dag(f"egov_extract_{key}", load_end.isoformat(),
                          {"window_start": str(start), "window_end": str(load_end)})
        say(_batches_of_run(run_id))
    heading(f"dbt build, Great Expectations gate and publication of {period.label} "
            "(Airflow DAG egov_publish_quarterly)")
    held = _publish(period, load_end.isoformat(), args.reason)
    if held:
        say(f"pipeline stopped after {steps.elapsed():.0f}s: {held.period} held for review; the release stands")
        say(held.explain())
        return review.EXIT_PENDING_REVIEW
    heading(f"trace of the {period.label} release, every figure down to its raw rows and load batches")
    say(_trace_summary(period))
    say(f"pipeline finished in {steps.elapsed():.0f}s\n")
    return show_figures(period, as_json=False)


def _run_dag(dag_id: str, logical_date: str, conf: dict) -> str:
    outcome = run_dag(dag_id, logical_date, conf)
    say(f"      {outcome.summary()}")
    _check_outcome(dag_id, outcome)
    return outcome.run_id


def _check_outcome(dag_id: str, outcome: DagRunOutcome) -> None:
    """Say why a run failed and stop, if it did."""
    if outcome.tasks.get("quality_gate") == "failed":
        say(_gate_failures(outcome.run_id))
    if not outcome.succeeded:
        raise CommandError(f"{dag_id} ended {outcome.state}; airflow output {outcome.log_path}, "
                           f"task logs under {config.state_dir() / 'airflow' / 'logs'}")


def _publish(period: Period, logical_date: str, reason: str | None) -> review.PendingReview | None:
    """The publish DAG; what it held for review if it found the figures of a published period changed and had
    no reason to publish them."""
    outcome = run_dag("egov_publish_quarterly", logical_date, {"period": period.label, "reason": reason})
    say(f"      {outcome.summary()}")
    if not outcome.succeeded and outcome.tasks.get("publish") == "failed":
        with db.connect(db.job_target("auditor")) as conn:
            held = review.open_reviews(conn, period, run_id=outcome.run_id)
        if held:
            return held[0]
    _check_outcome("egov_publish_quarterly", outcome)
    return None


def _batches_of_run(run_id: str) -> str:
    """What a run loaded: one line per batch with its rows, quarantined records and id."""
    with db.connect(db.admin_target()) as conn:
        rows = conn.execute(
            "select raw_table, window_start, window_end, row_count, rejected_count, batch_id "
            "from audit.load_batches where run_id = %s order by raw_table, window_start nulls first",
            (run_id,)).fetchall()
    lines = [f"      {'raw table':40} {'window':23} {'rows':>8} {'quarantined':>11}  batch"]
    for table, start, end, count, rejected, batch_id in rows:
        window = f"{start} .. {end}" if start else "snapshot"
        lines.append(f"      {table:40} {window:23} {count:8d} {rejected:11d}  {batch_id}")
    return "\n".join(lines)


def _gate_failures(run_id: str) -> str:
    """Why the gate of run ``run_id`` blocked publication, from audit.validation_runs."""
    with db.connect(db.admin_target()) as conn:
        row = conn.execute("select period, failed from audit.validation_runs where run_id = %s "
                           "order by validated_at desc limit 1", (run_id,)).fetchone()
    if row is None:
        return "      the gate did not record a result (see the task log)"
    period, failed = row
    lines = [f"      the gate blocked publication of {period}; the previous release stays:"]
    lines += [f"        [{f['severity']}] {f['suite']}: {f['description']} ({f['observed']})" for f in failed]
    return "\n".join(lines)


def _trace_summary(period: Period) -> str:
    """Whether every published figure traces down to its batches, reconciled, and where the details are."""
    with db.connect(db.admin_target()) as conn:
        traces = trace.trace_period(conn, period)
        latest = latest_release(conn, period)
        release = (latest["version"], latest["release_id"], latest["content_hash"])
        batches = len(release_batch_ids(conn, str(release[1])))
    broken = [figure_id for figure_id, found in traces.items() if not found.reconciled]
    verified = {b.batch_id for found in traces.values() for b in found.batches if b.checksum_verified}
    lines = [f"      release version {release[0]} ({release[1]}) rests on {batches} load batches "
             f"({len(verified)} verified against their load checksums)",
             f"      release content hash {release[2]}",
             f"      {len(traces) - len(broken)} of {len(traces)} figures reconcile at every level from release to "
             "raw rows", f"      egov trace {period.label} FIGURE shows one chain; egov audit-pack {period.label} "
             "packs it all for an auditor; egov report " + period.label + " renders the report"]
    if broken:
        lines.append(f"      NOT reconciled: {', '.join(broken)}")
    return "\n".join(lines)


def register_bench(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("bench", help="benchmarks measured side by side: ratios against baselines and targets")
    p.add_argument("--only", help="comma-separated benchmarks (default: all)")
    p.add_argument("--units", type=int, default=10_000, help="units of the national-scale simulation")
    p.add_argument("--days", type=int, default=365, help="days of the national-scale simulation")
    p.add_argument("--repeats", type=int, default=5, help="repetitions of each timed measurement")
    p.add_argument("--keep", action="store_true", help="keep the bench_* databases afterwards")
    p.add_argument("--check", action="store_true", help="exit 1 if a row misses its target")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    only = [name.strip() for name in args.only.split(",")] if args.only else None
    unknown = sorted(set(only or ()) - set(bench.MODULES))
    if unknown:
        raise CommandError(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(bench.MODULES)}")
    db.up()
    settings = bench.Bench(units=args.units, days=args.days, repeats=args.repeats, keep=args.keep)
    started = time.monotonic()
    try:
        rows = bench.run(settings, only)
    except bench.BenchError as failed:
        raise CommandError(f"bench: {failed}") from None
    say()
    say(bench.render(rows))
    targets = [row for row in rows if row.met is not None]
    missed = [row for row in targets if not row.met]
    say(f"\n{len(rows)} rows in {time.monotonic() - started:.0f}s, {len(targets) - len(missed)} of {len(targets)} "
        f"targets met; results in {settings.out_dir / 'results.json'}")
    return 1 if missed and args.check else 0


def register_scale_out(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("scale-out",
                               help="run the DAGs on LocalExecutor and on CeleryExecutor; compare the releases")
    p.add_argument("--period", default="2019Q1", help="the quarter to extract and publish (default 2019Q1)")
    p.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    p.set_defaults(func=cmd_scale_out)


def cmd_scale_out(args: argparse.Namespace) -> int:
    period = parse_period(args.period)
    db.up()
    say(f"{period.label} through a real scheduler, once per executor: "
        f"{', '.join(scale_out.EXECUTORS)} ({args.workers} Celery workers, Redis broker)")
    try:
        runs, problems = scale_out.compare(period, args.workers)
    except scale_out.ScaleOutError as failed:
        raise CommandError(str(failed)) from None
    say(f"\n{'executor':<16} {'wall time':>9}  {'DAG runs':<10} {'tasks per worker':<36} release content hash")
    for run in runs:
        succeeded = sum(state == "success" for state in run.dag_runs.values())
        workers = ", ".join(f"{name}={count}" for name, count in run.tasks_by_worker.items())
        say(f"{run.executor:<16} {scale_out.elapsed(run.seconds):>9}  {succeeded}/{len(run.dag_runs):<8} "
            f"{workers:<36} {run.content_hash}")
    if problems:
        say("\nNOT identical: " + "; ".join(problems))
        return 1
    say(f"\nidentical: {len(runs[0].figures)} figures and the release content hash, on both executors")
    if period.label == "2019Q1":
        reference = reference_values()
        equal = sum(matches(stated, Decimal(runs[-1].figures[figure_id])) for figure_id, stated in reference.items()
                    if figure_id in runs[-1].figures)
        say(f"{equal} of {len(reference)} figures equal the seed report")
        return 0 if equal == len(reference) else 1
    return 0
