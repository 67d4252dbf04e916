# Two images for docker-compose.yml, from the official Airflow image with the project's pinned dependencies:
#   airflow     the product (package egov) for every Airflow component, without the demo extra;
#   simulators  the same plus the demo extra (fastapi, uvicorn...) for the simulated agency systems.
# Nothing in `make run` or `make test` builds them; tests/unit/test_compose.py checks that their Airflow
# version is the one pyproject.toml pins, and which image installs which extra.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION} AS airflow
ARG AIRFLOW_VERSION
COPY --chown=airflow:root pyproject.toml constraints.txt README.md /opt/egov/
COPY --chown=airflow:root plugins /opt/egov/plugins
COPY --chown=airflow:root expectations /opt/egov/expectations
# Editable, so that egov.config finds dags/ and dbt_project/ beside the package as in a clone.
# apache-airflow is named so that pip keeps the image's own Airflow; the Celery provider (CeleryExecutor)
# and the FAB provider (the auth manager) come with the official image and are named so that a conflict
# with the project's constraints fails the build instead of breaking them.
RUN pip install --no-cache-dir -c /opt/egov/constraints.txt "apache-airflow==${AIRFLOW_VERSION}" \
        apache-airflow-providers-celery apache-airflow-providers-fab -e /opt/egov
COPY --chown=airflow:root dags /opt/egov/dags
COPY --chown=airflow:root dbt_project /opt/egov/dbt_project
ENV EGOV_STATE_DIR=/opt/airflow/egov-state \
    EGOV_LANDING_DIR=/opt/airflow/landing
# Named volumes mounted on these start out owned by the airflow user, as the folders are here.
RUN mkdir -p "${EGOV_STATE_DIR}" "${EGOV_LANDING_DIR}"

FROM airflow AS simulators
ARG AIRFLOW_VERSION
RUN pip install --no-cache-dir -c /opt/egov/constraints.txt "apache-airflow==${AIRFLOW_VERSION}" -e "/opt/egov[demo]"
