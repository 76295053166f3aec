"""Security (OCPP 2.0.1 functional block A): security events and certificate signing requests.

Both land where 1.6's security extension puts them: ``station_events`` of kind ``security``
(status = the event type) and ``sign_certificate`` (the CSR kept for the operator).
"""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers._common import NOT_CONFIGURED, Payload, status_info
from kilowatt.services.bundle import Services


async def security_event_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    # The station's timestamp is kept as sent, as for 1.6: a security event from a station whose
    # clock is wrong is still worth keeping, not refusing. A repeat (same type, timestamp and
    # techInfo) is answered alike and stores nothing.
    await services.stations.security_event(station.station_id, payload["type"], payload["timestamp"], payload.get("techInfo"))
    return {}


async def sign_certificate(services: Services, station: StationContext, payload: Payload) -> Payload:
    # A16/A02: no certificate authority is configured to sign it yet; the CSR is stored for the
    # operator and the request refused with the reason. The type is kept as sent (None: absent), as
    # CertificateSigned names it back: an absent type means "for both the station's connection
    # and ISO 15118", which ChargingStationCertificate would not.
    details = {"csr": payload["csr"], "certificate_type": payload.get("certificateType")}
    await services.stations.record_event(station.station_id, "sign_certificate", "Rejected", None, details)
    return {
        "status": "Rejected",
        "statusInfo": status_info(NOT_CONFIGURED, "no certificate authority is configured in this CSMS; the CSR was stored"),
    }


ROUTES = {
    "SecurityEventNotification": security_event_notification,
    "SignCertificate": sign_certificate,
}
