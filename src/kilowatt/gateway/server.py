"""The WebSocket server stations connect to, one :class:`StationConnection` per socket.

The handshake decides who gets in: the path names the station, the subprotocol names the OCPP
version, Basic auth proves the station's identity when it has a password. A second connection for
a station that is already connected must not let a stranger cut the real charger off: the old
socket is pinged and the newcomer admitted only if the old one is dead — unless the newcomer
proved the station's password, in which case it replaces the old socket at once.
"""

from __future__ import annotations

import asyncio
import http
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from kilowatt.bus.base import Bus, Event
from kilowatt.config import Settings
from kilowatt.gateway.handshake import basic_credentials, offered_subprotocols, station_id_from_path
from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.execute import CommandCodec, execute
from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import Dialect, IncomingMessage, RpcProtocol
from kilowatt.services.passwords import verify_password
from kilowatt.services.stations import Admission, StationService

log = structlog.get_logger("kilowatt.gateway")

CLOSE_REPLACED = 4000  # application close code: a newer authenticated connection took over

# Frames a connection buffers before websockets stops reading its socket (back-pressure, not an
# error). OCPP has one outstanding CALL per direction, so a station rarely has more than two frames
# in flight; the default of 16 only raises the worst case (16 x max_frame_bytes per socket).
MAX_QUEUED_FRAMES = 4

# The keep-alive task pings one slot of stations every this many seconds (see Gateway._keep_alive).
_SLOT_S = 0.1


class MessageHandler(Protocol):
    """Answers what a station sends, for one protocol version (e.g. ``ocpp.v16.handlers.ChargePointHandlers``)."""

    async def handle(self, station: StationContext, call: IncomingMessage) -> dict[str, Any]:
        """The answer to a CALL; for an OCPP 2.1 SEND the same call, whose answer is dropped."""


@dataclass(frozen=True)
class OcppAdapter:
    """One protocol version: its wire dialect, the handlers for what its stations send, and the
    codec of the typed commands the CSMS sends them."""

    dialect: Dialect
    handlers: MessageHandler
    commands: CommandCodec


@dataclass(slots=True)
class _Admitted:
    """What the handshake learned, handed to the connection handler."""

    admission: Admission
    authenticated: bool


class Drain:
    """The station messages this gateway is handling, so that a stop answers them before it closes
    the sockets.

    Closing a socket while its message is being written loses the answer, not the write: the charger
    sends the message again on another gateway, and one without a key (a 1.6 MeterValues) is stored
    twice. Once draining, new messages are refused with a CALLERROR (nothing stored; the charger
    sends them again after reconnecting).
    """

    __slots__ = ("active", "draining", "_idle")

    def __init__(self) -> None:
        self.active = 0
        self.draining = False
        self._idle: asyncio.Event | None = None

    async def run(self, handle: Callable[..., Awaitable[dict[str, Any]]], *args: Any) -> dict[str, Any]:
        if self.draining:
            raise OcppError(ErrorKind.INTERNAL, "this gateway is shutting down: send the message again after reconnecting")
        self.active += 1
        try:
            return await handle(*args)
        finally:
            self.active -= 1
            if self.active == 0 and self._idle is not None:
                self._idle.set()

    async def wait(self, timeout_s: float) -> bool:
        """Refuse new messages and wait (at most ``timeout_s``) for those being handled; True if none is left."""
        self.draining = True
        if self.active == 0:
            return True
        self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


@dataclass(slots=True, eq=False)
class StationConnection:
    """One live station connection on this node.

    There is one per connected station, so it holds only what the connection needs (slots, no
    closures): the endpoint's handler is the bound method :meth:`handle`.
    """

    socket: ServerConnection
    handlers: MessageHandler
    context: StationContext
    drain: Drain
    endpoint: RpcEndpoint = None  # type: ignore[assignment]  # set right after: the endpoint needs self.handle
    executor: Any = None  # runs typed commands on this socket; registered on the bus (identity matters for detach)

    def handle(self, call: IncomingMessage) -> Awaitable[dict[str, Any]]:
        """The endpoint's handler: this station's CALLs (and 2.1 SENDs) go to its version's handlers, with its context."""
        return self.drain.run(self.handlers.handle, self.context, call)

    def release(self) -> None:
        """Break the connection <-> endpoint cycle (the endpoint's handler is this object's bound method).

        Called once the connection is over, so that reference counting frees it at once
        instead of leaving it to the cyclic collector, which runs its oldest generation rarely.
        """
        self.endpoint = None  # type: ignore[assignment]
        self.executor = None


