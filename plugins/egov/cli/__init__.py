"""``egov``: the project's command line.

    egov db up|down|status|url       the warehouse's PostgreSQL
    egov db url --role bi|auditor    how a BI tool or an auditor signs in (--show-password to print it)
    egov sim up|down|status          the agency simulators
    egov airflow ARGS...             the airflow CLI with the project's configuration
    egov dbt ARGS...                 dbt with the warehouse's credentials
    egov run --period 2019Q1         the main job: extract, build, validate, publish, show
    egov figures --period 2019Q1     published figures (--json for machines)
    egov report 2019Q1 --lang vi --format html|xlsx|md   the report's figures section from the release
    egov trace 2019Q1 [FIGURE]       a figure traced to its raw rows and source batches, reconciled
    egov waive --source ... --reason accept a gap in a source's data for the coverage gate
    egov publish --period 2019Q1     build, validate and publish now (a new version needs --reason)
    egov audit-pack 2019Q1           everything behind a release in one archive (--verify FILE to check one)
    egov bench [--only load,gate]    the performance table: each measurement against its baseline and target
    egov scale-out [--workers 2]     the DAGs on LocalExecutor, then on CeleryExecutor: identical releases?
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from egov_demo.scale_out import ScaleOutError

from egov.core import config, db
from egov.core.periods import Period, parse_period
from egov.core.values import json_value, plain_number
from egov.core.warehouse import ACCESS_ROLES
from egov.orchestration.runner import AirflowCommandError

REFERENCE_FIGURES = config.DATA_DIR / "q1_2019_report_figures.csv"


class CommandError(RuntimeError):
    """A failure to report to the user in one clear line, without a traceback."""


def _print(message: str = "") -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- db


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "up":
        status = db.up()
        _print(f"PostgreSQL ({status.mode}) is up: {status.url}")
    elif args.action == "down":
        _print("PostgreSQL stopped" if db.down() else "PostgreSQL was not running")
    elif args.action == "status":
        status = db.status()
        state = "running" if status.running else "stopped"
        _print(f"{status.mode} server {state}; url {status.url or '-'}"
               + (f"; pid {status.pid}; data {status.data_dir}" if status.pid else ""))
        return 0 if status.running else 3
    elif args.action == "url" and args.role:
        url = db.role_target(args.role).url()
        _print(url if args.show_password else config.redact(url))
    elif args.action == "url":
        target = db.airflow_target() if args.airflow else db.warehouse_target()
        _print(target.url())
    return 0


# ---------------------------------------------------------------- simulators


def cmd_sim(args: argparse.Namespace) -> int:
    from egov_demo.simulators import service

    names = [args.name] if args.name else list(service.HTTP_SIMULATORS)
    if args.action == "up":
        if args.name:
            state = service.up(args.name)
            _print(f"simulator {args.name} is up at {state.base_url} (pid {state.pid})")
        else:
            for name, where in service.up_all().items():
                _print(f"{name:10} {where}")
    elif args.action == "down":
        for name in names:
            _print(f"simulator {name} stopped" if service.down(name) else f"simulator {name} was not running")
    else:
        down = 0
        for name in names:
            state = service.read_state(name)
            if state is None or not service.healthy(state):
                _print(f"simulator {name} is not running")
                down += 1
            else:
                _print(f"simulator {name} running at {state.base_url} (pid {state.pid})")
        return 3 if down else 0
    return 0


# ---------------------------------------------------------------- airflow


def cmd_airflow(args: argparse.Namespace) -> int:
    from egov.orchestration.airflow_env import airflow_env
    airflow = config.venv_tool("airflow")
    os.execvpe(airflow, [airflow, *args.airflow_args], airflow_env())
    return 0  # not reached


def cmd_dbt(args: argparse.Namespace) -> int:
    from egov.transform import dbt

    os.chdir(config.DBT_PROJECT_DIR)
    dbt_bin = config.venv_tool("dbt")
    os.execvpe(dbt_bin, [dbt_bin, *args.dbt_args], dbt.dbt_env(db.warehouse_target()))
    return 0  # not reached


def _run_dag(dag_id: str, logical_date: str, conf: dict) -> str:
    from egov.orchestration.runner import run_dag

    outcome = run_dag(dag_id, logical_date, conf)
    _print(f"      {outcome.summary()}")
    if outcome.tasks.get("quality_gate") == "failed":
        _print(_gate_failures(outcome.run_id))
    if not outcome.succeeded:
        raise CommandError(f"{dag_id} ended {outcome.state}; airflow output {outcome.log_path}, "
                           f"task logs under {config.state_dir() / 'airflow' / 'logs'}")
    return outcome.run_id


def _batches_of_run(run_id: str) -> str:
    """What a run loaded: one line per batch with its rows, quarantined records and id."""
    with db.connect() as conn:
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
    with db.connect() as conn:
        row = conn.execute("select period, failed from audit.validation_runs where run_id = %s "
                           "order by validated_at desc limit 1", (run_id,)).fetchone()
    if row is None:
        return "      the gate did not record a result (see the task log)"
    period, failed = row
    lines = [f"      the gate blocked publication of {period}; the previous release stays:"]
    lines += [f"        [{f['severity']}] {f['suite']}: {f['description']} ({f['observed']})" for f in failed]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from egov_demo.simulators import service

    from egov.core.sources import SOURCES

    period = parse_period(args.period)
    started = time.monotonic()
    steps = 5 + len(SOURCES)
    step = 0

    def heading(text: str) -> None:
        nonlocal step
        step += 1
        _print(f"[{step}/{steps}] {text}  (+{time.monotonic() - started:.0f}s)")

    heading("PostgreSQL")
    status = db.up()
    _print(f"      {status.mode} server at {config.redact(status.url)}")
    heading("agency simulators")
    for name, where in service.up_all().items():
        _print(f"      {name:10} {where}")
    heading("Airflow metadata database")
    from egov.orchestration.runner import migrate

    _print(f"      migrated in {migrate():.1f}s")
    load_from = min(args.load_from or period.start, period.start)
    load_end = max(args.load_to + timedelta(days=1) if args.load_to else period.end, period.end)
    for key, source in SOURCES.items():
        # Stocks derived from a feed of changes (active certificates) need the feed from its beginning.
        start = source.full_load_start(load_from)
        heading(f"extract {key} ({source.interface}) {start} .. {load_end - timedelta(days=1)} "
                f"(Airflow DAG egov_extract_{key})")
        run_id = _run_dag(f"egov_extract_{key}", load_end.isoformat(),
                          {"window_start": str(start), "window_end": str(load_end)})
        _print(_batches_of_run(run_id))
    heading(f"dbt build, Great Expectations gate and publication of {period.label} "
            "(Airflow DAG egov_publish_quarterly)")
    _run_dag("egov_publish_quarterly", load_end.isoformat(), {"period": period.label, "reason": args.reason})
    heading(f"figure-level lineage of the {period.label} release")
    _print(_lineage_summary(period))
    _print(f"pipeline finished in {time.monotonic() - started:.0f}s\n")
    return _show_figures(period, as_json=False)


def _lineage_summary(period: Period) -> str:
    """Whether every published figure traces down to its batches, reconciled, and where the details are."""
    from egov.publication import trace
    from egov.publication.publish import latest_release

    with db.connect() as conn:
        traces = trace.trace_period(conn, period)
        latest = latest_release(conn, period)
        release = (latest["version"], latest["release_id"])
        batches = conn.execute("select count(*) from published.release_batches where release_id = %s",
                               (release[1],)).fetchone()[0]
    broken = [figure_id for figure_id, found in traces.items() if not found["reconciled"]]
    verified = {b["batch_id"] for found in traces.values() for b in found["batches"] if b["checksum_verified"]}
    lines = [f"      release version {release[0]} ({release[1]}) rests on {batches} load batches "
             f"({len(verified)} verified against their load checksums)",
             f"      {len(traces) - len(broken)} of {len(traces)} figures reconcile at every level from release to "
             "raw rows", f"      egov trace {period.label} FIGURE shows one chain; egov audit-pack {period.label} "
             "packs it all for an auditor; egov report " + period.label + " renders the report"]
    if broken:
        lines.append(f"      NOT reconciled: {', '.join(broken)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- figures


def _reference_values() -> dict[str, str]:
    with REFERENCE_FIGURES.open(encoding="utf-8") as handle:
        return {row["figure_id"]: row["value"] for row in csv.DictReader(handle)}


def _matches(stated: str, value: Decimal | None) -> bool:
    """Whether ``value`` is what the report states: a number, or a bound such as ">0.90"."""
    if value is None:
        return False
    if stated.startswith(">"):
        return value > Decimal(stated[1:])
    return value == Decimal(stated)


def _print_figure_table(figures: list[dict], reference: dict[str, str], value_heading: str) -> int:
    """The figures beside the seed report's, with a verdict per row; the number of mismatches."""
    header = f"{'figure_id':<44} {value_heading:>12} {'seed report':>12}  match"
    _print(header)
    _print("-" * len(header))
    mismatches = 0
    for figure in figures:
        stated = reference.get(figure["figure_id"])
        same = stated is not None and _matches(stated, figure["value"])
        mismatches += stated is not None and not same
        mark = "" if stated is None else ("yes" if same else "NO")
        shown = plain_number(figure["value"])
        stated_shown = "-" if stated is None else stated if stated.startswith(">") else plain_number(Decimal(stated))
        _print(f"{figure['figure_id']:<44} {shown:>12} {stated_shown:>12}  {mark}")
    if reference:
        _print(f"\n{len(figures) - mismatches} of {len(figures)} figures equal the seed report")
        missing = sorted(set(reference) - {f["figure_id"] for f in figures})
        if missing:
            _print(f"{len(missing)} figures of the seed report are missing: " + ", ".join(missing))
            mismatches += len(missing)
    return mismatches


