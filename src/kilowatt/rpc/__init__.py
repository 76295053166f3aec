"""OCPP-J RPC core: framing, correlation, schema validation and error mapping.

The protocol layer (:mod:`kilowatt.rpc.protocol`) is sans-I/O — text frames in, events and text
frames out — so it is tested without a socket, and the gateway and the simulator share it.
:mod:`kilowatt.rpc.endpoint` is the thin asyncio glue over one WebSocket.
"""

from kilowatt.rpc.errors import (
    CallError,
    CallQueueFull,
    CallTimeout,
    ErrorKind,
    OcppError,
    StationDisconnected,
)
from kilowatt.rpc.protocol import Dialect, RpcProtocol

__all__ = [
    "CallError",
    "CallQueueFull",
    "CallTimeout",
    "Dialect",
    "ErrorKind",
    "OcppError",
    "RpcProtocol",
    "StationDisconnected",
]
