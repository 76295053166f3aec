"""``python -m kilowatt.probe``, the image's HEALTHCHECK, against real Kilowatt processes of each role.

It runs as the container runs it: a separate Python process, configured only by ``KILOWATT_*``.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from conftest import REDIS_URL, empty_postgres, require_services
from kilowatt.app import Application
from kilowatt.config import Role, Settings

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _probe(http_port: int, ocpp_port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILOWATT_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        KILOWATT_HOST="127.0.0.1",
        KILOWATT_HTTP_PORT=str(http_port),
        KILOWATT_OCPP_PORT=str(ocpp_port),
    )
    return subprocess.run([sys.executable, "-m", "kilowatt.probe", *args], capture_output=True, text=True, timeout=30, env=env)


@pytest.fixture
async def cluster_settings() -> dict[str, str]:
    """What a process of a split role runs on: PostgreSQL and Redis (one process per role means
    several processes, which SQLite and the in-process bus are not for)."""
    require_services("a gateway or api role needs KILOWATT_TEST_POSTGRES_URL and KILOWATT_TEST_REDIS_URL", redis=True)
    assert REDIS_URL
    return {"database_url": await empty_postgres("a gateway or api role needs KILOWATT_TEST_POSTGRES_URL and KILOWATT_TEST_REDIS_URL"), "redis_url": REDIS_URL}


@asynccontextmanager
async def _kilowatt(role: Role, **overrides: str) -> AsyncIterator[Application]:
    settings = Settings(**{"host": "127.0.0.1", "ocpp_port": 0, "http_port": 0, **overrides})
    application = Application(settings, role)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()


async def _run_probe(http_port: int, ocpp_port: int, *args: str) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(_probe, http_port, ocpp_port, *args)


async def test_all_in_one_is_healthy_and_ready(tmp_path: Path) -> None:
    async with _kilowatt(Role.all, database_url=f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}") as application:
        assert application.http_port and application.ocpp_port
        live = await _run_probe(application.http_port, application.ocpp_port)
        ready = await _run_probe(application.http_port, application.ocpp_port, "--ready")
    assert live.returncode == 0, live.stderr
    assert live.stderr.strip() == "healthy: /health: 200"
    assert ready.returncode == 0, ready.stderr
    assert ready.stderr.strip() == "healthy: /health/ready: 200"


async def test_api_role_is_checked_over_http(cluster_settings: dict[str, str]) -> None:
    async with _kilowatt(Role.api, **cluster_settings) as application:
        assert application.http_port and application.ocpp_port is None
        result = await _run_probe(application.http_port, _closed_port())
    assert result.returncode == 0, result.stderr
    assert "/health: 200" in result.stderr


async def test_gateway_role_has_no_http_port_and_is_checked_on_its_ocpp_port(cluster_settings: dict[str, str]) -> None:
    async with _kilowatt(Role.gateway, **cluster_settings) as application:
        assert application.http_port is None and application.ocpp_port
        http_port = _closed_port()
        result = await _run_probe(http_port, application.ocpp_port)
    assert result.returncode == 0, result.stderr
    assert f"nothing listens on HTTP port {http_port}" in result.stderr
    assert f"OCPP port {application.ocpp_port} accepts connections" in result.stderr


def test_nothing_listening_is_unhealthy() -> None:
    result = _probe(_closed_port(), _closed_port())
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy: nothing listens on HTTP port")


@contextmanager
def _http_server(status: int, body: dict[str, object]) -> Iterator[int]:
    """A real HTTP server answering every GET with ``status`` and ``body``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_503_is_unhealthy_and_says_why() -> None:
    body = {"status": "not ready", "checks": {"database": {"status": "error", "error": "no answer within 2 s"}}}
    with _http_server(503, body) as port:
        result = _probe(port, _closed_port(), "--ready")
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy: /health/ready: HTTP 503")
    assert "no answer within 2 s" in result.stderr


def test_a_bad_port_setting_is_reported() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KILOWATT_HTTP_PORT": "eighty"}
    result = subprocess.run([sys.executable, "-m", "kilowatt.probe"], capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 1
    assert "KILOWATT_HTTP_PORT='eighty' is not a port number" in result.stderr


@pytest.mark.parametrize("host, expected", [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "::1"), ("10.1.2.3", "10.1.2.3")])
def test_probe_host(monkeypatch: pytest.MonkeyPatch, host: str, expected: str) -> None:
    from kilowatt import probe

    monkeypatch.setenv("KILOWATT_HOST", host)
    assert probe._host() == expected
