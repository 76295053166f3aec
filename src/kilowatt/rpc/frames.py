"""OCPP-J message frames: ``[2, id, action, payload]``, ``[3, id, payload]``, ``[4, id, code, description, details]``,
and OCPP-J 2.1's ``[5, id, code, description, details]`` (CALLRESULTERROR) and ``[6, id, action, payload]`` (SEND).

Parsing is strict about shape (the RPC layer must not guess) and reports every defect as a
:class:`FrameError` that still carries the message id when one could be read, so the caller can
answer with a CALLERROR the sender can correlate. Which message types exist depends on the
version: 1.6 and 2.0.1 know 2-4 only, so a 5 or 6 from their stations is an unknown type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeVar

import orjson

from kilowatt.rpc.errors import ErrorKind

CALL = 2
CALLRESULT = 3
CALLERROR = 4
CALLRESULTERROR = 5  # OCPP-J 2.1: "I could not process your CALLRESULT"
SEND = 6  # OCPP-J 2.1: an unconfirmed message, never answered

MESSAGE_TYPES = frozenset({CALL, CALLRESULT, CALLERROR})  # OCPP-J 1.6 and 2.0.1
MESSAGE_TYPES_21 = MESSAGE_TYPES | {CALLRESULTERROR, SEND}  # OCPP-J 2.1

MAX_MESSAGE_ID_LENGTH = 36  # OCPP-J: "maximum of 36 characters, to allow for GUIDs"
UNKNOWN_MESSAGE_ID = "-1"  # what OCPP 2.0.1 prescribes when the id cannot be read; used for 1.6 too


@dataclass(slots=True, frozen=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class CallErrorFrame:
    message_id: str
    code: str
    description: str
    details: dict[str, Any]


@dataclass(slots=True, frozen=True)
class CallResultErrorFrame:
    """OCPP-J 2.1: the receiver of our CALLRESULT could not process it. Nothing answers it."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any]


@dataclass(slots=True, frozen=True)
class Send:
    """OCPP-J 2.1: an unconfirmed message. Never answered, not even with a CALLERROR."""

    message_id: str
    action: str
    payload: dict[str, Any]


Frame = Call | CallResult | CallErrorFrame | CallResultErrorFrame | Send


class FrameError(Exception):
    """A frame that is not a well-formed OCPP-J message."""

    def __init__(self, kind: ErrorKind, description: str, message_id: str | None = None, is_call: bool = False):
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.message_id = message_id
        self.is_call = is_call  # only a CALL (or an unreadable frame) may be answered with a CALLERROR


