"""Where a typed command meets a socket: encode for the connection's version, send, decode.

The node holding a station's WebSocket runs :func:`execute` for each :class:`CommandEnvelope` the
bus brings. The version's :class:`CommandCodec` (``ocpp/<version>/codec.py``) is picked from the
live connection's negotiated subprotocol, so a station that reconnects with another version gets
that version's payloads at once. The endpoint validates the CALL against the version's schema
before it queues, and the answer before it returns. Every failure becomes a typed
:class:`CommandOutcome` error rather than an exception, so it can travel back over any bus.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from kilowatt.commands import Command, CommandErrorKind, CommandOutcome, Result
from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected

log = structlog.get_logger("kilowatt.ocpp")


class CannotEncode(Exception):
    """The version cannot carry this command as given (e.g. a 2.0.1-only field for a 1.6 station)."""


class CommandCodec(Protocol):
    """One OCPP version's encoders and decoders, one pair per operation."""

    def encode(self, command: Command) -> tuple[str, dict[str, Any]]:
        """The action and payload for ``command``; raises :class:`CannotEncode`."""

    def decode(self, command: Command, payload: dict[str, Any]) -> Result:
        """The typed result of the (schema-valid) answer ``payload`` to ``command``."""


Call = Callable[[str, dict[str, Any], float | None], Awaitable[dict[str, Any]]]


async def execute(codec: CommandCodec, call: Call, command: Command, timeout_s: float | None = None) -> CommandOutcome:
    """Encode ``command``, send it with ``call`` (an endpoint's ``call``), decode the answer."""
    try:
        action, payload = codec.encode(command)
    except CannotEncode as exc:
        return CommandOutcome.failed(CommandErrorKind.INVALID, str(exc))
    sent: dict[str, Any] = {"action": action, "request": payload}
    try:
        response = await call(action, payload, timeout_s)
    except OcppError as exc:  # our payload broke the version's schema
        return CommandOutcome.failed(CommandErrorKind.INVALID, exc.description, **sent)
    except StationDisconnected as exc:
        return CommandOutcome.failed(CommandErrorKind.OFFLINE, str(exc), **sent)
    except CallQueueFull as exc:
        return CommandOutcome.failed(CommandErrorKind.BUSY, str(exc), **sent)
    except CallTimeout as exc:
        return CommandOutcome.failed(CommandErrorKind.TIMEOUT, str(exc), **sent)
    except CallError as exc:
        return CommandOutcome.failed(CommandErrorKind.CALL_ERROR, exc.description, code=exc.code, details=exc.details, **sent)
    try:
        result = codec.decode(command, response)
    except OcppError as exc:  # schema-valid, but not a value we can read (e.g. a time outside 1970-2099)
        return CommandOutcome.failed(CommandErrorKind.CALL_ERROR, f"invalid response: {exc.description}", response=response, **sent)
    except (KeyError, TypeError, ValueError) as exc:  # a schema-valid answer our decoder misread: our bug, logged
        log.exception("could not decode a schema-valid answer", action=action)
        return CommandOutcome.failed(
            CommandErrorKind.CALL_ERROR, f"the CSMS could not read the station's answer ({exc!r})", response=response, **sent
        )
    return CommandOutcome(result=result, response=response, **sent)
