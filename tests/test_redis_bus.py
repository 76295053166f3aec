"""The Redis bus between nodes, against the real Redis (``KILOWATT_TEST_REDIS_URL``).

Two kinds of test: two :class:`RedisBus` instances ("nodes") in this process with executors the
test controls, for the bus's own rules (routing, deadlines, epochs, events, outages); and real
Applications — two gateways and an API node on PostgreSQL and Redis — with a real websocket
charger, for what an operator sees. A Redis outage is a TCP relay to Redis the test cuts (the
shared server cannot be restarted); its data loss is a FLUSHDB of this test's database only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus

from charger import TestCharger
from conftest import ADMIN_TOKEN, IN_CI, POSTGRES_URL, empty_postgres
from kilowatt.app import Application
from kilowatt.bus.base import Event
from kilowatt.bus.redis import RedisBus, calls_key, station_key
from kilowatt.commands import Command, CommandErrorKind, CommandOutcome
from kilowatt.commands.envelope import CommandEnvelope
from kilowatt.commands.model import Reset, ResetMode, StatusResult
from kilowatt.config import Role, Settings
from kilowatt.storage.cluster_models import OutboxEvent
from tcp_relay import RedisRelay

REDIS_URL = os.environ.get("KILOWATT_TEST_REDIS_URL")

pytestmark = pytest.mark.redis

RESET = Reset(mode=ResetMode.ON_IDLE)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client on the test's Redis database, emptied before and after (only that database).

    Skipped without ``KILOWATT_TEST_REDIS_URL``; with ``CI=true`` a missing or unreachable Redis fails."""
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("CI=true but KILOWATT_TEST_REDIS_URL is not set")
        pytest.skip("Redis bus tests need KILOWATT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.flushdb()
    except (OSError, RedisError) as exc:
        await client.aclose()
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    yield client
    await client.flushdb()
    await client.aclose()


BusFactory = Callable[..., Awaitable[RedisBus]]


@pytest.fixture
async def make_bus(redis: Redis) -> AsyncIterator[BusFactory]:
    """Start a node's bus (fast refresh and short TTLs, so that tests do not wait); closed after the test."""
    buses: list[RedisBus] = []

    async def factory(node_id: str, url: str | None = None, **options: Any) -> RedisBus:
        values: dict[str, Any] = {"call_timeout_s": 5.0, "margin_s": 0.5, "presence_ttl_s": 3.0, "refresh_s": 0.2, "op_timeout_s": 1.0}
        values.update(options)
        bus = RedisBus(url or REDIS_URL, node_id, **values)  # type: ignore[arg-type]
        await bus.start()
        buses.append(bus)
        return bus

    yield factory
    for bus in reversed(buses):
        await bus.close()


class FakeStation:
    """An executor standing for a station's socket: records commands, answers with ``answer``."""

    def __init__(self, answer: Callable[[Command], Awaitable[CommandOutcome]] | None = None):
        self.commands: list[tuple[Command, float | None]] = []
        self.answer = answer or self._accept

    @staticmethod
    async def _accept(command: Command) -> CommandOutcome:
        return CommandOutcome(result=StatusResult(status="Accepted"), action="Reset", request={"type": "Soft"}, response={"status": "Accepted"})

    async def __call__(self, command: Command, timeout_s: float | None = None) -> CommandOutcome:
        self.commands.append((command, timeout_s))
        return await self.answer(command)


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait until ``check()`` holds (the bus works in background tasks)."""
    async with asyncio.timeout(within_s):
        while True:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


@pytest.fixture
async def relay(redis: Redis) -> AsyncIterator[RedisRelay]:
    assert REDIS_URL
    proxy = RedisRelay(REDIS_URL)
    await proxy.start()
    yield proxy
    with contextlib.suppress(Exception):
        await proxy.cut()


# --- two buses in one process ---------------------------------------------------------------------


async def test_a_call_from_one_node_runs_on_the_node_holding_the_station(make_bus: BusFactory, redis: Redis) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")
    station = FakeStation()
    await b.attach("CP-1", station)
    assert await redis.hgetall(station_key("CP-1")) == {"node": "node-b", "epoch": await redis.hget(station_key("CP-1"), "epoch")}
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))
    assert outcome.error is None and outcome.result == StatusResult(status="Accepted")
    assert (outcome.action, outcome.request, outcome.response) == ("Reset", {"type": "Soft"}, {"status": "Accepted"})
    [(command, timeout_s)] = station.commands
    assert command == RESET and timeout_s is not None and 1.0 < timeout_s <= 2.0  # what is left of the caller's 2 s
    # A call error travels back as such.
    station.answer = lambda command: _failed(CommandErrorKind.CALL_ERROR, "not now", code="NotSupported")
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET))
    assert outcome.error is not None and (outcome.error.kind, outcome.error.code) == (CommandErrorKind.CALL_ERROR, "NotSupported")


async def _failed(kind: CommandErrorKind, description: str, **fields: Any) -> CommandOutcome:
    return CommandOutcome.failed(kind, description, **fields)


async def test_calls_in_flight_hold_no_redis_connection_each(make_bus: BusFactory, redis: Redis) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")
    release = asyncio.Event()

    async def held_back(command: Command) -> CommandOutcome:
        await release.wait()
        return await FakeStation._accept(command)

    for n in range(50):
        await b.attach(f"CP-{n}", FakeStation(held_back))
    calls = []
    for n in range(50):  # one after the other: the pushes need not overlap, the waits do
        calls.append(asyncio.create_task(a.call_station(CommandEnvelope(f"CP-{n}", RESET, timeout_s=5.0))))
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # all 50 pushed and waiting for their replies
    connections = [c for c in await redis.client_list() if c.get("name") == "kilowatt-bus:node-a"]
    # Replies come back on the node's one list: a few connections, not one blocked per call waiting.
    assert len(connections) < 10, len(connections)
    release.set()
    outcomes = await asyncio.gather(*calls)
    assert all(outcome.error is None for outcome in outcomes)


@dataclass(slots=True, frozen=True)
class NewerResult(StatusResult):
    """A result type only a newer node knows (a rolling upgrade)."""


async def test_an_answer_this_node_cannot_read_is_a_clear_error(make_bus: BusFactory) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")

    async def newer(command: Command) -> CommandOutcome:
        return CommandOutcome(result=NewerResult(status="Accepted"), action="Reset", request={}, response={"status": "Accepted"})

    await b.attach("CP-1", FakeStation(newer))
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.CALL_ERROR
    assert "node-b" in outcome.error.description and "cannot read" in outcome.error.description


async def test_a_station_no_node_holds_is_offline(make_bus: BusFactory) -> None:
    a = await make_bus("node-a")
    started = time.monotonic()
    outcome = await a.call_station(CommandEnvelope("CP-NOWHERE", RESET, timeout_s=5.0))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.OFFLINE
    assert "CP-NOWHERE" in outcome.error.description and time.monotonic() - started < 1.0


async def test_the_timeout_is_honoured_across_nodes(make_bus: BusFactory) -> None:
    a, b = await make_bus("node-a", margin_s=0.5), await make_bus("node-b")
    cancelled = asyncio.Event()

    async def never(command: Command) -> CommandOutcome:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    await b.attach("CP-1", FakeStation(never))
    started = time.monotonic()
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.TIMEOUT, outcome
    assert 0.5 <= elapsed < 1.0 + 0.3, elapsed  # the timeout plus the margin, at most
    await asyncio.wait_for(cancelled.wait(), 1.0)  # the holder gave up at the deadline too: nothing left hanging


async def test_a_call_to_a_node_that_died_times_out(make_bus: BusFactory, redis: Redis) -> None:
    a = await make_bus("node-a", margin_s=0.3)
    # A node that registered the station and died: its entry lives until its TTL ends.
    await redis.hset(station_key("CP-1"), mapping={"node": "node-dead", "epoch": "1"})
    await redis.pexpire(station_key("CP-1"), 3000)
    started = time.monotonic()
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=0.5))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.TIMEOUT
    assert "node-dead" in outcome.error.description and time.monotonic() - started < 0.5 + 0.3 + 0.3
    assert await redis.pttl(calls_key("node-dead")) > 0  # the dead node's list does not outlive its entries


async def test_a_station_that_moves_is_evicted_from_its_old_node(make_bus: BusFactory, redis: Redis) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")
    evicted: list[tuple[str, Any]] = []

    async def evict(station_id: str, executor: Any) -> None:
        evicted.append((station_id, executor))

    a.on_evict(evict)
    old, new = FakeStation(), FakeStation()
    await a.attach("CP-1", old)
    old_epoch = int(await redis.hget(station_key("CP-1"), "epoch"))
    await b.attach("CP-1", new)
    entry = await redis.hgetall(station_key("CP-1"))
    assert entry["node"] == "node-b" and int(entry["epoch"]) > old_epoch
    await eventually(lambda: evicted == [("CP-1", old)])
    # The old socket's close comes after: it must not remove the newer node's entry.
    await a.detach("CP-1", old)
    assert await redis.hget(station_key("CP-1"), "node") == "node-b"
    # Commands from the old node (and from anywhere) now go to the new one.
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))
    assert outcome.error is None and len(new.commands) == 1 and old.commands == []
    # The holder's own detach does remove it.
    await b.detach("CP-1", new)
    assert await redis.exists(station_key("CP-1")) == 0


async def test_a_missed_eviction_is_caught_by_the_refresh(make_bus: BusFactory, redis: Redis) -> None:
    a = await make_bus("node-a")
    evicted: list[str] = []

    async def evict(station_id: str, executor: Any) -> None:
        evicted.append(station_id)

    a.on_evict(evict)
    await a.attach("CP-1", FakeStation())
    epoch = int(await redis.hget(station_key("CP-1"), "epoch"))
    # Another node took it over, and its eviction message never arrived.
    await redis.hset(station_key("CP-1"), mapping={"node": "node-b", "epoch": str(epoch + 1)})
    await eventually(lambda: evicted == ["CP-1"])
    assert await redis.hget(station_key("CP-1"), "node") == "node-b"


async def test_a_newer_registration_by_the_same_node_is_not_taken_for_a_move(make_bus: BusFactory, redis: Redis) -> None:
    """A refresh that raced an attach of the same station on this node finds its own newer epoch: it keeps the station."""
    a = await make_bus("node-a")
    evicted: list[str] = []

    async def evict(station_id: str, executor: Any) -> None:
        evicted.append(station_id)

    a.on_evict(evict)
    station = FakeStation()
    await a.attach("CP-1", station)
    epoch = int(await redis.hget(station_key("CP-1"), "epoch"))
    await redis.hset(station_key("CP-1"), "epoch", str(epoch + 5))
    await asyncio.sleep(0.6)  # a few refreshes
    assert evicted == [] and await redis.hget(station_key("CP-1"), "node") == "node-a"
    await a.detach("CP-1", station)  # with the epoch it learnt: the entry goes
    assert await redis.exists(station_key("CP-1")) == 0


async def test_events_reach_every_node_exactly_once(make_bus: BusFactory) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")
    seen: dict[str, list[Event]] = {"a": [], "b": []}

    async def on_a(event: Event) -> None:
        seen["a"].append(event)

    async def on_b(event: Event) -> None:
        seen["b"].append(event)

    a.subscribe(on_a)
    b.subscribe(on_b)
    await asyncio.sleep(0.2)  # both subscriptions are up
    event = Event("connector.status", "CP-1", {"evse_id": 1, "status": "Charging"})
    await a.publish(event)
    assert seen["a"] == [event]  # delivered on its own node before publish returns
    await eventually(lambda: len(seen["b"]) == 1)
    await b.publish(Event("station.registration", "CP-1", {"registration_status": "Accepted"}))
    await eventually(lambda: len(seen["a"]) == 2)
    await asyncio.sleep(0.3)  # anything doubled would have arrived by now
    assert [e.type for e in seen["a"]] == ["connector.status", "station.registration"]
    assert [e.type for e in seen["b"]] == ["connector.status", "station.registration"]
    assert seen["b"][0] == event  # the same event: type, station, data and time


async def test_a_node_skips_only_its_own_events_even_when_another_nodes_id_extends_its_own(make_bus: BusFactory) -> None:
    """Each node drops its own events coming back from Redis by their prefix, unread; a node whose
    id merely begins with another's ("node-a" / "node-ab") still gets the other's events."""
    a, ab = await make_bus("node-a"), await make_bus("node-ab")
    seen: dict[str, list[Event]] = {"a": [], "ab": []}

    async def on_a(event: Event) -> None:
        seen["a"].append(event)

    async def on_ab(event: Event) -> None:
        seen["ab"].append(event)

    a.subscribe(on_a)
    ab.subscribe(on_ab)
    await asyncio.sleep(0.2)  # both subscriptions are up
    await a.publish(Event("connector.status", "CP-1", {"n": 1}))
    await ab.publish(Event("connector.status", "CP-2", {"n": 2}))
    await eventually(lambda: len(seen["a"]) == 2 and len(seen["ab"]) == 2)
    await asyncio.sleep(0.3)  # anything doubled would have arrived by now
    assert sorted(e.data["n"] for e in seen["a"]) == [1, 2] and sorted(e.data["n"] for e in seen["ab"]) == [1, 2]


async def test_publishing_never_waits_for_redis(make_bus: BusFactory, relay: RedisRelay) -> None:
    a = await make_bus("node-a", url=relay.url)
    seen: list[Event] = []

    async def listener(event: Event) -> None:
        seen.append(event)

    a.subscribe(listener)
    await relay.cut()
    started = time.monotonic()
    for n in range(100):
        await a.publish(Event("meter.values", "CP-1", {"count": n}))
    assert time.monotonic() - started < 0.1 and len(seen) == 100


# --- Redis going away ----------------------------------------------------------------------------------


async def test_a_redis_outage_fails_commands_clearly_and_presence_is_rebuilt(
    make_bus: BusFactory, relay: RedisRelay, redis: Redis
) -> None:
    a = await make_bus("node-a", url=relay.url)
    b = await make_bus("node-b", url=relay.url)
    station = FakeStation()
    await b.attach("CP-1", station)
    assert await redis.hget(station_key("CP-1"), "node") == "node-b"

    await relay.cut()
    await redis.flushdb()  # a restart without persistence: every entry is gone
    started = time.monotonic()
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.UNAVAILABLE, outcome
    assert "Redis" in outcome.error.description and "not sent" in outcome.error.description
    assert time.monotonic() - started < 2.0 + 0.5
    # A station connecting during the outage is still admitted, and registered once Redis is back.
    await b.attach("CP-2", FakeStation())
    # The holder still runs its own stations' commands: they need no Redis.
    assert (await b.call_station(CommandEnvelope("CP-1", RESET, timeout_s=1.0))).error is None

    await relay.start()  # Redis is back, empty
    await eventually(lambda: _held_by(redis, "CP-1", "node-b"))
    await eventually(lambda: _held_by(redis, "CP-2", "node-b"))
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))
    assert outcome.error is None, outcome
    # A station taken after the restart gets a newer epoch than the ones held from before it.
    before = int(await redis.hget(station_key("CP-1"), "epoch"))
    await a.attach("CP-1", FakeStation())
    assert int(await redis.hget(station_key("CP-1"), "epoch")) > before


async def _held_by(redis: Redis, station_id: str, node_id: str) -> bool:
    return await redis.hget(station_key(station_id), "node") == node_id


async def test_killed_connections_are_reopened_with_presence_and_events(make_bus: BusFactory, redis: Redis) -> None:
    a, b = await make_bus("node-a"), await make_bus("node-b")
    await b.attach("CP-1", FakeStation())
    seen: list[Event] = []

    async def listener(event: Event) -> None:
        seen.append(event)

    b.subscribe(listener)
    await redis.flushdb()
    clients = await redis.client_list()
    ours = [client["id"] for client in clients if client.get("name", "").startswith("kilowatt-bus:node-")]
    assert ours, clients
    for client_id in ours:
        await redis.client_kill_filter(_id=client_id)
    await eventually(lambda: _held_by(redis, "CP-1", "node-b"))
    assert (await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=2.0))).error is None

    async def published() -> bool:
        await a.publish(Event("station.booted", "CP-1", {}))
        await asyncio.sleep(0.1)
        return bool(seen)

    await eventually(published)  # the subscription came back too


async def test_connections_that_hang_without_a_reset_are_replaced(make_bus: BusFactory, relay: RedisRelay) -> None:
    a = await make_bus("node-a")
    b = await make_bus("node-b", url=relay.url, refresh_s=0.3, op_timeout_s=0.5)
    station = FakeStation()
    await b.attach("CP-1", station)
    seen: list[Event] = []

    async def listener(event: Event) -> None:
        seen.append(event)

    b.subscribe(listener)
    await asyncio.sleep(0.2)
    relay.hang()  # b's subscription, its call-list BRPOP and its pooled connections never answer again

    async def delivered() -> bool:
        await a.publish(Event("station.booted", "CP-1", {}))
        await asyncio.sleep(0.1)
        return bool(seen)

    await eventually(delivered, within_s=8)  # b noticed the silent subscription and subscribed again
    outcome = await a.call_station(CommandEnvelope("CP-1", RESET, timeout_s=3.0))
    assert outcome.error is None, outcome  # and pops its call list again
    assert len(station.commands) == 1


# --- real nodes: two gateways and API nodes on PostgreSQL and Redis ------------------------------------


class Cluster:
    """Started Applications sharing one PostgreSQL database and one Redis database."""

    def __init__(self) -> None:
        self.nodes: dict[str, Application] = {}

    async def start(self, node_id: str, role: Role, **overrides: Any) -> Application:
        assert POSTGRES_URL
        values: dict[str, Any] = {
            "database_url": POSTGRES_URL,
            "redis_url": REDIS_URL,
            "node_id": node_id,
            "host": "127.0.0.1",
            "ocpp_port": 0,
            "http_port": 0,
            "admin_token": ADMIN_TOKEN,
            "call_timeout_s": 3.0,
            "duplicate_probe_timeout_s": 1.0,
            "configuration_fetch_delay_s": 0.0,
        }
        values.update(overrides)
        application = Application(Settings(**values), role)
        await application.start()
        self.nodes[node_id] = application
        return application

    def ocpp_url(self, node_id: str) -> str:
        return f"ws://127.0.0.1:{self.nodes[node_id].ocpp_port}/ocpp"

    def api(self, node_id: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.nodes[node_id].http_port}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=15
        )


@pytest.fixture
async def cluster(redis: Redis) -> AsyncIterator[Cluster]:
    await empty_postgres("the multi-node tests need KILOWATT_TEST_POSTGRES_URL as well (several processes share PostgreSQL)")
    nodes = Cluster()
    yield nodes
    for application in reversed(list(nodes.nodes.values())):
        await application.stop()


async def _gateways_and_api(cluster: Cluster, password: str | None = None, **overrides: Any) -> None:
    await cluster.start("gw-a", Role.gateway, **overrides)
    await cluster.start("gw-b", Role.gateway, **overrides)
    await cluster.start("api-1", Role.api, **overrides)
    await cluster.nodes["api-1"].services.stations.create("CP-1", password=password)


def _answer_all(answers: dict[str, Any]) -> Callable[[str, dict[str, Any]], Awaitable[Any]]:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        if action == "GetConfiguration":
            return {"configurationKey": []}
        return answers.get(action, ("NotImplemented", action))

    return responder


async def test_an_api_node_commands_a_station_on_a_gateway_and_gets_its_answer(cluster: Cluster) -> None:
    await _gateways_and_api(cluster)
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger, cluster.api("api-1") as api:
        await charger.boot()
        charger.responder = _answer_all({"Reset": {"status": "Rejected"}, "DataTransfer": {"status": "Accepted", "data": "pong"}})
        async with charger.answering():
            response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
            assert response.status_code == 200, response.text
            assert (response.json()["action"], response.json()["response"]) == ("Reset", {"status": "Rejected"})
            response = await api.post("/api/v1/stations/CP-1/data-transfer", json={"vendor_id": "com.acme", "message_id": "ping"})
            assert response.status_code == 200 and response.json()["result"] == {"status": "Accepted", "data": "pong"}
        assert ("Reset", {"type": "Soft"}) in charger.received_calls
        station = (await api.get("/api/v1/stations/CP-1")).json()
        assert station["connected"] is True


async def test_an_operators_decision_on_an_api_node_reaches_the_connection_on_a_gateway(cluster: Cluster) -> None:
    """Events cross nodes: the API node publishes station.registration, the gateway holding the socket applies it."""
    await cluster.start("gw-a", Role.gateway)
    await cluster.start("api-1", Role.api)
    await cluster.nodes["api-1"].services.stations.create("CP-1", registration_status="Pending")
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger, cluster.api("api-1") as api:
        assert (await charger.boot())["status"] == "Pending"
        assert (await charger.call_frame("Authorize", {"idTag": "X"}))[2] == "SecurityError"
        assert (await api.patch("/api/v1/stations/CP-1", json={"registration_status": "Accepted"})).status_code == 200

        async def accepted() -> bool:
            return (await charger.call_frame("Authorize", {"idTag": "X"}))[0] == 3

        await eventually(accepted)  # no new BootNotification: the open connection on gw-a follows


async def test_an_api_node_gets_504_when_the_station_does_not_answer_in_time(cluster: Cluster) -> None:
    await _gateways_and_api(cluster, call_timeout_s=0.5)
    async with TestCharger.connect(cluster.ocpp_url("gw-b"), "CP-1") as charger, cluster.api("api-1") as api:
        await charger.boot()

        async def silent(action: str, payload: dict[str, Any]) -> Any:
            await asyncio.sleep(5)
            return {"status": "Accepted"}

        charger.responder = silent
        async with charger.answering():
            started = time.monotonic()
            response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
            elapsed = time.monotonic() - started
        assert response.status_code == 504 and "did not answer" in response.json()["detail"], response.text
        assert elapsed < 0.5 + 1.0 + 0.5, elapsed  # the timeout plus the bus's margin


async def test_an_unknown_or_offline_station_from_an_api_node(cluster: Cluster) -> None:
    await _gateways_and_api(cluster)
    async with cluster.api("api-1") as api:
        response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
        assert response.status_code == 409 and "not connected" in response.json()["detail"]
        assert (await api.post("/api/v1/stations/CP-9/reset", json={"mode": "OnIdle"})).status_code == 404


async def test_commands_from_two_api_nodes_reach_the_station_one_at_a_time(cluster: Cluster) -> None:
    await _gateways_and_api(cluster)
    await cluster.start("api-2", Role.api)
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger, cluster.api("api-1") as api1, cluster.api(
        "api-2"
    ) as api2:
        await charger.boot()
        in_flight = most = 0

        async def responder(action: str, payload: dict[str, Any]) -> Any:
            nonlocal in_flight, most
            if action == "GetConfiguration":
                return {"configurationKey": []}
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.2)
            in_flight -= 1
            return {"status": "Accepted"}

        charger.responder = responder
        async with charger.answering():
            await asyncio.sleep(0.2)  # the post-boot GetConfiguration is done
            responses = await asyncio.gather(
                *(
                    client.post("/api/v1/stations/CP-1/remote-stop", json={"transaction_id": n})
                    for n, client in enumerate([api1, api2, api1, api2], 1)
                )
            )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert sorted(p["transactionId"] for a, p in charger.received_calls if a == "RemoteStopTransaction") == [1, 2, 3, 4]
        assert most == 1  # the queue lives with the socket, whichever node asked


PASSWORD = "a-station-password-16"


def _with_password(url: str) -> str:
    return url.replace("ws://", f"ws://CP-1:{PASSWORD}@")


async def test_a_station_reconnecting_to_another_gateway_moves_there(cluster: Cluster, redis: Redis) -> None:
    """With its password, a newcomer replaces the old socket at once, on whichever node each is."""
    await _gateways_and_api(cluster, password=PASSWORD, call_timeout_s=5.0)
    async with cluster.api("api-1") as api, TestCharger.connect(_with_password(cluster.ocpp_url("gw-a")), "CP-1") as old:
        await old.boot()
        await eventually(lambda: _held_by(redis, "CP-1", "gw-a"))

        async def never(action: str, payload: dict[str, Any]) -> Any:
            await asyncio.sleep(60)

        old.responder = never
        async with old.answering():
            await asyncio.sleep(0.2)  # the post-boot GetConfiguration is done (answered by nobody: it just waits)
            queued = asyncio.create_task(api.post("/api/v1/stations/CP-1/clear-cache"))
            await asyncio.sleep(0.3)  # sent to gw-a, waiting behind the socket there
            async with TestCharger.connect(_with_password(cluster.ocpp_url("gw-b")), "CP-1") as new:
                # The old node is told, closes its socket as replaced; its waiting command fails cleanly.
                await asyncio.wait_for(old.socket.wait_closed(), 5)
                assert old.socket.close_code == 4000
                response = await queued
                assert response.status_code in (409, 504) and response.json()["detail"], response.text
                assert response.status_code == 409  # closed before its timeout: not connected any more
                assert await redis.hget(station_key("CP-1"), "node") == "gw-b"
                assert "CP-1" not in cluster.nodes["gw-a"].gateway.connections
                await new.boot()
                new.responder = _answer_all({"Reset": {"status": "Accepted"}})
                async with new.answering():
                    response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
                    assert response.status_code == 200, response.text
                assert ("Reset", {"type": "Soft"}) in new.received_calls
                station = (await api.get("/api/v1/stations/CP-1")).json()
                assert station["connected"] is True and station.get("node_id", "gw-b") == "gw-b"


async def test_a_stranger_on_another_gateway_cannot_cut_off_a_live_charger(cluster: Cluster, redis: Redis) -> None:
    """Without the password, a newcomer is admitted only if the old socket, wherever it is, is dead."""
    await _gateways_and_api(cluster)
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger:
        await charger.boot()
        await eventually(lambda: _held_by(redis, "CP-1", "gw-a"))
        with pytest.raises(InvalidStatus) as refused:
            async with TestCharger.connect(cluster.ocpp_url("gw-b"), "CP-1"):
                pass
        assert refused.value.response.status_code == 409 and b"another node" in refused.value.response.body
        assert "currentTime" in await charger.call("Heartbeat", {})  # the real charger is still served
        assert await redis.hget(station_key("CP-1"), "node") == "gw-a"

        charger.socket.transport.pause_reading()  # now its socket stops answering pings, as a dead one would
        async with TestCharger.connect(cluster.ocpp_url("gw-b"), "CP-1") as newcomer:
            assert (await newcomer.boot())["status"] == "Accepted"
            assert await redis.hget(station_key("CP-1"), "node") == "gw-b"
            await eventually(lambda: "CP-1" not in cluster.nodes["gw-a"].gateway.connections)
            station = await cluster.nodes["api-1"].services.stations.get("CP-1")
            assert station.station.connected and station.station.node_id == "gw-b"


async def test_a_redis_outage_gives_503_while_charger_traffic_goes_on(cluster: Cluster, relay: RedisRelay, redis: Redis) -> None:
    await cluster.start("gw-a", Role.gateway, redis_url=relay.url)
    await cluster.start("api-1", Role.api, redis_url=relay.url)
    await cluster.nodes["api-1"].services.stations.create("CP-1")
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger, cluster.api("api-1") as api:
        await charger.boot()
        charger.responder = _answer_all({"Reset": {"status": "Accepted"}})
        async with charger.answering():
            assert (await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})).status_code == 200
        await relay.cut()
        await redis.flushdb()
        # The charger's own messages need only the database.
        await charger.status(1, "Charging")
        assert "currentTime" in await charger.call("Heartbeat", {})
        async with charger.answering():
            started = time.monotonic()
            response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
            assert response.status_code == 503, response.text
            assert "Redis" in response.json()["detail"] and time.monotonic() - started < 3.0 + 1.0
            await relay.start()
            await eventually(lambda: _held_by(redis, "CP-1", "gw-a"), within_s=10)
            response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
            assert response.status_code == 200, response.text
        outcomes = [c["outcome"] for c in (await api.get("/api/v1/stations/CP-1/commands?operation=reset")).json()["items"]]
        assert sorted(outcomes) == ["answered", "answered", "unavailable"]  # the failed one is in the log, said why


async def test_an_event_redis_could_not_take_is_relayed_by_the_outbox_when_redis_is_back(
    cluster: Cluster, relay: RedisRelay, make_bus: BusFactory
) -> None:
    """A durable event the gateway's bus dropped while Redis was down stays unsent in the outbox (it is
    not marked sent because it was handed to the bus), and the worker's relay publishes it once Redis
    is back: another node hears of the transaction after all."""
    observer = await make_bus("observer")  # straight to Redis: subscribed through the whole outage
    heard: list[Event] = []

    async def listener(event: Event) -> None:
        heard.append(event)

    observer.subscribe(listener)
    fast = {"redis_url": relay.url, "outbox_grace_s": 0.5, "outbox_relay_interval_s": 0.2}
    gateway = await cluster.start("gw-a", Role.gateway, **fast)
    await cluster.start("worker-1", Role.worker, **fast)
    await gateway.services.stations.create("CP-1")
    await gateway.services.authorization.create("TAG-1")
    async with TestCharger.connect(cluster.ocpp_url("gw-a"), "CP-1") as charger:
        await charger.boot()
        await relay.cut()
        started = await charger.call(
            "StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": "2026-12-02T08:00:00Z"}
        )
        transaction_id = started["transactionId"]

        def heard_started() -> bool:
            return any(e.type == "transaction.started" and e.data.get("transaction_id") == transaction_id for e in heard)

        await asyncio.sleep(2.0)  # the gateway marks what its bus sent within 0.5 s; the relay runs every 0.2 s
        assert not heard_started()
        async with gateway.engine.connect() as connection:
            unsent = (
                await connection.execute(
                    select(OutboxEvent.type).where(OutboxEvent.sent_at.is_(None), OutboxEvent.type == "transaction.started")
                )
            ).scalars().all()
        assert unsent == ["transaction.started"]  # kept for the relay, not marked sent
        await relay.start()
        await eventually(heard_started, within_s=15)

        async def all_sent() -> bool:
            async with gateway.engine.connect() as connection:
                count = (
                    await connection.execute(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None)))
                ).scalar_one()
            return count == 0

        await eventually(all_sent, within_s=5)
