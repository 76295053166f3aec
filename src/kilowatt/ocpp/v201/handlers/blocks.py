"""The functional-block modules whose ROUTES make up the 2.0.1 handlers (listed once, here)."""

from __future__ import annotations

from types import ModuleType

from kilowatt.ocpp.v201.handlers import diagnostics, display, firmware, iso15118, reservations, security, smart_charging

BLOCKS: tuple[ModuleType, ...] = (
    security,
    iso15118,
    firmware,
    diagnostics,
    reservations,
    smart_charging,
    display,
)