def _current_figures(period: Period) -> list[dict]:
    """The figures as the warehouse knows them now (reporting.rpt_report_figures), published or not."""
    with db.connect() as conn:
        rows = conn.execute(
            "select figure_id, figure_value, unit from reporting.rpt_report_figures where period = %s "
            "order by display_order", (period.label,)).fetchall()
    return [{"figure_id": figure_id, "value": value, "unit": unit} for figure_id, value, unit in rows]


def _show_figures(period: Period, as_json: bool, current: bool = False) -> int:
    from egov.publication.publish import published_figures

    if current:
        figures = _current_figures(period)
    else:
        with db.connect() as conn:
            figures = published_figures(conn, period)
    if as_json:
        release_keys = ("version", "release_id", "published_at", "validation_id")
        document = {
            "period": period.label,
            "release": {key: figures[0][key] for key in release_keys} if figures and not current else None,
            "figures": {f["figure_id"]: {"value": json_value(f["value"]) if f["value"] is not None else None,
                                         "unit": f["unit"]} for f in figures},
        }
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        _print()
        return 0 if figures else 1
    if not figures and not current:
        _print(f"nothing published for {period.label}; the warehouse's figures follow")
        _show_figures(period, as_json, current=True)
        return 1  # so that a script asking "is it published?" is not told yes
    if not figures:
        _print(f"no figures in the warehouse for {period.label}: load its sources first (egov run --period ...)")
        return 1
    if current:
        _print(f"Figures {period.label} as the warehouse knows them now (not a release); "
               "'unknown': a stock whose source has not been loaded through the period's end")
    else:
        first = figures[0]
        _print(f"Published figures {period.label}, version {first['version']} "
               f"(release {first['release_id']}, {first['published_at']})")
    reference = _reference_values() if period.label == "2019Q1" else {}
    mismatches = _print_figure_table(figures, reference, "warehouse" if current else "published")
    return 0 if mismatches == 0 else 1


