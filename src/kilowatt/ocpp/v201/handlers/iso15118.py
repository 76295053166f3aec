"""ISO 15118 certificate management (OCPP 2.0.1 functional block M, station-initiated part).

Kilowatt has no contract certificate backend (eMSP / mobility operator CA) and no OCSP relay yet:
each request is stored as a station event (kinds ``ev_certificate`` and ``certificate_status``,
status = the answer given) and answered Failed with the reason, so the station can fall back at
once instead of waiting for a timeout.
"""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers._common import NOT_CONFIGURED, Payload, status_info
from kilowatt.services.bundle import Services


async def get_15118_ev_certificate(services: Services, station: StationContext, payload: Payload) -> Payload:
    details = {
        "iso15118_schema_version": payload["iso15118SchemaVersion"],
        "action": payload["action"],  # Install | Update
        "exi_request": payload["exiRequest"],  # Base64 EXI CertificateInstallationReq/UpdateReq
    }
    await services.stations.record_event(station.station_id, "ev_certificate", "Failed", None, details)
    return {
        "status": "Failed",
        "exiResponse": "",  # required even when Failed; there is no EXI answer to relay
        "statusInfo": status_info(
            NOT_CONFIGURED, "no contract certificate service is configured in this CSMS; the request was stored"
        ),
    }


async def get_certificate_status(services: Services, station: StationContext, payload: Payload) -> Payload:
    ocsp = payload["ocspRequestData"]
    details = {
        "hash_algorithm": ocsp["hashAlgorithm"],
        "issuer_name_hash": ocsp["issuerNameHash"],
        "issuer_key_hash": ocsp["issuerKeyHash"],
        "serial_number": ocsp["serialNumber"],
        "responder_url": ocsp["responderURL"],
    }
    await services.stations.record_event(station.station_id, "certificate_status", "Failed", None, details)
    return {
        "status": "Failed",
        "statusInfo": status_info(NOT_CONFIGURED, "this CSMS does not relay OCSP requests yet; the request was stored"),
    }


ROUTES = {
    "Get15118EVCertificate": get_15118_ev_certificate,
    "GetCertificateStatus": get_certificate_status,
}
