"""What one idle station connection keeps alive on the CSMS (issue #5: <= 20 KiB per idle socket).

Structural checks, not RSS measurements: per-connection objects have no ``__dict__``, an idle
connection holds one asyncio task (websockets' handler task; keep-alive pings come from one task
for the whole gateway), the handshake's headers are not kept, and the shared keep-alive still
fails a socket that stops answering without stalling on a backed-up one.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from websockets.frames import CloseCode
from websockets.protocol import State

from charger import TestCharger
from kilowatt.config import Settings
from kilowatt.gateway.server import MAX_QUEUED_FRAMES, Gateway, StationConnection

STATIONS = 5


async def _answer_until_quiet(charger: TestCharger, quiet_s: float = 0.3) -> None:
    """Answer the CSMS's CALLs (the GetConfiguration after a boot) until nothing arrives for ``quiet_s``."""
    with contextlib.suppress(TimeoutError):
        while True:
            await charger.receive(timeout_s=quiet_s)


async def test_an_idle_connection_keeps_one_task_and_only_slotted_objects(make_csms) -> None:
    csms = await make_csms(ws_ping_interval_s=30.0)
    for n in range(STATIONS):
        await csms.services.stations.create(f"CP-{n}")
    await asyncio.sleep(0.1)
    before = len(asyncio.all_tasks())
    async with contextlib.AsyncExitStack() as stack:
        chargers = [
            # no client-side keep-alive: every new task in this loop is the server's
            await stack.enter_async_context(TestCharger.connect(csms.ocpp_url, f"CP-{n}", ping_interval=None))
            for n in range(STATIONS)
        ]
        for charger in chargers:
            assert (await charger.boot())["status"] == "Accepted"
        for charger in chargers:
            await _answer_until_quiet(charger)
        assert len(csms.application.gateway.connections) == STATIONS

        tasks = len(asyncio.all_tasks()) - before
        assert tasks <= STATIONS, f"{tasks} tasks for {STATIONS} idle connections"

        session = csms.application.gateway.connections["CP-0"]
        for obj in (session, session.context, session.endpoint, session.endpoint.protocol):
            assert not hasattr(obj, "__dict__"), f"{type(obj).__name__} has a __dict__ (one per connection)"
        assert session.endpoint.handler.__self__ is session  # a bound method, no partial or closure per connection

        # the handshake's headers are dropped once read; the connection works on
        assert len(session.socket.request.headers) == 0 and len(session.socket.response.headers) == 0
        assert session.socket.max_queue_high == MAX_QUEUED_FRAMES
        assert "currentTime" in await chargers[0].call("Heartbeat", {})


async def test_a_live_idle_station_survives_keepalive_rounds(make_csms) -> None:
    csms = await make_csms(ws_ping_interval_s=0.4)  # a ping every 0.2 s, 0.1 s for the pong
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1", ping_interval=None) as charger:
        await charger.boot()
        await _answer_until_quiet(charger)
        await asyncio.sleep(1.2)  # several rounds; websockets answers pings without a recv()
        session = csms.application.gateway.connections["CP-1"]
        assert session.socket.state is State.OPEN
        assert session.socket.latency > 0  # pongs came back
        assert "currentTime" in await charger.call("Heartbeat", {})


# --- the shared keep-alive on fake sockets -------------------------------------------------------


class _FakeTransport:
    def __init__(self, backed_up: bool):
        self.backed_up = backed_up

    def get_write_buffer_size(self) -> int:
        return 4096 if self.backed_up else 0


class _FakeProtocol:
    def __init__(self, connection: _FakeConnection):
        self.connection = connection

    def fail(self, code: int, reason: str) -> None:
        self.connection.failed = (code, reason)
        self.connection.state = State.CLOSING


class _FakeConnection:
    """Answers pings (or not); a backed-up one never gets its ping out (``ping`` waits to drain)."""

    def __init__(self, answers: bool, backed_up: bool = False):
        self.answers = answers
        self.state = State.OPEN
        self.transport = _FakeTransport(backed_up)
        self.protocol = _FakeProtocol(self)
        self.remote_address = ("127.0.0.1", 1)
        self.pings = 0
        self.pinged_at: list[float] = []
        self.failed: tuple[int, str] | None = None

    async def ping(self) -> asyncio.Future[float]:
        if self.transport.backed_up:
            await asyncio.Event().wait()  # never drains
        self.pings += 1
        self.pinged_at.append(asyncio.get_running_loop().time())
        pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.answers:
            asyncio.get_running_loop().call_later(0.001, pong.set_result, 0.001)
        return pong

    @contextlib.asynccontextmanager
    async def send_context(self) -> Any:
        yield


async def test_shared_keepalive_fails_silent_sockets_without_stalling_on_backed_up_ones() -> None:
    gateway = Gateway(Settings(), None, None, {})  # type: ignore[arg-type]
    alive, silent, stuck = _FakeConnection(True), _FakeConnection(False), _FakeConnection(True, backed_up=True)
    for name, connection in (("STUCK", stuck), ("ALIVE", alive), ("SILENT", silent)):  # the stuck one first
        gateway.connections[name] = StationConnection(connection, None, None, None)  # type: ignore[arg-type]
    task = asyncio.create_task(gateway._keep_alive(0.02, 0.05))
    try:
        await asyncio.sleep(0.4)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert alive.pings >= 3 and alive.failed is None
    assert silent.pings >= 1 and silent.failed == (CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
    assert stuck.failed == (CloseCode.INTERNAL_ERROR, "keepalive ping timeout")  # its ping never got out in time


async def test_keepalive_pings_are_spread_over_the_period_and_each_station_is_pinged_once_per_period() -> None:
    """10,000 pings (and pongs) at once stall the messages around them: they go out slot by slot."""
    gateway = Gateway(Settings(), None, None, {})  # type: ignore[arg-type]
    connections = {f"CP-{n}": _FakeConnection(True) for n in range(200)}
    for name, connection in connections.items():
        gateway.connections[name] = StationConnection(connection, None, None, None)  # type: ignore[arg-type]
    period_s = 1.0  # 10 slots of 0.1 s
    task = asyncio.create_task(gateway._keep_alive(period_s, 0.2))
    try:
        await asyncio.sleep(2.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert all(c.pings == 2 and c.failed is None for c in connections.values())  # once per period, no more
    for c in connections.values():
        assert abs(c.pinged_at[1] - c.pinged_at[0] - period_s) < 0.05  # same slot in every period
    first_pings = sorted(c.pinged_at[0] for c in connections.values())
    distinct_slots = {round((t - first_pings[0]) / 0.1) for t in first_pings}
    assert len(distinct_slots) >= 8  # spread over (nearly) all ten slots, not one sweep
    assert max(len(slot) for slot in gateway._ping_slots) < 60  # no slot holds a big share of the stations
