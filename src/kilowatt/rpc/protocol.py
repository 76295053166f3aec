"""The sans-I/O OCPP-J RPC state machine for one connection.

Text frames go in through :meth:`RpcProtocol.receive` and come out as events; frames to send come
out of :meth:`call`, :meth:`result` and :meth:`error`. It validates both directions against the
version's schemas, correlates answers with the CALLs they answer, and turns every defect into the
version's exact CALLERROR code. No sockets and no event loop here — see :mod:`kilowatt.rpc.endpoint`.

OCPP-J 2.1 adds two message types, known only to a dialect that lists them in ``message_types``:
SEND (6), an unconfirmed message that is handed over (:class:`IncomingSend`) but never answered —
a defective one is dropped with a reason (:class:`Ignored`), since not even a CALLERROR may go
back — and CALLRESULTERROR (5), which says a CALLRESULT could not be processed: received, it is
reported (:class:`IncomingResultError`; there is nothing to correlate it with); sent, by
:meth:`RpcProtocol.result_error_for`, when a station's answer to our CALL breaks its schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kilowatt.rpc import frames
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.schemas import SchemaSet

Side = Literal["csms", "station"]


@dataclass(frozen=True)
class Dialect:
    """What one OCPP version looks like on the wire. Each ``kilowatt.ocpp.<version>`` defines one."""

    subprotocol: str  # e.g. "ocpp1.6"
    error_codes: Mapping[ErrorKind, str]
    schemas: SchemaSet
    station_actions: frozenset[str]  # actions a station sends to the CSMS
    csms_actions: frozenset[str]  # actions the CSMS sends to a station
    # OCPP-J message types the version knows: 2.1 adds CALLRESULTERROR and SEND.
    message_types: frozenset[int] = frames.MESSAGE_TYPES
    send_actions: frozenset[str] = frozenset()  # actions sent as SEND (type 6), never as a CALL

    @property
    def result_errors(self) -> bool:
        """Whether a defective CALLRESULT is answered with a CALLRESULTERROR (OCPP-J 2.1)."""
        return frames.CALLRESULTERROR in self.message_types

    def code(self, kind: ErrorKind) -> str:
        return self.error_codes[kind]

    def actions_received_by(self, side: Side) -> frozenset[str]:
        return self.station_actions if side == "csms" else self.csms_actions


# RpcEvent: what RpcProtocol.receive returns --------------------------------------------------


@dataclass(slots=True, frozen=True)
class IncomingCall:
    """A valid CALL to handle; answer it with :meth:`RpcProtocol.result` or :meth:`RpcProtocol.error`."""

    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class IncomingSend:
    """A valid SEND (OCPP-J 2.1) to handle; it is never answered."""

    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class IncomingResultError:
    """A CALLRESULTERROR (OCPP-J 2.1): the other side could not process one of our CALLRESULTs."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any]


@dataclass(slots=True, frozen=True)
class IncomingResult:
    """The answer to one of our CALLs. ``error`` is set when the payload broke the response schema."""

    message_id: str
    action: str
    payload: dict[str, Any]
    error: OcppError | None = None


@dataclass(slots=True, frozen=True)
class IncomingError:
    """A CALLERROR answering one of our CALLs."""

    message_id: str
    action: str
    code: str
    description: str
    details: dict[str, Any]


@dataclass(slots=True, frozen=True)
class Reply:
    """A frame that must be sent back at once: the CALLERROR for a bad incoming frame."""

    frame: str
    message_id: str
    code: str
    description: str


@dataclass(slots=True, frozen=True)
class Ignored:
    """A frame that cannot be answered (a stray or malformed CALLRESULT/CALLERROR)."""

    reason: str


RpcEvent = IncomingCall | IncomingSend | IncomingResult | IncomingError | IncomingResultError | Reply | Ignored
IncomingMessage = IncomingCall | IncomingSend  # what a handler is given