def parse(data: str | bytes, message_types: frozenset[int] = MESSAGE_TYPES) -> Frame:
    """Decode one WebSocket text message into a frame, or raise :class:`FrameError`.

    ``message_types`` are the types the version knows (:data:`MESSAGE_TYPES_21` for 2.1); any
    other type is ``MESSAGE_TYPE_NOT_SUPPORTED``. A defective SEND is never ``is_call``: it must not
    be answered."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FrameError(ErrorKind.RPC_FRAMEWORK, f"frame is not valid JSON: {exc}", is_call=True) from None
    if not isinstance(message, list) or not message:
        raise FrameError(ErrorKind.RPC_FRAMEWORK, "frame must be a non-empty JSON array", is_call=True)

    type_id = message[0]
    raw_id = message[1] if len(message) > 1 else None
    message_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_MESSAGE_ID_LENGTH else None
    if type(type_id) is not int:
        raise FrameError(ErrorKind.RPC_FRAMEWORK, "MessageTypeId must be an integer", message_id, is_call=True)
    known = type_id in message_types
    if message_id is None:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK,
            f"message id must be a string of 1 to {MAX_MESSAGE_ID_LENGTH} characters",
            is_call=type_id == CALL or not known,
        )
    if not known:
        raise FrameError(ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, f"unknown MessageTypeId {type_id}", message_id, is_call=True)

    if type_id == CALL:
        if len(message) != 4:
            raise FrameError(ErrorKind.RPC_FRAMEWORK, "CALL must have 4 elements", message_id, is_call=True)
        action, payload = message[2], message[3]
        if not isinstance(action, str) or not action:
            raise FrameError(ErrorKind.RPC_FRAMEWORK, "action must be a non-empty string", message_id, is_call=True)
        if not isinstance(payload, dict):
            raise FrameError(ErrorKind.FORMAT, "payload must be a JSON object", message_id, is_call=True)
        return Call(message_id, action, payload)
    if type_id == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(ErrorKind.RPC_FRAMEWORK, "CALLRESULT must be [3, id, {payload}]", message_id)
        return CallResult(message_id, message[2])
    if type_id == CALLERROR:
        if (
            len(message) != 5
            or not isinstance(message[2], str)
            or not isinstance(message[3], str)
            or not isinstance(message[4], dict)
        ):
            raise FrameError(ErrorKind.RPC_FRAMEWORK, "CALLERROR must be [4, id, code, description, {details}]", message_id)
        return CallErrorFrame(message_id, message[2], message[3], message[4])
    if type_id == CALLRESULTERROR:
        if (
            len(message) != 5
            or not isinstance(message[2], str)
            or not isinstance(message[3], str)
            or not isinstance(message[4], dict)
        ):
            raise FrameError(ErrorKind.RPC_FRAMEWORK, "CALLRESULTERROR must be [5, id, code, description, {details}]", message_id)
        return CallResultErrorFrame(message_id, message[2], message[3], message[4])
    # SEND: the only type left in MESSAGE_TYPES_21
    if len(message) != 4 or not isinstance(message[2], str) or not message[2] or not isinstance(message[3], dict):
        raise FrameError(ErrorKind.RPC_FRAMEWORK, "SEND must be [6, id, action, {payload}]", message_id)
    return Send(message_id, message[2], message[3])


NUL_REFUSED = "strings must not contain NUL (U+0000)"


def may_hold_nul(data: str | bytes) -> bool:
    """Cheap test on the raw text: a NUL can only arrive escaped, since JSON forbids raw control
    characters (the parser refuses them). False positives (an escaped backslash before ``u0000``)
    are settled by :func:`holds_nul`."""
    return ("\\u0000" in data) if isinstance(data, str) else (b"\\u0000" in data)


def holds_nul(value: Any) -> bool:
    """Whether any string (or object key) in ``value`` contains NUL.

    NUL is refused in every message: no OCPP string type allows it, PostgreSQL cannot store it in
    text or JSON, and C firmware reads it as the end of the string — the value would mean
    different things to different readers."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    if isinstance(value, Call | CallResult | CallErrorFrame | CallResultErrorFrame | Send):
        return holds_nul([getattr(value, name) for name in value.__slots__])
    return False


ErrorFrame = TypeVar("ErrorFrame", CallErrorFrame, CallResultErrorFrame)


def without_nul(frame: ErrorFrame) -> ErrorFrame:
    """A CALLERROR with NUL replaced by U+FFFD in its code and description, and details dropped if
    they hold one: the error is still recorded, and NUL never reaches the database."""
    details = {} if holds_nul(frame.details) else frame.details
    return replace(
        frame, code=frame.code.replace("\x00", "\ufffd"), description=frame.description.replace("\x00", "\ufffd"), details=details
    )


def encode_call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALL, message_id, action, payload]).decode()


def encode_result(message_id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALLRESULT, message_id, payload]).decode()


def encode_error(message_id: str, code: str, description: str, details: dict[str, Any] | None = None) -> str:
    return orjson.dumps([CALLERROR, message_id, code, description, details or {}]).decode()


def encode_send(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([SEND, message_id, action, payload]).decode()


def encode_result_error(message_id: str, code: str, description: str, details: dict[str, Any] | None = None) -> str:
    return orjson.dumps([CALLRESULTERROR, message_id, code, description, details or {}]).decode()
