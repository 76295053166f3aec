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

This module holds the station's state and its life (start, the step loop, stop). The rest of its
behaviour is split by concern, one mixin per module, all version-neutral:

- :mod:`.connection` — the socket, reconnect backoff, the boot, sending and answering CALLs;
- :mod:`.delivery` — the offline queue delivered in order, retries, giving up;
- :mod:`.sessions` — drivers, cars, authorization, transactions starting and ending;
- :mod:`.metering` — energy integration and the limit in force (rating, charging profiles);
- :mod:`.status_reporting` — connector status changes reported to the CSMS;
- :mod:`.remote_operations` — what CSMS commands do to the station;
- :mod:`.faults` — injected network losses, connector errors and meter resets.

What the station says on the wire is the protocol adapter's (:mod:`.adapter`; OCPP 1.6 in
:mod:`.v16` and :mod:`.v16_configuration`; 2.0.1 in :mod:`.v201`, :mod:`.v201_commands` and
:mod:`.v201_device_model`; 2.1 is the 2.0.1 adapter on 2.1's dialect, :mod:`.v21`), chosen by
``protocol`` in :data:`ADAPTERS`.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from websockets.asyncio.client import ClientConnection

from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.simulator.adapter import ProtocolAdapter
from kilowatt.simulator.config import StationConfig
from kilowatt.simulator.connection import ConnectionMixin, station_url
from kilowatt.simulator.delivery import DeliveryMixin
from kilowatt.simulator.drivers import TokenPool
from kilowatt.simulator.faults import FaultsMixin
from kilowatt.simulator.metering import MeteringMixin
from kilowatt.simulator.model import Connector, Session, SessionPhase, StationModel, StopReason
from kilowatt.simulator.offline import TransactionQueue
from kilowatt.simulator.remote_operations import RemoteOperationsMixin
from kilowatt.simulator.sessions import COMPLETED_SESSIONS_KEPT, SessionsMixin
from kilowatt.simulator.stats import FleetStats
from kilowatt.simulator.status_reporting import StatusReportingMixin

log = structlog.get_logger("kilowatt.simulator")

Job = Callable[[], Awaitable[None]]
_INF = math.inf

# protocol (WebSocket subprotocol) -> "module:class" of its adapter, imported when first used
ADAPTERS = {
    "ocpp1.6": "kilowatt.simulator.v16:V16Adapter",
    "ocpp2.0.1": "kilowatt.simulator.v201:V201Adapter",
    "ocpp2.1": "kilowatt.simulator.v21:V21Adapter",
}


class SimulatedStation(
    ConnectionMixin,
    DeliveryMixin,
    SessionsMixin,
    MeteringMixin,
    StatusReportingMixin,
    RemoteOperationsMixin,
    FaultsMixin,
):
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
        self.url = station_url(url, station_id)
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

        # the behaviour task (this module)
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._jobs: deque[Job] = deque()
        self._stopping = False
        self._graceful = True
        self._next_heartbeat_s = _INF
        self._next_arrival_s = _INF
        # the link to the CSMS (connection.py)
        self._socket: ClientConnection | None = None
        self._endpoint: RpcEndpoint | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False  # we are closing the socket ourselves: not an error
        self._ever_connected = False
        self._booted = False
        self._boot_retry_s = 0.0
        self._reconnect_s = 0.0
        self._offline_until_s = 0.0
        self._backoff_attempt = 0
        # the offline queue's retry (delivery.py)
        self._queue_retry_s = 0.0
        # injected faults (faults.py)
        self._next_drop_s = _INF
        self._next_error_s = _INF
        self._next_meter_reset_s = _INF

    # --- public surface -----------------------------------------------------------------------

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


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _adapter_class(protocol: str) -> type[ProtocolAdapter]:
    target = ADAPTERS.get(protocol)
    if target is None:
        raise ValueError(f"protocol {protocol!r} is not simulated yet")
    module_name, _, class_name = target.partition(":")
    adapter_class: type[ProtocolAdapter] = getattr(importlib.import_module(module_name), class_name)
    return adapter_class
