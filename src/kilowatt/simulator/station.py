"""One simulated charge point: a single asyncio task that lives like a charger.

The task owns the station's behaviour and every message the station sends. It sleeps until the
next thing is due — a heartbeat, a meter sample, a driver arriving or leaving, a reconnect — does
it, and sleeps again. A second task exists only while connected: the
:class:`~kilowatt.rpc.endpoint.RpcEndpoint` reading frames. CSMS commands are answered there by
the protocol adapter, which changes the station's state and *posts* any follow-up messages (a
StartTransaction after RemoteStartTransaction, a reboot after Reset) to the behaviour task, because
a handler must not await a CALL on its own endpoint.

Because one task sends everything, the station never has two CALLs outstanding, and transaction
messages keep their order through the :class:`~kilowatt.simulator.offline.TransactionQueue`
whether the socket is up or not.
"""

from __future__ import annotations

import asyncio
import base64
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected
from kilowatt.rpc.protocol import IncomingCall, RpcProtocol
from kilowatt.simulator.adapter import ProtocolAdapter
from kilowatt.simulator.charging_profiles import ChargingProfile
from kilowatt.simulator.config import StationConfig
from kilowatt.simulator.drivers import TokenPool
from kilowatt.simulator.energy import EvBattery
from kilowatt.simulator.model import (
    Connector,
    ConnectorStatus,
    Reservation,
    Session,
    SessionPhase,
    StationModel,
    StopReason,
)
from kilowatt.simulator.offline import QueuedMessage, QueueFull, TransactionQueue
from kilowatt.simulator.stats import FleetStats

log = structlog.get_logger("kilowatt.simulator")

Job = Callable[[], Awaitable[None]]
_INF = math.inf

# Cars that show up: (battery capacity Wh, on-board AC charger W). DC stations use DC_EV_POWER_W.
_AC_CARS = ((40_000, 7_400), (60_000, 11_000), (75_000, 11_000), (100_000, 22_000), (52_000, 7_400))
_DC_EV_POWER_W = (50_000, 100_000, 150_000)
COMPLETED_SESSIONS_KEPT = 64  # per station; bounded so a long load test does not grow


def _station_url(base_url: str, station_id: str) -> str:
    return f"{base_url.rstrip('/')}/{quote(station_id, safe='')}"