class _ServerConnection(ServerConnection):
    """websockets' connection, without the reference cycles a lost one leaves behind.

    When a socket is lost — before, during or after the handshake — websockets keeps the
    exceptions that ended it: the parser's (``protocol.parser_exc``, ``protocol.handshake_exc``) and
    the transport's (``connection_exc``). Each holds its traceback, whose frames hold the protocol
    that holds the exception: a cycle only the cyclic collector frees, and an aborted handshake has
    usually lived long enough to be promoted to the oldest generation, which is collected rarely.
    The exceptions stay (websockets reads them to build ``ConnectionClosed``); their tracebacks go.

    Its parser is a generator that, once the stream has ended, stays suspended for good at the last
    ``yield`` of ``discard()``; its frame holds the protocol, which holds the parser. Nothing steps it
    after the connection is lost (``receive_eof`` is idempotent, no data can arrive), so it is closed.
    """

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        for kept in (self.protocol.parser_exc, self.protocol.handshake_exc, self.connection_exc):
            _drop_tracebacks(kept)
        self.protocol.parser.close()


class Gateway:
    def __init__(self, settings: Settings, stations: StationService, bus: Bus, adapters: dict[str, OcppAdapter]):
        self.settings = settings
        self.stations = stations
        self.bus = bus
        self.adapters = adapters
        self.connections: dict[str, StationConnection] = {}
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, _Admitted] = weakref.WeakKeyDictionary()
        self._server: Server | None = None
        self._keepalive: asyncio.Task[None] | None = None
        # Stations whose disconnection could not be written (the database was away): retried until it
        # answers, so that the row does not say "connected" for a socket that is gone.
        self._unrecorded: set[str] = set()
        self._recorder: asyncio.Task[None] | None = None
        self._drain = Drain()
        self._closing: set[asyncio.Task[None]] = set()  # sockets being failed by the keep-alive
        self._ping_slots: list[set[str]] = [set()]  # station ids by keep-alive slot
        self._unsubscribe: Callable[[], None] = lambda: None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self, sock: Any = None) -> None:
        """Listen on ``sock`` (a bound socket) or on the configured host and port."""
        await self.stations.reset_node(self.settings.node_id)  # sockets of a previous run of this node are gone
        self._unsubscribe = self.bus.subscribe(self._on_event)
        self.bus.on_evict(self._evict)
        self.bus.on_probe(self._probe)
        interval = self.settings.ws_ping_interval_s or None
        options: dict[str, Any] = {
            "process_request": self._process_request,
            "subprotocols": list(self.adapters),
            "max_size": self.settings.max_frame_bytes,
            "max_queue": MAX_QUEUED_FRAMES,
            # websockets closes a socket whose handshake is not done in 10 s. After a CSMS restart
            # 10,000 handshakes arrive at once and the last wait their turn for seconds: the
            # benchmark's boot storm lost up to 9,000 of them that way, each charger then
            # reconnecting (more load). Tolerate the queue; an idle socket is still closed.
            "open_timeout": self.settings.ws_open_timeout_s,
            # Keep-alive pings are sent by one task for all sockets (see _keep_alive), not by a task
            # per connection as websockets would: a ping every half interval, a quarter to wait for
            # the pong and a quarter for the closing handshake, so a dead socket is noticed and
            # released within the interval.
            "ping_interval": None,
            "close_timeout": min(interval / 4, 10.0) if interval else 10.0,
            "compression": None,  # OCPP frames are small; deflate state would cost ~100 KiB per socket
            "server_header": None,
            "create_connection": _ServerConnection,
        }
        if sock is not None:
            self._server = await serve(self._handle, sock=sock, **options)
        else:
            self._server = await serve(self._handle, self.settings.host, self.settings.ocpp_port, **options)
        if interval:
            self._keepalive = asyncio.get_running_loop().create_task(self._keep_alive(interval / 2, interval / 4))
        log.info("gateway listening", port=self.port, subprotocols=list(self.adapters))

    async def _keep_alive(self, period_s: float, timeout_s: float) -> None:
        """Ping every station socket once each ``period_s``; fail those that have not answered within ``timeout_s``.

        One task for the whole node instead of websockets' task (with its coroutine, timer and
        futures) per connection: about 1.5 KiB less per idle socket. The pings are spread evenly
        over the period — each station has a fixed slot (a hash of its id), one slot every
        ``_SLOT_S`` — because 10,000 pings and then 10,000 pongs in one go stall the messages
        around them. A socket whose outgoing data is backed up is pinged from a short-lived task so
        that it cannot stall the others; the ping has the same ``timeout_s`` to be sent and answered.
        A station is pinged within ``period_s`` of connecting, so a dead socket is noticed within
        ``period_s + timeout_s``.
        """
        loop = asyncio.get_running_loop()
        slots = max(1, round(period_s / _SLOT_S))
        self._ping_slots = [set() for _ in range(slots)]
        for station_id in self.connections:
            self._ping_slots[hash(station_id) % slots].add(station_id)
        waiting: deque[tuple[float, ServerConnection, asyncio.Future[Any]]] = deque()
        started = loop.time()
        slot = 0
        while True:
            await asyncio.sleep(max(0.0, started + (slot + 1) * period_s / slots - loop.time()))
            try:
                for station_id in list(self._ping_slots[slot % slots]):
                    station_connection = self.connections.get(station_id)
                    if station_connection is not None and (pong := await self._ping(station_connection)) is not None:
                        waiting.append((loop.time() + timeout_s, station_connection.socket, pong))
                now = loop.time()
                while waiting and waiting[0][0] <= now:
                    self._check_pong(*waiting.popleft()[1:])
            except Exception:  # a bug here must not end dead-socket detection for the whole node
                log.exception("keep-alive slot failed")
            slot += 1

    def _check_pong(self, connection: ServerConnection, pong: asyncio.Future[Any]) -> None:
        """Past the deadline: a socket that has not answered its ping is failed with 1011."""
        if pong.done():
            if not pong.cancelled():
                pong.exception()  # retrieved: a closed socket's ping is not an error to report
            return
        pong.cancel()
        if connection.state is State.OPEN:
            task = asyncio.get_running_loop().create_task(_fail_keepalive(connection))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _ping(station_connection: StationConnection) -> asyncio.Future[Any] | None:
        connection = station_connection.socket
        if connection.state is not State.OPEN:
            return None
        if connection.transport.get_write_buffer_size():
            return asyncio.ensure_future(_ping_and_wait(connection))
        try:
            return await connection.ping()
        except ConnectionClosed:
            return None
        except Exception:  # one socket's trouble must not end the keep-alive of all the others
            log.exception("keep-alive ping failed", station_id=station_connection.context.station_id)
            return None

    async def _on_event(self, event: Event) -> None:
        """An operator accepted or rejected a station: its live connection follows at once."""
        if event.type == "station.registration" and event.station_id in self.connections:
            self.connections[event.station_id].context.registration_status = event.data["registration_status"]

    async def _evict(self, station_id: str, executor: Any) -> None:
        """The station connected again on another node (the bus says so): close its socket here.

        As for a replaced local connection: the socket closes with ``CLOSE_REPLACED``, the commands
        queued for it fail as offline, and ``_handle`` detaches it (the bus keeps the newer entry).
        """
        current = self.connections.get(station_id)
        if current is None or current.executor is not executor:
            return
        log.info("station connected to another node; closing this connection", station_id=station_id)
        await current.socket.close(CLOSE_REPLACED, "replaced by a new connection on another node")

    async def _probe(self, station_id: str) -> bool:
        """Another node was asked to admit this station: is its socket here alive? (A dead one is closed.)"""
        current = self.connections.get(station_id)
        return current is not None and await _is_alive(current, self.settings.duplicate_probe_timeout_s)

    async def _record_disconnection(self, station_id: str) -> None:
        """Write that the station left; if the database does not answer, retry in the background
        (an exception here would only reach websockets' "connection handler failed")."""
        try:
            await self.stations.disconnected(station_id, self.settings.node_id)
        except Exception as exc:
            log.warning("station disconnection not recorded yet; retrying until the database answers", error=f"{type(exc).__name__}: {exc}")
            self._unrecorded.add(station_id)
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.get_running_loop().create_task(self._record_later())

    async def _record_later(self, every_s: float = 1.0) -> None:
        while self._unrecorded:
            await asyncio.sleep(every_s)
            for station_id in list(self._unrecorded):
                if station_id not in self.connections:  # back here meanwhile: its connect was written instead
                    try:
                        await self.stations.disconnected(station_id, self.settings.node_id)
                    except Exception:
                        break  # still away: next round
                    log.info("station disconnection recorded late", station_id=station_id)
                self._unrecorded.discard(station_id)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._unsubscribe()
        self.bus.on_evict(None)
        self.bus.on_probe(None)
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        # Stop accepting, answer the messages being handled, then close the sockets (1001): an
        # answer lost to the close would make the charger store its message twice elsewhere.
        self._server.server.close()
        if not await self._drain.wait(min(5.0, self.settings.shutdown_timeout_s / 2)):
            log.warning("closing station sockets with messages still being handled", messages=self._drain.active)
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        if self._recorder is not None:
            self._recorder.cancel()
            self._recorder = None
        try:
            await self.stations.reset_node(self.settings.node_id)
        except Exception as exc:  # the database is away: stopping must not fail for it
            log.warning(
                "stations of this node not marked disconnected (the database did not answer);"
                " the next start of this node, or another node's reaper, does it",
                error=f"{type(exc).__name__}: {exc}",
            )
        self._server = None
        self._drain = Drain()  # a later start takes messages again

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
        subprotocol = self.negotiate(offered, admission.pinned_ocpp_version)
        if subprotocol is None:
            return _refuse(
                connection,
                http.HTTPStatus.BAD_REQUEST,
                f"station {station_id!r} is pinned to {admission.pinned_ocpp_version}, which it did not offer "
                f"({', '.join(offered)})",
                station_id,
            )

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

        current = self.connections.get(station_id)
        if not authenticated:
            probe_s = self.settings.duplicate_probe_timeout_s
            if current is not None and await _is_alive(current, probe_s):
                return _refuse(connection, http.HTTPStatus.CONFLICT, f"station {station_id!r} is already connected", station_id)
            if current is None and await self.bus.alive_elsewhere(station_id, probe_s):
                return _refuse(
                    connection, http.HTTPStatus.CONFLICT, f"station {station_id!r} is already connected (to another node)", station_id
                )
        self._admitted[connection] = _Admitted(admission, authenticated)
        # websockets then answers with the one version chosen. (Not through its select_subprotocol
        # option: that wraps each connection in a closure its protocol keeps, a reference cycle.)
        connection.protocol.available_subprotocols = [subprotocol]
        return None

    def negotiate(self, offered: list[str], pinned: str | None) -> str | None:
        """The version a station gets: the newest this CSMS speaks among those offered — the
        server's order of preference, not the client's — or, for a station an operator pinned
        to a version, that version if offered."""
        if pinned is not None:
            return pinned if pinned in offered and pinned in self.adapters else None
        return next((version for version in self.adapters if version in offered), None)


    # --- connection ------------------------------------------------------------------------------

    def _open_connection(self, connection: ServerConnection) -> tuple[StationConnection, bool]:
        """The StationConnection of a socket that passed the handshake, and whether it proved the password."""
        admitted = self._admitted.pop(connection)
        adapter = self.adapters[connection.subprotocol or ""]
        context = StationContext(
            admitted.admission.station_id, adapter.dialect.subprotocol, admitted.admission.registration_status
        )
        station_connection = StationConnection(connection, adapter.handlers, context, self._drain)
        station_connection.endpoint = RpcEndpoint(
            connection,
            RpcProtocol(adapter.dialect, "csms"),
            station_connection.handle,
            call_timeout_s=self.settings.call_timeout_s,
            queue_size=self.settings.call_queue_size,
        )
        # The command envelope is executed here, where the negotiated version is known: the
        # connection's own codec encodes, its endpoint validates and sends, the codec decodes.
        station_connection.executor = partial(execute, adapter.commands, station_connection.endpoint.call)
        _forget_handshake(connection)
        return station_connection, admitted.authenticated

    async def _handle(self, connection: ServerConnection) -> None:
        # This coroutine lives as long as the connection: it keeps only its StationConnection alive.
        station_connection, authenticated = self._open_connection(connection)
        context, endpoint = station_connection.context, station_connection.endpoint
        station_id = context.station_id
        structlog.contextvars.bind_contextvars(station_id=station_id)

        previous = self.connections.get(station_id)
        self.connections[station_id] = station_connection
        self._ping_slots[hash(station_id) % len(self._ping_slots)].add(station_id)
        if previous is not None:
            log.info("replacing previous connection", authenticated=authenticated)
            await previous.socket.close(CLOSE_REPLACED, "replaced by a new connection")
            previous = None  # not kept for this connection's lifetime
        await self.bus.attach(station_id, station_connection.executor)
        await self.stations.connected(station_id, context.ocpp_version, self.settings.node_id)
        log.info("station connected", subprotocol=connection.subprotocol, remote=_remote(connection))
        try:
            await endpoint.serve()
        finally:
            if self.connections.get(station_id) is station_connection:
                del self.connections[station_id]
                self._ping_slots[hash(station_id) % len(self._ping_slots)].discard(station_id)
                await self.bus.detach(station_id, station_connection.executor)
                await self._record_disconnection(station_id)
            station_connection.release()
            log.info("station disconnected", close_code=connection.close_code, close_reason=connection.close_reason)


