"""OCPP 2.1 charger-initiated messages: 2.0.1's handlers plus the messages 2.1 adds."""

from __future__ import annotations

from kilowatt.ocpp.v201 import handlers as v201
from kilowatt.ocpp.v201.handlers import Handler

ROUTES_ADDED: dict[str, Handler] = {}


def routes() -> dict[str, Handler]:
    return v201.routes() | ROUTES_ADDED
