"""OCPP 2.1 charger-initiated messages: 2.0.1's handlers plus the messages 2.1 adds.

2.1's versions of the 2.0.1 messages add optional fields (and NotifyMonitoringReport a required
``eventNotificationType``, which 2.0.1's handler reads when present), so 2.0.1's handlers serve them.
The added messages are handled by one module per domain (payments, DER control, periodic event
streams, energy, security), each exporting ``ROUTES``. Every message 2.1 adds is handled; none is
answered NotImplemented (see docs/ocpp21.md).
"""

from __future__ import annotations

from kilowatt.ocpp.v21 import der, energy, payments, security, streams
from kilowatt.ocpp.v201 import handlers as v201
from kilowatt.ocpp.v201.handlers import Handler

BLOCKS = (payments, der, streams, energy, security)

ROUTES_ADDED: dict[str, Handler] = {action: handler for block in BLOCKS for action, handler in block.ROUTES.items()}


def routes() -> dict[str, Handler]:
    return v201.routes() | ROUTES_ADDED
