"""Airflow DAG file. dbt build whenever raw data lands (scheduled on the extract DAGs' Assets)."""

from egov.orchestration.dag_factory import transform_dag

egov_transform = transform_dag()