def _basic_auth(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return f"Basic {token}"


class SimulatedStation:
    """A charge point that connects to a CSMS and behaves like a real one.

    Start it with :meth:`start` (or await :meth:`run`), stop it with :meth:`stop`. All its counters
    go to ``stats``, which a fleet shares among its stations.
    """

    def __init__(
        self,
        station_id: str,
        url: str,
        config: StationConfig | None = None,
        *,
        protocol: str = "ocpp1.6",
        password: str | None = None,
        stats: FleetStats | None = None,
        rng: random.Random | None = None,
        start_delay_s: float = 0.0,
        tokens: TokenPool | None = None,
    ):
        self.station_id = station_id
        self.url = _station_url(url, station_id)
        self.config = config = config or StationConfig()
        self.password = password
        self.stats = stats if stats is not None else FleetStats()
        self.rng = rng or random.Random()
        self.start_delay_s = start_delay_s
        self.tokens = tokens or TokenPool(config.id_tokens, self.rng)  # a fleet passes one shared pool
        self.model = StationModel.create(
            station_id, config.connectors, config.max_power_w, config.heartbeat_interval_s, config.meter_values_interval_s
        )
        for connector in self.model.connectors:  # a used meter, not a factory-fresh one
            connector.meter_wh = float(self.rng.randrange(0, 5_000_000))
        self.queue = TransactionQueue(config.max_queued_messages)
        # Sessions whose StopTransaction the CSMS answered, newest last: the station's own account
        # (transaction id, meter start/stop, energy integrated from the power curve) to check a CSMS against.
        self.completed_sessions: deque[Session] = deque(maxlen=COMPLETED_SESSIONS_KEPT)
        self.allow_offline_tx = config.allow_offline_tx
        self.transaction_message_attempts = config.transaction_message_attempts
        self.transaction_retry_s = 5.0
        self.adapter: ProtocolAdapter = _adapter_class(protocol)(self)

        self._socket: ClientConnection | None = None
        self._endpoint: RpcEndpoint | None = None
        self._reader: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._jobs: deque[Job] = deque()
        self._stopping = False
        self._graceful = True
        self._closing = False  # we are closing the socket ourselves: not an error
        self._ever_connected = False
        self._booted = False
        self._boot_retry_s = 0.0
        self._reconnect_s = 0.0
        self._offline_until_s = 0.0
        self._backoff_attempt = 0
        self._next_heartbeat_s = _INF
        self._next_arrival_s = _INF
        self._queue_retry_s = 0.0
        self._next_drop_s = _INF
        self._next_error_s = _INF
        self._next_meter_reset_s = _INF

    # --- public surface -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._endpoint is not None and not self._endpoint.closed

    @property
    def ready(self) -> bool:
        """Connected and accepted by the CSMS: free to send anything."""
        return self._booted and self.connected

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> asyncio.Task[None]:
        """Run the station in a task of the current event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=f"station {self.station_id}")
        return self._task

    async def stop(self, *, graceful: bool = True, timeout_s: float = 10.0) -> None:
        """Stop: with ``graceful``, end running sessions (StopTransaction) and close the socket cleanly."""
        self._stopping = True
        self._graceful = graceful
        self.wake()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except TimeoutError:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def post(self, job: Job | None = None) -> None:
        """Queue a follow-up for the behaviour task (and wake it). Safe from a message handler."""
        if job is not None:
            self._jobs.append(job)
        self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def now_s(self) -> float:
        return asyncio.get_running_loop().time()

    @staticmethod
    def wall_clock() -> datetime:
        return datetime.now(UTC)

    # --- the behaviour task ---------------------------------------------------------------------

    async def run(self) -> None:
        """The station's life, until :meth:`stop`."""
        try:
            if self.start_delay_s > 0:
                await self._sleep_until(self.now_s() + self.start_delay_s)
            now = self.now_s()
            self._reconnect_s = now
            self._next_arrival_s = now + self._exponential(self.config.arrival_rate_per_h)
            faults = self.config.faults
            self._next_drop_s = now + self._exponential(faults.drop_connection_per_h)
            self._next_error_s = now + self._exponential(faults.error_per_h)
            self._next_meter_reset_s = now + self._exponential(faults.meter_reset_per_h)
            while not self._stopping:
                await self._step()
                await self._sleep_until(self._next_deadline())
        finally:
            await self._shut_down()

    async def _sleep_until(self, deadline_s: float) -> None:
        """Sleep until ``deadline_s`` or :meth:`wake` — a future and a timer, cheaper than a task."""
        if self._jobs or self._stopping:
            return
        loop = asyncio.get_running_loop()
        delay_s = deadline_s - loop.time()
        if delay_s <= 0:
            await asyncio.sleep(0)  # let the reader and other stations run between steps
            return
        waiter = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(delay_s, _resolve, waiter) if delay_s != _INF else None
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    async def _step(self) -> None:
        """Do whatever is due now."""
        while self._jobs and not self._stopping:
            job = self._jobs.popleft()
            try:
                await job()
            except Exception:
                self.stats.error("simulator")
                log.exception("station job failed", station_id=self.station_id)
        now = self.now_s()
        if self._endpoint is None and now >= self._reconnect_s:
            await self._connect()
        if self.connected and not self._booted and self.now_s() >= self._boot_retry_s:
            await self._boot()
        if self.ready:
            await self._sync_statuses()
            if self.queue and self.now_s() >= self._queue_retry_s:
                await self.flush()
            if self.now_s() >= self._next_heartbeat_s:
                await self.adapter.heartbeat()
                if self._next_heartbeat_s <= self.now_s():  # not answered: try again later
                    self._next_heartbeat_s = self.now_s() + self.model.heartbeat_interval_s

        now = self.now_s()
        self.advance(now)
        if now >= self._next_arrival_s:
            self._next_arrival_s = now + self._exponential(self.config.arrival_rate_per_h)
            await self._driver_arrives()
        for connector in self.model.connectors:
            await self._connector_due(connector, self.now_s())
        await self._inject_faults(self.now_s())
        await self._sync_statuses()

    async def _connector_due(self, connector: Connector, now: float) -> None:
        session = connector.session
        if session is not None and session.phase is SessionPhase.ACTIVE:
            if now >= session.next_meter_s:
                interval_s = self.model.meter_values_interval_s
                session.next_meter_s = now + interval_s if interval_s > 0 else _INF
                self.adapter.meter_values(session, "Sample.Periodic")
                await self.flush()
            if now >= session.leave_s:
                reason = StopReason.EV_DISCONNECTED if self.rng.random() < 0.3 else StopReason.LOCAL
                await self.end_session(session, reason)
        if connector.unplug_s is not None and now >= connector.unplug_s:
            connector.plugged = False
            connector.finishing = False
            connector.unplug_s = None
        if connector.reservation is not None and now >= connector.reservation.expires_s:
            connector.reservation = None
        if connector.fault_until_s is not None and now >= connector.fault_until_s:
            connector.error_code = None
            connector.fault_until_s = None

    def _next_deadline(self) -> float:
        deadline = min(self._next_arrival_s, self._next_drop_s, self._next_error_s, self._next_meter_reset_s)
        if self._endpoint is None:
            deadline = min(deadline, self._reconnect_s)
        elif not self._booted:
            deadline = min(deadline, self._boot_retry_s)
        else:
            deadline = min(deadline, self._next_heartbeat_s)
            if self.queue:
                deadline = min(deadline, self._queue_retry_s)
        for connector in self.model.connectors:
            session = connector.session
            if session is not None and session.phase is SessionPhase.ACTIVE:
                deadline = min(deadline, session.next_meter_s, session.leave_s)
            if connector.unplug_s is not None:
                deadline = min(deadline, connector.unplug_s)
            if connector.reservation is not None:
                deadline = min(deadline, connector.reservation.expires_s)
            if connector.fault_until_s is not None:
                deadline = min(deadline, connector.fault_until_s)
        return deadline

    def _exponential(self, rate_per_h: float) -> float:
        """Seconds to the next event of a Poisson process with ``rate_per_h``."""
        return self.rng.expovariate(rate_per_h / 3600.0) if rate_per_h > 0 else _INF

    # --- connection -----------------------------------------------------------------------------

    async def _connect(self) -> None:
        headers = {"Authorization": _basic_auth(self.station_id, self.password)} if self.password else None
        config = self.config
        try:
            socket = await websockets.connect(
                self.url,
                subprotocols=[Subprotocol(self.adapter.subprotocol)],
                additional_headers=headers,
                open_timeout=config.connect_timeout_s,
                ping_interval=config.ws_ping_interval_s,
                close_timeout=2.0,
                compression=None,  # deflate state costs ~100 KB per socket; chargers rarely use it
                max_queue=64,
            )
        except InvalidStatus as exc:
            self._connect_failed(f"connect:http_{exc.response.status_code}")
            return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            self._connect_failed(f"connect:{type(exc).__name__}")
            return
        if socket.subprotocol != self.adapter.subprotocol:
            self.stats.error("connect:no_subprotocol")
        self.stats.connects += 1
        if self._ever_connected:
            self.stats.reconnects += 1
        self._ever_connected = True
        self._backoff_attempt = 0
        self._socket = socket
        self._endpoint = endpoint = RpcEndpoint(
            socket, RpcProtocol(self.adapter.dialect, "station"), self._handle, call_timeout_s=config.call_timeout_s
        )
        self._reader = asyncio.get_running_loop().create_task(self._read(endpoint), name=f"reader {self.station_id}")
        if self.config.boot_on_reconnect:
            self._booted = False
        self._boot_retry_s = 0.0
        self._queue_retry_s = 0.0

    def _connect_failed(self, kind: str) -> None:
        self.stats.error(kind)
        self._reconnect_s = max(self.now_s() + self._backoff_s(), self._offline_until_s)

    def _backoff_s(self) -> float:
        """Exponential backoff with jitter, so a restarted CSMS is not hit by the whole fleet at once."""
        ceiling_s = min(self.config.reconnect_max_s, self.config.reconnect_min_s * 2**self._backoff_attempt)
        self._backoff_attempt = min(self._backoff_attempt + 1, 30)
        return self.rng.uniform(ceiling_s / 2, ceiling_s)

    async def _read(self, endpoint: RpcEndpoint) -> None:
        try:
            await endpoint.serve()
        finally:
            if self._endpoint is endpoint:
                self._disconnected()

    def _disconnected(self) -> None:
        if not self._closing and not self._stopping:
            self.stats.error("disconnected")
        self._closing = False
        self._endpoint = None
        self._socket = None
        self._reader = None
        if self.config.boot_on_reconnect:
            self._booted = False
        self._reconnect_s = max(self._reconnect_s, self.now_s() + self._backoff_s(), self._offline_until_s)
        self.wake()

    async def disconnect(self, *, abort: bool = False) -> None:
        """Close the socket; ``abort`` drops it without a close frame, like a lost network."""
        socket, reader = self._socket, self._reader
        if socket is None:
            return
        self._closing = True  # our doing (a reboot, a stop, an injected fault): not a network error
        if abort:
            if socket.transport is not None:
                socket.transport.abort()
        else:
            try:
                await socket.close()
            except Exception:  # already broken: nothing more to close
                pass
        if reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(reader), 5.0)
            except TimeoutError:
                reader.cancel()

    async def _boot(self) -> None:
        answer = await self.adapter.boot()
        now = self.now_s()
        if answer.status == "Accepted":
            self._booted = True
            self.stats.boots_accepted += 1
            if answer.interval_s > 0:
                self.model.heartbeat_interval_s = answer.interval_s
            self._next_heartbeat_s = now + self.model.heartbeat_interval_s
            # after a boot the CSMS knows nothing: report every connector
            self.model.reported_station_status = None
            for connector in self.model.connectors:
                connector.reported = None
        elif answer.status is None:
            self._boot_retry_s = now + self.config.boot_retry_s
        else:
            self.stats.rejected[f"BootNotification:{answer.status}"] += 1
            self._boot_retry_s = now + (answer.interval_s or self.config.boot_retry_s)

    async def _shut_down(self) -> None:
        try:
            unfinished = bool(self.queue) or any(s.phase is SessionPhase.ACTIVE for s in self.model.sessions())
            if self._graceful and unfinished and not self.ready:
                # offline at the end of a run: one more try, so the CSMS is not left with open transactions
                if self._endpoint is None:
                    await self._connect()
                if self.connected and not self._booted:
                    await self._boot()
            if self._graceful and self.ready:
                for session in self.model.sessions():
                    if session.phase is SessionPhase.ACTIVE:
                        await self.end_session(session, StopReason.LOCAL)
                await self.flush()
            await self.disconnect()
        finally:
            if self._reader is not None and not self._reader.done():
                self._reader.cancel()

    # --- calls --------------------------------------------------------------------------------

    async def call_or_raise(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one CALL, counting it; raises what :meth:`RpcEndpoint.call` raises."""
        endpoint = self._endpoint
        if endpoint is None or endpoint.closed:
            raise StationDisconnected("not connected")
        stats = self.stats
        stats.messages_sent[action] += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            response = await endpoint.call(action, payload)
        except CallError as exc:
            stats.latency.record((loop.time() - started) * 1000.0)
            stats.error(f"CallError:{exc.code}")
            log.debug("call refused", station_id=self.station_id, action=action, error=str(exc))
            raise
        except CallTimeout:
            stats.error("timeout")
            raise
        except CallQueueFull:
            stats.error("queue_full")
            raise
        except OcppError as exc:  # our own payload broke the schema: a simulator bug worth seeing
            stats.error(f"invalid_request:{action}")
            log.error("invalid request", station_id=self.station_id, action=action, error=exc.description)
            raise
        ended = loop.time()
        stats.latency.record((ended - started) * 1000.0)
        self._next_heartbeat_s = ended + self.model.heartbeat_interval_s
        return response

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Send one CALL; ``None`` when it was not answered with a CALLRESULT (already counted)."""
        if not self.connected:
            return None
        try:
            return await self.call_or_raise(action, payload)
        except (CallError, CallTimeout, CallQueueFull, OcppError, StationDisconnected):
            return None

    def enqueue(self, action: str, payload: dict[str, Any], session: Session | None) -> None:
        """Queue a transaction message; :meth:`flush` delivers it in order."""
        message = QueuedMessage(
            action,
            payload,
            session_key=session.key if session is not None else None,
            enqueued_s=self.now_s(),
            context=session,
            offline=not self.ready,
        )
        try:
            self.queue.put(message)
        except QueueFull:
            self.stats.messages_dropped += 1
            self.stats.error("offline_queue_full")

    async def flush(self) -> None:
        """Deliver queued transaction messages, oldest first, while the CSMS answers."""
        queue = self.queue
        while queue and self.ready:
            message = queue.peek()
            assert message is not None
            try:
                response = await self.call_or_raise(message.action, message.payload)
            except CallError:
                message.attempts += 1
                if message.attempts < self.transaction_message_attempts:
                    self._queue_retry_s = self.now_s() + self.transaction_retry_s
                    return
                self._give_up(message)
                continue
            except OcppError:
                self._give_up(message)
                continue
            except (CallTimeout, StationDisconnected, CallQueueFull):
                self._queue_retry_s = self.now_s() + self.transaction_retry_s
                return
            if queue.peek() is message:
                queue.pop()
            if message.offline:
                self.stats.offline_messages_replayed += 1
            self.adapter.transaction_message_answered(message, response)

    def session_completed(self, session: Session) -> None:
        """The CSMS answered the session's StopTransaction: it is over, on both sides."""
        self.stats.sessions_completed += 1
        self.completed_sessions.append(session)

    def _give_up(self, message: QueuedMessage) -> None:
        if self.queue.peek() is message:
            self.queue.pop()
        self.stats.messages_dropped += 1
        self.adapter.transaction_message_failed(message)

    async def _handle(self, call: IncomingCall) -> dict[str, Any]:
        self.stats.messages_received[call.action] += 1
        response = await self.adapter.handle(call)
        self.wake()  # the command may have changed what is due
        return response

    # --- sessions -----------------------------------------------------------------------------

    def advance(self, now_s: float | None = None) -> None:
        """Let the cars charge up to ``now_s``: energy registers, state of charge, current power."""
        now_s = self.now_s() if now_s is None else now_s
        wall: datetime | None = None
        sharing = 0
        for connector in self.model.connectors:
            session = connector.session
            if session is None or session.phase is not SessionPhase.ACTIVE:
                continue
            if wall is None and len(self.model.profiles):
                wall = self.wall_clock()
                sharing = self.model.charging_connectors
            limit_w = self.limit_w(connector, session, wall, sharing)
            elapsed_s = now_s - session.last_advance_s
            if elapsed_s > 0:
                energy_wh = session.ev.charge(limit_w, elapsed_s)
                session.energy_wh += energy_wh
                connector.meter_wh += energy_wh
                self.stats.energy_wh += energy_wh
                session.last_advance_s = now_s
            session.power_w = session.ev.power_w(limit_w)

    def limit_w(self, connector: Connector, session: Session | None, wall: datetime | None = None, sharing: int = 1) -> float:
        """What the station offers ``connector`` now: its rating, capped by charging profiles."""
        limit_w = connector.max_power_w
        if len(self.model.profiles):
            profile_limit_w = self.model.profiles.limit_w(
                connector.connector_id,
                wall or self.wall_clock(),
                tx_start=session.started_at if session is not None else None,
                transaction_id=session.transaction_id if session is not None else None,
                sharing_connectors=max(1, sharing or self.model.charging_connectors),
            )
            if profile_limit_w is not None:
                limit_w = min(limit_w, max(0.0, profile_limit_w))
        return limit_w

    def install_profile(self, profile: ChargingProfile) -> None:
        """Install a charging profile; energy so far is booked at the old limit first."""
        self.advance()
        self.model.profiles.install(profile)
        self.advance()
        self.wake()

    def clear_profiles(self, **criteria: Any) -> int:
        self.advance()
        cleared = self.model.profiles.clear(**criteria)
        self.advance()
        self.wake()
        return cleared

    def new_session(self, connector: Connector, id_token: str, *, remote: bool = False) -> Session:
        """A driver plugs a car into ``connector``."""
        config = self.config
        rng = self.rng
        if config.max_power_w > 22_000:
            capacity_wh, ev_power_w = rng.choice((60_000, 77_000, 100_000)), rng.choice(_DC_EV_POWER_W)
        else:
            capacity_wh, ev_power_w = rng.choice(_AC_CARS)
        ev = EvBattery(
            capacity_wh=capacity_wh, soc=rng.uniform(0.1, 0.8), max_power_w=ev_power_w, ramp_s=config.ev_ramp_s
        )
        now = self.now_s()
        session = Session(
            key=self.model.new_session_key(),
            connector_id=connector.connector_id,
            id_token=id_token,
            ev=ev,
            leave_s=now + config.session_length_s * rng.uniform(0.5, 1.5),
            remote=remote,
        )
        if connector.reservation is not None and connector.reservation.id_token == id_token:
            session.reservation_id = connector.reservation.reservation_id
        connector.session = session
        connector.plugged = True
        connector.finishing = False
        connector.unplug_s = None
        self.tokens.hold(id_token)
        return session

    def plug_in(
        self, connector_id: int | None = None, id_token: str | None = None, *, stay_s: float | None = None
    ) -> Session | None:
        """A driver arrives now (for demos and tests): plugs in, authorizes, charges for ``stay_s``.

        Returns the session, or ``None`` when the connector (or, without one, every connector) is busy.
        """
        if id_token is None:
            id_token = self.tokens.take()
            self.tokens.release(id_token)  # new_session holds it again
        if connector_id is not None:
            connector = self.model.connector(connector_id)
            if connector is None or not (connector.free or self.model.reserved_for(id_token) is connector):
                return None
        else:
            connector = self.model.reserved_for(id_token) or next((c for c in self.model.connectors if c.free), None)
            if connector is None:
                return None
        session = self.new_session(connector, id_token)
        if stay_s is not None:
            session.leave_s = self.now_s() + stay_s
        self.post(lambda: self.authorize_and_start(session))
        return session

    async def _driver_arrives(self) -> None:
        free = [c for c in self.model.connectors if c.free]
        if not free:
            self.stats.drivers_turned_away += 1
            return
        id_token = self.tokens.take()
        self.tokens.release(id_token)  # new_session holds it again
        connector = self.model.reserved_for(id_token) or self.rng.choice(free)
        session = self.new_session(connector, id_token)
        await self.authorize_and_start(session)

    async def authorize_and_start(self, session: Session, *, authorize: bool = True) -> None:
        """Preparing → (Authorize) → start the transaction; the driver leaves if refused."""
        connector = self.model.connector(session.connector_id)
        assert connector is not None
        await self._sync_statuses()  # Preparing
        if authorize:
            accepted = await self.adapter.authorize(session.id_token)
            if accepted is None:  # not asked: offline, or no answer
                accepted = self.allow_offline_tx
            if connector.session is not session:  # unplugged or reset meanwhile
                return
            if not accepted:
                self.stats.rejected["Authorize"] += 1
                self.tokens.release(session.id_token)
                connector.session = None
                connector.plugged = False
                await self._sync_statuses()
                return
        if connector.session is not session or connector.error_code is not None:
            return
        self.begin_transaction(session)
        await self.flush()
        await self._sync_statuses()

    def begin_transaction(self, session: Session) -> None:
        connector = self.model.connector(session.connector_id)
        assert connector is not None
        now = self.now_s()
        reservation = connector.reservation
        if reservation is not None and reservation.id_token == session.id_token:
            session.reservation_id = reservation.reservation_id
            connector.reservation = None
        session.phase = SessionPhase.ACTIVE
        session.meter_start_wh = int(connector.meter_wh)
        session.started_at = self.wall_clock()
        session.last_advance_s = now
        interval_s = self.model.meter_values_interval_s
        session.next_meter_s = now + interval_s if interval_s > 0 else _INF
        self.stats.sessions_started += 1
        self.adapter.transaction_started(session)
        self.advance(now)

    async def end_session(self, session: Session, reason: StopReason) -> None:
        """Stop charging and close the transaction; the driver unplugs a little later."""
        connector = self.model.connector(session.connector_id)
        if connector is None or connector.session is not session:
            return
        if session.phase is SessionPhase.ACTIVE:
            self.advance()
            session.phase = SessionPhase.STOPPING
            session.stop_reason = reason
            session.power_w = 0.0
            session.meter_stop_wh = int(connector.meter_wh)
            self.adapter.transaction_stopped(session)
            self.model.profiles.end_transaction(session.transaction_id, connector.connector_id)
        connector.session = None
        self.tokens.release(session.id_token)
        connector.finishing = connector.plugged
        connector.unplug_s = self.now_s() + self.config.unplug_delay_s if connector.plugged else None
        if connector.inoperative_scheduled:
            connector.operative = False
            connector.inoperative_scheduled = False
        await self.flush()
        await self._sync_statuses()

    async def _sync_statuses(self) -> None:
        """Tell the CSMS about every status that changed since it last heard (nothing when not ready)."""
        if not self.ready:
            return
        model = self.model
        if model.reported_station_status is not model.station_status:
            status = model.station_status
            if await self.adapter.status_notification(0, status, None):
                model.reported_station_status = status
        for connector in model.connectors:
            current = (connector.status, connector.error_code or "NoError")
            if connector.reported != current and self.ready:
                if await self.adapter.status_notification(connector.connector_id, current[0], connector.error_code):
                    connector.reported = current

    def resend_statuses(self, connector_id: int | None = None) -> None:
        """Forget what the CSMS was told so the next step reports again (TriggerMessage)."""
        if connector_id in (None, 0):
            self.model.reported_station_status = None
        for connector in self.model.connectors:
            if connector_id is None or connector.connector_id == connector_id:
                connector.reported = None
        self.wake()

    # --- commands the adapter maps onto (called from message handlers: no awaiting CALLs) -------

    def remote_start(self, connector_id: int | None, id_token: str, *, authorize: bool) -> Session | None:
        """Claim a connector for a remotely started session; ``None`` when none can take it."""
        model = self.model
        if connector_id is not None:
            candidates = [c] if (c := model.connector(connector_id)) is not None else []
        else:
            reserved = model.reserved_for(id_token)
            candidates = [reserved] if reserved is not None else list(model.connectors)
        for connector in candidates:
            usable = (
                connector.session is None
                and connector.error_code is None
                and connector.operative
                and model.operative
                and not connector.finishing
                and (connector.reservation is None or connector.reservation.id_token == id_token)
            )
            if usable:
                session = self.new_session(connector, id_token, remote=True)
                self.post(lambda session=session: self.authorize_and_start(session, authorize=authorize))
                return session
        return None

    def remote_stop(self, transaction_id: int | str) -> bool:
        session = self.model.session_by_transaction(transaction_id)
        if session is None:
            return False
        self.post(lambda: self.end_session(session, StopReason.REMOTE))
        return True

    def reset(self, *, hard: bool) -> None:
        self.post(lambda: self.reboot(hard=hard))

    async def reboot(self, *, hard: bool = False) -> None:
        """End every session, close the connection, come back after ``reboot_s`` and boot again."""
        reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET
        for connector in self.model.connectors:
            if connector.session is not None:
                await self.end_session(connector.session, reason)
            connector.plugged = connector.finishing = False
            connector.unplug_s = None
            connector.reservation = None
            connector.error_code = None
            connector.fault_until_s = None
        await self.flush()
        await self.disconnect()
        self._booted = False
        self._reconnect_s = self.now_s() + self.config.reboot_s
        self.model.reported_station_status = None
        for connector in self.model.connectors:
            connector.reported = None

    def unlock(self, connector_id: int) -> str:
        connector = self.model.connector(connector_id)
        if connector is None:
            return "NotSupported"
        session = connector.session
        if session is not None:
            async def stop_and_unplug() -> None:
                await self.end_session(session, StopReason.UNLOCK_COMMAND)
                connector.unplug_s = self.now_s()

            self.post(stop_and_unplug)
        elif connector.plugged:
            connector.unplug_s = self.now_s()
            self.wake()
        return "Unlocked"

    def change_availability(self, connector_id: int, operative: bool) -> str:
        """``Accepted``, ``Rejected`` (no such connector) or ``Scheduled`` (after the running session)."""
        model = self.model
        if connector_id == 0:
            model.operative = operative
            targets = model.connectors
        else:
            connector = model.connector(connector_id)
            if connector is None:
                return "Rejected"
            targets = [connector]
        scheduled = False
        for connector in targets:
            if not operative and connector.session is not None:
                connector.inoperative_scheduled = True
                scheduled = True
            else:
                connector.operative = operative
                connector.inoperative_scheduled = False
        self.wake()
        return "Scheduled" if scheduled else "Accepted"

    def reserve(
        self, connector_id: int, id_token: str, expiry: datetime, reservation_id: int, parent_id_token: str | None = None
    ) -> str:
        """ReserveNow: ``Accepted``, ``Occupied``, ``Faulted``, ``Unavailable`` or ``Rejected``."""
        model = self.model
        connector = model.connector(connector_id)
        if connector is None:
            return "Rejected"  # connector 0 reservations are not supported (ReserveConnectorZeroSupported)
        existing = model.reservation(reservation_id)
        if existing is not None and existing is not connector:
            existing.reservation = None  # a known reservation id moves (OCPP: replace)
        status = connector.status
        if status is ConnectorStatus.FAULTED:
            return "Faulted"
        if status is ConnectorStatus.UNAVAILABLE or not model.operative:
            return "Unavailable"
        same = connector.reservation is not None and connector.reservation.reservation_id == reservation_id
        if status is not ConnectorStatus.AVAILABLE and not same:
            return "Occupied"
        remaining_s = (expiry - self.wall_clock()).total_seconds()
        if remaining_s <= 0:
            return "Rejected"
        connector.reservation = Reservation(reservation_id, id_token, self.now_s() + remaining_s, parent_id_token)
        self.wake()
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> bool:
        connector = self.model.reservation(reservation_id)
        if connector is None:
            return False
        connector.reservation = None
        self.wake()
        return True

    def set_meter_interval(self, interval_s: float) -> None:
        """MeterValueSampleInterval changed: reschedule the samples of running sessions."""
        self.model.meter_values_interval_s = interval_s
        now = self.now_s()
        for session in self.model.sessions():
            session.next_meter_s = now + interval_s if interval_s > 0 else _INF
        self.wake()

    def set_heartbeat_interval(self, interval_s: float) -> None:
        self.model.heartbeat_interval_s = interval_s
        if self._booted:
            self._next_heartbeat_s = self.now_s() + interval_s if interval_s > 0 else _INF
        self.wake()

    # --- injected faults ------------------------------------------------------------------------

    async def _inject_faults(self, now: float) -> None:
        faults = self.config.faults
        if now >= self._next_drop_s:
            self._next_drop_s = now + self._exponential(faults.drop_connection_per_h)
            await self.drop_connection(faults.offline_s)
        if now >= self._next_error_s:
            self._next_error_s = now + self._exponential(faults.error_per_h)
            await self.inject_error(self.rng.choice(faults.error_codes), faults.fault_duration_s)
        if now >= self._next_meter_reset_s:
            self._next_meter_reset_s = now + self._exponential(faults.meter_reset_per_h)
            self.reset_meter(self.rng.choice(self.model.connectors).connector_id)

    async def drop_connection(self, offline_s: float = 0.0) -> None:
        """Lose the network: the socket dies without a close frame, and stays down ``offline_s``."""
        self.stats.faults_injected["drop_connection"] += 1
        self._offline_until_s = self.now_s() + offline_s
        self._reconnect_s = max(self._reconnect_s, self._offline_until_s)
        if self._socket is not None:
            await self.disconnect(abort=True)

    async def inject_error(self, error_code: str, duration_s: float, connector_id: int | None = None) -> None:
        """A connector faults: its session ends, it reports Faulted with ``error_code`` for ``duration_s``."""
        if connector_id is None:
            connector = self.rng.choice(self.model.connectors)
        else:
            connector = self.model.connector(connector_id)
            if connector is None:
                return
        self.stats.faults_injected[f"error:{error_code}"] += 1
        if connector.session is not None:
            await self.end_session(connector.session, StopReason.OTHER)
        connector.error_code = error_code
        connector.fault_until_s = self.now_s() + duration_s
        await self._sync_statuses()

    def reset_meter(self, connector_id: int) -> None:
        """The energy register jumps back to zero, as a replaced or glitching meter does."""
        connector = self.model.connector(connector_id)
        if connector is not None:
            self.stats.faults_injected["meter_reset"] += 1
            connector.meter_wh = 0.0


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _adapter_class(protocol: str) -> type[ProtocolAdapter]:
    if protocol == "ocpp1.6":
        from kilowatt.simulator.v16 import V16Adapter

        return V16Adapter
    raise ValueError(f"protocol {protocol!r} is not simulated yet")
