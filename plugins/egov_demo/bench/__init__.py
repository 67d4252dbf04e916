"""``egov bench``: the project's performance, measured side by side in one run.

Each benchmark module measures one question against its baseline on the same machine in the
same run, and reports :class:`Row` s: what was measured, the numbers, the ratio and its target.
Absolute times vary with the machine and its load; the ratios are what the targets are about.

The benchmarks run on their own databases (``bench_*``) of the warehouse's server, never on the
warehouse itself, and drop them afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from egov.core import config

#: The benchmark modules, in the order they run; each has ``run(bench: Bench) -> list[Row]``.
MODULES = ("load", "national", "incremental", "queries", "dag_parse", "gate")


class BenchError(RuntimeError):
    """A benchmark could not set up or run what it measures."""


def say(name: str, text: str) -> None:
    """A progress line of benchmark ``name``."""
    print(f"[bench] {name}: {text}", flush=True)


@dataclass(frozen=True)
class Row:
    """One measured comparison, printed as a line of the table."""

    benchmark: str
    measured: str
    #: measured / baseline, in the direction the target states (None when the row is a rate or a time)
    ratio: float | None
    target: str
    #: whether the target holds (None when the row has no target, only a number to report)
    met: bool | None
    details: dict = field(default_factory=dict)


@dataclass
class Bench:
    """What every benchmark module gets: the scale asked for and where to write."""

    #: national-scale units (communes); at least 10,000 for the issue's target
    units: int = 10_000
    days: int = 365
    repeats: int = 5
    keep: bool = False
    out_dir: Path = field(default_factory=lambda: config.state_dir() / "bench")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def render(rows: list[Row]) -> str:
    headers = ("benchmark", "measured", "ratio", "target", "met")
    lines = [(r.benchmark, r.measured, "" if r.ratio is None else f"{r.ratio:.2f}", r.target,
              {True: "yes", False: "NO", None: "-"}[r.met]) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), "-+-".join("-" * w for w in widths)]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def run(bench: Bench, only: list[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for name in MODULES:
        if only and name not in only:
            continue
        module = importlib.import_module(f"egov_demo.bench.{name}")
        started = time.perf_counter()
        produced = module.run(bench)
        print(f"[bench] {name}: {time.perf_counter() - started:.1f}s", flush=True)
        rows.extend(produced)
    bench.out_dir.mkdir(parents=True, exist_ok=True)
    (bench.out_dir / "results.json").write_text(json.dumps([asdict(r) for r in rows], indent=2, default=str))
    return rows
