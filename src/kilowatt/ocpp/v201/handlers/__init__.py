"""OCPP 2.0.1 charger-initiated messages, translated into service calls and back.

One module per functional block of OCPP 2.0.1 Part 2 (provisioning, authorization, availability,
transactions, metering, ...). Each module exports ``ROUTES``: action → handler, a plain async
function of the services, the connection's :class:`StationContext` and the validated payload. The
payload arrives already validated against the official schema (see the RPC core), so handlers read
required fields directly; each returns only after the service has committed.

OCPP 2.1 reuses these handlers (its messages are 2.0.1's plus optional fields) and adds its own;
see :mod:`kilowatt.ocpp.v21.handlers`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kilowatt.ocpp.context import StationContext
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import IncomingCall
from kilowatt.services.bundle import Services

Payload = dict[str, Any]
Handler = Callable[[Services, StationContext, Payload], Awaitable[Payload]]

# B02/B03: until its boot is Accepted a station may only boot, keep the connection alive, report
# its connectors, and answer what the CSMS asks while it is Pending (a NotifyReport follows a
# GetBaseReport). Anything else is SecurityError (B02.FR.09 / B03.FR.07).
ALLOWED_BEFORE_ACCEPTED = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "NotifyReport", "NotifyMonitoringReport"}
)


class StationHandlers:
    """Dispatches every charger-initiated message of one version to its handler."""

    def __init__(self, services: Services, routes: Mapping[str, Handler]):
        self.services = services
        self.routes = dict(routes)

    async def handle(self, station: StationContext, call: IncomingCall) -> Payload:
        if station.registration_status != "Accepted" and call.action not in ALLOWED_BEFORE_ACCEPTED:
            raise OcppError(
                ErrorKind.SECURITY,
                f"station registration is {station.registration_status}; until it is Accepted only "
                + ", ".join(sorted(ALLOWED_BEFORE_ACCEPTED))
                + " are processed",
            )
        route = self.routes.get(call.action)
        if route is None:  # a station message of this version that Kilowatt has nothing to do with yet
            raise OcppError(ErrorKind.NOT_IMPLEMENTED, f"{call.action} is not implemented by this CSMS")
        return await route(self.services, station, call.payload)


def routes() -> dict[str, Handler]:
    """Every 2.0.1 message handled, from all functional blocks."""
    from kilowatt.ocpp.v201.handlers import blocks

    merged: dict[str, Handler] = {}
    for block in blocks.BLOCKS:
        overlap = merged.keys() & block.ROUTES.keys()
        if overlap:
            raise RuntimeError(f"handled twice: {sorted(overlap)}")
        merged.update(block.ROUTES)
    return merged
