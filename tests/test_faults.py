"""Faults of the scale-out deployment (issue "Scale-out"), against the real PostgreSQL and Redis.

Each test breaks one thing in the middle of charger traffic and then checks the CSMS's promise to
the chargers: whatever got a CALLRESULT is stored, exactly once; what got a CALLERROR is retried by
the charger and stored once it succeeds. The chargers (:class:`FailoverCharger`) record what they
were told was stored; the database is then read directly.

- a gateway process killed with SIGKILL (or stopped with SIGTERM) while its chargers are in sessions: two real
  ``kilowatt serve --role gateway`` processes and an API node on one PostgreSQL and Redis;
- PostgreSQL going away and coming back (a TCP relay between Kilowatt and PostgreSQL, cut and
  restored, since the shared server cannot be restarted): CALLERRORs, retries, /health/ready, and
  the pool recovering without a restart.

- Redis going away with a command at the station and sessions running (the rest of the Redis
  outage cases are in tests/test_redis_bus.py and tests/api/test_readiness.py);
- a stopping gateway answering what it is writing before it closes the sockets (SIGTERM; the rest
  of SIGTERM is in tests/test_roles.py), and processes migrating the database at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conftest import ADMIN_TOKEN, IN_CI, REDIS_URL, empty_postgres, require_services
from fault_charger import FailoverCharger, now
from kilowatt.app import Application
from kilowatt.config import Role, Settings
from kilowatt.storage.database import create_engine
from tcp_relay import relay_to


@pytest.fixture
async def postgres_url() -> str:
    return await empty_postgres("fault tests run on the real servers: set KILOWATT_TEST_POSTGRES_URL")


@pytest.fixture
async def redis_url(postgres_url: str) -> AsyncIterator[str]:
    require_services("fault tests run on the real servers: set KILOWATT_TEST_REDIS_URL", postgres=False, redis=True)
    assert REDIS_URL
    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except Exception as exc:
        await client.aclose()
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


# --- what the chargers do -----------------------------------------------------------------------

V16, V201 = "ocpp1.6", "ocpp2.0.1"
ANSWERS = {"Reset": {"status": "Accepted"}, "ClearCache": {"status": "Accepted"}}


def _boot(version: str) -> dict[str, Any]:
    if version == V16:
        return {"chargePointVendor": "Kilowatt", "chargePointModel": "Fault"}
    return {"reason": "PowerUp", "chargingStation": {"model": "Fault", "vendorName": "Kilowatt"}}


def _status(version: str, status: str) -> dict[str, Any]:
    if version == V16:
        return {"connectorId": 1, "status": status, "errorCode": "NoError", "timestamp": now()}
    return {"evseId": 1, "connectorId": 1, "connectorStatus": status, "timestamp": now()}


class Session:
    """One charging session of a charger: start, meter values until told to stop, stop."""

    def __init__(self, charger: FailoverCharger, version: str, id_tag: str, pace_s: float = 0.1):
        self.charger, self.version, self.id_tag, self.pace_s = charger, version, id_tag, pace_s
        self.wh = 1000
        self.seq = 0
        self.tx = str(uuid.uuid4())
        self.transaction_id: int | None = None
        self.stop = asyncio.Event()
        self.metered = asyncio.Event()  # at least one meter value stored

    async def run(self, after_stop: int = 3) -> None:
        deliver, v16 = self.charger.deliver, self.version == V16
        await deliver("BootNotification", _boot(self.version))
        await deliver("StatusNotification", _status(self.version, "Available" if v16 else "Available"))
        if v16:
            started = await deliver(
                "StartTransaction", {"connectorId": 1, "idTag": self.id_tag, "meterStart": self.wh, "timestamp": now()}
            )
            self.transaction_id = started["transactionId"]
            await deliver("StatusNotification", _status(self.version, "Charging"))
        else:
            await deliver("StatusNotification", _status(self.version, "Occupied"))
            await deliver("TransactionEvent", self._event("Started", "Authorized", idToken={"idToken": self.id_tag, "type": "ISO14443"},
                                                          evse={"id": 1, "connectorId": 1}))  # fmt: skip
        left = after_stop
        while left > 0:
            self.wh += 7
            sample = [{"timestamp": now(), "sampledValue": [{"value": str(self.wh) if v16 else self.wh, "context": "Sample.Periodic"}]}]
            if v16:
                await deliver("MeterValues", {"connectorId": 1, "transactionId": self.transaction_id, "meterValue": sample})
            else:
                await deliver("TransactionEvent", self._event("Updated", "MeterValuePeriodic", meterValue=sample))
            self.metered.set()
            if self.stop.is_set():
                left -= 1
            await asyncio.sleep(self.pace_s)
        self.wh += 7
        end = [{"timestamp": now(), "sampledValue": [{"value": str(self.wh) if v16 else self.wh, "context": "Transaction.End"}]}]
        if v16:
            await deliver("StopTransaction", {"transactionId": self.transaction_id, "meterStop": self.wh, "timestamp": now(),
                                              "reason": "Local", "transactionData": end})  # fmt: skip
            await deliver("StatusNotification", _status(self.version, "Available"))
        else:
            await deliver("TransactionEvent", self._event("Ended", "EVDeparted", meterValue=end, stoppedReason="Local"))
            await deliver("StatusNotification", _status(self.version, "Available"))

    def _event(self, event_type: str, trigger: str, stoppedReason: str | None = None, **fields: Any) -> dict[str, Any]:  # noqa: N803
        info = {"transactionId": self.tx, **({"stoppedReason": stoppedReason} if stoppedReason else {})}
        payload = {"eventType": event_type, "timestamp": now(), "triggerReason": trigger, "seqNo": self.seq,
                   "transactionInfo": info, **fields}  # fmt: skip
        self.seq += 1
        return payload


# --- what was stored ----------------------------------------------------------------------------


def _samples(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (sample["timestamp"], str(value["value"]))
        for key in ("meterValue", "transactionData")
        for sample in payload.get(key, [])
        for value in sample["sampledValue"]
    ]


async def _check_stored_once(database_url: str, chargers: list[FailoverCharger], sessions: list[Session]) -> None:
    """Every acknowledged message is in the database exactly once and nothing else is — also one
    committed just before its answer was lost (the gateway died between the commit and the
    CALLRESULT, or the database's acknowledgement did not come back) and sent again: keyed
    messages are recognised by their key, keyless ones (1.6 MeterValues, StatusNotification) by
    their repeat_key (docs/scaling.md, "Repeats")."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            for charger, session in zip(chargers, sessions, strict=True):
                station = charger.station_id
                for delivery in charger.deliveries:
                    assert delivery.result is not None, f"{station} {delivery.action} was never stored: {delivery}"
                # One transaction, complete: started, stopped, with its energy.
                rows = (await db.execute(text(
                    "SELECT id, station_transaction_id, meter_start_wh, meter_stop_wh, stopped_at IS NOT NULL"
                    " FROM transactions WHERE station_id = :s"), {"s": station})).all()  # fmt: skip
                assert len(rows) == 1, (station, rows)
                [(tx_id, station_tx, meter_start, meter_stop, stopped)] = rows
                assert stopped and meter_stop == session.wh, (station, rows)
                if session.version == V16:
                    assert tx_id == session.transaction_id and meter_start == 1000
                else:
                    assert station_tx == session.tx
                # Each meter value acknowledged, once; none the charger did not send.
                stored = (await db.execute(text(
                    "SELECT timestamp, value FROM meter_values WHERE station_id = :s ORDER BY timestamp, id"), {"s": station})).all()  # fmt: skip
                got = Counter((_iso(at), value) for at, value in stored)
                sent: Counter[tuple[str, str]] = Counter()
                for delivery in charger.acked:
                    if delivery.action in ("MeterValues", "TransactionEvent", "StopTransaction"):
                        sent.update((_iso_text(at), value) for at, value in _samples(delivery.payload))
                statuses = Counter(
                    (status, _iso(at)) for status, at in (await db.execute(text(
                        "SELECT status, timestamp FROM status_notifications WHERE station_id = :s"), {"s": station})).all()
                )  # fmt: skip
                sent_statuses: Counter[tuple[str, str]] = Counter()
                for delivery in charger.acked:
                    if delivery.action == "StatusNotification":
                        key = (delivery.payload.get("status") or delivery.payload["connectorStatus"], _iso_text(delivery.payload["timestamp"]))
                        sent_statuses[key] += 1
                for stored_counts, sent_counts, what in ((got, sent, "meter values"), (statuses, sent_statuses, "statuses")):
                    missing = sent_counts - stored_counts
                    assert not missing, f"{station}: {what} acknowledged but not stored: {sorted(missing.elements())}"
                    extra = stored_counts - sent_counts
                    assert not extra, f"{station}: {what} stored but not acknowledged, or twice: {sorted(extra.elements())}"
    finally:
        await engine.dispose()


def _iso(at: Any) -> str:
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds")


def _iso_text(at: str) -> str:
    return at.removesuffix("Z")


# --- kill -9 of a gateway -----------------------------------------------------------------------


class GatewayProcess:
    """``python -m kilowatt serve --role gateway`` as a real process, its log in a file (a pipe
    nobody drains would block it)."""

    def __init__(self, node_id: str, log: Path, env: dict[str, str]):
        self.node_id, self.log = node_id, log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kilowatt", "serve", "--role", "gateway"],
            env={**env, "KILOWATT_NODE_ID": node_id},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.ocpp_port = 0

    async def started(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if line.startswith("{") and (entry := json.loads(line))["event"] == "kilowatt started":
                    self.ocpp_port = entry["ocpp_port"]
                    return
            assert self.process.poll() is None, f"{self.node_id} exited: {self.log.read_text()[-3000:]}"
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.node_id} did not start within {timeout_s} s: {self.log.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def _gateway_processes(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[list[GatewayProcess]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILOWATT_")}
    env.update(
        KILOWATT_DATABASE_URL=database_url, KILOWATT_REDIS_URL=redis_url, KILOWATT_HOST="127.0.0.1",
        KILOWATT_OCPP_PORT="0", KILOWATT_HTTP_PORT="0", KILOWATT_LOG_LEVEL="INFO", KILOWATT_ADMIN_TOKEN=ADMIN_TOKEN,
        KILOWATT_CONFIGURATION_FETCH_DELAY_S="3600", KILOWATT_DUPLICATE_PROBE_TIMEOUT_S="1", KILOWATT_CALL_TIMEOUT_S="5",
        PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent / "src"), env.get("PYTHONPATH", "")]),
    )  # fmt: skip
    gateways: list[GatewayProcess] = []
    try:
        for node_id in ("gw-a", "gw-b"):
            gateways.append(GatewayProcess(node_id, tmp_path / f"{node_id}.log", env))
        yield gateways
    finally:
        for gateway in gateways:
            gateway.stop()


@contextlib.asynccontextmanager
async def _api_node(database_url: str, redis_url: str | None, **overrides: Any) -> AsyncIterator[Application]:
    settings: dict[str, Any] = {"database_url": database_url, "redis_url": redis_url, "node_id": "api-1", "host": "127.0.0.1",
                                "ocpp_port": 0, "http_port": 0, "admin_token": ADMIN_TOKEN, "call_timeout_s": 5.0,
                                "configuration_fetch_delay_s": 3600.0, **overrides}  # fmt: skip
    application = Application(Settings(**settings), Role.api if redis_url else Role.all)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()


def _client(application: Application) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{application.http_port}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=15
    )


