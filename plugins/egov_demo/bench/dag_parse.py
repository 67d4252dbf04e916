"""Airflow DAG parse time per file, as the dag-processor reports it.

Issue: "Airflow DAG parse time per file as the dag-processor reports it (target under 0.5 s)".

The real ``airflow dag-processor`` runs one pass over the DAG folder (``--num-runs 1``) with the
project's Airflow configuration, a few times. After each pass the bench reads what the processor
recorded for each file in the metadata database: ``dag.last_parse_duration``. That is the number the
processor's "DAG File Processing Stats" table prints as "Last Duration" and sends as the
``dag_processing.last_duration`` metric: the time from starting the file's parsing process until its
result (the DAGs, serialized) is back in the processor, which is what delays the scheduler's view of
a changed DAG. The stats table itself is printed only every ``print_stats_interval`` (30 s), so a single
pass usually ends before it shows a finished file; the metric would need a statsd server.

The first pass is a warm-up, shown but not counted: a running dag-processor re-parses every file every
30 s (``min_file_process_interval``), and its first pass after start-up also pays for the cold file cache
and for registering DAGs it has not seen, once. Each counted number is the median of the passes after it.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

from egov.core import config, db
from egov_demo.bench import Bench, BenchError, Row, say

NAME = "dag_parse"
TARGET_S = 0.5
#: Passes of the dag-processor, at most (each takes a few seconds, most of it Airflow's start-up).
MAX_PASSES = 5


def _say(text: str) -> None:
    say(NAME, text)


def processor_pass() -> dict[str, float]:
    """One pass of ``airflow dag-processor``: each DAG file's parse duration as it recorded it."""
    from egov.orchestration.runner import run_airflow

    started = datetime.now(UTC)
    log_path, _ = run_airflow(["dag-processor", "--num-runs", "1"], "bench-dag-processor")
    with db.connect(db.airflow_target()) as conn:
        parsed = dict(conn.execute(
            """
            select relative_fileloc, max(last_parse_duration)
            from dag
            where bundle_name = 'dags-folder' and last_parsed_time >= %s and last_parse_duration is not null
            group by relative_fileloc
            """, (started,)).fetchall())
        errors = dict(conn.execute(
            "select filename, stacktrace from import_error where bundle_name = 'dags-folder' and timestamp >= %s",
            (started,)).fetchall())
    if errors:
        raise BenchError("the dag-processor could not import "
                         + "; ".join(f"{name}: {trace.strip().splitlines()[-1]}" for name, trace in errors.items())
                         + f" (log {log_path})")
    return parsed


def run(bench: Bench) -> list[Row]:
    from egov.orchestration.runner import migrate

    files = sorted(path.name for path in config.DAGS_DIR.glob("*.py"))
    passes = max(1, min(bench.repeats, MAX_PASSES))
    _say(f"Airflow metadata database migrated in {migrate():.1f}s; a warm-up and {passes} dag-processor passes "
         f"over {', '.join(files)}")
    durations: dict[str, list[float]] = {name: [] for name in files}
    for number in range(passes + 1):
        parsed = processor_pass()
        missing = sorted(set(files) - set(parsed))
        if missing:
            raise BenchError(f"the dag-processor recorded no parse of {', '.join(missing)} (no DAG in it?)")
        for name in files:
            durations[name].append(parsed[name])
        _say(f"{f'pass {number}' if number else 'warm-up'}: "
             + ", ".join(f"{name} {parsed[name]:.3f}s" for name in files))
    rows = []
    for name in files:
        warm_up, *counted = durations[name]
        median = statistics.median(counted)
        rows.append(Row(NAME, f"{name}: parse {median:.3f}s (median of {passes} dag-processor passes)", None,
                        f"< {TARGET_S} s", median < TARGET_S,
                        {"seconds": [round(s, 3) for s in counted], "warm_up_s": round(warm_up, 3),
                         "source": "dag.last_parse_duration recorded by airflow dag-processor --num-runs 1"}))
    return rows
