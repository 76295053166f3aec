"""The Redis bus: several processes (gateway, api, worker nodes) as one CSMS.

Three things travel through Redis (see docs/scaling.md for the diagram and the failure modes):

* **Presence** — ``kilowatt:station:{id}`` is a hash ``{node, epoch}`` naming the node that holds
  the station's socket, with a TTL the holder refreshes. Every attachment takes a new epoch, so
  the newest connection wins wherever it lands; the node it replaced is told to close its socket.
  The refresh re-writes a missing entry, so presence is rebuilt after Redis restarts (or loses its
  data) without anyone having to notice the restart.
* **Calls** — a command for a station held elsewhere is pushed, with a correlation id and the
  caller's node id, onto the holder's list ``kilowatt:node:{node}:calls``; the holder runs it
  through the same executor (the same per-station queue) as a local command and pushes the outcome
  onto the caller's list, whose one consumer hands it to the waiting call. The caller waits no
  longer than the command's timeout plus a margin: it never hangs on a dead node or a dead Redis.
* **Events** — published on the channel ``kilowatt:events`` by a background task, tagged with the
  node id; local listeners are called at once, so no Redis round trip lands on the path a charger's
  MeterValues waits on, and a node skips its own events coming back.

Redis is reached through ``redis.asyncio`` with no retries of its own: a failed command is retried
by the loop that issued it (refresh, consume, subscribe) or turned into a clear outcome (a call).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from kilowatt.bus.base import Bus, CommandExecutor, Event, EventListener
from kilowatt.commands import CommandEnvelope, CommandErrorKind, CommandOutcome

log = structlog.get_logger("kilowatt.bus")

PREFIX = "kilowatt"
EVENTS_CHANNEL = f"{PREFIX}:events"
EPOCHS_KEY = f"{PREFIX}:epochs"


def station_key(station_id: str) -> str:
    """The presence entry of a station: a hash ``{node, epoch}`` with a TTL."""
    return f"{PREFIX}:station:{station_id}"


def calls_key(node_id: str) -> str:
    """The list a node pops its work from: calls to run on its stations, and evictions."""
    return f"{PREFIX}:node:{node_id}:calls"


# Every new attachment gets an epoch greater than any handed out before: INCR of a shared counter,
# floored at the server's clock in microseconds so that a Redis that lost its data (restart
# without persistence, FLUSHDB) still hands out epochs newer than the ones nodes hold from before.
# (Lua numbers are doubles: microseconds since 1970 fit exactly up to the year 2255.)
_NEXT_EPOCH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local epoch = string.format('%.0f', math.max(now, last + 1))
redis.call('SET', KEYS[2], epoch)
"""

# KEYS: station, epochs; ARGV: node, ttl ms -> {epoch, previous node, previous epoch}
_ATTACH = (
    _NEXT_EPOCH
    + """
local old = redis.call('HMGET', KEYS[1], 'node', 'epoch')
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {epoch, old[1], old[2]}
"""
)

