"""Command groups from outside the product: the demo's commands register through entry points, and a
command whose extra is not installed says how to install it instead of failing on an import."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from egov import cli

DEMO_COMMANDS = {"sim", "run", "bench", "scale-out"}


def _subcommands(parser) -> set[str]:
    return {name for action in parser._subparsers._group_actions for name in action.choices}


def test_the_demo_commands_are_registered_beside_the_products():
    names = _subcommands(cli.build_parser())
    assert names >= DEMO_COMMANDS
    assert {"db", "figures", "publish", "report", "trace", "audit-pack", "waive", "airflow", "dbt"} <= names


def _entry_point(name: str, requires: list[str], extras=("demo",)):
    def register(subcommands):
        subcommands.add_parser(name).set_defaults(func=lambda args: 0)

    dist = SimpleNamespace(name="egov-warehouse", requires=requires)
    return SimpleNamespace(name=name, extras=list(extras), dist=dist, load=lambda: register)


def test_only_the_requirements_of_the_entry_points_extra_count():
    entry_point = _entry_point("sim", [
        "psycopg>=3.2",  # a requirement of the product itself, installed or not
        'egov-warehouse[demo]; extra == "dev"',
        'no-such-package-egov-test; extra == "demo"',
        'pytest; extra == "demo"',
        'another-missing-package; extra == "docs"',
    ])
    assert cli._missing_requirements(entry_point) == ["no-such-package-egov-test"]


def test_a_command_whose_extra_is_missing_says_how_to_install_it(monkeypatch, capsys):
    missing = _entry_point("sim", ['no-such-package-egov-test; extra == "demo"'])
    present = _entry_point("bench", ['pytest; extra == "demo"'])
    monkeypatch.setattr(cli.metadata, "entry_points", lambda group: [missing, present])
    assert cli.main(["sim", "up"]) == 2
    error = capsys.readouterr().err
    assert "egov sim needs the demo extra" in error
    assert "missing: no-such-package-egov-test" in error
    assert "pip install 'egov-warehouse[demo]'" in error
    assert cli.main(["bench"]) == 0


@pytest.mark.parametrize("command", sorted(DEMO_COMMANDS))
def test_every_demo_command_is_an_entry_point_that_needs_the_demo_extra(command):
    found = {entry_point.name: entry_point for entry_point in cli.metadata.entry_points(group=cli.ENTRY_POINT_GROUP)}
    assert command in found
    assert found[command].extras == ["demo"]
    assert found[command].value.startswith("egov_demo.")
