# The project on the official Airflow image, same Airflow version as the `airflow` extra.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

USER root
COPY --chown=airflow:0 pyproject.toml README.md /opt/reputation/
COPY --chown=airflow:0 reputation /opt/reputation/reputation
COPY --chown=airflow:0 connectors /opt/reputation/connectors
COPY --chown=airflow:0 alerts /opt/reputation/alerts
USER airflow

# Installing against the image's own Airflow pin keeps pip from moving Airflow's dependencies
# under it; the extras bring the PostgreSQL driver and the platform client libraries.
ARG AIRFLOW_VERSION
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/reputation[postgres,reddit,x,airflow]"

# docker-compose mounts ./dags and ./config over these; the image also runs on its own.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 reputation.example.yaml /opt/reputation/reputation.example.yaml
