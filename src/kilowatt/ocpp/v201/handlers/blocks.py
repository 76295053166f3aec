"""The functional-block modules whose ROUTES make up the 2.0.1 handlers (listed once, here)."""

from __future__ import annotations

from types import ModuleType

from kilowatt.ocpp.v201.handlers import (
    authorization,
    availability,
    data_transfer,
    diagnostics,
    display,
    firmware,
    iso15118,
    metering,
    provisioning,
    reservations,
    security,
    smart_charging,
    transactions,
)

BLOCKS: tuple[ModuleType, ...] = (
    provisioning,
    authorization,
    availability,
    transactions,
    metering,
    data_transfer,
    security,
    iso15118,
    firmware,
    diagnostics,
    reservations,
    smart_charging,
    display,
)
