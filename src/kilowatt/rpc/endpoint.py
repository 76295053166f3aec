"""asyncio glue between one WebSocket connection and :class:`~kilowatt.rpc.protocol.RpcProtocol`.

Incoming CALLs are handled one at a time, in arrival order: a charger's StartTransaction is
committed before its MeterValues are looked at. Answers to our own CALLs are matched to waiting
futures. Our CALLs go out one at a time (OCPP allows one outstanding CALL per direction); callers
beyond that wait in a bounded queue.

OCPP-J 2.1 SENDs go to the same handler, in the same order, but nothing is sent back: not the
handler's answer, not an error. A station's CALLRESULT that breaks its schema fails the waiting
caller as before and, on a 2.1 connection, is answered with a CALLRESULTERROR; a CALLRESULTERROR
received (a station could not process one of our answers) is logged, as nothing waits for it.

A handler must not await a CALL on its own endpoint — the answer could only be read after the
handler returns. Start a task instead.

OCPP-J messages are text frames. A binary frame is never handled as a message, whatever it
contains: a CALL in it is refused (so the station learns why it gets no answer) and anything else
is dropped with a log line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from websockets.exceptions import ConnectionClosed

from kilowatt.rpc import frames
from kilowatt.rpc.errors import (
    CallError,
    CallQueueFull,
    CallTimeout,
    ErrorKind,
    OcppError,
    StationDisconnected,
)
from kilowatt.rpc.protocol import (
    Ignored,
    IncomingCall,
    IncomingError,
    IncomingMessage,
    IncomingResult,
    IncomingResultError,
    IncomingSend,
    Reply,
    RpcProtocol,
)

log = structlog.get_logger("kilowatt.rpc")

Handler = Callable[[IncomingMessage], Awaitable[dict[str, Any]]]

_LOGGED_FRAME_CHARS = 2000

BINARY_FRAME = "OCPP-J messages must be sent as text frames"


class TextSocket(Protocol):
    """The part of a ``websockets`` connection the endpoint uses."""

    async def send(self, message: str) -> None: ...
    async def recv(self) -> str | bytes: ...


class RpcEndpoint:
    """One OCPP-J connection: reads frames, dispatches CALLs to ``handler``, sends our CALLs."""

    __slots__ = ("socket", "protocol", "handler", "call_timeout_s", "queue_size", "_lock", "_waiting", "_futures", "_closed")

    def __init__(
        self,
        socket: TextSocket,
        protocol: RpcProtocol,
        handler: Handler,
        *,
        call_timeout_s: float = 30.0,
        queue_size: int = 16,
    ):
        self.socket = socket
        self.protocol = protocol
        self.handler = handler
        self.call_timeout_s = call_timeout_s
        self.queue_size = queue_size
        self._lock: asyncio.Lock | None = None  # created on first CALL: most connections never need one
        self._waiting = 0
        self._futures: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def calls_waiting(self) -> int:
        """Our CALLs on the wire or queued behind it (at most ``queue_size``)."""
        return self._waiting

    async def serve(self) -> None:
        """Read frames until the connection closes."""
        try:
            while True:  # a plain loop, not ``async for``: no async generator kept per idle connection
                await self.receive(await self.socket.recv())
        except ConnectionClosed:
            pass
        finally:
            self._closed = True
            for future in self._futures.values():
                if not future.done():
                    future.set_exception(StationDisconnected("connection closed"))

    async def receive(self, data: str | bytes) -> None:
        """Handle one frame; never raises for bad input."""
        if isinstance(data, bytes):
            await self._refuse_binary(data)
            return
        event = self.protocol.receive(data)
        if isinstance(event, IncomingCall):
            await self._answer(event)
        elif isinstance(event, IncomingSend):
            await self._deliver(event)
        elif isinstance(event, IncomingResult):
            future = self._futures.get(event.message_id)
            if future is not None and not future.done():
                if event.error is None:
                    future.set_result(event.payload)
                else:
                    code = self.protocol.dialect.code(event.error.kind)
                    future.set_exception(CallError(code, f"invalid response: {event.error.description}"))
            result_error = self.protocol.result_error_for(event)
            if result_error is not None:
                log.warning("invalid answer refused with a CALLRESULTERROR", message_id=event.message_id, action=event.action)
                await self._send(result_error)
        elif isinstance(event, IncomingResultError):
            log.warning(
                "our answer was not processed (CALLRESULTERROR)",
                message_id=event.message_id,
                error_code=event.code,
                error=event.description,
                details=event.details,
            )
        elif isinstance(event, IncomingError):
            future = self._futures.get(event.message_id)
            if future is not None and not future.done():
                future.set_exception(CallError(event.code, event.description, event.details))
        elif isinstance(event, Reply):
            log.warning(
                "bad frame",
                message_id=event.message_id,
                error_code=event.code,
                error=event.description,
                frame=_excerpt(data),
            )
            await self._send(event.frame)
        elif isinstance(event, Ignored):
            log.warning("frame ignored", reason=event.reason, frame=_excerpt(data))

    async def _refuse_binary(self, data: bytes) -> None:
        """Answer a binary frame that holds a CALL with a readable id with a CALLERROR; drop any other."""
        message_id = _call_id(data, self.protocol.dialect.message_types)
        if message_id is None:
            log.warning("binary frame ignored", reason=BINARY_FRAME, frame=_excerpt(data))
            return
        log.warning("binary frame refused", message_id=message_id, error=BINARY_FRAME, frame=_excerpt(data))
        await self._send(self.protocol.error(message_id, ErrorKind.RPC_FRAMEWORK, BINARY_FRAME))

    async def _answer(self, call: IncomingCall) -> None:
        bound = structlog.contextvars.bind_contextvars(message_id=call.message_id, action=call.action)
        try:
            try:
                payload = await self.handler(call)
            except OcppError as exc:
                log.info("call refused", error_code=self.protocol.dialect.code(exc.kind), error=exc.description)
                frame = self.protocol.error(call.message_id, exc.kind, exc.description, exc.details)
            except Exception:
                log.exception("handler failed")
                frame = self.protocol.error(call.message_id, ErrorKind.INTERNAL, "internal error while handling the message")
            else:
                try:
                    frame = self.protocol.result(call, payload)
                except OcppError as exc:  # our answer breaks the schema: our fault, not the station's
                    log.error("invalid answer refused by our own schema check", error=exc.description, payload=payload)
                    frame = self.protocol.error(call.message_id, ErrorKind.INTERNAL, "internal error while answering")
            await self._send(frame)
        finally:
            structlog.contextvars.reset_contextvars(**bound)

    async def _deliver(self, send: IncomingSend) -> None:
        """Hand a SEND to the handler; whatever becomes of it, nothing goes back to the sender."""
        bound = structlog.contextvars.bind_contextvars(message_id=send.message_id, action=send.action)
        try:
            await self.handler(send)
        except OcppError as exc:
            log.info("send refused (not answered: a SEND gets no reply)", error=exc.description)
        except Exception:
            log.exception("handler failed on a SEND (not answered)")
        finally:
            structlog.contextvars.reset_contextvars(**bound)

    async def _send(self, frame: str) -> None:
        try:
            await self.socket.send(frame)
        except ConnectionClosed:
            self._closed = True

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """Send a CALL and return the other side's CALLRESULT payload.

        Raises :class:`OcppError` (our payload is invalid), :class:`CallError` (CALLERROR or an
        invalid answer), :class:`CallTimeout`, :class:`StationDisconnected`, :class:`CallQueueFull`.
        """
        if self._closed:
            raise StationDisconnected("connection closed")
        self.protocol.check_call(action, payload)  # an invalid CALL fails now, not after waiting in the queue
        if self._waiting >= self.queue_size:
            raise CallQueueFull(f"{self._waiting} calls already waiting for this station")
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._waiting += 1
        try:
            async with self._lock:
                return await self._call_now(action, payload, self.call_timeout_s if timeout_s is None else timeout_s)
        finally:
            self._waiting -= 1

    async def _call_now(self, action: str, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        if self._closed:
            raise StationDisconnected("connection closed")
        message_id, frame = self.protocol.call(action, payload, checked=True)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._futures[message_id] = future
        try:
            try:
                await self.socket.send(frame)
            except ConnectionClosed:
                raise StationDisconnected("connection closed") from None
            try:
                async with asyncio.timeout(timeout_s):  # not wait_for: it can lose a cancellation on 3.11
                    return await future
            except TimeoutError:
                raise CallTimeout(f"no answer to {action} within {timeout_s:g} s") from None
        finally:
            self._futures.pop(message_id, None)
            self.protocol.forget(message_id)
            if future.done() and not future.cancelled():
                # serve() fails the futures of a closing connection, possibly while the send above
                # was still waiting for the socket to drain; the caller got StationDisconnected
                # from the send, so the future's own exception is consumed here, not reported.
                future.exception()


def _call_id(data: bytes, message_types: frozenset[int]) -> str | None:
    """The message id of the CALL in ``data``, or None when it holds no CALL whose id can be read
    (a SEND is never answered, even in a binary frame)."""
    try:
        frame = frames.parse(data, message_types)
    except frames.FrameError as exc:
        return exc.message_id if exc.is_call else None
    return frame.message_id if isinstance(frame, frames.Call) else None


def _excerpt(data: str | bytes) -> str:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return text if len(text) <= _LOGGED_FRAME_CHARS else text[:_LOGGED_FRAME_CHARS] + "…"
