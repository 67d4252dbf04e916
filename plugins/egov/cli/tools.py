"""``egov airflow`` and ``egov dbt``: the two tools' own command lines, with the project's configuration."""

from __future__ import annotations

import argparse
import os

from egov.core import config, db
from egov.orchestration.airflow_env import airflow_env
from egov.transform import dbt


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("airflow", help="run the airflow CLI with the project's configuration",
                       add_help=False)
    p.add_argument("airflow_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_airflow)
    p = subcommands.add_parser("dbt", help="run dbt against the warehouse", add_help=False)
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_dbt)


def cmd_airflow(args: argparse.Namespace) -> int:
    airflow = config.venv_tool("airflow")
    os.execvpe(airflow, [airflow, *args.airflow_args], airflow_env())
    return 0  # not reached


def cmd_dbt(args: argparse.Namespace) -> int:
    os.chdir(config.DBT_PROJECT_DIR)
    dbt_bin = config.venv_tool("dbt")
    os.execvpe(dbt_bin, [dbt_bin, *args.dbt_args], dbt.dbt_env(db.job_target("dbt")))
    return 0  # not reached
