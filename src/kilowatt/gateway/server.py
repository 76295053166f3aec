"""The WebSocket server stations connect to, one session per connection.

The handshake decides who gets in: the path names the station, the subprotocol names the OCPP
version, Basic auth proves the station's identity when it has a password. A second connection for
a station that is already connected must not let a stranger cut the real charger off: the old
socket is pinged and the newcomer admitted only if the old one is dead — unless the newcomer
proved the station's password, in which case it replaces the old socket at once.
"""

from __future__ import annotations

import asyncio
import functools
import http
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from kilowatt.bus.base import Bus, Event
from kilowatt.config import Settings
from kilowatt.gateway.handshake import basic_credentials, offered_subprotocols, station_id_from_path
from kilowatt.ocpp.context import StationContext
from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.rpc.protocol import Dialect, IncomingCall, RpcProtocol
from kilowatt.services.passwords import verify_password
from kilowatt.services.stations import Admission, StationService

log = structlog.get_logger("kilowatt.gateway")

CLOSE_REPLACED = 4000  # application close code: a newer authenticated connection took over


class ChargePointHandlers(Protocol):
    async def handle(self, station: StationContext, call: IncomingCall) -> dict[str, Any]: ...


@dataclass(frozen=True)
class OcppAdapter:
    """One protocol version: its wire dialect and the handlers for what its stations send."""

    dialect: Dialect
    handlers: ChargePointHandlers


@dataclass(slots=True)
class _Admitted:
    """What the handshake learned, handed to the connection handler."""

    admission: Admission
    authenticated: bool


@dataclass(slots=True)
class StationSession:
    """One live station connection on this node."""

    socket: ServerConnection
    endpoint: RpcEndpoint
    context: StationContext
    caller: Any  # the bound endpoint.call registered on the bus (kept: identity matters for detach)


class Gateway:
    def __init__(self, settings: Settings, stations: StationService, bus: Bus, adapters: dict[str, OcppAdapter]):
        self.settings = settings
        self.stations = stations
        self.bus = bus
        self.adapters = adapters
        self.sessions: dict[str, StationSession] = {}
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, _Admitted] = weakref.WeakKeyDictionary()
        self._server: Server | None = None
        self._unsubscribe: Callable[[], None] = lambda: None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self, sock: Any = None) -> None:
        """Listen on ``sock`` (a bound socket) or on the configured host and port."""
        await self.stations.reset_node(self.settings.node_id)  # sockets of a previous run of this node are gone
        self._unsubscribe = self.bus.subscribe(self._on_event)
        interval = self.settings.ws_ping_interval_s or None
        options: dict[str, Any] = {
            "process_request": self._process_request,
            "subprotocols": list(self.adapters),
            "max_size": self.settings.max_frame_bytes,
            # A ping every half interval, a quarter to wait for the pong and a quarter for the closing
            # handshake: a dead socket is noticed and released within the interval.
            "ping_interval": interval / 2 if interval else None,
            "ping_timeout": interval / 4 if interval else None,
            "close_timeout": min(interval / 4, 10.0) if interval else 10.0,
            "compression": None,  # OCPP frames are small; deflate state would cost ~100 KiB per socket
            "server_header": None,
        }
        if sock is not None:
            self._server = await serve(self._handle, sock=sock, **options)
        else:
            self._server = await serve(self._handle, self.settings.host, self.settings.ocpp_port, **options)
        log.info("gateway listening", port=self.port, subprotocols=list(self.adapters))

    async def _on_event(self, event: Event) -> None:
        """An operator accepted or rejected a station: its live connection follows at once."""
        if event.type == "station.registration" and event.station_id in self.sessions:
            self.sessions[event.station_id].context.registration_status = event.data["registration_status"]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._unsubscribe()
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        await self.stations.reset_node(self.settings.node_id)
        self._server = None

    # --- handshake ----------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return _refuse(connection, http.HTTPStatus.NOT_FOUND, "connect to /ocpp/{station_id}")
        offered = offered_subprotocols(request.headers)
        if not any(p in self.adapters for p in offered):
            supported = ", ".join(self.adapters)
            return _refuse(
                connection,
                http.HTTPStatus.BAD_REQUEST,
                f"no supported OCPP subprotocol offered ({', '.join(offered) or 'none'}); this CSMS speaks {supported}",
                station_id,
            )
        admission = await self.stations.admission(station_id)
        if admission is None:
            return _refuse(connection, http.HTTPStatus.NOT_FOUND, f"unknown station {station_id!r}", station_id)

        authenticated = False
        if admission.password_hash is not None:
            credentials = basic_credentials(request.headers)
            if (
                credentials is None
                or credentials[0] != station_id
                or not verify_password(credentials[1], admission.password_hash)
            ):
                response = _refuse(connection, http.HTTPStatus.UNAUTHORIZED, "invalid credentials", station_id)
                response.headers["WWW-Authenticate"] = 'Basic realm="kilowatt", charset="UTF-8"'
                return response
            authenticated = True

        current = self.sessions.get(station_id)
        if current is not None and not authenticated and await _is_alive(current, self.settings.duplicate_probe_timeout_s):
            return _refuse(connection, http.HTTPStatus.CONFLICT, f"station {station_id!r} is already connected", station_id)
        self._admitted[connection] = _Admitted(admission, authenticated)
        return None

    # --- session ------------------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        admitted = self._admitted.pop(connection)
        station_id = admitted.admission.station_id
        adapter = self.adapters[connection.subprotocol or ""]
        context = StationContext(station_id, adapter.dialect.subprotocol, admitted.admission.registration_status)
        endpoint = RpcEndpoint(
            connection,
            RpcProtocol(adapter.dialect, "csms"),
            functools.partial(adapter.handlers.handle, context),
            call_timeout_s=self.settings.call_timeout_s,
            queue_size=self.settings.call_queue_size,
        )
        session = StationSession(connection, endpoint, context, endpoint.call)
        structlog.contextvars.bind_contextvars(station_id=station_id)

        previous = self.sessions.get(station_id)
        self.sessions[station_id] = session
        if previous is not None:
            log.info("replacing previous connection", authenticated=admitted.authenticated)
            await previous.socket.close(CLOSE_REPLACED, "replaced by a new connection")
        await self.bus.attach(station_id, session.caller)
        await self.stations.connected(station_id, context.ocpp_version, self.settings.node_id)
        log.info("station connected", subprotocol=connection.subprotocol, remote=_remote(connection))
        try:
            await endpoint.serve()
        finally:
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]
                await self.bus.detach(station_id, session.caller)
                await self.stations.disconnected(station_id, self.settings.node_id)
            log.info("station disconnected", close_code=connection.close_code, close_reason=connection.close_reason)


async def _is_alive(session: StationSession, timeout_s: float) -> bool:
    """Ping the current socket; a dead one is closed so the newcomer can take its place."""
    try:
        pong = await session.socket.ping()
        await asyncio.wait_for(pong, timeout_s)
        return True
    except Exception:
        log.info("previous connection did not answer a ping; admitting the new one", station_id=session.context.station_id)
        session.socket.transport.abort()
        return False


def _refuse(connection: ServerConnection, status: http.HTTPStatus, reason: str, station_id: str | None = None) -> Response:
    log.info("handshake refused", status=status.value, reason=reason, station_id=station_id, remote=_remote(connection))
    return connection.respond(status, reason + "\n")


def _remote(connection: ServerConnection) -> str | None:
    address = connection.remote_address
    return f"{address[0]}:{address[1]}" if address else None
