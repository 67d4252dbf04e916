"""``egov``: the project's command line.

    egov db up|down|status|url       the warehouse's PostgreSQL
    egov db url --role bi|auditor    how a BI tool or an auditor signs in (--show-password to print it)
    egov airflow ARGS...             the airflow CLI with the project's configuration
    egov dbt ARGS...                 dbt with the warehouse's credentials
    egov figures --period 2019Q1     published figures (--json for machines)
    egov report 2019Q1 --lang vi --format html|xlsx|md   the report's figures section from the release
    egov trace 2019Q1 [FIGURE]       a figure traced to its raw rows and source batches, reconciled
    egov waive --source ... --reason accept a gap in a source's data for the coverage gate
    egov publish --period 2019Q1     build, validate and publish now (a new version needs --reason)
    egov pending [--period 2019Q1]   changed figures of published periods held for a reason (exit 4 if any)
    egov audit-pack 2019Q1           everything behind a release in one signed archive (--verify FILE to check one)

With the demo extra (pip install 'egov-warehouse[demo]'):

    egov sim up|down|status          the agency simulators
    egov run --period 2019Q1         the main job on the simulated systems: extract, build, validate, publish, show
    egov bench [--only load,gate]    the performance table: each measurement against its baseline and target
    egov scale-out [--workers 2]     the DAGs on LocalExecutor, then on CeleryExecutor: identical releases?

Each module of this package registers one group of subcommands; groups from other packages register
through the ``egov.commands`` entry points.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import metadata

import psycopg
from packaging.requirements import Requirement

from egov.cli import database, figures, publication, tools, trace, waivers
from egov.cli.common import CommandError
from egov.core import db
from egov.orchestration.runner import AirflowCommandError

#: The command groups of the product, in the order ``egov --help`` lists them.
COMMAND_GROUPS = (database, tools, figures, publication, trace, waivers)
ENTRY_POINT_GROUP = "egov.commands"


def _missing_requirements(entry_point: metadata.EntryPoint) -> list[str]:
    """The requirements of the entry point's extras that are not installed."""
    if entry_point.dist is None:
        return []
    missing = []
    for line in entry_point.dist.requires or ():
        requirement = Requirement(line)
        if requirement.name == entry_point.dist.name or requirement.marker is None:
            continue
        if not any(requirement.marker.evaluate({"extra": extra}) for extra in entry_point.extras):
            continue
        try:
            metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(requirement.name)
    return missing


def _unavailable(subcommands: argparse._SubParsersAction, entry_point: metadata.EntryPoint,
                 missing: list[str]) -> None:
    """A subcommand that says how to install what the command needs, instead of the command."""
    extras = ",".join(entry_point.extras)
    install = f"pip install '{entry_point.dist.name if entry_point.dist else 'egov-warehouse'}[{extras}]'"

    def refuse(args: argparse.Namespace) -> int:
        raise CommandError(f"egov {entry_point.name} needs the {extras} extra, which is not installed "
                           f"(missing: {', '.join(missing)}): {install}")

    p = subcommands.add_parser(entry_point.name, help=f"(not installed: {install})", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=refuse)


def _register_entry_points(subcommands: argparse._SubParsersAction) -> None:
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        missing = _missing_requirements(entry_point)
        if missing:
            _unavailable(subcommands, entry_point, missing)
        else:
            entry_point.load()(subcommands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egov", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(subcommands)
    _register_entry_points(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (CommandError, AirflowCommandError, db.DatabaseError, ValueError) as exc:
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