STATIONS = [("KILL-16-1", V16), ("KILL-16-2", V16), ("KILL-201-1", V201), ("KILL-201-2", V201)]


@contextlib.asynccontextmanager
async def _reconnect_address(via: str, gateways: list[GatewayProcess], tmp_path: Path) -> AsyncIterator[str]:
    """Where the chargers go after losing gateway A: gateway B itself, or the committed
    deploy/haproxy.cfg in front of both (which must send them to B: A refuses connections)."""
    gw_a, gw_b = gateways
    if via == "direct":
        yield gw_b.url
        return
    from test_haproxy_gateways import _free_port, _haproxy, _render, _wait_listening

    frontend, config = _free_port(), tmp_path / "haproxy.cfg"
    config.write_text(_render(frontend, _free_port(), {"gateway-1": gw_a.ocpp_port, "gateway-2": gw_b.ocpp_port}))
    with _haproxy(config) as process:
        await _wait_listening(frontend, process)
        yield f"ws://127.0.0.1:{frontend}/ocpp"


@pytest.mark.redis
@pytest.mark.parametrize(
    ("stop", "via"), [(signal.SIGKILL, "direct"), (signal.SIGKILL, "haproxy"), (signal.SIGTERM, "direct")], ids=["kill-direct", "kill-haproxy", "term-direct"]
)
async def test_a_gateway_killed_mid_session_loses_nothing_its_chargers_were_told_was_stored(
    postgres_url: str, redis_url: str, tmp_path: Path, stop: signal.Signals, via: str
) -> None:
    """SIGKILL (the process dies mid-write) and SIGTERM (it closes the sockets with 1001 after the
    writes in flight, and exits 0): either way the chargers finish their sessions on the other gateway."""
    with _gateway_processes(tmp_path, postgres_url, redis_url) as (gw_a, gw_b):
        await gw_a.started()  # one after the other: the first migrates the database
        await gw_b.started()
        async with _reconnect_address(via, [gw_a, gw_b], tmp_path) as elsewhere, _api_node(
            postgres_url, redis_url
        ) as api_node, _client(api_node) as api:
            for station_id, _ in STATIONS:
                await api_node.services.stations.create(station_id)
                assert (await api.post("/api/v1/id-tokens", json={"id_token": f"TAG-{station_id}"})).status_code in (200, 201)
            # Every session starts on gateway A; after it dies, the chargers go to the other address.
            chargers = [FailoverCharger(station_id, version, [gw_a.url, elsewhere], ANSWERS) for station_id, version in STATIONS]
            sessions = [Session(charger, version, f"TAG-{charger.station_id}", pace_s=0.01) for charger, (_, version) in zip(chargers, STATIONS)]
            running = [asyncio.create_task(session.run()) for session in sessions]
            try:
                async with asyncio.timeout(15):
                    for session in sessions:
                        await session.metered.wait()
                assert {charger.url for charger in chargers} == {gw_a.url}  # every session runs on gateway A
                await asyncio.sleep(0.5)  # a few meter values more, then A dies mid-traffic
                gw_a.process.send_signal(stop)
                returncode = await asyncio.to_thread(gw_a.process.wait, 25)
                assert returncode == (0 if stop == signal.SIGTERM else -signal.SIGKILL), gw_a.log.read_text()[-3000:]
                await asyncio.sleep(1.0)  # the chargers go on, on B
                for session in sessions:
                    session.stop.set()
                async with asyncio.timeout(40):
                    await asyncio.gather(*running)
            finally:
                for task in running:
                    task.cancel()
            assert all(charger.url == elsewhere and charger.reconnects >= 2 for charger in chargers), [
                (c.station_id, c.url, c.reconnects) for c in chargers
            ]

            # Presence moved: the API sees every station connected on B, and a command reaches it there.
            for charger in chargers:
                station = await api_node.services.stations.get(charger.station_id)
                assert station.station.connected and station.station.node_id == "gw-b", (charger.station_id, station.station)
                response = await api.post(f"/api/v1/stations/{charger.station_id}/reset", json={"mode": "OnIdle"})
                assert response.status_code == 200, (charger.station_id, response.text)
                assert any(action == "Reset" for action, _ in charger.received_calls)
            for charger in chargers:
                await charger.close()

        await _check_stored_once(postgres_url, chargers, sessions)
        print(f"resent after the {signal.Signals(stop).name}: {sum(d.lost > 0 for c in chargers for d in c.deliveries)}")


