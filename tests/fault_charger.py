"""A charger for fault tests: it keeps every message it was told was stored, and retries the rest.

What the fault tests assert is the CSMS's promise to a charger — a CALLRESULT means stored — so
this charger records exactly what it got a CALLRESULT for (``acked``), and behaves as a real one
does when something goes wrong: a lost connection means reconnecting (to the next of its URLs, as a
charger behind a load balancer lands on another gateway) and sending the unanswered message again; a
CALLERROR means trying the same message again a little later. Each delivery counts its CALLERRORs
and lost connections: those are the messages where "stored once" depends on the CSMS recognising
a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# CALLERRORs that say the message itself is wrong: sending it again would not help (a test bug).
REFUSALS = {
    "FormatViolation", "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation", "TypeConstraintViolation", "ProtocolError", "NotImplemented", "NotSupported",
    "SecurityError",
}  # fmt: skip


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Delivery:
    """One message and what became of it."""

    action: str
    payload: dict[str, Any]
    result: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # CALLERRORs (code, description) before the result
    lost: int = 0  # connections lost while it was unanswered


class FailoverCharger:
    """One station's connection over a list of gateway URLs, answering the CSMS's CALLs."""

    def __init__(self, station_id: str, subprotocol: str, urls: list[str], answers: dict[str, Any] | None = None):
        self.station_id = station_id
        self.subprotocol = subprotocol
        self.urls = urls
        self.answers = answers or {}
        self.url: str | None = None  # the gateway it is connected to
        self.deliveries: list[Delivery] = []
        self.received_calls: list[tuple[str, dict[str, Any]]] = []
        self.reconnects = 0
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[list[Any]]] = {}
        self._answering: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._next_url = 0

    @property
    def acked(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.result is not None]

    async def connect(self, within_s: float = 20.0) -> None:
        """Connect to the first URL that takes it, trying them in turn from the last one that failed."""
        deadline = asyncio.get_running_loop().time() + within_s
        last: Exception | None = None
        while asyncio.get_running_loop().time() < deadline:
            url = self.urls[self._next_url % len(self.urls)]
            try:
                self._socket = await connect(
                    f"{url}/{self.station_id}", subprotocols=[self.subprotocol], open_timeout=3, close_timeout=0.5  # type: ignore[list-item]
                )
            except (OSError, asyncio.TimeoutError, Exception) as exc:  # refused, or admitted nowhere yet
                last = exc
                self._next_url += 1
                await asyncio.sleep(0.2)
                continue
            self.url = url
            self._reader = asyncio.create_task(self._read(self._socket))
            return
        raise AssertionError(f"{self.station_id} could not reconnect to any of {self.urls}: {last!r}")

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for text in socket:
                frame = json.loads(text)
                if frame[0] == 2:
                    self.received_calls.append((frame[2], frame[3]))
                    answering = asyncio.create_task(self._answer(socket, frame))  # a slow answer holds up no reading
                    self._answering.add(answering)
                    answering.add_done_callback(self._answering.discard)
                elif (waiter := self._waiting.pop(frame[1], None)) is not None and not waiter.done():
                    waiter.set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("connection lost"))
            self._waiting.clear()

    async def _answer(self, socket: ClientConnection, frame: list[Any]) -> None:
        _, message_id, action, payload = frame
        answer = self.answers.get(action, ("NotImplemented", action))
        if action == "GetConfiguration":
            answer = {"configurationKey": []}
        if callable(answer):  # an async function of the payload: a station that takes its time
            answer = await answer(payload)
        reply = [4, message_id, answer[0], answer[1], {}] if isinstance(answer, tuple) else [3, message_id, answer]
        with contextlib.suppress(ConnectionClosed):
            await socket.send(json.dumps(reply))

    async def deliver(self, action: str, payload: dict[str, Any], within_s: float = 30.0, retry_s: float = 0.3) -> dict[str, Any]:
        """Send until a CALLRESULT comes back: again after a CALLERROR, again on another gateway after
        a lost connection. Returns the CALLRESULT's payload."""
        delivery = Delivery(action, payload)
        self.deliveries.append(delivery)
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            assert asyncio.get_running_loop().time() < deadline, f"{self.station_id} {action} never stored: {delivery}"
            if self._socket is None or self._reader is None or self._reader.done():
                await self.connect()
                self.reconnects += 1
            assert self._socket is not None
            message_id = f"{self.station_id}-{next(self._ids)}"
            waiter: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
            self._waiting[message_id] = waiter
            try:
                await self._socket.send(json.dumps([2, message_id, action, payload]))
                frame = await asyncio.wait_for(waiter, 10)
            except (ConnectionError, ConnectionClosed, asyncio.TimeoutError):
                delivery.lost += 1
                self._waiting.pop(message_id, None)
                self._next_url += 1  # a charger behind a load balancer lands elsewhere
                with contextlib.suppress(Exception):
                    await self.close()
                self._socket = None
                continue
            if frame[0] == 3:
                delivery.result = frame[2]
                return frame[2]
            delivery.errors.append((frame[2], frame[3]))
            assert frame[2] not in REFUSALS, f"{self.station_id} {action} refused, not failed: {frame}"
            await asyncio.sleep(retry_s)
