"""``egov trace``: a figure followed from its release down to the raw rows and load batches it came from."""

from __future__ import annotations

import argparse
import json
import sys

from egov.cli.common import CommandError, say
from egov.core import db
from egov.core.periods import parse_period
from egov.core.values import plain_number
from egov.publication import trace


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("trace", help="trace a figure down to the raw rows and source batches it came from")
    p.add_argument("period", help="quarter (2019Q1) or year (2019)")
    p.add_argument("figure", nargs="?", help="figure id (default: every figure of the period, a line each)")
    p.add_argument("--version", type=int, help="a past version of the release (default: the latest)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-verify", action="store_true",
                   help="do not recompute the batches' SHA-256 checksums from raw (faster)")
    p.set_defaults(func=cmd_trace)


def cmd_trace(args: argparse.Namespace) -> int:
    """One figure's chain in full, or every figure of the period a line each; exit 1 unless all reconcile."""
    period = parse_period(args.period)
    with db.connect(db.job_target("auditor")) as conn:
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
        say()
    elif args.figure:
        say(trace.format_trace(traces[args.figure]))
    else:
        for figure_id, found in traces.items():
            levels = " ".join(f"{level.level}{'✓' if level.reconciled else '✗'}" for level in found.levels)
            say(f"{figure_id:<44} {plain_number(found.figure.value):>14}  {levels}")
        reconciled = sum(found.reconciled for found in traces.values())
        say(f"\n{reconciled} of {len(traces)} figures of {period.label} reconcile at every level "
            f"(egov trace {period.label} FIGURE for one chain in full)")
    return 0 if all(found.reconciled for found in traces.values()) else 1
