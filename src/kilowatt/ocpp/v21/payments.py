"""OCPP 2.1 payment messages a station sends: NotifySettlement and VatNumberValidation."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.handlers import Handler, Payload
from kilowatt.services.bundle import Services

_ADDRESS_FIELDS = {
    "name": "name",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "postalCode": "postal_code",
    "country": "country",
}


def address(data: Payload) -> dict[str, str]:
    """A 2.1 AddressType in the domain's spelling (and back, with :func:`address_payload`)."""
    return {ours: data[theirs] for theirs, ours in _ADDRESS_FIELDS.items() if theirs in data}


def address_payload(company: dict[str, str]) -> Payload:
    return {theirs: company[ours] for theirs, ours in _ADDRESS_FIELDS.items() if ours in company}


async def notify_settlement(services: Services, station: StationContext, payload: Payload) -> Payload:
    """Store the settlement; no receipt of our own to offer, so the answer is empty (the station
    keeps the receipt it sent, if any)."""
    await services.payments.record_settlement(
        station.station_id,
        station_transaction_id=payload.get("transactionId"),
        psp_ref=payload["pspRef"],
        status=payload["status"],
        status_info=payload.get("statusInfo"),
        amount=payload["settlementAmount"],
        settlement_time=parse_time(payload["settlementTime"], "settlementTime"),
        receipt_id=payload.get("receiptId"),
        receipt_url=payload.get("receiptUrl"),
        vat_number=payload.get("vatNumber"),
        vat_company=address(payload["vatCompany"]) if "vatCompany" in payload else None,
    )
    return {}


async def vat_number_validation(services: Services, station: StationContext, payload: Payload) -> Payload:
    answer = await services.payments.validate_vat_number(station.station_id, payload["vatNumber"], payload.get("evseId"))
    response: Payload = {"vatNumber": payload["vatNumber"], "status": answer.status}
    if "evseId" in payload:
        response["evseId"] = payload["evseId"]
    if answer.reason_code is not None:
        response["statusInfo"] = {"reasonCode": answer.reason_code}
        if answer.additional_info:
            response["statusInfo"]["additionalInfo"] = answer.additional_info
    if answer.company is not None:
        response["company"] = address_payload(answer.company)
    return response


ROUTES: dict[str, Handler] = {"NotifySettlement": notify_settlement, "VatNumberValidation": vat_number_validation}
