"""``egov figures``: a period's published figures (or the warehouse's, ``--current``) beside the seed report's."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from decimal import Decimal

from egov.cli.common import say
from egov.core import config, db
from egov.core.periods import Period, parse_period
from egov.core.values import json_value, plain_number
from egov.publication.release import published_figures
from egov.transform.figures import period_figures

REFERENCE_FIGURES = config.DATA_DIR / "q1_2019_report_figures.csv"


def register(subcommands: argparse._SubParsersAction) -> None:
    p = subcommands.add_parser("figures",
                               help="the figures of a quarter (2019Q3) or a year (2019): published, or --current")
    p.add_argument("--period", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--current", action="store_true",
                   help="the warehouse's figures as they are now, whether or not a release carries them")
    p.set_defaults(func=cmd_figures)


def cmd_figures(args: argparse.Namespace) -> int:
    return show_figures(parse_period(args.period), args.json, args.current)


def reference_values() -> dict[str, str]:
    with REFERENCE_FIGURES.open(encoding="utf-8") as handle:
        return {row["figure_id"]: row["value"] for row in csv.DictReader(handle)}


def matches(stated: str, value: Decimal | None) -> bool:
    """Whether ``value`` is what the report states: a number, or a bound such as ">0.90"."""
    if value is None:
        return False
    if stated.startswith(">"):
        return value > Decimal(stated[1:])
    return value == Decimal(stated)


def _print_figure_table(figures: list[dict], reference: dict[str, str], value_heading: str) -> int:
    """The figures beside the seed report's, with a verdict per row; the number of mismatches."""
    header = f"{'figure_id':<44} {value_heading:>12} {'seed report':>12}  match"
    say(header)
    say("-" * len(header))
    mismatches = 0
    for figure in figures:
        stated = reference.get(figure["figure_id"])
        same = stated is not None and matches(stated, figure["value"])
        mismatches += stated is not None and not same
        mark = "" if stated is None else ("yes" if same else "NO")
        shown = plain_number(figure["value"])
        stated_shown = "-" if stated is None else stated if stated.startswith(">") else plain_number(Decimal(stated))
        say(f"{figure['figure_id']:<44} {shown:>12} {stated_shown:>12}  {mark}")
    if reference:
        say(f"\n{len(figures) - mismatches} of {len(figures)} figures equal the seed report")
        missing = sorted(set(reference) - {f["figure_id"] for f in figures})
        if missing:
            say(f"{len(missing)} figures of the seed report are missing: " + ", ".join(missing))
            mismatches += len(missing)
    return mismatches


def _current_figures(period: Period) -> list[dict]:
    """The figures as the warehouse knows them now (reporting.rpt_report_figures), published or not."""
    with db.connect(db.job_target("bi")) as conn:
        rows = period_figures(conn, period)
    return [{"figure_id": figure_id, "value": value, "unit": unit} for figure_id, value, unit in rows]


def show_figures(period: Period, as_json: bool, current: bool = False) -> int:
    if current:
        figures = _current_figures(period)
    else:
        with db.connect(db.job_target("bi")) as conn:
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
        say()
        return 0 if figures else 1
    if not figures and not current:
        say(f"nothing published for {period.label}; the warehouse's figures follow")
        show_figures(period, as_json, current=True)
        return 1  # so that a script asking "is it published?" is not told yes
    if not figures:
        say(f"no figures in the warehouse for {period.label}: load its sources first (egov run --period ...)")
        return 1
    if current:
        say(f"Figures {period.label} as the warehouse knows them now (not a release); "
            "'unknown': a stock whose source has not been loaded through the period's end")
    else:
        first = figures[0]
        say(f"Published figures {period.label}, version {first['version']} "
            f"(release {first['release_id']}, {first['published_at']})")
    reference = reference_values() if period.label == "2019Q1" else {}
    mismatches = _print_figure_table(figures, reference, "warehouse" if current else "published")
    return 0 if mismatches == 0 else 1
