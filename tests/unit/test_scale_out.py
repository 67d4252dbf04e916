"""The scale-out comparison's own logic: what counts as the same publication, and how worker logs are read."""

from egov_demo.scale_out import TASK_RECEIVED, ClusterRun, differences

# A line as Airflow 3.3's Celery worker writes it (from a real worker log).
RECEIVED = ("2026-11-30T13:28:27.143189Z [info     ] Task execute_workload[124a2b6e-8959-4791-9341-563d9b636d83] "
            "received [celery.worker.strategy] loc=strategy.py:161")
SUCCEEDED = ("2026-11-30T13:28:24.397348Z [info     ] Task execute_workload[ef81f438-a3c4-4844-940e-17487dd51e71] "
             "succeeded in 4.12s: None [celery.app.trace] loc=trace.py:128")


def run(executor: str, figures: dict, content_hash: str = "h", workers: dict | None = None) -> ClusterRun:
    return ClusterRun(executor, len(workers or {}), figures=figures, content_hash=content_hash,
                      tasks_by_worker=workers or {"scheduler (LocalExecutor)": 21})


def test_a_worker_log_counts_the_tasks_it_received_and_nothing_else():
    assert len(TASK_RECEIVED.findall("\n".join([RECEIVED, SUCCEEDED, RECEIVED]))) == 2


def test_identical_publications_on_busy_workers_are_the_same():
    figures = {"a": "1", "b": "0.5"}
    assert differences(run("LocalExecutor", figures), run("CeleryExecutor", dict(figures),
                                                          workers={"worker-1": 3, "worker-2": 4})) == []


def test_a_differing_figure_a_differing_hash_and_an_idle_worker_are_each_named():
    local = run("LocalExecutor", {"a": "1", "b": "2"}, "h1")
    celery = run("CeleryExecutor", {"a": "1", "b": "3"}, "h2", workers={"worker-1": 5, "worker-2": 0})
    problems = differences(local, celery)
    assert problems == ["figures differ: b", "content hashes differ: h1 vs h2",
                        "Celery workers that ran no task: worker-2"]


def test_nothing_published_is_not_a_match():
    assert differences(run("LocalExecutor", {}), run("CeleryExecutor", {}, workers={"w": 1})) == [
        "LocalExecutor published no figures"]
