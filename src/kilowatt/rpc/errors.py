"""Errors of the RPC layer, in version-agnostic terms.

OCPP 1.6 and 2.0.1 name the same failures differently (``FormationViolation`` vs
``FormatViolation``, ``OccurenceConstraintViolation`` vs ``OccurrenceConstraintViolation``), so code
raises an :class:`ErrorKind` and each version's dialect turns it into that version's exact string.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorKind(enum.Enum):
    """What went wrong, independent of how a protocol version spells it."""

    NOT_IMPLEMENTED = "not_implemented"  # action unknown to the receiver
    NOT_SUPPORTED = "not_supported"  # action known but not supported (e.g. wrong direction)
    INTERNAL = "internal"  # receiver failed while handling a valid message
    PROTOCOL = "protocol"  # payload incomplete
    SECURITY = "security"  # refused for security reasons
    FORMAT = "format"  # frame or payload not shaped like the PDU
    PROPERTY_CONSTRAINT = "property_constraint"  # a field has an invalid value
    OCCURRENCE_CONSTRAINT = "occurrence_constraint"  # a field missing or repeated wrongly
    TYPE_CONSTRAINT = "type_constraint"  # a field has the wrong JSON type
    GENERIC = "generic"  # anything else
    MESSAGE_TYPE_NOT_SUPPORTED = "message_type_not_supported"  # unknown MessageTypeId
    RPC_FRAMEWORK = "rpc_framework"  # frame unreadable as an OCPP-J message


class OcppError(Exception):
    """Raised by a handler (or the validator) to answer a CALL with a CALLERROR."""

    def __init__(self, kind: ErrorKind, description: str = "", details: dict[str, Any] | None = None):
        super().__init__(description or kind.value)
        self.kind = kind
        self.description = description
        self.details = details or {}


class CallError(Exception):
    """The other side answered our CALL with a CALLERROR; ``code`` is its own string."""

    def __init__(self, code: str, description: str, details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details or {}


class CallTimeout(Exception):
    """No answer to our CALL within the timeout."""


class StationDisconnected(Exception):
    """The connection is gone (or the station is not connected to any node)."""


class CallQueueFull(Exception):
    """Too many CALLs are already waiting for this connection; try again later."""
