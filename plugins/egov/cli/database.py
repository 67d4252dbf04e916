"""``egov db``: the warehouse's PostgreSQL server, and how each role signs in to it."""

from __future__ import annotations

import argparse

from egov.cli.common import say
from egov.core import config, db, roles


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("db", help="the warehouse's PostgreSQL server")
    p.add_argument("action", choices=["up", "down", "status", "url"])
    database = p.add_mutually_exclusive_group()
    database.add_argument("--airflow", action="store_true", help="with url: the Airflow metadata database")
    database.add_argument("--role", choices=[*roles.LOGINS, "admin"], default="auditor",
                          help="with url: the warehouse as this job's or consumer's role (default auditor: reads "
                               "everything, changes nothing); admin: the administrator `egov db up` signs in as")
    p.add_argument("--show-password", action="store_true", help="with url: the password instead of ***")
    p.set_defaults(func=cmd_db)


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "up":
        status = db.up()
        say(f"PostgreSQL ({status.mode}) is up: {status.url}")
    elif args.action == "down":
        say("PostgreSQL stopped" if db.down() else "PostgreSQL was not running")
    elif args.action == "status":
        status = db.status()
        state = "running" if status.running else "stopped"
        say(f"{status.mode} server {state}; url {status.url or '-'}"
            + (f"; pid {status.pid}; data {status.data_dir}" if status.pid else ""))
        return 0 if status.running else 3
    elif args.action == "url":
        if args.airflow:
            target = db.airflow_target()
        else:
            target = db.admin_target() if args.role == "admin" else db.job_target(args.role)
        say(target.url() if args.show_password else config.redact(target.url()))
    return 0
