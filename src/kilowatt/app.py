"""Composition root: builds storage, bus, services, gateway and API for one process and runs them.

``role`` picks what this process serves (``kilowatt serve --role``): ``all`` (the default single
process), ``gateway`` (station sockets only), ``api`` (HTTP only) or ``worker`` (the periodic jobs
only, no listening socket); see :mod:`kilowatt.roles` and docs/roles.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Iterator
from typing import Any

import structlog
import uvicorn

from kilowatt.bus.base import Bus
from kilowatt.bus.memory import InProcessBus
from kilowatt.config import Role, Settings
from kilowatt.gateway.server import Gateway, OcppAdapter
from kilowatt.jobs import Job, JobRunner, LeaseStore, Outbox
from kilowatt.jobs.nodes import NodeRegistry
from kilowatt.ocpp import v16, v21, v201
from kilowatt.ocpp.v16.codec import V16Commands
from kilowatt.ocpp.v16.handlers import ChargePointHandlers
from kilowatt.ocpp.v21 import handlers as v21_handlers
from kilowatt.ocpp.v21.codec import V21Commands
from kilowatt.ocpp.v201 import handlers as v201_handlers
from kilowatt.ocpp.v201.codec import V201Commands
from kilowatt.ocpp.v201.handlers import StationHandlers
from kilowatt.roles import check_role, runs_jobs, serves_api, serves_stations
from kilowatt.services.api_keys import ApiKeyService
from kilowatt.services.audit import AuditService
from kilowatt.services.authorization import AuthorizationService
from kilowatt.services.battery_swaps import BatterySwapService
from kilowatt.services.bundle import Services
from kilowatt.services.charging_reports import ChargingReportService
from kilowatt.services.command_service import CommandService
from kilowatt.services.configuration import ConfigurationService
from kilowatt.services.customer_information import CustomerInformationService
from kilowatt.services.data_transfer import DataTransferService
from kilowatt.services.der import DerService
from kilowatt.services.display_messages import DisplayMessageService
from kilowatt.services.dynamic_charging import DynamicChargingService
from kilowatt.services.event_streams import EventStreamService
from kilowatt.services.firmware import FirmwareService
from kilowatt.services.local_list import LocalListService
from kilowatt.services.monitoring import MonitoringService
from kilowatt.services.payments import PaymentService
from kilowatt.services.reservations import ReservationService
from kilowatt.services.smart_charging import SmartChargingService
from kilowatt.services.station_reports import StationReportService
from kilowatt.services.stations import StationService, record_charging_state
from kilowatt.services.tariffs import TariffService
from kilowatt.services.transactions import TransactionService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.checkpoint import WalCheckpointer
from kilowatt.storage.database import create_engine, session_factory
from kilowatt.storage.migrate import upgrade

log = structlog.get_logger("kilowatt.app")


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn inside our event loop: signals are the application's business, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (tests, demos)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets it can tell are TCP, and
    # without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class ListenError(Exception):
    """A listening socket could not be opened; the message names the address and the setting to change."""


def listen(host: str, port: int, setting: str) -> socket.socket:
    """:func:`bind_socket`, failing with a :class:`ListenError` that tells the operator what to change.

    ``setting`` is the environment variable that chose ``port`` (``KILOWATT_OCPP_PORT``, ...).
    """
    try:
        return bind_socket(host, port)
    except OSError as exc:
        raise ListenError(_listen_failure(host, port, setting, exc)) from None


def _listen_failure(host: str, port: int, setting: str, exc: OSError) -> str:
    where = f"cannot listen on {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where}: port {port} is already in use; set {setting} to a free port"
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied (ports below 1024 need privileges); set {setting} to another port"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"{where}: {host!r} is not an address of this machine; set KILOWATT_HOST"
    return f"{where}: {exc.strerror or exc}; check {setting} and KILOWATT_HOST"


def _make_bus(settings: Settings) -> Bus:
    """The Redis bus when ``KILOWATT_REDIS_URL`` is set (several processes), else the in-process one."""
    if not settings.redis_url:
        return InProcessBus()
    from kilowatt.bus.redis import RedisBus  # redis is an optional dependency (the `redis` extra)

    return RedisBus(
        settings.redis_url,
        settings.node_id,
        call_timeout_s=settings.call_timeout_s,
        margin_s=settings.redis_call_margin_s,
        presence_ttl_s=settings.redis_presence_ttl_s,
        refresh_s=settings.redis_refresh_s,
        op_timeout_s=settings.redis_op_timeout_s,
    )


class Application:
    def __init__(self, settings: Settings, role: Role = Role.all, bus: Bus | None = None):
        self.settings = settings
        self.role = role
        self.engine = create_engine(settings.database_url, sqlite_cache_mib=settings.sqlite_cache_mib)
        self.sessions = session_factory(self.engine)
        self.bus = bus or _make_bus(settings)
        self.writes = WriteBatcher(self.engine)
        self.checkpointer = WalCheckpointer(self.engine) if WalCheckpointer.applies_to(self.engine) else None
        self.outbox = Outbox(self.engine, self.bus, settings.node_id, settings.outbox_grace_s)
        stations = StationService(self.sessions, self.writes, self.bus, settings.unknown_stations, self.outbox)
        authorization = AuthorizationService(self.sessions)
        commands = CommandService(self.sessions, self.writes, self.bus, stations.ocpp_version)
        reservations = ReservationService(self.sessions, commands, authorization, self.outbox)
        reports = StationReportService(self.sessions)
        self.services = Services(
            settings=settings,
            stations=stations,
            authorization=authorization,
            transactions=TransactionService(
                self.sessions,
                self.writes,
                authorization,
                self.bus,
                self.outbox,
                reservations=reservations,
                charging_states=record_charging_state,
            ),
            data_transfer=DataTransferService(self.writes, settings.data_transfer_vendors),
            commands=commands,
            configuration=ConfigurationService(
                self.sessions,
                self.writes,
                commands,
                settings.configuration_fetch_delay_s,
                on_password_changed=lambda station_id, password: stations.update(station_id, password=password),
            ),
            local_list=LocalListService(self.sessions, commands, authorization),
            reservations=reservations,
            smart_charging=SmartChargingService(self.sessions, commands),
            firmware=FirmwareService(commands, stations),
            api_keys=ApiKeyService(self.sessions),
            audit=AuditService(self.sessions),
            reports=reports,
            monitoring=MonitoringService(self.sessions, self.writes, reports, self.bus, self.outbox),
            display_messages=DisplayMessageService(self.sessions, self.writes, reports, self.bus),
            charging_reports=ChargingReportService(self.sessions, self.writes, reports, self.bus),
            customer_information=CustomerInformationService(self.sessions, self.writes, reports, self.bus),
            payments=PaymentService(self.sessions),
            tariffs=TariffService(self.sessions, commands),
            der=DerService(self.sessions, commands),
            event_streams=EventStreamService(self.sessions),
            battery_swaps=BatterySwapService(self.sessions),
            dynamic_charging=DynamicChargingService(self.sessions, commands),
        )
        self.gateway = Gateway(
            settings,
            stations,
            self.bus,
            # In the server's order of preference: a station offering several gets the newest.
            {
                v21.SUBPROTOCOL: OcppAdapter(v21.DIALECT, StationHandlers(self.services, v21_handlers.routes()), V21Commands()),
                v201.SUBPROTOCOL: OcppAdapter(
                    v201.DIALECT, StationHandlers(self.services, v201_handlers.routes()), V201Commands()
                ),
                v16.SUBPROTOCOL: OcppAdapter(v16.DIALECT, ChargePointHandlers(self.services), V16Commands()),
            },
        )
        self.nodes = NodeRegistry(self.engine, settings.node_id, role.value, settings.node_heartbeat_interval_s)
        self.nodes.on_rejoin = self._reclaim_stations
        # The periodic jobs, each under a lease: in every process that runs jobs, only one at a time does each.
        self.jobs = JobRunner(
            LeaseStore(self.engine),
            settings.node_id,
            [
                Job("reservations.expire", settings.reservation_sweep_interval_s, reservations.expire_due),
                Job("outbox.relay", settings.outbox_relay_interval_s, self.outbox.relay_job),
                Job(
                    "nodes.reap",
                    settings.node_heartbeat_interval_s,
                    lambda: self.nodes.reap(stations.release_departed_nodes),
                ),
            ],
            settings.lease_ttl_s,
        )
        self._http: _EmbeddedUvicorn | None = None
        self._http_task: asyncio.Task[None] | None = None
        self.http_port: int | None = None
        self.ocpp_port: int | None = None

    async def _reclaim_stations(self) -> None:
        """This node's row was reaped while it lived: its stations are its own again (docs/roles.md)."""
        held = list(self.gateway.connections)
        if held:
            count = await self.services.stations.reclaim(self.settings.node_id, held)
            log.info("stations reclaimed after this node's row was reaped", held=len(held), reclaimed=count)

    async def start(self, migrate: bool = True) -> None:
        """Migrate the database and start listening; returns once both servers accept connections.

        A role that cannot work with the settings is refused first (:class:`RoleRefused`). Both
        ports are taken before anything starts, so a port in use fails the start with a
        :class:`ListenError` and nothing half-started (no gateway already admitting stations
        whose API cannot come up).
        """
        check_role(self.settings, self.role)
        ocpp_socket, http_socket = self._listen()
        try:
            if migrate:
                await upgrade(self.engine)
            if self.checkpointer is not None:
                await self.checkpointer.start()
        except BaseException:
            for sock in (ocpp_socket, http_socket):
                if sock is not None:
                    sock.close()
            raise
        await self.bus.start()
        await self.nodes.start()  # before the gateway: a node holds stations only while its row exists
        if runs_jobs(self.role):
            self.jobs.start()
        if ocpp_socket is not None:
            await self.gateway.start(ocpp_socket)
            self.ocpp_port = self.gateway.port
        if http_socket is not None:
            await self._start_http(http_socket)
        log.info(
            "kilowatt started",
            role=self.role.value,
            node_id=self.settings.node_id,
            ocpp_port=self.ocpp_port,
            http_port=self.http_port,
            jobs=runs_jobs(self.role),
        )

    def _listen(self) -> tuple[socket.socket | None, socket.socket | None]:
        """The listening sockets of the gateway and of the API this role serves (None for the other)."""
        host = self.settings.host
        ocpp_socket = (
            listen(host, self.settings.ocpp_port, "KILOWATT_OCPP_PORT") if serves_stations(self.role) else None
        )
        try:
            http_socket = (
                listen(host, self.settings.http_port, "KILOWATT_HTTP_PORT") if serves_api(self.role) else None
            )
        except ListenError:
            if ocpp_socket is not None:
                ocpp_socket.close()
            raise
        return ocpp_socket, http_socket

    async def _start_http(self, sock: socket.socket) -> None:
        from kilowatt.api.app import create_api
        from kilowatt.api.auth import NO_TOKEN_CONFIGURED

        if not self.settings.admin_token:  # said at start, not only in the 403 of the first write
            log.warning(NO_TOKEN_CONFIGURED)

        api = create_api(self)
        self.http_port = sock.getsockname()[1]
        config = uvicorn.Config(api, log_config=None, access_log=False, lifespan="off", server_header=False)
        self._http = _EmbeddedUvicorn(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]))
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()  # raises the startup error
                raise RuntimeError("HTTP server stopped during startup")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop in the order a rolling restart wants (SIGTERM): stop accepting and close the station
        sockets with 1001 going-away (so chargers reconnect to another gateway at once), stop the
        API, give the job leases back, then finish the writes in flight and mark the published
        events sent before the database connections close."""
        await self.gateway.stop()  # closes the listening socket first, then every station socket with 1001
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            await self._http_task
            self._http = None
        await self.jobs.stop()
        await self.nodes.stop()
        await self.services.configuration.close()
        await self.writes.close()
        await self.bus.flush()  # the events just published reach Redis and are confirmed, then marked sent
        await self.outbox.close()
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.bus.close()
        await self.engine.dispose()
        log.info("kilowatt stopped")

    async def run(self, stop: asyncio.Event) -> bool:
        """Start, serve until ``stop`` is set (SIGTERM, SIGINT), then stop within
        ``KILOWATT_SHUTDOWN_TIMEOUT_S``; False when that bound was hit (the process exits 1)."""
        await self.start()
        try:
            await stop.wait()
        except BaseException:
            await self.stop()
            raise
        return await self.shutdown()

    async def shutdown(self) -> bool:
        """:meth:`stop` bounded by ``KILOWATT_SHUTDOWN_TIMEOUT_S``; False if the bound was hit."""
        log.info("stopping", timeout_s=self.settings.shutdown_timeout_s)
        try:
            async with asyncio.timeout(self.settings.shutdown_timeout_s):
                await self.stop()
        except TimeoutError:
            log.error(
                "stopping took longer than KILOWATT_SHUTDOWN_TIMEOUT_S; giving up", timeout_s=self.settings.shutdown_timeout_s
            )
            return False
        return True

    def info(self) -> dict[str, Any]:
        return {"role": self.role.value, "node_id": self.settings.node_id, "ocpp_port": self.ocpp_port, "http_port": self.http_port}