# KEYS: station; ARGV: node, epoch -> 1 if the entry was ours and is gone. A newer attachment
# (another node's, or this node's own later one) is left alone.
_DETACH = """
local v = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if v[1] == ARGV[1] and v[2] == ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: station, epochs; ARGV: node, epoch, ttl ms -> {'kept'} | {'lost', node, epoch} | {'restored', node, epoch}
# 'restored': the entry was missing (expired, Redis restarted or flushed) or named an older
# attachment: it is ours again, and the counter is raised past our epoch.
_REFRESH = """
local v = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if v[1] == ARGV[1] and v[2] == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'kept'}
end
if v[2] and tonumber(v[2]) > tonumber(ARGV[2]) then return {'lost', v[1], v[2]} end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'epoch', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'restored', v[1], v[2]}
"""

_BATCH = 500  # presence refreshes and events per pipeline


@dataclass(slots=True, eq=False)
class _Held:
    """A station whose socket is on this node; ``epoch`` None until Redis has registered it."""

    executor: CommandExecutor
    epoch: int | None = None


class RedisBus(Bus):
    """The bus between processes, on one Redis database (``redis://host:port/db``).

    ``node_id`` must be unique per process: it names this node's call list and presence entries.
    ``call_timeout_s`` is the timeout of an envelope that names none (the gateways'
    ``KILOWATT_CALL_TIMEOUT_S``); a caller gives up ``margin_s`` after the timeout at the latest.
    """

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        call_timeout_s: float = 30.0,
        margin_s: float = 1.0,
        presence_ttl_s: float = 15.0,
        refresh_s: float = 5.0,
        op_timeout_s: float = 2.0,
        max_pending_events: int = 10_000,
    ) -> None:
        self.node_id = node_id
        self.call_timeout_s = call_timeout_s
        self.margin_s = margin_s
        self.presence_ttl_ms = int(presence_ttl_s * 1000)
        self.refresh_s = refresh_s
        self.op_timeout_s = op_timeout_s
        # No retries inside redis-py: a call retried after a lost reply could be pushed twice, and
        # every loop here has its own retry with back-off.
        self.redis: Redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=op_timeout_s,
            socket_keepalive=True,
            client_name=f"kilowatt-bus:{node_id}",  # CLIENT LIST shows which node a connection is
            retry=Retry(NoBackoff(), 0),
        )
        self._attach_script = self.redis.register_script(_ATTACH)
        self._detach_script = self.redis.register_script(_DETACH)
        self._refresh_script = self.redis.register_script(_REFRESH)
        self._listeners: list[EventListener] = []
        self._held: dict[str, _Held] = {}
        # Events for the other nodes, each with the callback to run once Redis has taken it.
        self._outgoing: asyncio.Queue[tuple[Event, Callable[[], None] | None]] = asyncio.Queue(max_pending_events)
        self._dropped_events = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._work: set[asyncio.Task[Any]] = set()  # calls being served, evictions, registrations
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}  # this node's calls waiting for a reply
        self._refresh_now = asyncio.Event()
        self._started = False
        # How every event this node publishes begins (see _event_json): its own are told apart unread.
        self._own_prefix = orjson.dumps({"node": node_id}).decode()[:-1] + ","

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start consuming calls, refreshing presence and relaying events.

        A Redis that is down at start is not fatal: every loop retries, and the stations this node
        takes meanwhile are registered once Redis answers (see :meth:`refresh`).
        """
        if self._started:
            return
        self._started = True
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self.redis.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("Redis is unreachable; the bus retries in the background", error=str(exc))
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consume(), name=f"bus-consume-{self.node_id}"),
            loop.create_task(self._keep_presence(), name=f"bus-presence-{self.node_id}"),
            loop.create_task(self._relay_events(), name=f"bus-publish-{self.node_id}"),
            loop.create_task(self._receive_events(), name=f"bus-subscribe-{self.node_id}"),
        ]
        log.info("redis bus started", node_id=self.node_id)

    async def close(self) -> None:
        """Stop the loops, send the events still buffered, unregister this node's stations."""
        if not self._started:
            await self.redis.aclose()
            return
        self._started = False
        relay = self._tasks[2]
        for task in self._tasks:
            if task is not relay:
                task.cancel()
        await self.flush()  # a last chance for the buffered events
        relay.cancel()
        for task in (*self._tasks, *self._work):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._work, return_exceptions=True)
        self._tasks = []
        held, self._held = self._held, {}
        try:
            async with asyncio.timeout(self.op_timeout_s):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for station_id, entry in held.items():
                        if entry.epoch is not None:
                            await self._detach_script(keys=[station_key(station_id)], args=[self.node_id, entry.epoch], client=pipe)
                    await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:  # their entries expire with their TTL
            log.warning("could not unregister this node's stations", error=str(exc), stations=len(held))
        await self.redis.aclose()
        log.info("redis bus closed", node_id=self.node_id)

    # --- events ----------------------------------------------------------------------------------

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def publish(self, event: Event, on_sent: Callable[[], None] | None = None) -> None:
        """Local listeners now; the other nodes through Redis, sent by a background task, which
        calls ``on_sent`` once Redis has taken the event.

        Never waits on Redis: when Redis is down long enough for the buffer to fill, events for
        the other nodes are dropped (and counted in the log) rather than slowing chargers down;
        ``on_sent`` is not called for them, so the outbox relays its durable ones later.
        """
        await self._deliver(event)
        try:
            self._outgoing.put_nowait((event, on_sent))
        except asyncio.QueueFull:
            self._dropped_events += 1
            if self._dropped_events in (1, 10, 100) or self._dropped_events % 1000 == 0:
                log.warning("event buffer full: events not sent to other nodes", dropped=self._dropped_events)

    async def _deliver(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed", event_type=event.type)

    async def flush(self) -> None:
        """Wait, ``op_timeout_s`` at most, until the events buffered so far have been sent (or dropped)."""
        if self._tasks:  # (the relay runs)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.op_timeout_s):
                    await self._outgoing.join()

    async def _relay_events(self) -> None:
        """Send buffered events in pipelines, then confirm them (``on_sent``); on a Redis failure
        the batch is dropped unconfirmed (pub/sub has no memory for absent subscribers anyway:
        durable events are relayed again by the outbox)."""
        backoff = _Backoff()
        while True:
            batch = [await self._outgoing.get()]
            while len(batch) < _BATCH and not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            try:
                async with asyncio.timeout(self.op_timeout_s):
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for event, _ in batch:
                            pipe.publish(EVENTS_CHANNEL, _event_json(event, self.node_id))
                        await pipe.execute()
                backoff.reset()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("events not sent to other nodes: Redis unreachable", error=str(exc), events=len(batch))
                await backoff.sleep()
            else:
                for _, on_sent in batch:
                    if on_sent is not None:
                        _confirm(on_sent)
            finally:
                for _ in batch:
                    self._outgoing.task_done()

    async def _receive_events(self) -> None:
        """Other nodes' events, to the local listeners (this node's own were delivered already)."""
        backoff = _Backoff()
        loop = asyncio.get_running_loop()
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(self.op_timeout_s):
                    await pubsub.subscribe(EVENTS_CHANNEL)
                backoff.reset()
                heard, pinged = loop.time(), False
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        # A quiet channel is pinged: a connection lost without a reset (a broken
                        # network) is noticed within refresh_s + op_timeout_s, not at TCP's pace.
                        quiet = loop.time() - heard
                        if pinged and quiet > self.refresh_s + self.op_timeout_s:
                            raise ConnectionError("the event subscription does not answer PING")
                        if not pinged and quiet > self.refresh_s:
                            await pubsub.ping()
                            pinged = True
                        continue
                    heard, pinged = loop.time(), False
                    if message.get("type") != "message":
                        continue
                    if message["data"].startswith(self._own_prefix):
                        continue  # this node's own event coming back: delivered already, not worth decoding
                    try:
                        origin, event = _event_from_json(message["data"])
                    except (ValueError, TypeError, KeyError):
                        log.warning("unreadable event on the bus", data=str(message.get("data"))[:200])
                        continue
                    if origin != self.node_id:
                        await self._deliver(event)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("event subscription lost; resubscribing", error=str(exc))
                await backoff.sleep()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    # --- presence ----------------------------------------------------------------------------------

    async def attach(self, station_id: str, executor: CommandExecutor) -> None:
        """Hold the station here, register it with a new epoch, and evict the node it came from.

        A Redis failure does not refuse the station (its traffic needs only the database): it is
        registered by the next refresh once Redis answers.
        """
        entry = _Held(executor)
        self._held[station_id] = entry
        try:
            async with asyncio.timeout(self.op_timeout_s):
                epoch, old_node, old_epoch = await self._attach_script(
                    keys=[station_key(station_id), EPOCHS_KEY], args=[self.node_id, self.presence_ttl_ms]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("station not registered in Redis yet; retried by the refresh", station_id=station_id, error=str(exc))
            return
        self._registered(station_id, entry, int(epoch), old_node)

    def _registered(self, station_id: str, entry: _Held, epoch: int, old_node: str | None) -> None:
        if entry.epoch is None or entry.epoch < epoch:
            entry.epoch = epoch
        if self._held.get(station_id) is not entry:  # its socket closed while Redis was registering it
            self._spawn(self._unregister(station_id, epoch))
        if old_node and old_node != self.node_id:
            log.info("station moved here from another node; evicting it there", station_id=station_id, from_node=old_node)
            self._spawn(self._send_eviction(old_node, station_id, epoch))

    async def _send_eviction(self, node_id: str, station_id: str, epoch: int) -> None:
        try:
            await self._push(node_id, {"type": "evict", "station_id": station_id, "epoch": epoch, "from": self.node_id})
        except (RedisError, OSError, TimeoutError) as exc:  # the old node finds out at its next refresh
            log.warning("eviction not sent", station_id=station_id, node_id=node_id, error=str(exc))

    async def detach(self, station_id: str, executor: CommandExecutor) -> None:
        entry = self._held.get(station_id)
        if entry is None or entry.executor is not executor:
            return
        del self._held[station_id]
        if entry.epoch is not None:  # else not registered yet: _registered undoes it when it is
            await self._unregister(station_id, entry.epoch)

    async def _unregister(self, station_id: str, epoch: int) -> None:
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self._detach_script(keys=[station_key(station_id)], args=[self.node_id, epoch])
        except (RedisError, OSError, TimeoutError) as exc:  # the entry expires; a call meanwhile gets offline from here
            log.warning("station not unregistered from Redis", station_id=station_id, error=str(exc))

    def _evict_local(self, station_id: str, entry: _Held, reason: str) -> None:
        """A newer attachment on another node owns the station: forget it and close the socket here."""
        if self._held.get(station_id) is not entry:
            return
        del self._held[station_id]
        log.info("station taken over by another node; closing its socket here", station_id=station_id, reason=reason)
        if self._evict_handler is not None:
            self._spawn(self._evict_handler(station_id, entry.executor))

    async def _keep_presence(self) -> None:
        """Refresh this node's entries every ``refresh_s``, or at once after Redis came back."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_s):
                    await self._refresh_now.wait()
            self._refresh_now.clear()
            try:
                await self.refresh()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("presence not refreshed: Redis unreachable", error=str(exc))

    async def refresh(self) -> None:
        """Re-register every station held here: extend the TTL of entries that are still ours,
        rewrite those that are gone (Redis restarted or lost its data), give up those a newer
        attachment on another node has taken, and register those that never reached Redis."""
        # The epochs as sent: an attach running meanwhile may give an entry a newer one.
        held = [(station_id, entry, entry.epoch) for station_id, entry in self._held.items()]
        for start in range(0, len(held), _BATCH):
            batch = held[start : start + _BATCH]
            async with asyncio.timeout(self.op_timeout_s):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for station_id, entry, epoch in batch:
                        if epoch is None:
                            await self._attach_script(
                                keys=[station_key(station_id), EPOCHS_KEY], args=[self.node_id, self.presence_ttl_ms], client=pipe
                            )
                        else:
                            await self._refresh_script(
                                keys=[station_key(station_id), EPOCHS_KEY],
                                args=[self.node_id, epoch, self.presence_ttl_ms],
                                client=pipe,
                            )
                    answers = await pipe.execute()
            for (station_id, entry, epoch), answer in zip(batch, answers, strict=True):
                if epoch is None:
                    self._registered(station_id, entry, int(answer[0]), answer[1])
                elif answer[0] == "lost" and answer[1] == self.node_id:  # our own newer registration
                    entry.epoch = max(entry.epoch or 0, int(answer[2]))
                elif answer[0] == "lost":
                    self._evict_local(station_id, entry, f"node {answer[1]} holds a newer connection")
                elif answer[0] == "restored":
                    if answer[1] and answer[1] != self.node_id:
                        self._spawn(self._send_eviction(answer[1], station_id, epoch))
                    log.info("station re-registered in Redis", station_id=station_id)

    # --- calls -------------------------------------------------------------------------------------

    async def call_station(self, envelope: CommandEnvelope) -> CommandOutcome:
        held = self._held.get(envelope.station_id)
        if held is not None:  # the socket is here: no Redis on the way (and none needed while it is down)
            return await held.executor(envelope.command, envelope.timeout_s)
        timeout_s = envelope.timeout_s if envelope.timeout_s is not None else self.call_timeout_s
        give_up = asyncio.get_running_loop().time() + timeout_s + self.margin_s
        try:
            node = await self._holder(envelope.station_id)
        except (RedisError, OSError, TimeoutError) as exc:
            return _unavailable(envelope.station_id, exc)
        if node is None or node == self.node_id:  # (this node: the registry is behind a socket that just closed)
            return CommandOutcome.failed(CommandErrorKind.OFFLINE, f"station {envelope.station_id!r} is not connected")
        request = {
            "type": "call",
            "timeout_s": timeout_s,
            "deadline": time.time() + timeout_s,  # wall clock: the holder's loop clock is not ours
            "envelope": envelope.to_json(),
        }
        try:
            answer = await self._ask(node, request, give_up)
        except (RedisError, OSError) as exc:  # the call was not pushed: nothing was sent
            return _unavailable(envelope.station_id, exc)
        if answer is None:
            return CommandOutcome.failed(
                CommandErrorKind.TIMEOUT, f"no answer from node {node!r} within {timeout_s:g} s (the station may still have acted)"
            )
        try:
            return CommandOutcome.from_json(answer["outcome"])
        except (ValueError, TypeError, KeyError) as exc:  # e.g. a result type this node's version does not know
            log.exception("unreadable outcome from another node", node_id=node)
            return CommandOutcome.failed(
                CommandErrorKind.CALL_ERROR,
                f"node {node!r} sent an answer this node cannot read ({exc}); are the nodes running different versions?",
                code="InternalError",
            )

    async def alive_elsewhere(self, station_id: str, timeout_s: float) -> bool:
        """Ask the node the registry names to ping its socket for the station.

        No answer in time (that node is dead or stuck), or no Redis, counts as not alive: a
        station must be able to come back on any node when the one it was on has gone.
        """
        if station_id in self._held:
            return False  # here, not elsewhere (the gateway probes its own sockets)
        try:
            node = await self._holder(station_id)
            if node is None or node == self.node_id:
                return False
            give_up = asyncio.get_running_loop().time() + timeout_s + self.margin_s
            answer = await self._ask(node, {"type": "probe", "station_id": station_id}, give_up)
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("could not ask the station's node whether its socket lives; admitting", station_id=station_id, error=str(exc))
            return False
        alive = answer is not None and bool(answer.get("alive"))
        log.info("asked the station's node whether its socket lives", station_id=station_id, node_id=node, alive=alive)
        return alive

    async def _holder(self, station_id: str) -> str | None:
        """The node the registry names for the station (raises for an unreachable Redis)."""
        async with asyncio.timeout(self.op_timeout_s):
            return await self.redis.hget(station_key(station_id), "node")

    async def _push(self, node_id: str, message: dict[str, Any]) -> None:
        """Put ``message`` on ``node_id``'s list; the list lives no longer than presence entries unread."""
        async with asyncio.timeout(self.op_timeout_s):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.lpush(calls_key(node_id), orjson.dumps(message))
                pipe.pexpire(calls_key(node_id), self.presence_ttl_ms)
                await pipe.execute()

    async def _ask(self, node_id: str, request: dict[str, Any], give_up: float) -> dict[str, Any] | None:
        """Push ``request`` to ``node_id`` and wait until ``give_up`` (loop time) for its reply, which
        comes back on this node's own list: waiting holds no Redis connection, however many calls
        are in flight. None: no reply in time. Raises if the request could not be pushed."""
        correlation_id = uuid4().hex
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = reply
        try:
            await self._push(node_id, {**request, "id": correlation_id, "from": self.node_id})
            try:
                async with asyncio.timeout_at(give_up):
                    return await reply
            except TimeoutError:
                return None
        finally:
            self._pending.pop(correlation_id, None)

    async def _reply(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        try:
            await self._push(request["from"], {"type": "reply", "id": request["id"], **answer})
        except (RedisError, OSError, TimeoutError) as exc:  # the caller times out
            log.warning("reply to another node lost: Redis unreachable", to_node=request.get("from"), error=str(exc))

    async def _consume(self) -> None:
        """Pop this node's list: calls for its stations, probes, evictions, replies to its own calls.

        After an outage, re-register this node's stations at once.
        """
        backoff = _Backoff()
        failing = False
        key = calls_key(self.node_id)
        while True:
            try:
                # Bounded here too: a Redis behind a broken network (no reset) would hold BRPOP forever.
                async with asyncio.timeout(1 + self.op_timeout_s):
                    item = await self.redis.brpop([key], timeout=1)
                if item is not None:
                    self._dispatch(item[1])
                    async with asyncio.timeout(self.op_timeout_s):  # whatever else waits, in one round trip
                        for data in await self.redis.rpop(key, _BATCH) or []:
                            self._dispatch(data)
            except (RedisError, OSError, TimeoutError) as exc:
                if not failing:
                    log.warning("Redis unreachable; commands from other nodes cannot arrive", error=str(exc))
                failing = True
                await backoff.sleep()
                continue
            if failing:
                log.info("Redis reachable again; re-registering this node's stations")
                failing = False
                backoff.reset()
                self._refresh_now.set()

    def _dispatch(self, data: str) -> None:
        try:
            message = orjson.loads(data)
            kind = message["type"]
            if kind == "reply":
                reply = self._pending.get(message["id"])
                if reply is not None and not reply.done():
                    reply.set_result(message)
            elif kind == "call":
                self._spawn(self._serve_call(message))
            elif kind == "probe":
                self._spawn(self._serve_probe(message))
            elif kind == "evict":
                entry = self._held.get(message["station_id"])
                if entry is not None and (entry.epoch is None or entry.epoch < int(message["epoch"])):
                    self._evict_local(message["station_id"], entry, f"it connected to node {message.get('from')!r}")
        except (ValueError, TypeError, KeyError):
            log.warning("unreadable message on the bus", data=str(data)[:200])

    async def _serve_probe(self, message: dict[str, Any]) -> None:
        handler = self._probe_handler
        alive = handler is not None and await handler(message["station_id"])
        await self._reply(message, {"alive": alive})

    async def _serve_call(self, message: dict[str, Any]) -> None:
        """Run another node's call on a socket held here, within the time its caller still waits."""
        remaining = min(float(message["timeout_s"]), float(message["deadline"]) - time.time())
        if remaining <= 0:
            log.info("call from another node arrived after its deadline; not sent", from_node=message.get("from"))
            return
        try:
            envelope = CommandEnvelope.from_json(message["envelope"])
        except (ValueError, TypeError, KeyError) as exc:
            outcome = CommandOutcome.failed(CommandErrorKind.INVALID, f"unreadable command envelope: {exc}")
        else:
            entry = self._held.get(envelope.station_id)
            if entry is None:
                outcome = CommandOutcome.failed(CommandErrorKind.OFFLINE, f"station {envelope.station_id!r} is not connected")
            else:
                try:
                    # The deadline covers the wait behind other commands for the station too: a
                    # command still queued when its caller has given up is never sent.
                    async with asyncio.timeout(remaining):
                        outcome = await entry.executor(envelope.command, remaining)
                except TimeoutError:
                    outcome = CommandOutcome.failed(
                        CommandErrorKind.TIMEOUT,
                        f"not answered within {float(message['timeout_s']):g} s (waited behind other commands for the station)",
                    )
        await self._reply(message, {"outcome": outcome.to_json()})

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._work.add(task)
        task.add_done_callback(self._work.discard)


def _confirm(on_sent: Callable[[], None]) -> None:
    try:
        on_sent()
    except Exception:  # a caller's bug must not stop the relay of everyone's events
        log.exception("an event's on_sent callback failed")


def _unavailable(station_id: str, exc: BaseException) -> CommandOutcome:
    log.warning("command not routed: Redis unreachable", station_id=station_id, error=str(exc))
    return CommandOutcome.failed(
        CommandErrorKind.UNAVAILABLE, f"the bus between nodes (Redis) is unreachable ({exc}); the command was not sent"
    )


def _event_json(event: Event, node_id: str) -> bytes:
    """``{"node": ..., "event": ...}``, the node first: receivers skip their own by that prefix."""
    fields = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    return orjson.dumps({"node": node_id, "event": fields}, default=str)


def _event_from_json(data: str | bytes) -> tuple[str, Event]:
    """The origin node and the event; datetimes in ``data`` arrive as RFC 3339 strings."""
    message = orjson.loads(data)
    fields = dict(message["event"])
    fields["at"] = datetime.fromisoformat(fields["at"])
    return message["node"], Event(**fields)


class _Backoff:
    """0.1 s doubling to 2 s: a loop that lost Redis neither spins nor waits long once it is back."""

    def __init__(self) -> None:
        self._delay = 0.1

    def reset(self) -> None:
        self._delay = 0.1

    async def sleep(self) -> None:
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, 2.0)
