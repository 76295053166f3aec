"""What travels on the bus: a command for a station, and what became of it.

:class:`CommandEnvelope` goes to the node holding the station's socket; :class:`CommandOutcome`
comes back — the typed result and the raw payloads, or a typed error. Both are plain data and
serialise to JSON objects (``to_json``/``from_json``) so a bus between processes (Redis) carries
exactly what the in-process bus hands over. A command is tagged with its class name::

    {"station_id": "CP-1", "timeout_s": null, "command": {"type": "Reset", "fields": {"mode": "OnIdle", "evse_id": null}}}
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from kilowatt.commands.model import COMMAND_TYPES, RESULT_TYPES, Command, Result

_COMMANDS = {kind.__name__: kind for kind in COMMAND_TYPES}
_RESULTS = {kind.__name__: kind for kind in RESULT_TYPES}


class CommandErrorKind(enum.Enum):
    """Why a command has no result. The value is what the command log stores as its outcome."""

    OFFLINE = "offline"  # no node holds the station's socket (or it closed before the answer)
    BUSY = "busy"  # too many commands already wait for the station
    TIMEOUT = "timeout"  # sent, no answer in time (the station may still have acted)
    CALL_ERROR = "call_error"  # a CALLERROR, or an answer the version's schema forbids
    INVALID = "invalid"  # the station's version cannot carry this command (or the schema refuses it)
    UNAVAILABLE = "unavailable"  # the bus between nodes (Redis) is unreachable: nothing was sent


@dataclass(slots=True, frozen=True)
class CommandError:
    kind: CommandErrorKind
    description: str
    code: str | None = None  # call_error: the station's (or our validator's) CALLERROR code
    details: dict[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class CommandEnvelope:
    station_id: str
    command: Command
    timeout_s: float | None = None  # None: the gateway's KILOWATT_CALL_TIMEOUT_S

    def to_json(self) -> dict[str, Any]:
        return {"station_id": self.station_id, "timeout_s": self.timeout_s, "command": tagged(self.command)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommandEnvelope:
        return cls(data["station_id"], untagged(data["command"], _COMMANDS), data.get("timeout_s"))  # type: ignore[arg-type]


@dataclass(slots=True, frozen=True)
class CommandOutcome:
    """Exactly one of ``result`` and ``error`` is set.

    ``action`` and ``request`` are what went on the wire (None when the command was refused before
    it was encoded), ``response`` the station's answer as it sent it (None unless it answered).
    """

    result: Result | None = None
    error: CommandError | None = None
    action: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None

    @classmethod
    def failed(cls, kind: CommandErrorKind, description: str, **fields: Any) -> CommandOutcome:
        code, details = fields.pop("code", None), fields.pop("details", None)
        return cls(error=CommandError(kind, description, code, details), **fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "result": tagged(self.result) if self.result is not None else None,
            "error": _adapter(CommandError).dump_python(self.error, mode="json") if self.error is not None else None,
            "action": self.action,
            "request": self.request,
            "response": self.response,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommandOutcome:
        result = untagged(data["result"], _RESULTS) if data.get("result") is not None else None
        error = _adapter(CommandError).validate_python(data["error"]) if data.get("error") is not None else None
        return cls(result, error, data.get("action"), data.get("request"), data.get("response"))  # type: ignore[arg-type]


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def fields_of(value: Command | Result) -> dict[str, Any]:
    """A command's or result's fields as JSON values (enums by value, datetimes as RFC 3339)."""
    return _adapter(type(value)).dump_python(value, mode="json")


def tagged(value: Command | Result) -> dict[str, Any]:
    return {"type": type(value).__name__, "fields": fields_of(value)}


def untagged(data: dict[str, Any], kinds: dict[str, type]) -> Any:
    try:
        kind = kinds[data["type"]]
    except KeyError:
        raise ValueError(f"unknown type {data.get('type')!r}") from None
    return _adapter(kind).validate_python(data.get("fields") or {})
