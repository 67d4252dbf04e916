"""``egov publish``, ``egov report`` and ``egov audit-pack``: making a release, and what is made from one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from egov.cli.common import CommandError, say
from egov.core import config, db
from egov.core.periods import Period, parse_period
from egov.core.values import plain_number
from egov.publication import audit_pack, publish, report, review
from egov.publication.release import release_diff
from egov.publication.report import FORMATS, LANGUAGES
from egov.quality import gate
from egov.transform import dbt


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("publish", help="build, validate and publish a period now, without Airflow")
    p.add_argument("--period", required=True, help="quarter (2019Q1) or year (2019)")
    p.add_argument("--reason", help="why: required when the figures differ from the last release (without it, "
                                    "changed figures are held for review and the command exits 4)")
    p.set_defaults(func=cmd_publish)
    p = subcommands.add_parser("pending", help="changed figures of published periods waiting for a reason")
    p.add_argument("--period", help="one quarter (2019Q1) or year (2019) only")
    p.set_defaults(func=cmd_pending)
    p = subcommands.add_parser("report",
                               help="the quarterly report's figures section from a release: HTML, XLSX or Markdown")
    p.add_argument("period", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--lang", choices=LANGUAGES, default="vi", help="language of the report (default: vi)")
    p.add_argument("--format", choices=FORMATS, default="html", help="default: html")
    p.add_argument("--output", type=Path,
                   help="file to write (default: <state dir>/reports/<period>_<lang>.<format>)")
    p.set_defaults(func=cmd_report)
    p = subcommands.add_parser("audit-pack",
                               help="one signed archive with everything behind a release, or check one")
    p.add_argument("period", nargs="?", help="quarter (2019Q1) or year (2019)")
    p.add_argument("--version", type=int, help="a past version of the release (default: the latest)")
    p.add_argument("--output", help="the archive's path (default: .egov/audit/audit_pack_PERIOD_vN.zip)")
    p.add_argument("--verify", metavar="FILE",
                   help="check an archive instead: its members, their SHA-256 and the manifest's signature")
    p.add_argument("--public-key", metavar="FILE", type=Path,
                   help="with --verify: the signer's public key to trust, PEM or hex (default: this deployment's)")
    p.add_argument("--against-warehouse", action="store_true",
                   help="with --verify: also check the release in published.releases and the pack in "
                        "audit.audit_packs")
    p.add_argument("--show-public-key", action="store_true",
                   help="print this deployment's public key (PEM), for an auditor's --public-key")
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
        except publish.ReviewPending as held:
            say(str(held))
            return review.EXIT_PENDING_REVIEW
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


def cmd_pending(args: argparse.Namespace) -> int:
    """Each period whose changed figures wait for a reason, with the diff; exit 4 if there is any."""
    period = parse_period(args.period) if args.period else None
    with db.connect(db.job_target("auditor")) as conn:
        held = review.open_reviews(conn, period)
    for pending in held:
        say(f"{pending.detected_at:%Y-%m-%d %H:%M %Z} {pending.explain()}")
    if not held:
        say("no changed figures wait for review" + (f" in {period.label}" if period else ""))
    return review.EXIT_PENDING_REVIEW if held else 0


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
    """Write the signed auditor pack of a release, check one, or show the key that signs them."""
    if (args.public_key or args.against_warehouse) and not args.verify:
        raise CommandError("--public-key and --against-warehouse go with --verify FILE")
    try:
        if args.show_public_key:
            sys.stdout.write(audit_pack.public_pem(audit_pack.deployment_key().public_key()).decode())
            return 0
        if args.verify:
            trusted = (audit_pack.read_public_key(args.public_key) if args.public_key
                       else audit_pack.deployment_public_key())
            return _verify_pack(Path(args.verify), trusted, args.against_warehouse)
    except audit_pack.SigningKeyError as unusable:
        raise CommandError(str(unusable)) from None
    if not args.period:
        raise CommandError("give the period to pack (egov audit-pack 2019Q1), or --verify FILE")
    return _make_pack(parse_period(args.period), args.version, args.output)


def _verify_pack(path: Path, trusted: audit_pack.TrustedKey | None, against_warehouse: bool) -> int:
    """Every problem on its own line, then the verdict; exit code 0 only when nothing is wrong."""
    checked = audit_pack.verify(path, trusted)
    problems = list(checked.problems)
    if against_warehouse:
        with db.connect(db.job_target("auditor")) as conn:
            problems += audit_pack.against_warehouse(conn, checked)
    for problem in problems:
        say(f"  {problem}")
    if problems:
        say(f"{path}: does NOT verify ({len(problems)} problem{'s' * (len(problems) > 1)})")
        return 1
    assert trusted is not None  # without a trusted key, verify names that as a problem
    say(f"{path}: verified: {checked.members_matched} members match MANIFEST.sha256, signed by the trusted key "
        f"{trusted.key_id} ({trusted.source})")
    if against_warehouse and checked.release:
        say(f"  release {checked.release.release_id} ({checked.release.period} version {checked.release.version}) "
            f"and its figures are as published.releases holds them; the pack is recorded in audit.audit_packs")
    return 0


def _make_pack(period: Period, version: int | None, output: str | None) -> int:
    with db.connect(db.job_target("auditor")) as conn:
        try:
            release = audit_pack.release_of(conn, period, version)
            path = Path(output) if output else (
                config.state_dir() / "audit" / f"audit_pack_{period.label}_v{release['version']}.zip")
            made = audit_pack.write(conn, period, path, release["version"])
        except audit_pack.AuditPackError as refused:
            raise CommandError(str(refused)) from None
        checked = audit_pack.verify(made.path, audit_pack.deployment_public_key())
        problems = [*checked.problems, *audit_pack.against_warehouse(conn, checked)]
    say(f"{made.path}: release {made.release_id} ({period.label} version {made.version}), "
        f"{checked.members_matched} members")
    say(f"  SHA-256 of its manifest {made.manifest_sha256}, signed by key {made.key_id}; recorded in "
        "audit.audit_packs")
    if problems:
        say("does NOT verify: " + "; ".join(problems))
        return 1
    say("verified: its signature, its members and the warehouse's record of it")
    return 0