class RpcProtocol:
    """RPC state of one connection, seen from ``side``."""

    __slots__ = ("dialect", "side", "_pending", "_receivable", "_message_types")

    def __init__(self, dialect: Dialect, side: Side):
        self.dialect = dialect
        self.side = side
        self._pending: dict[str, str] = {}  # message id -> action of our outstanding CALLs
        self._receivable = dialect.actions_received_by(side)
        self._message_types = dialect.message_types

    @property
    def pending(self) -> int:
        return len(self._pending)

    def receive(self, data: str | bytes) -> RpcEvent:
        """Turn one received text frame into an event."""
        try:
            frame = frames.parse(data, self._message_types)
        except frames.FrameError as exc:
            if exc.is_call:
                return self._reply(exc.message_id or frames.UNKNOWN_MESSAGE_ID, exc.kind, exc.description)
            return Ignored(exc.description)
        with_nul = frames.may_hold_nul(data) and frames.holds_nul(frame)
        if isinstance(frame, frames.Call):
            if with_nul:
                return self._reply(frame.message_id, ErrorKind.PROPERTY_CONSTRAINT, frames.NUL_REFUSED)
            return self._receive_call(frame)
        if isinstance(frame, frames.Send):
            if with_nul:
                return Ignored(f"SEND {frame.action}: {frames.NUL_REFUSED}")
            return self._receive_send(frame)
        if isinstance(frame, frames.CallResultErrorFrame):  # answers a CALLRESULT of ours: nothing waits for it
            if with_nul:
                frame = frames.without_nul(frame)
            return IncomingResultError(frame.message_id, frame.code, frame.description, frame.details)
        action = self._pending.pop(frame.message_id, None)
        if action is None:
            return Ignored(f"answer to unknown message id {frame.message_id!r}")
        if isinstance(frame, frames.CallErrorFrame):
            if with_nul:  # it is stored with the command; keep what can be kept
                frame = frames.without_nul(frame)
            return IncomingError(frame.message_id, action, frame.code, frame.description, frame.details)
        if with_nul:
            return IncomingResult(
                frame.message_id, action, frame.payload, OcppError(ErrorKind.PROPERTY_CONSTRAINT, frames.NUL_REFUSED)
            )
        try:
            self.dialect.schemas.validate_response(action, frame.payload)
        except OcppError as exc:
            return IncomingResult(frame.message_id, action, frame.payload, exc)
        return IncomingResult(frame.message_id, action, frame.payload)

    def _receive_call(self, call: frames.Call) -> RpcEvent:
        if call.action in self.dialect.send_actions:
            return self._reply(
                call.message_id, ErrorKind.NOT_SUPPORTED, f"{call.action} is sent as a SEND (message type 6), not a CALL"
            )
        if call.action not in self._receivable:
            if call.action in self.dialect.station_actions or call.action in self.dialect.csms_actions:
                kind, why = ErrorKind.NOT_SUPPORTED, f"{call.action} is not sent in this direction"
            else:
                kind, why = ErrorKind.NOT_IMPLEMENTED, f"unknown action {call.action!r}"
            return self._reply(call.message_id, kind, why)
        try:
            self.dialect.schemas.validate_request(call.action, call.payload)
        except OcppError as exc:
            return self._reply(call.message_id, exc.kind, exc.description, exc.details)
        return IncomingCall(call.message_id, call.action, call.payload)

    def _receive_send(self, send: frames.Send) -> RpcEvent:
        if send.action not in self.dialect.send_actions or send.action not in self._receivable:
            return Ignored(f"{send.action!r} is not a SEND this side receives")
        try:
            self.dialect.schemas.validate_request(send.action, send.payload)
        except OcppError as exc:
            return Ignored(f"invalid SEND, dropped: {exc.description}")
        return IncomingSend(send.message_id, send.action, send.payload)

    def result_error_for(self, event: IncomingResult) -> str | None:
        """The CALLRESULTERROR to send for a CALLRESULT that broke its schema, if the version has
        them (OCPP-J 2.1); None when the answer was valid or the version has no such message."""
        if event.error is None or not self.dialect.result_errors:
            return None
        error = event.error
        return frames.encode_result_error(event.message_id, self.dialect.code(error.kind), error.description, error.details)

    def send(self, action: str, payload: dict[str, Any]) -> str:
        """Frame a SEND (OCPP-J 2.1), validated; it gets no answer, so nothing is kept pending."""
        if action not in self.dialect.send_actions:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is not a SEND in {self.dialect.subprotocol}")
        self.check_call(action, payload)
        return frames.encode_send(str(uuid.uuid4()), action, payload)

    def _reply(self, message_id: str, kind: ErrorKind, description: str, details: dict[str, Any] | None = None) -> Reply:
        code = self.dialect.code(kind)
        return Reply(frames.encode_error(message_id, code, description, details), message_id, code, description)

    def check_call(self, action: str, payload: dict[str, Any]) -> None:
        """Raise :class:`OcppError` unless ``action`` is ours to send and ``payload`` fits its schema."""
        if action not in self.dialect.actions_received_by("station" if self.side == "csms" else "csms"):
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is not sent by the {self.side}")
        self.dialect.schemas.validate_request(action, payload)

    def call(self, action: str, payload: dict[str, Any], checked: bool = False) -> tuple[str, str]:
        """Frame a CALL (validated unless ``checked``); returns ``(message_id, frame)``."""
        if action in self.dialect.send_actions:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is sent as a SEND, not a CALL")
        if not checked:
            self.check_call(action, payload)
        message_id = str(uuid.uuid4())
        self._pending[message_id] = action
        return message_id, frames.encode_call(message_id, action, payload)

    def forget(self, message_id: str) -> None:
        """Stop waiting for an answer (timed out); a late answer will then be ignored."""
        self._pending.pop(message_id, None)

    def result(self, call: IncomingCall, payload: dict[str, Any]) -> str:
        """Frame our answer to ``call``; validates it so we never send what the schema forbids."""
        self.dialect.schemas.validate_response(call.action, payload)
        return frames.encode_result(call.message_id, payload)

    def error(self, message_id: str, kind: ErrorKind, description: str, details: dict[str, Any] | None = None) -> str:
        """Frame a CALLERROR in this version's spelling."""
        return frames.encode_error(message_id, self.dialect.code(kind), description, details)
