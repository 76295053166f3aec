"""deploy/haproxy.cfg run for real: HAProxy in front of two Kilowatt gateway processes' worth of
Application, chargers connecting through it.

The configuration is the committed file with only its addresses changed (Docker's service names
and fixed ports become loopback ports chosen here). It shows the parts of the file that matter to
chargers: TCP passthrough of the WebSocket handshake and OCPP, leastconn spreading, and a charger
whose gateway stops landing on the other one when it reconnects. Skips where HAProxy is not
installed (``apt-get install haproxy``).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from charger import TestCharger
from conftest import REDIS_URL, empty_postgres, require_services
from kilowatt.app import Application
from kilowatt.config import Role, Settings

HAPROXY_CFG = Path(__file__).resolve().parent.parent / "deploy" / "haproxy.cfg"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _render(frontend_port: int, stats_port: int, gateway_ports: dict[str, int]) -> str:
    """The committed configuration with loopback addresses; each line replaced must be there once."""
    text = HAPROXY_CFG.read_text()
    replacements = {
        "bind :9000": f"bind 127.0.0.1:{frontend_port}",
        "bind :8404": f"bind 127.0.0.1:{stats_port}",
        # No Docker DNS here: addresses are literal.
        " resolvers docker init-addr last,libc,none": "",
        **{f"server {name} {name}:9000": f"server {name} 127.0.0.1:{port}" for name, port in gateway_ports.items()},
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"haproxy.cfg no longer has exactly one {old!r}; update this test"
        text = text.replace(old, new)
    return text


@contextmanager
def _haproxy(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("haproxy")
    if binary is None:
        pytest.skip("haproxy is not installed here (apt-get install haproxy): deploy/haproxy.cfg not run")
    process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        if process.poll() is not None:
            raise AssertionError(f"haproxy exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
async def cluster_settings() -> dict[str, str]:
    require_services("gateways behind HAProxy need KILOWATT_TEST_POSTGRES_URL and KILOWATT_TEST_REDIS_URL", redis=True)
    assert REDIS_URL
    return {"database_url": await empty_postgres("gateways behind HAProxy need KILOWATT_TEST_POSTGRES_URL and KILOWATT_TEST_REDIS_URL"), "redis_url": REDIS_URL}


class Gateways(dict[str, Application]):
    """The running gateways by name; :meth:`stop` is one of them going away."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped: set[str] = set()

    async def stop(self, name: str) -> None:
        self.stopped.add(name)
        await self[name].stop()


@asynccontextmanager
async def _gateways(settings: dict[str, str]) -> AsyncIterator[Gateways]:
    started = Gateways()
    try:
        for name in ("gateway-1", "gateway-2"):
            application = Application(
                Settings(host="127.0.0.1", ocpp_port=0, http_port=0, node_id=name, configuration_fetch_delay_s=0, **settings),
                Role.gateway,
            )
            await application.start()
            started[name] = application
        yield started
    finally:
        for name, application in started.items():
            if name not in started.stopped:
                await application.stop()


def _holder(gateways: dict[str, Application], station_id: str) -> str | None:
    holders = [name for name, application in gateways.items() if station_id in application.gateway.connections]
    assert len(holders) <= 1, holders
    return holders[0] if holders else None


async def _wait_held(gateways: dict[str, Application], station_id: str, timeout_s: float = 5) -> str:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (holder := _holder(gateways, station_id)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"{station_id} is held by no gateway"
        await asyncio.sleep(0.05)
    return holder


async def test_chargers_reach_both_gateways_through_haproxy_and_fail_over(
    cluster_settings: dict[str, str], tmp_path: Path
) -> None:
    async with _gateways(cluster_settings) as gateways:
        first = next(iter(gateways.values()))
        for station_id in ("CP-1", "CP-2"):
            await first.services.stations.create(station_id)
        frontend = _free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(_render(frontend, _free_port(), {name: app.ocpp_port or 0 for name, app in gateways.items()}))
        with _haproxy(config) as process:
            await _wait_listening(frontend, process)
            url = f"ws://127.0.0.1:{frontend}/ocpp"

            # leastconn: the second charger goes to the gateway the first did not.
            async with TestCharger.connect(url, "CP-1") as cp1, TestCharger.connect(url, "CP-2") as cp2:
                assert (await cp1.boot())["status"] == "Accepted"
                assert (await cp2.boot())["status"] == "Accepted"
                holders = {await _wait_held(gateways, "CP-1"), await _wait_held(gateways, "CP-2")}
                assert holders == {"gateway-1", "gateway-2"}

                # CP-1's gateway stops; CP-1 reconnects through the same address and lands on the other.
                lost = _holder(gateways, "CP-1")
                assert lost is not None
                await gateways.stop(lost)
                with pytest.raises(Exception):  # noqa: B017 (the socket's close, whatever websockets calls it)
                    await cp1.receive(timeout_s=10)

            survivor = next(name for name in gateways if name != lost)
            async with TestCharger.connect(url, "CP-1") as again:
                assert (await again.boot())["status"] == "Accepted"
                assert await _wait_held({survivor: gateways[survivor]}, "CP-1") == survivor
