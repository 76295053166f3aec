"""Readers shared by the 2.0.1 block modules of this package: component/variable pairs, optional
times, and the statusInfo of an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kilowatt.ocpp.timestamps import parse_time
from kilowatt.services.monitoring import ComponentVariable

Payload = dict[str, Any]

NOT_CONFIGURED = "NotConfigured"
"""statusInfo.reasonCode when the CSMS has no backend for a request (no CA, no contract certificate service)."""


def component_variable(component: Payload, variable: Payload) -> ComponentVariable:
    """OCPP 2.0.1 ComponentType and VariableType (Part 1 §4) as one domain target."""
    evse = component.get("evse") or {}
    return ComponentVariable(
        component=component["name"],
        component_instance=component.get("instance"),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        variable=variable["name"],
        variable_instance=variable.get("instance"),
    )


def optional_time(payload: Payload, key: str, field: str) -> datetime | None:
    """``payload[key]`` as a UTC datetime when present (PropertyConstraintViolation naming ``field`` if implausible)."""
    value = payload.get(key)
    return None if value is None else parse_time(value, field)


def status_info(reason_code: str, additional_info: str) -> Payload:
    """A StatusInfoType (reasonCode at most 20 characters, additionalInfo at most 512)."""
    return {"reasonCode": reason_code[:20], "additionalInfo": additional_info[:512]}
