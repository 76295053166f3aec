"""A station's link to the CSMS: the WebSocket, reconnecting with backoff, the boot, and its CALLs.

:class:`ConnectionMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation` that
owns the socket (``_socket``, ``_endpoint``, ``_reader``), the reconnect schedule (``_reconnect_s``,
``_offline_until_s``, ``_backoff_attempt``) and whether the CSMS accepted the boot (``_booted``,
``_boot_retry_s``). Every CALL the station sends goes through :meth:`~ConnectionMixin.call` or
:meth:`~ConnectionMixin.call_or_raise`, which count it in ``stats``; every CALL the CSMS sends is
handed to the protocol adapter by ``_handle``. Nothing here knows an OCPP version: the adapter names
the subprotocol, the dialect and the boot message.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any
from urllib.parse import quote

import structlog
import websockets
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from kilowatt.rpc.endpoint import RpcEndpoint
from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected
from kilowatt.rpc.protocol import IncomingCall, RpcProtocol

log = structlog.get_logger("kilowatt.simulator")


def station_url(base_url: str, station_id: str) -> str:
    """The CSMS URL with the station id as the last path segment, as OCPP-J prescribes."""
    return f"{base_url.rstrip('/')}/{quote(station_id, safe='')}"


def _basic_auth(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return f"Basic {token}"


class ConnectionMixin:
    """Connect, reconnect, boot, and send and answer CALLs (see the module docstring)."""

    @property
    def connected(self) -> bool:
        return self._endpoint is not None and not self._endpoint.closed

    @property
    def ready(self) -> bool:
        """Connected and accepted by the CSMS: free to send anything."""
        return self._booted and self.connected


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


    async def _handle(self, call: IncomingCall) -> dict[str, Any]:
        self.stats.messages_received[call.action] += 1
        response = await self.adapter.handle(call)
        self.wake()  # the command may have changed what is due
        return response

