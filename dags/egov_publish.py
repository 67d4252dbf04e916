"""Airflow DAG file. Quarterly publication: dbt build, Great Expectations gate, immutable release."""

from egov.orchestration.dag_factory import publish_dag

egov_publish_quarterly = publish_dag()