def cmd_publish(args: argparse.Namespace) -> int:
    """dbt build, the gate and publication in this process: for a republication by hand."""
    from egov.publication import publish
    from egov.quality import gate
    from egov.transform import dbt

    period = parse_period(args.period)
    target = db.warehouse_target()
    built = dbt.build(target)
    _print(f"dbt build {built.invocation_id}: {built.statuses}")
    with db.connect() as conn:
        dbt.record_invocation(conn, built)
        outcome = gate.run_gate(conn, period, target, dbt_invocation_id=built.invocation_id)
        if not outcome.success:
            raise CommandError(f"the gate blocked {period.label}; the previous release stays:\n{outcome.explain()}")
        try:
            release = publish.publish(conn, period, outcome.validation_id, reason=args.reason)
        except publish.PublicationError as refused:
            raise CommandError(str(refused)) from None
        if not release.created:
            _print(f"{period.label}: figures unchanged since version {release.version}; nothing new published")
            return 0
        _print(f"published {period.label} version {release.version} (release {release.release_id})")
        for change in publish.release_diff(conn, period, release.version):
            _print(f"  {change['figure_id']:<44} {plain_number(change['previous_value'], missing='-'):>12} -> "
                   f"{plain_number(change['value'], missing='-'):>12}")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    return _show_figures(parse_period(args.period), args.json, args.current)


