# syntax=docker/dockerfile:1
# Airflow 3.3 for podsight (compose.yaml profile `airflow`, docs/airflow.md): podsight's
# image plus Airflow in a virtualenv of its own, from requirements/airflow.lock (Airflow's
# pins of duckdb, deltalake, pyarrow, numpy, pandas and httpx clash with podsight's, so the
# two never share a virtualenv). Tasks run `$PODSIGHT_BIN pipeline run --only NODE` in
# podsight's virtualenv; the DAG imports only podsight.pipeline.graph (standard library).
#
# `podsight` below is the podsight image: compose passes it (additional_contexts); alone:
#   docker build -t podsight .
#   docker build -f docker/airflow.Dockerfile --build-context podsight=docker-image://podsight:latest \
#       -t podsight-airflow .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS airflow-builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/airflow.lock requirements/
RUN python -m venv /opt/airflow \
    && /opt/airflow/bin/pip install --require-hashes --no-deps -r requirements/airflow.lock


# A build context (compose's service:api), not a registry image: no tag to pin.
# hadolint ignore=DL3006
FROM podsight AS airflow

USER 0
COPY --from=airflow-builder /opt/airflow /opt/airflow
# The graph alone on Airflow's path (not podsight's site-packages: its dependencies would
# shadow Airflow's); podsight.pipeline's __init__ loads the steps only when asked.
COPY src/podsight/__init__.py /opt/podsight-graph/podsight/
COPY src/podsight/pipeline/__init__.py src/podsight/pipeline/graph.py /opt/podsight-graph/podsight/pipeline/
COPY dags/ /opt/podsight-dags/
RUN echo /opt/podsight-graph > /opt/airflow/lib/python3.11/site-packages/podsight-graph.pth \
    && mkdir -p /home/podsight/airflow \
    && chown 10001:10001 /home/podsight/airflow

# After podsight's: `python` stays podsight's, `airflow` (which standalone starts its parts
# by name) is found; its script runs Airflow's own interpreter.
# The DAGs run once parsed (Airflow would leave new DAGs paused): choosing this profile
# is choosing Airflow to run the pipeline.
ENV PATH=/opt/podsight/bin:/opt/airflow/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    AIRFLOW_HOME=/home/podsight/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/podsight-dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False \
    PODSIGHT_BIN=/opt/podsight/bin/podsight

USER 10001:10001
# Airflow's metadata (SQLite, `airflow standalone`) and its generated admin password.
VOLUME ["/home/podsight/airflow"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/api/v2/monitor/health', timeout=4).status != 200)"]

CMD ["airflow", "standalone"]
