"""``GET /health/ready``: the database and (when configured) Redis, checked for real.

Outages are real too: the database or Redis is reached through a TCP proxy in this test, and
stopping the proxy cuts every connection and refuses new ones — what a node sees when the network
to its database or Redis goes, without stopping the shared servers. The closed-port and black-hole
cases call the checks directly, on a real engine and a real Redis client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from conftest import IN_CI, RunningCsms, empty_postgres
from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.readiness import check_database, check_ready, check_redis
from kilowatt.storage.database import create_engine
from tcp_relay import relay_to as _proxy_to

REDIS_URL = os.environ.get("KILOWATT_TEST_REDIS_URL")


def _redis_url() -> str:
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI=true but KILOWATT_TEST_REDIS_URL is not set")
        pytest.skip("Redis tests need KILOWATT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    return REDIS_URL


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word: a dependency that hangs."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


def _closed_port() -> int:
    """A port nothing listens on (bound and released, so not a well-known service's)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _get(csms: RunningCsms, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=csms.api_url, timeout=10) as client:
        return await client.get(path)


async def _wait_for_status(csms: RunningCsms, status: int, timeout_s: float = 10.0) -> httpx.Response:
    """Polls /health/ready as a probe does, until it answers ``status``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await _get(csms, "/health/ready")
        if response.status_code == status or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.2)


# --- through HTTP, on a running Kilowatt -----------------------------------------------------------


async def test_ready_when_the_database_answers(csms: RunningCsms) -> None:
    """SQLite and PostgreSQL (the ``csms`` fixture runs on both); no token needed, like /health."""
    response = await _get(csms, "/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": {"status": "ok"}}}
    liveness = await _get(csms, "/health")
    assert liveness.status_code == 200
    assert liveness.json()["status"] == "ok"  # /health keeps its own answer


@pytest.fixture
async def postgres_url() -> str:
    """An empty PostgreSQL schema. The Redis cases run on PostgreSQL only: Redis means several
    processes, and several processes mean PostgreSQL (SQLite is for one)."""
    return await empty_postgres()


@contextlib.asynccontextmanager
async def _kilowatt(**overrides: Any) -> AsyncIterator[RunningCsms]:
    settings: dict[str, Any] = {"host": "127.0.0.1", "ocpp_port": 0, "http_port": 0, **overrides}
    application = Application(Settings(**settings))
    await application.start()
    try:
        yield RunningCsms(application)
    finally:
        await application.stop()


async def test_ready_checks_redis_when_configured(postgres_url: str) -> None:
    async with _kilowatt(database_url=postgres_url, redis_url=_redis_url()) as csms:
        response = await _get(csms, "/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": {"status": "ok"}, "redis": {"status": "ok"}}}


async def test_redis_outage_makes_the_node_not_ready_and_its_return_ready_again(postgres_url: str) -> None:
    target = make_url(_redis_url())
    async with _proxy_to(target.host or "127.0.0.1", target.port or 6379) as proxy:
        proxied = f"redis://127.0.0.1:{proxy.port}/{target.database or 0}"
        async with _kilowatt(database_url=postgres_url, redis_url=proxied) as csms:
            assert (await _get(csms, "/health/ready")).status_code == 200

            await proxy.cut()
            response = await _get(csms, "/health/ready")
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["status"] == "not ready"
            assert body["checks"]["database"] == {"status": "ok"}
            assert body["checks"]["redis"]["status"] == "error"
            assert "connection refused" in body["checks"]["redis"]["error"].lower(), body
            assert f"127.0.0.1:{proxy.port}" in body["checks"]["redis"]["error"]  # which address, never the whole URL
            assert (await _get(csms, "/health")).status_code == 200  # liveness: a Redis outage is no reason to restart

            await proxy.start()
            assert (await _wait_for_status(csms, 200)).json()["status"] == "ready"


async def test_postgres_outage_makes_the_node_not_ready_and_its_return_ready_again(postgres_url: str) -> None:
    """Kilowatt starts (and migrates) through the proxy, then loses PostgreSQL: 503 naming the
    database; once the proxy is back, the pool reconnects and the node is ready again, unrestarted."""
    url = make_url(postgres_url)
    async with _proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        async with _kilowatt(database_url=proxied) as csms:
            assert (await _get(csms, "/health/ready")).status_code == 200

            await proxy.cut()
            response = await _wait_for_status(csms, 503, timeout_s=5)
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["status"] == "not ready"
            assert body["checks"]["database"]["status"] == "error"
            assert body["checks"]["database"]["error"], body
            alive = await _get(csms, "/health")  # liveness says the same, in its own shape
            assert alive.status_code == 503 and alive.json()["status"] == "degraded", alive.text
            assert alive.json()["database"].startswith("error: ") and len(alive.json()["database"]) > len("error: ")

            await proxy.start()
            assert (await _wait_for_status(csms, 200)).json() == {"status": "ready", "checks": {"database": {"status": "ok"}}}
            assert (await _get(csms, "/health")).json()["database"] == "ok"


# --- the checks themselves, on real engines and clients --------------------------------------------


async def test_redis_on_a_closed_port_is_not_ready_with_the_reason() -> None:
    check = await check_redis("redis://127.0.0.1:1/0", timeout_s=2)
    assert not check.ok
    assert "127.0.0.1:1" in check.detail and "refused" in check.detail.lower(), check.detail


async def test_redis_that_never_answers_is_not_ready_within_the_timeout() -> None:
    async with _silent_server() as port:
        started = asyncio.get_running_loop().time()
        check = await check_redis(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)
        elapsed = asyncio.get_running_loop().time() - started
    assert not check.ok
    assert elapsed < 2, elapsed
    assert "0.5 s" in check.detail or "timeout" in check.detail.lower(), check.detail


async def test_malformed_redis_url_says_so() -> None:
    check = await check_redis("http://127.0.0.1:6379/0")
    assert not check.ok and "invalid KILOWATT_REDIS_URL" in check.detail, check.detail


async def test_postgres_on_a_closed_port_is_not_ready_with_the_reason() -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/kilowatt")
    try:
        readiness = await check_ready(engine, None, timeout_s=2)
    finally:
        await engine.dispose()
    assert not readiness.ready
    body = readiness.as_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["status"] == "error"  # type: ignore[index]
    assert "refused" in body["checks"]["database"]["error"].lower(), body  # type: ignore[index]


async def test_postgres_that_never_answers_is_not_ready_within_the_timeout() -> None:
    async with _silent_server() as port:
        engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/kilowatt")
        try:
            started = asyncio.get_running_loop().time()
            check = await check_database(engine, timeout_s=0.5)
            elapsed = asyncio.get_running_loop().time() - started
        finally:
            await engine.dispose()
    assert not check.ok
    assert check.detail == "no answer within 0.5 s"
    assert elapsed < 2, elapsed


async def test_both_checks_fail_together_and_each_says_why() -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/kilowatt")
    try:
        readiness = await check_ready(engine, "redis://127.0.0.1:1/0", timeout_s=2)
    finally:
        await engine.dispose()
    assert set(readiness.checks) == {"database", "redis"}
    assert not readiness.checks["database"].ok and not readiness.checks["redis"].ok