def cmd_report(args: argparse.Namespace) -> int:
    """The report's figures section from the period's latest release, written to a file."""
    from egov.publication import report

    period = parse_period(args.period)
    with db.connect() as conn:
        try:
            data = report.load_report(conn, period)
        except report.ReportError as refused:
            raise CommandError(str(refused)) from None
    output = args.output or config.state_dir() / "reports" / f"{period.label}_{args.lang}.{args.format}"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(report.render(data, args.lang, args.format))
    _print(str(output))
    return 0


# ---------------------------------------------------------------- lineage and waivers


def cmd_trace(args: argparse.Namespace) -> int:
    """One figure's chain in full, or every figure of the period a line each; exit 1 unless all reconcile."""
    from egov.publication import trace

    period = parse_period(args.period)
    with db.connect() as conn:
        try:
            if args.figure:
                traces = {args.figure: trace.trace_figure(conn, period, args.figure, args.version, not args.no_verify)}
            else:
                traces = trace.trace_period(conn, period, args.version, not args.no_verify)
        except trace.TraceError as refused:
            raise CommandError(str(refused)) from None
    if args.json:
        document = traces[args.figure] if args.figure else {"period": period.label, "figures": traces}
        json.dump(trace.to_json(document), sys.stdout, indent=2, ensure_ascii=False, default=str)
        _print()
    elif args.figure:
        _print(trace.format_trace(traces[args.figure]))
    else:
        for figure_id, found in traces.items():
            levels = " ".join(f"{level['level']}{'✓' if level['reconciled'] else '✗'}" for level in found["levels"])
            _print(f"{figure_id:<44} {plain_number(found['figure']['value']):>14}  {levels}")
        reconciled = sum(found["reconciled"] for found in traces.values())
        _print(f"\n{reconciled} of {len(traces)} figures of {period.label} reconcile at every level "
               f"(egov trace {period.label} FIGURE for one chain in full)")
    return 0 if all(found["reconciled"] for found in traces.values()) else 1


def cmd_audit_pack(args: argparse.Namespace) -> int:
    """Write the auditor pack of a release, or check one against its SHA-256 manifest."""
    import zipfile
    from pathlib import Path

    from egov.publication import audit_pack

    if args.verify:
        try:
            outcome = audit_pack.verify(Path(args.verify))
        except (OSError, zipfile.BadZipFile) as unreadable:
            raise CommandError(f"cannot read {args.verify}: {unreadable}") from None
        for problem in outcome.problems:
            _print(f"  {problem}")
        _print(f"{args.verify}: {outcome.files} files " + ("match their SHA-256 manifest" if outcome.ok else
                                                         "do NOT match their SHA-256 manifest"))
        return 0 if outcome.ok else 1
    if not args.period:
        raise CommandError("give the period to pack (egov audit-pack 2019Q1), or --verify FILE")
    period = parse_period(args.period)
    with db.connect() as conn:
        try:
            release = audit_pack.release_of(conn, period, args.version)
            output = Path(args.output) if args.output else (
                config.state_dir() / "audit" / f"audit_pack_{period.label}_v{release['version']}.zip")
            path, digest = audit_pack.write(conn, period, output, release["version"])
        except audit_pack.AuditPackError as refused:
            raise CommandError(str(refused)) from None
    outcome = audit_pack.verify(path)
    _print(f"{path}: {outcome.files} files, SHA-256 of the manifest {digest}")
    _print("verified against its own manifest" if outcome.ok else "does NOT verify: " + "; ".join(outcome.problems))
    return 0 if outcome.ok else 1


