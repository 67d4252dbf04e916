"""``egov publish``, ``egov report`` and ``egov audit-pack``: making a release, and what is made from one."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from egov.cli.common import CommandError, say
from egov.core import config, db
from egov.core.periods import parse_period
from egov.core.values import plain_number
from egov.publication import audit_pack, publish, report
from egov.publication.release import release_diff
from egov.publication.report import FORMATS, LANGUAGES
from egov.quality import gate
from egov.transform import dbt


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("publish", help="build, validate and publish a period now, without Airflow")
    p.add_argument("--period", required=True, help="quarter (2019Q1) or year (2019)")
    p.add_argument("--reason", help="why: required when the figures differ from the last release")
    p.set_defaults(func=cmd_publish)
    p = subcommands.add_parser("report",
                               help="the quarterly report's figures section from a release: HTML, XLSX or Markdown")
    p.add_argument("period", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--lang", choices=LANGUAGES, default="vi", help="language of the report (default: vi)")
    p.add_argument("--format", choices=FORMATS, default="html", help="default: html")
    p.add_argument("--output", type=Path,
                   help="file to write (default: <state dir>/reports/<period>_<lang>.<format>)")
    p.set_defaults(func=cmd_report)
    p = subcommands.add_parser("audit-pack",
                               help="one archive with everything behind a release, and its SHA-256 manifest")
    p.add_argument("period", nargs="?", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--version", type=int, help="a past version of the release (default: the latest)")
    p.add_argument("--output", help="the archive's path (default: .egov/audit/audit_pack_PERIOD_vN.zip)")
    p.add_argument("--verify", metavar="FILE", help="check an archive against its manifest instead")
    p.set_defaults(func=cmd_audit_pack)


def cmd_publish(args: argparse.Namespace) -> int:
    """dbt build, the gate and publication in this process: for a republication by hand."""
    period = parse_period(args.period)
    # Each step signs in as its own job's role, as the DAG's tasks do.
    transformer, checker = db.job_target("dbt"), db.job_target("gate")
    built = dbt.build(transformer)
    say(f"dbt build {built.invocation_id}: {built.statuses}")
    with db.connect(transformer) as conn:
        dbt.record_invocation(conn, built)
    with db.connect(checker) as conn:
        outcome = gate.run_gate(conn, period, checker, dbt_invocation_id=built.invocation_id)
    if not outcome.success:
        raise CommandError(f"the gate blocked {period.label}; the previous release stays:\n{outcome.explain()}")
    with db.connect(db.job_target("publisher")) as conn:
        try:
            release = publish.publish(conn, period, outcome.validation_id, reason=args.reason)
        except publish.PublicationError as refused:
            raise CommandError(str(refused)) from None
        if not release.created:
            say(f"{period.label}: figures unchanged since version {release.version}; nothing new published")
            return 0
        say(f"published {period.label} version {release.version} (release {release.release_id})")
        for change in release_diff(conn, period, release.version):
            say(f"  {change['figure_id']:<44} {plain_number(change['previous_value'], missing='-'):>12} -> "
                f"{plain_number(change['value'], missing='-'):>12}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The report's figures section from the period's latest release, written to a file."""
    period = parse_period(args.period)
    # The report names the gate run behind its release (audit): the auditor's read-only role reads both.
    with db.connect(db.job_target("auditor")) as conn:
        try:
            data = report.load_report(conn, period)
        except report.ReportError as refused:
            raise CommandError(str(refused)) from None
    output = args.output or config.state_dir() / "reports" / f"{period.label}_{args.lang}.{args.format}"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(report.render(data, args.lang, args.format))
    say(str(output))
    return 0


def cmd_audit_pack(args: argparse.Namespace) -> int:
    """Write the auditor pack of a release, or check one against its SHA-256 manifest."""

    if args.verify:
        try:
            outcome = audit_pack.verify(Path(args.verify))
        except (OSError, zipfile.BadZipFile) as unreadable:
            raise CommandError(f"cannot read {args.verify}: {unreadable}") from None
        for problem in outcome.problems:
            say(f"  {problem}")
        say(f"{args.verify}: {outcome.files} files " + ("match their SHA-256 manifest" if outcome.ok else
                                                      "do NOT match their SHA-256 manifest"))
        return 0 if outcome.ok else 1
    if not args.period:
        raise CommandError("give the period to pack (egov audit-pack 2019Q1), or --verify FILE")
    period = parse_period(args.period)
    with db.connect(db.job_target("auditor")) as conn:
        try:
            release = audit_pack.release_of(conn, period, args.version)
            output = Path(args.output) if args.output else (
                config.state_dir() / "audit" / f"audit_pack_{period.label}_v{release['version']}.zip")
            path, digest = audit_pack.write(conn, period, output, release["version"])
        except audit_pack.AuditPackError as refused:
            raise CommandError(str(refused)) from None
    outcome = audit_pack.verify(path)
    say(f"{path}: {outcome.files} files, SHA-256 of the manifest {digest}")
    say("verified against its own manifest" if outcome.ok else "does NOT verify: " + "; ".join(outcome.problems))
    return 0 if outcome.ok else 1
