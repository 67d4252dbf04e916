"""Airflow DAG file. One extract DAG per agency system in the source registry (egov.core.sources)."""

from egov.core.sources import SOURCES
from egov.orchestration.dag_factory import extract_dag

for _source in SOURCES.values():
    globals()[f"egov_extract_{_source.key}"] = extract_dag(_source)
