"""``egov waive``: accept a gap in a source's data for the coverage gate, recorded with who and why."""

from __future__ import annotations

import argparse
import getpass
import uuid
from datetime import date

from egov.cli.common import CommandError, say
from egov.core import db
from egov.core.sources import SOURCES


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("waive", help="accept a gap in a source's data, with a reason, for the coverage gate")
    p.add_argument("--source", required=True, help="source key (onestop, docmgmt, mail, ca, portal, registers)")
    p.add_argument("--day", required=True, type=date.fromisoformat, help="first day of the gap")
    p.add_argument("--to", type=date.fromisoformat, help="last day of the gap, inclusive (default: --day)")
    p.add_argument("--agency", help="only this unit (default: every unit of the source)")
    p.add_argument("--reason", required=True, help="why the gap is accepted; kept with the release it lets through")
    p.add_argument("--by", help="who accepts it (default: the login name)")
    p.set_defaults(func=cmd_waive)


def cmd_waive(args: argparse.Namespace) -> int:
    """Record that a gap in a source's data is accepted, so that the coverage gate lets it through."""

    if args.source not in SOURCES:
        raise CommandError(f"unknown source {args.source!r}; one of {', '.join(SOURCES)}")
    last = args.to or args.day
    if last < args.day:
        raise CommandError(f"--to {last} is before the first day {args.day}")
    if not args.reason.strip():
        raise CommandError("a waiver needs a reason (--reason)")
    waiver_id = uuid.uuid4()
    with db.connect(db.job_target("publisher")) as conn:
        # A waiver cannot be taken back: a mistyped unit must be refused, not recorded.
        if args.agency and not conn.execute("select 1 from marts.dim_agency where agency_code = %s",
                                            (args.agency,)).fetchone():
            raise CommandError(f"unknown unit {args.agency!r}: not in marts.dim_agency")
        conn.execute(
            "insert into audit.coverage_waivers (waiver_id, source_key, first_day, last_day, agency_code, reason, "
            "waived_by) values (%s, %s, %s, %s, %s, %s, %s)",
            (waiver_id, args.source, args.day, last, args.agency, args.reason.strip(), args.by or getpass.getuser()))
    unit = f" unit {args.agency}" if args.agency else " every unit"
    say(f"waiver {waiver_id}: {args.source}{unit}, {args.day} .. {last}: {args.reason.strip()}")
    return 0
