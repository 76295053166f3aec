# syntax=docker/dockerfile:1
# One image for every role: `kilowatt serve --role all|gateway|api|worker`, `kilowatt migrate`.
# Build: docker build -t kilowatt .        Run: docker run -p 8000:8000 -p 9000:9000 kilowatt
# See docs/deployment.md (what this file was and was not checked with).

# --- build: the project's wheel (the source tree and the build backend stay in this stage)
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime
FROM python:3.12-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# The wheel comes in through a bind mount of the build stage: installed, never copied into a layer. Its
# dependencies (asyncpg for PostgreSQL is one of them; the redis extra adds the Redis client) are
# binary wheels on the index for this Python, so this stage needs no compiler.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install "$(ls /wheels/kilowatt-*.whl)[redis]" \
 && groupadd --system --gid 10001 kilowatt \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin kilowatt

# Container defaults: listen on every interface of the container, JSON logs on stdout, and a SQLite
# file in /data (mount a volume there) for a single `serve`; compose and k8s set a PostgreSQL URL.
ENV KILOWATT_HOST=0.0.0.0 \
    KILOWATT_HTTP_PORT=8000 \
    KILOWATT_OCPP_PORT=9000 \
    KILOWATT_LOG_LEVEL=INFO \
    KILOWATT_DATABASE_URL=sqlite+aiosqlite:////data/kilowatt.db

USER 10001:10001
WORKDIR /data
EXPOSE 8000 9000

# Standard library only (urllib): GET /health on the HTTP port; a gateway-only process has none, so
# then a TCP connect on the OCPP port. A worker has no port: compose disables the check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "kilowatt.probe"]

# `docker stop` sends SIGTERM: kilowatt serve closes its sockets and exits (give it --time / a grace period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["kilowatt"]
CMD ["serve"]
