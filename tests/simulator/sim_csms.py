"""A tiny CSMS for simulator tests — real WebSockets on 127.0.0.1, the project's RPC core on the CSMS side.

Also the fixtures that start it and stations wired to it. They live here rather than in a
``conftest.py`` so they cannot shadow the suite's top-level ``conftest`` module; tests import them.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets
from websockets.asyncio.server import Server, ServerConnection

from kilowatt.ocpp.v16.dialect import DIALECT as V16
from kilowatt.ocpp.v21.dialect import DIALECT as V21
from kilowatt.ocpp.v201.dialect import DIALECT as V201
from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.rpc.protocol import IncomingCall, RpcProtocol
from kilowatt.simulator.config import StationConfig
from kilowatt.simulator.station import SimulatedStation

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]
DIALECTS = {d.subprotocol: d for d in (V21, V201, V16)}
SUBPROTOCOLS = [websockets.Subprotocol(name) for name in DIALECTS]  # the newest first, as Kilowatt prefers


@dataclass
class Received:
    station_id: str
    action: str
    payload: dict[str, Any]
    at_s: float = 0.0  # event-loop time of arrival
    subprotocol: str = "ocpp1.6"


@dataclass
class FakeCsms:
    """Accepts every station, numbers 1.6 transactions, records every CALL it receives.

    Speaks 1.6, 2.0.1 and 2.1 (whichever the station offers), each validated against its schemas.
    """

    heartbeat_interval_s: int = 60
    boot_status: str = "Accepted"
    authorize_status: str = "Accepted"
    received: list[Received] = field(default_factory=list)
    endpoints: dict[str, RpcEndpoint] = field(default_factory=dict)
    connections: dict[str, ServerConnection] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    subprotocols: dict[str, str] = field(default_factory=dict)  # station id -> negotiated version
    auth_headers: list[str | None] = field(default_factory=list)
    overrides: dict[str, Answer] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    server: Server | None = None

    port: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self) -> FakeCsms:
        self.server = await websockets.serve(self._serve, "127.0.0.1", 0, subprotocols=SUBPROTOCOLS, compression=None)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, connection: ServerConnection) -> None:
        path = connection.request.path
        station_id = path.rsplit("/", 1)[-1]
        self.paths.append(path)
        self.auth_headers.append(connection.request.headers.get("Authorization"))
        subprotocol = connection.subprotocol or "ocpp1.6"
        self.subprotocols[station_id] = subprotocol

        async def handler(call: IncomingCall) -> dict[str, Any]:
            self.received.append(Received(station_id, call.action, call.payload, asyncio.get_running_loop().time(), subprotocol))
            self._changed.set()
            return self.answer(call.action, call.payload, subprotocol)

        endpoint = RpcEndpoint(connection, RpcProtocol(DIALECTS[subprotocol], "csms"), handler, call_timeout_s=5)
        self.endpoints[station_id] = endpoint
        self.connections[station_id] = connection
        await endpoint.serve()

    def answer(self, action: str, payload: dict[str, Any], subprotocol: str = "ocpp1.6") -> dict[str, Any]:
        if action in self.overrides:
            return self.overrides[action](action, payload)
        now = "2024-01-01T00:00:00Z"
        if subprotocol != "ocpp1.6":
            return self.answer_v201(action, payload)
        if action == "BootNotification":
            return {"status": self.boot_status, "currentTime": now, "interval": self.heartbeat_interval_s}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            return {"idTagInfo": {"status": self.authorize_status}}
        if action == "StartTransaction":
            return {"transactionId": next(self._ids), "idTagInfo": {"status": self.authorize_status}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}}
        return {}

    def answer_v201(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """2.0.1 and 2.1 answers (their shapes are the same for what the simulator sends)."""
        now = "2024-01-01T00:00:00Z"
        if action == "BootNotification":
            return {"status": self.boot_status, "currentTime": now, "interval": self.heartbeat_interval_s}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            return {"idTokenInfo": {"status": self.authorize_status}}
        if action == "TransactionEvent" and "idToken" in payload:
            return {"idTokenInfo": {"status": self.authorize_status}}
        return {}

    def actions(self, station_id: str | None = None) -> list[str]:
        return [r.action for r in self.received if station_id is None or r.station_id == station_id]

    def of(self, action: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.received if r.action == action]

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 3.0) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever a CALL arrives."""
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), 0.05)
                except TimeoutError:
                    pass

    async def call(self, station_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.endpoints[station_id].call(action, payload)


# Short everything: a test should take a fraction of a second.
FAST = StationConfig(
    connectors=2,
    heartbeat_interval_s=300,
    meter_values_interval_s=0.1,
    arrival_rate_per_h=0,
    session_length_s=30,
    unplug_delay_s=0.05,
    boot_retry_s=0.1,
    reboot_s=0.05,
    reconnect_min_s=0.05,
    reconnect_max_s=0.2,
    call_timeout_s=2,
    connect_timeout_s=2,
    ev_ramp_s=0,
)


@pytest.fixture
async def fake_csms() -> AsyncIterator[FakeCsms]:
    csms = await FakeCsms().start()
    try:
        yield csms
    finally:
        await csms.close()


@pytest.fixture
async def make_station(fake_csms: FakeCsms) -> AsyncIterator[Callable[..., SimulatedStation]]:
    """Start stations against ``fake_csms``; all are stopped at the end of the test."""
    started: list[SimulatedStation] = []

    def make(station_id: str = "CP-1", config: StationConfig = FAST, **kw: Any) -> SimulatedStation:
        station = SimulatedStation(station_id, fake_csms.url, config, **kw)
        station.start()
        started.append(station)
        return station

    yield make
    for station in started:
        await station.stop(timeout_s=2)


if __name__ == "__main__":  # a CSMS with no database, to measure the simulator alone (docs/simulator.md)
    import sys

    async def _main(port: int) -> None:
        csms = FakeCsms(heartbeat_interval_s=60)
        csms.received = _Discard()  # keep nothing: a load test would fill memory
        csms.server = await websockets.serve(
            csms._serve, "127.0.0.1", port, subprotocols=SUBPROTOCOLS, compression=None, max_queue=64
        )
        print(f"fake CSMS on ws://127.0.0.1:{port}/ocpp", flush=True)
        await asyncio.Future()

    class _Discard(list):  # type: ignore[type-arg]
        def append(self, item: Any) -> None:
            pass

    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 19100))
