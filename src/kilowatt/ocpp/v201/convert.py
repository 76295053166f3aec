"""OCPP 2.0.1 data types ↔ the domain's: EVSE addressing, meter values, id token answers.

Shared by the handler modules and, where the types are the same, by OCPP 2.1 (its MeterValueType
and IdTokenInfoType only add optional fields).
"""

from __future__ import annotations

from typing import Any

from kilowatt.ocpp.timestamps import parse_time
from kilowatt.services.authorization import AuthorizationResult
from kilowatt.services.common import rfc3339
from kilowatt.services.transactions import ENERGY_REGISTER, MeterSample

Payload = dict[str, Any]

MAX_ID_TOKEN_LENGTH = 36  # IdTokenType.idToken is identifierString[36]


def evse_and_connector(evse: Payload | None) -> tuple[int | None, int | None]:
    """An EVSEType (``{"id": 1, "connectorId": 2}``) as (evse_id, connector_id); Nones when absent."""
    if evse is None:
        return None, None
    return evse["id"], evse.get("connectorId")


def meter_samples(meter_values: list[Payload], field: str) -> tuple[MeterSample, ...]:
    """Flatten MeterValueType objects into samples with the spec's defaults made explicit
    (measurand Energy.Active.Import.Register, context Sample.Periodic, location Outlet, unit Wh,
    multiplier 0). The value is kept as sent; the multiplier and a signed meter value are kept
    alongside it."""
    samples: list[MeterSample] = []
    for meter_value in meter_values:
        timestamp = parse_time(meter_value["timestamp"], f"{field}.timestamp")
        for sampled in meter_value["sampledValue"]:
            unit = sampled.get("unitOfMeasure") or {}
            value = sampled["value"]
            samples.append(
                MeterSample(
                    timestamp=timestamp,
                    value=repr(value) if isinstance(value, float) else str(value),
                    measurand=sampled.get("measurand", ENERGY_REGISTER),
                    context=sampled.get("context", "Sample.Periodic"),
                    unit=unit.get("unit", "Wh"),
                    phase=sampled.get("phase"),
                    location=sampled.get("location", "Outlet"),
                    multiplier=unit.get("multiplier", 0),
                    signed_meter_value=sampled.get("signedMeterValue"),
                )
            )
    return tuple(samples)


def id_token_info(result: AuthorizationResult, ocpp_version: str = "ocpp2.0.1") -> Payload:
    """IdTokenInfoType for an authorization answer: a token not registered at all (or presented
    with another type than its registered one) is Unknown (2.0.1's word; 1.6 says Invalid).

    The group (groupIdToken) goes with its registered type; a group id longer than an IdToken can
    hold is left out rather than cut (a cut id would name another group). The token's expiry is
    cacheExpiryDateTime. Its personal message goes as personalMessage, except a QRCODE one to a
    2.0.1 station, whose MessageFormatEnumType has no such word."""
    info: Payload = {"status": result.status if result.known or result.status != "Invalid" else "Unknown"}
    if result.expiry_date is not None:
        info["cacheExpiryDateTime"] = rfc3339(result.expiry_date)
    if result.parent_id_token is not None and len(result.parent_id_token) <= MAX_ID_TOKEN_LENGTH:
        info["groupIdToken"] = {"idToken": result.parent_id_token, "type": result.parent_id_token_type or GROUP_TOKEN_TYPE}
    message = result.personal_message
    if message is not None and (message.format in MESSAGE_FORMATS_201 or ocpp_version != "ocpp2.0.1"):
        content: Payload = {"format": message.format, "content": message.content}
        if message.language is not None:
            content["language"] = message.language
        info["personalMessage"] = content
    return info


GROUP_TOKEN_TYPE = "Central"  # a group the CSMS knows only by name (no registered type)
MESSAGE_FORMATS_201 = ("ASCII", "HTML", "URI", "UTF8")  # MessageFormatEnumType; 2.1 adds QRCODE


# IdTokenEnumType NoAuthorization: "no authorization is done" (the station charges freely, e.g. a
# free-vend EVSE); its idToken is empty and is not looked up.
NO_AUTHORIZATION = "NoAuthorization"
ACCEPTED = AuthorizationResult("Accepted")
