"""The one linter setup, run by the tests: ruff (with Airflow's AIR rules) and sqlfluff."""

from __future__ import annotations

import subprocess

from egov.core import config


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([config.venv_tool(tool), *args], cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                          check=False)


def test_ruff_including_airflow_rules():
    result = run("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_selects_the_airflow_rules():
    result = run("ruff", "check", "--show-settings", "dags/egov_publish.py")
    assert "AIR301" in result.stdout, "the AIR rules must be enabled"


def test_sqlfluff_on_models_and_macros():
    result = run("sqlfluff", "lint", "--disable-progress-bar",
                 "dbt_project/models", "dbt_project/macros", "dbt_project/tests")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
