# The official Airflow image with the project's pinned dependencies and package.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/egov/
COPY --chown=airflow:root plugins /opt/egov/plugins
COPY --chown=airflow:root expectations /opt/egov/expectations
RUN pip install --no-cache-dir -c /opt/egov/constraints.txt -e /opt/egov
COPY --chown=airflow:root dags /opt/egov/dags
COPY --chown=airflow:root dbt_project /opt/egov/dbt_project
ENV EGOV_STATE_DIR=/opt/airflow/egov-state
