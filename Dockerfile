# syntax=docker/dockerfile:1
# One image for the whole platform: every service's API and worker run from it with a different
# command (`python -m wsis_<name> api|worker`), and so do the web pages (`python -m wsis_web`).
# See docs/deployment.md.
#
#   docker build -t wsis-platform:0.1.0 .
#
# Dependencies come from the hash-pinned requirements.lock (the dev group left out by
# scripts/lock_subset.py); the workspace members are built into the same virtualenv.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build: a virtualenv with the services, the web pages and their locked dependencies -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
# The same uv as scripts/bootstrap-uv.sh.
RUN python -m pip install "uv==0.13.8"
WORKDIR /src
COPY requirements.lock scripts/lock_subset.py ./
RUN python lock_subset.py requirements.lock \
        wsis-shared wsis-submissions wsis-review wsis-voting wsis-stocktaking wsis-web hatchling \
        > runtime.lock \
 && uv venv --python /usr/local/bin/python /opt/venv \
 && uv pip sync --python /opt/venv/bin/python --require-hashes runtime.lock
COPY shared/ shared/
COPY services/ services/
COPY web/ web/
RUN uv pip install --python /opt/venv/bin/python --no-deps --no-build-isolation \
        ./shared ./services/submissions ./services/review ./services/voting ./services/stocktaking \
        ./web \
 && /opt/venv/bin/python -c "import wsis_submissions, wsis_review, wsis_voting, wsis_stocktaking, wsis_web"

# --- runtime: slim, non-root, read-only friendly -------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="wsis-platform" \
      org.opencontainers.image.description="WSIS Prizes services: submissions, review, voting, stocktaking (API and worker) and the web pages"
# DejaVu: the report PDFs' font for Latin, Greek and Cyrillic (ReportLab's own covers Latin only).
RUN apt-get update \
 && apt-get install --yes --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wsis \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin wsis
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WSIS_LOG_FORMAT=json \
    WSIS_SUBMISSIONS_HOST=0.0.0.0 \
    WSIS_REVIEW_HOST=0.0.0.0 \
    WSIS_VOTING_HOST=0.0.0.0 \
    WSIS_STOCKTAKING_HOST=0.0.0.0 \
    WSIS_WEB_HOST=0.0.0.0 \
    WSIS_HEALTHCHECK_URL=http://127.0.0.1:8001/healthz
WORKDIR /tmp
USER 10001:10001
# Set WSIS_HEALTHCHECK_URL per container: an API's /readyz, a worker's /metrics
# (WSIS_<NAME>_WORKER_METRICS_PORT). Kubernetes uses its own probes instead.
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['WSIS_HEALTHCHECK_URL'], timeout=3)"]
EXPOSE 8000 8001 8002 8003 8004 9100
CMD ["python", "-m", "wsis_submissions", "api"]