def cmd_waive(args: argparse.Namespace) -> int:
    """Record that a gap in a source's data is accepted, so that the coverage gate lets it through."""
    import getpass
    import uuid

    from egov.core.sources import SOURCES

    if args.source not in SOURCES:
        raise CommandError(f"unknown source {args.source!r}; one of {', '.join(SOURCES)}")
    last = args.to or args.day
    if last < args.day:
        raise CommandError(f"--to {last} is before the first day {args.day}")
    if not args.reason.strip():
        raise CommandError("a waiver needs a reason (--reason)")
    waiver_id = uuid.uuid4()
    with db.connect() as conn:
        # A waiver cannot be taken back: a mistyped unit must be refused, not recorded.
        if args.agency and not conn.execute("select 1 from marts.dim_agency where agency_code = %s",
                                            (args.agency,)).fetchone():
            raise CommandError(f"unknown unit {args.agency!r}: not in marts.dim_agency")
        conn.execute(
            "insert into audit.coverage_waivers (waiver_id, source_key, first_day, last_day, agency_code, reason, "
            "waived_by) values (%s, %s, %s, %s, %s, %s, %s)",
            (waiver_id, args.source, args.day, last, args.agency, args.reason.strip(), args.by or getpass.getuser()))
    unit = f" unit {args.agency}" if args.agency else " every unit"
    _print(f"waiver {waiver_id}: {args.source}{unit}, {args.day} .. {last}: {args.reason.strip()}")
    return 0


# ---------------------------------------------------------------- bench


def cmd_bench(args: argparse.Namespace) -> int:
    from egov_demo import bench

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
    _print()
    _print(bench.render(rows))
    targets = [row for row in rows if row.met is not None]
    missed = [row for row in targets if not row.met]
    _print(f"\n{len(rows)} rows in {time.monotonic() - started:.0f}s, {len(targets) - len(missed)} of {len(targets)} "
           f"targets met; results in {settings.out_dir / 'results.json'}")
    return 1 if missed and args.check else 0


# ---------------------------------------------------------------- scale-out


