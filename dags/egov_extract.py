"""Airflow DAG file. One extract DAG per agency system in the source registry (egov.sources)."""

from egov.dag_factory import extract_dag
from egov.sources import SOURCES

for _source in SOURCES.values():
    globals()[f"egov_extract_{_source.key}"] = extract_dag(_source)
