"""The OCPP WebSocket gateway: sockets, handshake and sessions — and no business rules."""

from kilowatt.gateway.server import Gateway, OcppAdapter

__all__ = ["Gateway", "OcppAdapter"]