def cmd_scale_out(args: argparse.Namespace) -> int:
    from egov_demo import scale_out

    period = parse_period(args.period)
    db.up()
    _print(f"{period.label} through a real scheduler, once per executor: "
           f"{', '.join(scale_out.EXECUTORS)} ({args.workers} Celery workers, Redis broker)")
    runs, problems = scale_out.compare(period, args.workers)
    _print(f"\n{'executor':<16} {'wall time':>9}  {'DAG runs':<10} {'tasks per worker':<36} release content hash")
    for run in runs:
        succeeded = sum(state == "success" for state in run.dag_runs.values())
        workers = ", ".join(f"{name}={count}" for name, count in run.tasks_by_worker.items())
        _print(f"{run.executor:<16} {scale_out.elapsed(run.seconds):>9}  {succeeded}/{len(run.dag_runs):<8} "
               f"{workers:<36} {run.content_hash}")
    if problems:
        _print("\nNOT identical: " + "; ".join(problems))
        return 1
    _print(f"\nidentical: {len(runs[0].figures)} figures and the release content hash, on both executors")
    if period.label == "2019Q1":
        reference = _reference_values()
        equal = sum(_matches(stated, Decimal(runs[-1].figures[figure_id])) for figure_id, stated in reference.items()
                    if figure_id in runs[-1].figures)
        _print(f"{equal} of {len(reference)} figures equal the seed report")
        return 0 if equal == len(reference) else 1
    return 0


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egov", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="the warehouse's PostgreSQL server")
    p.add_argument("action", choices=["up", "down", "status", "url"])
    database = p.add_mutually_exclusive_group()
    database.add_argument("--airflow", action="store_true", help="with url: the Airflow metadata database")
    database.add_argument("--role", choices=list(ACCESS_ROLES),
                          help="with url: the warehouse as the read-only role of BI tools or of auditors")
    p.add_argument("--show-password", action="store_true", help="with url --role: the password instead of ***")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("sim", help="the agency simulators: HTTP APIs, the document database and the file drops")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--name", choices=["onestop", "ca", "portal"],
                   help="one HTTP simulator only (default: every system)")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("airflow", help="run the airflow CLI with the project's configuration",
                       add_help=False)
    p.add_argument("airflow_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("dbt", help="run dbt against the warehouse", add_help=False)
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("run", help="extract, build, validate and publish one period through Airflow")
    p.add_argument("--period", default="2019Q1", help="the quarter or year to publish")
    p.add_argument("--load-from", type=date.fromisoformat,
                   help="also load the sources from this day (default: the period's first day)")
    p.add_argument("--load-to", type=date.fromisoformat,
                   help="also load the sources up to this day, inclusive (default: the period's last day)")
    p.add_argument("--reason", default="egov run: figures rebuilt from the sources as loaded now",
                   help="recorded with a new version if the figures differ from the last release")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("publish", help="build, validate and publish a period now, without Airflow")
    p.add_argument("--period", required=True, help="quarter (2019Q1) or year (2019)")
    p.add_argument("--reason", help="why: required when the figures differ from the last release")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("figures", help="the figures of a quarter (2019Q3) or a year (2019): published, or --current")
    p.add_argument("--period", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--current", action="store_true",
                   help="the warehouse's figures as they are now, whether or not a release carries them")
    p.set_defaults(func=cmd_figures)

    from egov.publication.report import FORMATS, LANGUAGES

    p = sub.add_parser("report", help="the quarterly report's figures section from a release: HTML, XLSX or Markdown")
    p.add_argument("period", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--lang", choices=LANGUAGES, default="vi", help="language of the report (default: vi)")
    p.add_argument("--format", choices=FORMATS, default="html", help="default: html")
    p.add_argument("--output", type=Path,
                   help="file to write (default: <state dir>/reports/<period>_<lang>.<format>)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("trace", help="trace a figure down to the raw rows and source batches it came from")
    p.add_argument("period", help="quarter (2019Q1) or year (2019)")
    p.add_argument("figure", nargs="?", help="figure id (default: every figure of the period, a line each)")
    p.add_argument("--version", type=int, help="a past version of the release (default: the latest)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-verify", action="store_true",
                   help="do not recompute the batches' SHA-256 checksums from raw (faster)")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser("audit-pack", help="one archive with everything behind a release, and its SHA-256 manifest")
    p.add_argument("period", nargs="?", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--version", type=int, help="a past version of the release (default: the latest)")
    p.add_argument("--output", help="the archive's path (default: .egov/audit/audit_pack_PERIOD_vN.zip)")
    p.add_argument("--verify", metavar="FILE", help="check an archive against its manifest instead")
    p.set_defaults(func=cmd_audit_pack)

    p = sub.add_parser("waive", help="accept a gap in a source's data, with a reason, for the coverage gate")
    p.add_argument("--source", required=True, help="source key (onestop, docmgmt, mail, ca, portal, registers)")
    p.add_argument("--day", required=True, type=date.fromisoformat, help="first day of the gap")
    p.add_argument("--to", type=date.fromisoformat, help="last day of the gap, inclusive (default: --day)")
    p.add_argument("--agency", help="only this unit (default: every unit of the source)")
    p.add_argument("--reason", required=True, help="why the gap is accepted; kept with the release it lets through")
    p.add_argument("--by", help="who accepts it (default: the login name)")
    p.set_defaults(func=cmd_waive)

    p = sub.add_parser("bench", help="benchmarks measured side by side: ratios against baselines and targets")
    p.add_argument("--only", help="comma-separated benchmarks (default: all)")
    p.add_argument("--units", type=int, default=10_000, help="units of the national-scale simulation")
    p.add_argument("--days", type=int, default=365, help="days of the national-scale simulation")
    p.add_argument("--repeats", type=int, default=5, help="repetitions of each timed measurement")
    p.add_argument("--keep", action="store_true", help="keep the bench_* databases afterwards")
    p.add_argument("--check", action="store_true", help="exit 1 if a row misses its target")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("scale-out", help="run the DAGs on LocalExecutor and on CeleryExecutor; compare the releases")
    p.add_argument("--period", default="2019Q1", help="the quarter to extract and publish (default 2019Q1)")
    p.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    p.set_defaults(func=cmd_scale_out)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (CommandError, AirflowCommandError, db.DatabaseError, ScaleOutError, ValueError) as exc:
        print(f"egov: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"egov: cannot reach the warehouse ({first_line}); start it with `egov db up` (or `make run`)",
              file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`egov figures ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
