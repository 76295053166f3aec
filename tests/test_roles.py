"""Roles, leases, the outbox, node ids and the SIGTERM stop (issue "Scale-out").

Leases and the outbox are tested where several processes meet: two runners (or relays) with engines
of their own on the same PostgreSQL (``KILOWATT_TEST_POSTGRES_URL``; skipped without it), and
SQLite where it applies. The refusals and SIGTERM run ``python -m kilowatt serve`` as a real process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from conftest import ADMIN_TOKEN, RunningCsms, empty_postgres
from kilowatt.app import Application
from kilowatt.bus.base import Event
from kilowatt.bus.memory import InProcessBus
from kilowatt.config import Role, Settings
from kilowatt.jobs import Job, JobRunner, LeaseStore, Outbox
from kilowatt.jobs.nodes import NodeRegistry
from kilowatt.roles import RoleRefused, check_role
from kilowatt.services.monitoring import ComponentVariable, MonitoringEventData
from kilowatt.services.transactions import StartKey, TransactionEnded, TransactionStarted
from kilowatt.storage.cluster_models import OutboxEvent
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import utcnow
from tcp_relay import relay_to

PG_EXAMPLE = "postgresql+asyncpg://kilowatt@db.example:5432/kilowatt"
REDIS_URL = os.environ.get("KILOWATT_TEST_REDIS_URL")


@pytest.fixture
async def postgres_url() -> str:
    """The test PostgreSQL with an empty schema; skipped (or failed in CI) without one."""
    return await empty_postgres()


@pytest.fixture
async def engines(postgres_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one migrated PostgreSQL database: two processes' views of it."""
    first, second = create_engine(postgres_url), create_engine(postgres_url)
    await upgrade(first)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each kind (SQLite and, when configured, PostgreSQL)."""
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


# --- roles and their refusals -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.gateway, Role.api, Role.worker])
def test_a_split_role_on_sqlite_is_refused(role: Role) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///./kilowatt.db", redis_url="redis://127.0.0.1:6379/0")
    with pytest.raises(RoleRefused) as refused:
        check_role(settings, role)
    message = str(refused.value)
    assert "SQLite with several processes" in message and "KILOWATT_DATABASE_URL" in message and role.value in message


@pytest.mark.parametrize("role", [Role.gateway, Role.api, Role.worker])
def test_a_split_role_without_redis_is_refused(role: Role) -> None:
    with pytest.raises(RoleRefused) as refused:
        check_role(Settings(database_url=PG_EXAMPLE, redis_url=None), role)
    message = str(refused.value)
    assert "KILOWATT_REDIS_URL" in message and "would not see the other processes" in message


@pytest.mark.parametrize("database_url", ["sqlite+aiosqlite:///./kilowatt.db", PG_EXAMPLE])
def test_role_all_needs_neither_postgres_nor_redis(database_url: str) -> None:
    check_role(Settings(database_url=database_url, redis_url=None), Role.all)
    check_role(Settings(database_url=PG_EXAMPLE, redis_url="redis://127.0.0.1:6379/0"), Role.worker)  # the split deployment


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILOWATT_")}
    env.update(
        KILOWATT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}",
        KILOWATT_HOST="127.0.0.1",
        KILOWATT_LOG_LEVEL="INFO",
        KILOWATT_OCPP_PORT="0",
        KILOWATT_HTTP_PORT="0",
    )
    env.update(settings)
    return env


@pytest.mark.parametrize(
    ("role", "settings", "named"),
    [
        ("worker", {}, "KILOWATT_DATABASE_URL"),
        ("gateway", {}, "KILOWATT_DATABASE_URL"),
        ("api", {"KILOWATT_DATABASE_URL": PG_EXAMPLE}, "KILOWATT_REDIS_URL"),
        ("worker", {"KILOWATT_DATABASE_URL": PG_EXAMPLE}, "KILOWATT_REDIS_URL"),
    ],
)
def test_serve_refuses_a_split_role_in_one_clear_line(tmp_path: Path, role: str, settings: dict[str, str], named: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kilowatt", "serve", "--role", role],
        env=_environment(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    message = done.stderr.strip()
    assert "\n" not in message and named in message and f"--role {role}" in message, done.stderr
    assert not (tmp_path / "kilowatt.db").exists()  # refused before anything was created


# --- node id --------------------------------------------------------------------------------


def test_the_default_node_id_differs_between_processes_on_one_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KILOWATT_NODE_ID", raising=False)
    first, second = Settings().node_id, Settings().node_id
    assert first != second  # two processes with the same pid (containers) still differ
    host, pid = socket.gethostname()[:40], str(os.getpid())
    assert first.startswith(f"{host}-{pid}-") and len(first) <= 64
    monkeypatch.setenv("KILOWATT_NODE_ID", "gateway-a")
    assert Settings().node_id == "gateway-a"


# --- leases ---------------------------------------------------------------------------------


async def test_a_lease_is_held_by_one_and_taken_over_after_expiry(migrated: AsyncEngine) -> None:
    leases = LeaseStore(migrated)
    assert await leases.acquire("job", "node-a", 0.6)
    assert not await leases.acquire("job", "node-b", 0.6)
    assert await leases.acquire("job", "node-a", 0.6)  # a renewal
    await asyncio.sleep(0.8)  # node-a died: no renewal
    assert await leases.acquire("job", "node-b", 0.6)
    assert not await leases.acquire("job", "node-a", 0.6)  # back from the dead: too late
    await leases.release("job", "node-b")
    assert await leases.acquire("job", "node-a", 0.6)  # a released lease is free at once


class _Recorder:
    """A job that records who ran it and when (monotonic start and end)."""

    def __init__(self, node: str, runs: list[tuple[str, float, float]], duration_s: float = 0.02):
        self.node, self.runs, self.duration_s = node, runs, duration_s

    async def __call__(self) -> None:
        started = time.monotonic()
        await asyncio.sleep(self.duration_s)
        self.runs.append((self.node, started, time.monotonic()))


async def test_two_runners_never_run_a_job_at_once_and_a_dead_holders_job_is_taken_over(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    runs: list[tuple[str, float, float]] = []
    ttl_s = 0.6
    a = JobRunner(LeaseStore(engines[0]), "node-a", [Job("sweep", 0.05, _Recorder("node-a", runs))], lease_ttl_s=ttl_s)
    b = JobRunner(LeaseStore(engines[1]), "node-b", [Job("sweep", 0.05, _Recorder("node-b", runs))], lease_ttl_s=ttl_s)
    a.start()
    await asyncio.sleep(0.3)  # a holds the lease first
    b.start()
    await asyncio.sleep(1.5)  # several lease periods: a keeps renewing, b keeps asking
    assert {node for node, _, _ in runs} == {"node-a"} and len(runs) >= 5
    assert b.held == set()
    await a.stop(release=False)  # a dies: its lease stays until it expires
    died = time.monotonic()
    for _ in range(50):
        await asyncio.sleep(0.05)
        if any(node == "node-b" for node, _, _ in runs):
            break
    await b.stop()
    taken = [start for node, start, _ in runs if node == "node-b"]
    assert taken, "node-b never took the job over"
    assert taken[0] - died <= ttl_s + 1.5  # within a lease's time to live (and a loaded machine's delay)
    last_a_end = max(end for node, _, end in runs if node == "node-a")
    assert last_a_end <= taken[0]  # never both at once
    overlapping = [
        (x, y) for x in runs for y in runs if x[0] != y[0] and x[1] < y[2] and y[1] < x[2]
    ]
    assert overlapping == []


async def test_a_runner_stops_even_when_stopped_as_a_run_finishes(migrated: AsyncEngine) -> None:
    """A stop whose cancellation lands as a run ends must still stop the loop. With
    ``asyncio.wait_for`` around the run, Python 3.11 dropped such a cancellation, the loop went on
    and ``stop()`` waited forever (a CI run hung 600 s in a worker's stop)."""

    async def instant() -> None:
        await asyncio.sleep(0)

    runner = JobRunner(LeaseStore(migrated), "node-a", [Job("instant", 0, instant)], lease_ttl_s=60)
    runner.start()
    while runner.runs["instant"] == 0:  # the lease is held: from here on every step is a run or a sleep(0)
        await asyncio.sleep(0.01)
    await runner.stop(release=False)
    for attempt in range(300):
        runner.start()
        for _ in range(attempt % 7 + 1):  # stop at each point of the run / sleep cycle in turn
            await asyncio.sleep(0)
        async with asyncio.timeout(5):
            await runner.stop(release=False)
        runner.held.add("instant")  # stop() forgets the lease; it is still ours (ttl 60 s)


async def test_concurrent_runners_race_for_a_free_lease_and_one_wins(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    stores = [LeaseStore(engines[i % 2]) for i in range(6)]
    for attempt in range(5):
        won = await asyncio.gather(*(store.acquire(f"race-{attempt}", f"node-{i}", 5.0) for i, store in enumerate(stores)))
        assert sum(won) == 1, won


# --- the outbox -----------------------------------------------------------------------------


def _collector(bus: InProcessBus) -> list[Event]:
    events: list[Event] = []

    async def listener(event: Event) -> None:
        events.append(event)

    bus.subscribe(listener)
    return events


async def _write_events(engine: AsyncEngine, count: int) -> list[Event]:
    events = [Event("transaction.started", "CP-1", {"transaction_id": i}) for i in range(count)]
    async with engine.begin() as connection:
        await connection.run_sync(Outbox.record, events)
    return events


async def _unsent(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (
            await connection.execute(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None)))
        ).scalar_one()


async def test_two_relays_publish_each_event_exactly_once(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    written = await _write_events(engines[0], 1200)  # more than one relay batch
    buses = [InProcessBus(), InProcessBus()]
    received = [_collector(bus) for bus in buses]
    relays = [Outbox(engines[i], buses[i], f"relay-{i}", grace_s=0) for i in range(2)]
    await asyncio.gather(*(relay.relay_once() for relay in relays), *(relay.relay_once() for relay in relays))
    ids = [event.id for events in received for event in events]
    assert sorted(ids) == sorted(event.id for event in written)  # every one, none twice
    assert await _unsent(engines[0]) == 0
    assert await relays[0].relay_once() == 0 and await relays[1].relay_once() == 0
    relayed = {event.id: event for events in received for event in events}
    assert relayed[written[7].id].data == {"transaction_id": 7} and relayed[written[7].id].at == written[7].at


async def test_a_relay_leaves_recent_events_to_their_writer(migrated: AsyncEngine) -> None:
    await _write_events(migrated, 3)
    bus = InProcessBus()
    received = _collector(bus)
    assert await Outbox(migrated, bus, "relay", grace_s=60).relay_once() == 0 and received == []
    assert await Outbox(migrated, bus, "relay", grace_s=0).relay_once() == 3 and len(received) == 3


async def test_a_relay_claim_left_by_a_dead_relay_is_taken_after_it_expires(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    await _write_events(engines[0], 2)
    async with engines[0].begin() as connection:  # a relay claimed them and died before publishing
        await connection.execute(
            update(OutboxEvent).values(claimed_by="dead", claimed_until=utcnow() + timedelta(seconds=0.5))
        )
    bus = InProcessBus()
    received = _collector(bus)
    relay = Outbox(engines[1], bus, "alive", grace_s=0)
    assert await relay.relay_once() == 0
    await asyncio.sleep(0.6)
    assert await relay.relay_once() == 2 and len(received) == 2


def _start(minute: int) -> TransactionStarted:
    timestamp = utcnow().replace(microsecond=0, second=0, minute=minute)
    return TransactionStarted(
        station_id="CP-1", evse_id=1, connector_id=1, timestamp=timestamp, id_token="TAG-1", meter_start_wh=100,
        key=StartKey("CP-1", 1, "TAG-1", timestamp),
    )  # fmt: skip


async def test_a_crash_between_commit_and_publish_loses_nothing(make_csms: Any) -> None:
    csms: RunningCsms = await make_csms(outbox_relay_interval_s=3600)  # the relay only when the test says
    application: Application = csms.application
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    received = _collector(application.bus)  # type: ignore[arg-type]

    async def crashed(events: Any) -> None:  # the process died right after its commit
        return None

    application.outbox.publish_committed = crashed  # type: ignore[method-assign]
    started = await csms.services.transactions.apply(_start(1))
    assert started.ref is not None
    ended = await csms.services.transactions.apply(
        TransactionEnded(station_id="CP-1", timestamp=utcnow(), transaction_id=started.ref.id, meter_stop_wh=600)
    )
    assert ended.energy_wh == 500
    assert [event for event in received if event.type.startswith("transaction.")] == []
    assert await _unsent(application.engine) == 2  # the data and its events were committed together

    application.outbox.grace_s = 0  # (otherwise: 10 s later)
    assert await application.outbox.relay_once() == 2
    relayed = [event for event in received if event.type in ("transaction.started", "transaction.ended")]
    assert [(event.type, event.data["transaction_id"]) for event in relayed] == [
        ("transaction.started", started.ref.id),
        ("transaction.ended", started.ref.id),
    ]
    assert relayed[1].data["energy_wh"] == 500
    assert await application.outbox.relay_once() == 0 and await _unsent(application.engine) == 0


async def test_events_published_by_their_writer_are_marked_sent_and_not_relayed(make_csms: Any) -> None:
    csms: RunningCsms = await make_csms(outbox_relay_interval_s=3600)
    application: Application = csms.application
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    received = _collector(application.bus)  # type: ignore[arg-type]
    started = await csms.services.transactions.apply(_start(2))
    assert [event.type for event in received] == ["transaction.started"]  # published at once, as before
    await application.outbox.flush_marks()
    assert await _unsent(application.engine) == 0
    application.outbox.grace_s = 0
    assert await application.outbox.relay_once() == 0
    async with application.engine.connect() as connection:
        stored = (await connection.execute(select(OutboxEvent.event_id, OutboxEvent.data))).one()
    assert stored.event_id == received[0].id and stored.data["transaction_id"] == started.ref.id  # type: ignore[union-attr]


async def test_meter_values_write_no_outbox_rows(make_csms: Any) -> None:
    csms: RunningCsms = await make_csms()
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    started = await csms.services.transactions.apply(_start(3))
    assert started.ref is not None
    from kilowatt.services.transactions import MeterSample, TransactionUpdated

    for minute in range(5):
        await csms.services.transactions.apply(
            TransactionUpdated(
                station_id="CP-1", timestamp=utcnow(), transaction_id=started.ref.id, evse_id=1, connector_id=1,
                samples=(MeterSample(utcnow(), str(200 + minute), unit="Wh"),),
            )
        )  # fmt: skip
    async with csms.application.engine.connect() as connection:
        types = (await connection.execute(select(OutboxEvent.type))).scalars().all()
    assert types == ["transaction.started"]


async def test_security_and_monitoring_events_go_through_the_outbox_once_each(make_csms: Any) -> None:
    """Alerts will act on what stations report (security events, firmware failures, NotifyEvent):
    those events are written with their rows, published, marked sent; a replayed NotifyEvent part
    stores nothing and announces nothing."""
    csms: RunningCsms = await make_csms(outbox_relay_interval_s=3600)
    application: Application = csms.application
    await csms.services.stations.create("CP-1")
    received = _collector(application.bus)  # type: ignore[arg-type]
    await csms.services.stations.record_event("CP-1", "security", "InvalidFirmwareSignature", details={"techInfo": "x"})
    event = MonitoringEventData(
        event_id=7, timestamp=utcnow(), trigger="Alerting", actual_value="Faulted", event_notification_type="HardWiredMonitor",
        target=ComponentVariable("Connector", "AvailabilityState", evse_id=1, connector_id=1),
    )  # fmt: skip
    for _ in range(2):  # the second is a replay of the same part
        await csms.services.monitoring.record_events("CP-1", utcnow(), 0, False, [event])
    assert [(e.type, e.data) for e in received] == [
        ("station.security", {"status": "InvalidFirmwareSignature", "request_id": None}),
        ("monitoring.events", {"new": 1, "seq_no": 0}),
    ]
    await application.outbox.flush_marks()
    async with application.engine.connect() as connection:
        rows = (await connection.execute(select(OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.sent_at))).all()
    assert sorted((row.event_id, row.type) for row in rows) == sorted((e.id, e.type) for e in received)
    assert all(row.sent_at is not None for row in rows)


# --- role worker and the jobs of role all ----------------------------------------------------


async def test_role_all_runs_the_jobs_and_a_worker_listens_on_nothing(postgres_url: str) -> None:
    if not REDIS_URL:
        pytest.skip("a worker needs KILOWATT_REDIS_URL: set KILOWATT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/5)")
    common = {"database_url": postgres_url, "host": "127.0.0.1", "ocpp_port": 0, "http_port": 0, "redis_url": REDIS_URL}
    gateway = Application(Settings(**common, node_id="gateway-1"), Role.gateway)
    worker = Application(Settings(**common, node_id="worker-1", outbox_relay_interval_s=0.05), Role.worker)
    await gateway.start()
    try:
        await worker.start()
        try:
            assert (worker.ocpp_port, worker.http_port) == (None, None)
            assert gateway.http_port is None and gateway.ocpp_port
            await asyncio.sleep(0.3)
            assert worker.jobs.held == {"reservations.expire", "outbox.relay", "nodes.reap"}
            assert gateway.jobs.held == set() and set(gateway.jobs.runs.values()) == {0}
            assert await worker.nodes.alive() == ["gateway-1", "worker-1"]
            assert worker.jobs.runs["outbox.relay"] >= 2
        finally:
            await worker.stop()
    finally:
        await gateway.stop()


# --- SIGTERM --------------------------------------------------------------------------------


def _read_until(process: subprocess.Popen[str], event: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        text = process.stdout.readline()
        if not text:
            raise AssertionError(f"serve exited early: {lines}")
        if text.startswith("{"):
            lines.append(json.loads(text))
            if lines[-1]["event"] == event:
                return lines
    raise AssertionError(f"no {event!r} within {timeout_s} s: {lines}")


async def test_sigterm_closes_station_sockets_with_going_away_and_exits_0(tmp_path: Path) -> None:
    timeout_s = 10
    process = subprocess.Popen(
        [sys.executable, "-m", "kilowatt", "serve"],
        env=_environment(
            tmp_path, KILOWATT_UNKNOWN_STATIONS="accept", KILOWATT_SHUTDOWN_TIMEOUT_S=str(timeout_s),
            KILOWATT_CONFIGURATION_FETCH_DELAY_S="3600", KILOWATT_ADMIN_TOKEN=ADMIN_TOKEN,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        started = _read_until(process, "kilowatt started")[-1]
        url = f"ws://127.0.0.1:{started['ocpp_port']}/ocpp/CP-9"
        async with connect(url, subprotocols=["ocpp1.6"], open_timeout=10, close_timeout=5) as charger:  # type: ignore[list-item]
            await charger.send(json.dumps([2, "b1", "BootNotification", {"chargePointVendor": "K", "chargePointModel": "T"}]))
            assert json.loads(await asyncio.wait_for(charger.recv(), 10))[0] == 3
            status = {"connectorId": 1, "status": "Available", "errorCode": "NoError"}
            await charger.send(json.dumps([2, "s1", "StatusNotification", status]))
            assert json.loads(await asyncio.wait_for(charger.recv(), 10)) == [3, "s1", {}]
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(charger.recv(), timeout_s)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001  # going away: reconnect elsewhere
        returncode = await asyncio.to_thread(process.wait, timeout_s + 5)
        elapsed = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode == 0, process.stderr.read() if process.stderr else ""
    assert elapsed < timeout_s
    with sqlite3.connect(tmp_path / "kilowatt.db") as db:  # what was answered is stored, and its event marked sent
        assert db.execute("SELECT status FROM connectors WHERE station_id = 'CP-9'").fetchall() == [("Available",)]
        assert db.execute("SELECT type, sent_at IS NOT NULL FROM outbox").fetchall() == [("connector.status", 1)]


async def test_a_stop_past_the_shutdown_timeout_reports_failure(tmp_path: Path) -> None:
    application = Application(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", host="127.0.0.1", ocpp_port=0, http_port=0,
                 shutdown_timeout_s=0.2)
    )  # fmt: skip
    await application.start()
    real_stop = application.stop

    async def stuck() -> None:
        await asyncio.sleep(5)

    application.stop = stuck  # type: ignore[method-assign]
    try:
        assert await application.shutdown() is False
    finally:
        await real_stop()


# --- nodes ----------------------------------------------------------------------------------


async def test_a_killed_nodes_stations_are_let_go_and_a_live_ones_kept(make_csms: Any) -> None:
    csms: RunningCsms = await make_csms(node_heartbeat_interval_s=0.1)
    application: Application = csms.application
    stations = csms.services.stations
    for station_id in ("CP-LIVE", "CP-KILLED", "CP-GHOST"):
        await stations.create(station_id)
    killed = NodeRegistry(application.engine, "killed-node", "gateway", interval_s=0.1)
    await killed.heartbeat()  # started, then kill -9: no more beats, no clean stop
    await stations.connected("CP-LIVE", "ocpp1.6", application.settings.node_id)
    await stations.connected("CP-KILLED", "ocpp1.6", "killed-node")
    await stations.connected("CP-GHOST", "ocpp1.6", "an-earlier-run")  # a node without a row at all
    assert "killed-node" in await application.nodes.alive()
    # The job nodes.reap (this process holds its lease) runs every interval; a node is dead after three.
    for _ in range(50):
        await asyncio.sleep(0.1)
        if (await stations.get("CP-KILLED")).station.node_id is None:
            break
    assert await application.nodes.alive() == [application.settings.node_id]
    views = {station_id: await stations.get(station_id) for station_id in ("CP-LIVE", "CP-KILLED", "CP-GHOST")}
    assert views["CP-LIVE"].station.connected and views["CP-LIVE"].station.node_id == application.settings.node_id
    assert not views["CP-KILLED"].station.connected and views["CP-KILLED"].station.node_id is None
    assert not views["CP-GHOST"].station.connected and views["CP-GHOST"].station.node_id is None


async def test_after_a_database_outage_no_live_node_is_reaped_and_a_reaped_one_reclaims_its_stations(
    postgres_url: str,
) -> None:
    """A database outage silences every node at once: when it is back, the reaper must not take the
    nodes that could not beat for dead (it waits until its own beats have reached the database for
    three intervals). A live node reaped all the same (its own link to the database was down) takes
    its stations back at its next heartbeat, unless one reconnected to another node meanwhile."""
    url = make_url(postgres_url)
    async with relay_to(url.host or "127.0.0.1", url.port or 5432) as relay:
        through_relay = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        direct, relayed = create_engine(postgres_url), create_engine(through_relay, pool_pre_ping=True)
        await upgrade(direct)
        api = Application(Settings(database_url=postgres_url, node_id="api"))  # its services, not started
        try:
            stations = api.services.stations
            for station_id in ("CP-B1", "CP-B2"):
                await stations.create(station_id)
                await stations.connected(station_id, "ocpp1.6", "node-b")
            released: list[int] = []

            async def release() -> int:
                released.append(await stations.release_departed_nodes())
                return released[-1]

            reaper = NodeRegistry(relayed, "node-a", "worker", interval_s=0.1)
            live = NodeRegistry(relayed, "node-b", "gateway", interval_s=0.1)
            reclaimed: list[int] = []

            async def rejoin() -> None:
                reclaimed.append(await stations.reclaim("node-b", ["CP-B1", "CP-B2"]))

            live.on_rejoin = rejoin
            await reaper.start()
            await live.start()
            await asyncio.sleep(0.4)
            assert await reaper.reap(release) == []  # the first reap: nobody departed
            await relay.cut()
            await asyncio.sleep(0.6)  # six intervals without a beat from anyone
            await relay.start()
            for _ in range(20):  # the reaper's job, every interval, from the moment the database is back
                try:
                    reaped = await reaper.reap(release)
                except (SQLAlchemyError, OSError):  # its first tries may still meet a dead pooled connection
                    reaped = []
                assert reaped == []
                await asyncio.sleep(0.05)
            assert sorted(await NodeRegistry(direct, "x", "api").alive()) == ["node-a", "node-b"]
            assert [(await stations.get(s)).station.node_id for s in ("CP-B1", "CP-B2")] == ["node-b", "node-b"]

            # node-b alone loses the database long enough to be reaped; CP-B2 reconnects to node-c meanwhile.
            await live.stop()  # (stopping beats; its row is deleted, as a reap would)
            await release()
            await stations.connected("CP-B2", "ocpp1.6", "node-c")
            live._task = asyncio.get_running_loop().create_task(live._beat())  # its beats come back
            for _ in range(50):
                if reclaimed:
                    break
                await asyncio.sleep(0.05)
            assert reclaimed == [1]
            views = {s: (await stations.get(s)).station for s in ("CP-B1", "CP-B2")}
            assert (views["CP-B1"].connected, views["CP-B1"].node_id) == (True, "node-b")
            assert views["CP-B2"].node_id == "node-c"  # taken by another node: left to it
            await reaper.stop()
            await live.stop()
        finally:
            await direct.dispose()
            await relayed.dispose()
            await api.engine.dispose()


async def test_a_clean_stop_deletes_the_nodes_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    application = Application(Settings(database_url=url, host="127.0.0.1", ocpp_port=0, http_port=0, node_id="n-1"))
    await application.start()
    assert await application.nodes.alive() == ["n-1"]
    await application.stop()
    with sqlite3.connect(tmp_path / "k.db") as db:
        assert db.execute("SELECT count(*) FROM nodes").fetchone() == (0,)
        leases = db.execute("SELECT name, holder, expires_at FROM leases ORDER BY name").fetchall()
    assert [(name, holder) for name, holder, _ in leases] == [
        ("nodes.reap", "n-1"), ("outbox.relay", "n-1"), ("reservations.expire", "n-1")
    ]  # fmt: skip
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert all(datetime.fromisoformat(expires_at).replace(tzinfo=None) <= now for _, _, expires_at in leases)  # given back


# --- the bus's timings are settings ------------------------------------------------------------


def test_the_redis_bus_takes_its_timings_from_the_settings() -> None:
    """Presence TTL, refresh period, per-operation timeout and call margin come from KILOWATT_REDIS_*
    (the bus is built, not started: nothing connects)."""
    settings = Settings(
        redis_url="redis://127.0.0.1:6379/0", node_id="n-1",
        redis_presence_ttl_s=6, redis_refresh_s=2, redis_op_timeout_s=0.5, redis_call_margin_s=0.25,
    )  # fmt: skip
    bus = Application(settings, Role.gateway).bus
    assert (bus.presence_ttl_ms, bus.refresh_s, bus.op_timeout_s, bus.margin_s) == (6000, 2, 0.5, 0.25)  # type: ignore[attr-defined]


def test_a_refresh_period_not_below_the_presence_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="KILOWATT_REDIS_REFRESH_S .* must be below KILOWATT_REDIS_PRESENCE_TTL_S"):
        Settings(redis_presence_ttl_s=5, redis_refresh_s=5)