_NO_HEADERS = Headers()  # shared by every connection once its handshake is done; nothing writes to it


def _forget_handshake(connection: ServerConnection) -> None:
    """Drop the handshake's headers, which websockets keeps for the connection's lifetime (~3 KiB).

    The gateway has read what it needs from them (station id, subprotocol, credentials) in
    ``_process_request``. The request and response objects stay: websockets tells the handshake
    from later frames by ``connection.request`` being set.
    """
    if connection.request is not None:
        connection.request.headers = _NO_HEADERS
    if connection.response is not None:
        connection.response.headers = _NO_HEADERS


async def _ping_and_wait(connection: ServerConnection) -> float:
    """Ping a socket whose outgoing data is backed up (``ping`` first waits for it to drain)."""
    return await (await connection.ping())


async def _fail_keepalive(connection: ServerConnection) -> None:
    """What websockets does when a keep-alive pong is late: close with 1011, abort after the close timeout."""
    log.info("keep-alive ping unanswered; closing the connection", remote=_remote(connection))
    try:
        async with connection.send_context():
            connection.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
    except ConnectionClosed:
        pass


async def _is_alive(station_connection: StationConnection, timeout_s: float) -> bool:
    """Ping the current socket; a dead one is closed so the newcomer can take its place."""
    try:
        pong = await station_connection.socket.ping()
        async with asyncio.timeout(timeout_s):
            await pong
        return True
    except Exception:
        log.info("previous connection did not answer a ping; admitting the new one", station_id=station_connection.context.station_id)
        station_connection.socket.transport.abort()
        return False


def _refuse(connection: ServerConnection, status: http.HTTPStatus, reason: str, station_id: str | None = None) -> Response:
    log.info("handshake refused", status=status.value, reason=reason, station_id=station_id, remote=_remote(connection))
    return connection.respond(status, reason + "\n")


def _remote(connection: ServerConnection) -> str | None:
    """The peer's ``host:port``; None once the socket is gone (uvloop then raises instead of answering None)."""
    try:
        address = connection.remote_address
    except (AttributeError, OSError):
        return None
    return f"{address[0]}:{address[1]}" if address else None


def _drop_tracebacks(exc: BaseException | None) -> None:
    """Drop the tracebacks of ``exc`` and of the exceptions chained to it (their frames hold their raisers)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += (current.__cause__, current.__context__)