# --- processes starting together ----------------------------------------------------------------


async def test_processes_starting_together_migrate_once_without_failing(postgres_url: str) -> None:
    """A cluster's processes start at once and each migrates: they take turns (an advisory lock)
    instead of both creating the same tables, which killed one of them."""
    from kilowatt.storage.migrate import upgrade

    engines = [create_engine(postgres_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        async with engines[0].connect() as db:
            assert len((await db.execute(text("SELECT version_num FROM alembic_version"))).all()) == 1
    finally:
        for engine in engines:
            await engine.dispose()


# --- PostgreSQL going away and coming back ------------------------------------------------------


async def _ready_status(client: httpx.AsyncClient) -> int:
    return (await client.get("/health/ready")).status_code


async def _until(check: Any, within_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"not within {within_s} s: {what}"
        await asyncio.sleep(0.1)


async def test_a_postgres_outage_gives_callerrors_then_retries_store_everything_once(postgres_url: str) -> None:
    url = make_url(postgres_url)
    async with relay_to(url.host or "127.0.0.1", url.port or 5432) as relay:
        proxied = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        async with _api_node(proxied, None, node_id="solo") as node, _client(node) as api:
            stations = [("PG-16", V16), ("PG-201", V201)]
            for station_id, _ in stations:
                await node.services.stations.create(station_id)
                assert (await api.post("/api/v1/id-tokens", json={"id_token": f"TAG-{station_id}"})).status_code in (200, 201)
            ocpp_url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp"
            chargers = [FailoverCharger(station_id, version, [ocpp_url], ANSWERS) for station_id, version in stations]
            sessions = [Session(c, version, f"TAG-{c.station_id}", pace_s=0.02) for c, (_, version) in zip(chargers, stations)]
            running = [asyncio.create_task(session.run()) for session in sessions]
            try:
                async with asyncio.timeout(15):
                    for session in sessions:
                        await session.metered.wait()
                assert await _ready_status(api) == 200

                await relay.cut()  # PostgreSQL goes away in the middle of the sessions
                await _until(lambda: _is(api, 503), 5, "/health/ready says 503")
                await _until(lambda: _all_refused(chargers), 10, "every charger got a CALLERROR")
                for session in sessions:
                    session.stop.set()  # the stops, too, are sent while the database is away
                await asyncio.sleep(1.0)
                assert await _ready_status(api) == 503
                health = await api.get("/health")  # documented: "degraded" while the database fails (not a liveness probe)
                assert (health.status_code, health.json()["status"]) == (503, "degraded"), health.text

                await relay.start()  # PostgreSQL is back: the same process, its pool reconnecting
                await _until(lambda: _is(api, 200), 10, "/health/ready says 200 again")
                async with asyncio.timeout(30):
                    await asyncio.gather(*running)
            finally:
                for task in running:
                    task.cancel()
            for charger in chargers:
                await charger.close()
                errors = [error for delivery in charger.deliveries for error in delivery.errors]
                assert errors and all(code == "InternalError" for code, _ in errors), (charger.station_id, errors[:3])
                assert charger.reconnects == 1, "the connection stays up through the outage"
    await _check_stored_once(postgres_url, chargers, sessions)
    print(f"sent again after a CALLERROR: {sum(bool(d.errors) for c in chargers for d in c.deliveries)}")


async def _is(api: httpx.AsyncClient, status: int) -> bool:
    return await _ready_status(api) == status


async def _all_refused(chargers: list[FailoverCharger]) -> bool:
    return all(any(delivery.errors for delivery in charger.deliveries) for charger in chargers)


async def _connected_row(database_url: str, station_id: str) -> tuple[bool, str | None]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            row = (await db.execute(text("SELECT connected, node_id FROM stations WHERE id = :s"), {"s": station_id})).one()
    finally:
        await engine.dispose()
    return bool(row[0]), row[1]


async def test_a_station_leaving_during_a_postgres_outage_is_recorded_when_it_is_back(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The disconnection is written late instead of failing the connection handler (a traceback
    and a row saying "connected" forever); stopping during an outage does not fail either."""
    url = make_url(postgres_url)
    async with relay_to(url.host or "127.0.0.1", url.port or 5432) as relay:
        proxied = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        async with _api_node(proxied, None, node_id="solo") as node:
            for station_id in ("LEAVES", "STAYS"):
                await node.services.stations.create(station_id)
            ocpp_url = f"ws://127.0.0.1:{node.ocpp_port}/ocpp"
            leaves, stays = FailoverCharger("LEAVES", V16, [ocpp_url]), FailoverCharger("STAYS", V16, [ocpp_url])
            for charger in (leaves, stays):
                await charger.deliver("BootNotification", _boot(V16))
            assert await _connected_row(postgres_url, "LEAVES") == (True, "solo")

            await relay.cut()
            await leaves.close()  # the station goes while the database is away
            await asyncio.sleep(0.5)
            await relay.start()

            async def recorded() -> bool:
                return await _connected_row(postgres_url, "LEAVES") == (False, None)

            await _until(recorded, 10, "the disconnection is written once the database is back")
            assert await _connected_row(postgres_url, "STAYS") == (True, "solo")
            await relay.cut()  # and the node stops while the database is away, STAYS still connected
            started = time.monotonic()
        assert time.monotonic() - started < 10
        await stays.close()
    failures = [r for r in caplog.records if r.levelname == "ERROR" and "connection handler failed" in r.getMessage()]
    assert not failures, failures


# --- Redis going away during commands while chargers keep sending -------------------------------
# (tests/test_redis_bus.py covers a command sent during the outage, presence rebuilt and the
# bus's own connections; this adds a command already on its way when Redis goes, and whole
# sessions of both versions stored exactly once through the outage.)


@pytest.mark.redis
async def test_a_redis_outage_fails_commands_in_time_while_sessions_are_stored_once(postgres_url: str, redis_url: str) -> None:
    from tcp_relay import RedisRelay

    relay = RedisRelay(redis_url)
    await relay.start()
    timeout_s, margin_s = 2.0, 1.0  # KILOWATT_CALL_TIMEOUT_S, and the bus's margin on top
    nodes: list[Application] = []
    try:
        for node_id, role in (("gw-a", Role.gateway), ("api-1", Role.api)):
            settings = Settings(database_url=postgres_url, redis_url=relay.url, node_id=node_id, host="127.0.0.1", ocpp_port=0,
                                http_port=0, admin_token=ADMIN_TOKEN, call_timeout_s=timeout_s, configuration_fetch_delay_s=3600.0)  # fmt: skip
            nodes.append(Application(settings, role))
            await nodes[-1].start()
        gateway, api_node = nodes
        async with _client(api_node) as api:
            stations = [("R-16", V16), ("R-201", V201)]
            for station_id, _ in stations:
                await api_node.services.stations.create(station_id)
                assert (await api.post("/api/v1/id-tokens", json={"id_token": f"TAG-{station_id}"})).status_code in (200, 201)

            async def slow_reset(payload: dict[str, Any]) -> dict[str, Any]:
                await asyncio.sleep(1.0)  # Redis goes away while the station is answering
                return {"status": "Accepted"}

            ocpp_url = f"ws://127.0.0.1:{gateway.ocpp_port}/ocpp"
            chargers = [FailoverCharger(s, v, [ocpp_url], {**ANSWERS, "Reset": slow_reset}) for s, v in stations]
            sessions = [Session(c, v, f"TAG-{c.station_id}", pace_s=0.02) for c, (_, v) in zip(chargers, stations)]
            running = [asyncio.create_task(session.run()) for session in sessions]
            try:
                async with asyncio.timeout(15):
                    for session in sessions:
                        await session.metered.wait()

                started = time.monotonic()
                in_flight = asyncio.create_task(api.post("/api/v1/stations/R-16/reset", json={"mode": "OnIdle"}))

                async def at_the_station() -> bool:
                    return any(action == "Reset" for action, _ in chargers[0].received_calls)

                await _until(at_the_station, timeout_s, "the Reset reaches the station")
                await relay.cut()  # while the station takes its time to answer
                cut = time.monotonic()
                response = await in_flight
                assert response.status_code == 504 and "no answer" in response.json()["detail"], response.text
                # The caller's deadline started before the push, which was before the cut: the answer
                # comes within the timeout and the margin of the cut (never a hang).
                assert time.monotonic() - cut < timeout_s + margin_s + 0.5, (time.monotonic() - cut, time.monotonic() - started)

                started = time.monotonic()
                response = await api.post("/api/v1/stations/R-201/reset", json={"mode": "OnIdle"})
                assert response.status_code == 503 and "Redis" in response.json()["detail"], response.text
                assert time.monotonic() - started < timeout_s + margin_s
                await asyncio.sleep(0.5)  # the sessions go on without Redis

                await relay.start()
                for charger in chargers:
                    async def attached(station_id: str = charger.station_id) -> bool:
                        response = await api.post(f"/api/v1/stations/{station_id}/clear-cache")
                        return response.status_code == 200
                    await _until(attached, 15, f"a command reaches {charger.station_id} again")
                for session in sessions:
                    session.stop.set()
                async with asyncio.timeout(30):
                    await asyncio.gather(*running)
            finally:
                for task in running:
                    task.cancel()
            for charger in chargers:
                await charger.close()
                assert charger.reconnects == 1  # the chargers never noticed
                assert not [d for d in charger.deliveries if d.errors], "charger traffic needs no Redis"
    finally:
        for node in reversed(nodes):
            await node.stop()
        with contextlib.suppress(Exception):
            await relay.cut()
    await _check_stored_once(postgres_url, chargers, sessions)


async def test_a_repeated_keyless_message_is_stored_once(postgres_url: str) -> None:
    """What a charger does after a lost answer, without the fault: the same message twice."""
    async with _api_node(postgres_url, None, node_id="solo") as node:
        await node.services.stations.create("REPEAT")
        charger = FailoverCharger("REPEAT", V16, [f"ws://127.0.0.1:{node.ocpp_port}/ocpp"])
        await charger.deliver("BootNotification", _boot(V16))
        started = await charger.deliver("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": now()})
        meter_values = {"connectorId": 1, "transactionId": started["transactionId"],
                        "meterValue": [{"timestamp": now(), "sampledValue": [{"value": "10"}]}]}  # fmt: skip
        status = _status(V16, "Charging")
        for _ in range(2):
            await charger.deliver("MeterValues", meter_values)
            await charger.deliver("StatusNotification", status)
        await charger.close()
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as db:
            values = (await db.execute(text("SELECT count(*) FROM meter_values WHERE station_id = 'REPEAT'"))).scalar_one()
            statuses = (await db.execute(text("SELECT count(*) FROM status_notifications WHERE station_id = 'REPEAT'"))).scalar_one()
    finally:
        await engine.dispose()
    assert (values, statuses) == (1, 1)


async def test_a_stopping_gateway_answers_the_message_it_is_writing_before_closing(postgres_url: str) -> None:
    """SIGTERM's stop with a charger's message half-way: its write finishes and its CALLRESULT goes
    out before the socket closes with 1001 (a lost answer would have the charger store it twice on
    another gateway); a message arriving meanwhile is refused (nothing stored) to be sent again."""
    async with contextlib.AsyncExitStack() as stack:
        node = await stack.enter_async_context(_api_node(postgres_url, None, node_id="solo"))
        await node.services.stations.create("DRAIN")
        stations = node.services.stations
        real = stations.status_notification
        writing = asyncio.Event()

        async def slow(*args: Any, **kwargs: Any) -> None:
            writing.set()
            await asyncio.sleep(0.5)  # the write is under way when the stop begins
            await real(*args, **kwargs)

        stations.status_notification = slow  # type: ignore[method-assign]
        charger = FailoverCharger("DRAIN", V16, [f"ws://127.0.0.1:{node.ocpp_port}/ocpp"])
        await charger.deliver("BootNotification", _boot(V16))
        assert charger._socket is not None
        socket = charger._socket
        answered = asyncio.create_task(charger.deliver("StatusNotification", _status(V16, "Available"), within_s=5))
        await writing.wait()
        stopping = asyncio.create_task(node.stop())
        await asyncio.sleep(0.1)
        frames: list[Any] = []
        charger._waiting["late-1"] = late = asyncio.get_running_loop().create_future()
        late.add_done_callback(lambda f: frames.append(f.result() if not f.exception() else f.exception()))
        await socket.send(json.dumps([2, "late-1", "Heartbeat", {}]))  # arrives while the gateway drains
        result = await asyncio.wait_for(asyncio.shield(answered), 5)
        assert result == {}  # the CALLRESULT came, on the same connection
        await stopping
        await asyncio.wait_for(socket.wait_closed(), 5)
        assert socket.close_code == 1001
        assert charger.reconnects == 1 and not charger.deliveries[-1].lost
        assert frames and isinstance(frames[0], list) and frames[0][0] == 4, frames  # refused: send it again elsewhere
        await charger.close()
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as db:
            assert (await db.execute(text("SELECT count(*) FROM status_notifications WHERE station_id = 'DRAIN'"))).scalar_one() == 1
    finally:
        await engine.dispose()
