"""mypy on the product and its suites, as ``[tool.mypy]`` in pyproject.toml configures it, run by the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from egov.core import config

#: The project's own cache, ignored by git: a warm run takes about a second, a cold one about 40 s.
PROJECT_CACHE = config.PROJECT_ROOT / ".mypy_cache"


def mypy(*args: str, cache_dir: Path = PROJECT_CACHE) -> subprocess.CompletedProcess:
    """mypy run from the project root, so that it reads the project's configuration."""
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir), *args],
                          cwd=config.PROJECT_ROOT, capture_output=True, text=True, check=False)


def test_mypy_finds_no_type_errors_in_the_package():
    result = mypy()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_fails_on_a_type_error(tmp_path):
    # A file rather than `-c`: mypy refuses a command alongside the configuration's `packages`. The error is in an
    # untyped function, whose body mypy checks only because the configuration says check_untyped_defs: so this
    # also shows that the check above runs with the project's configuration.
    module = tmp_path / "mistyped.py"
    module.write_text('def untyped():\n    count: int = "a"\n    return count\n')
    result = mypy(str(module), cache_dir=tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in result.stdout
