"""OCPP 2.1 GetCertificateChainStatus: the station asks the CSMS to check certificates by OCSP or CRL.

Kilowatt has no OCSP/CRL client yet, so each certificate asked about is answered ``Failed`` (the
status for "could not be determined"), with ``nextUpdate`` now: the station may ask again at once.
Nothing is stored: the request changes nothing in the CSMS.
"""

from __future__ import annotations

from datetime import datetime, timezone

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers import Handler, Payload
from kilowatt.services.bundle import Services
from kilowatt.services.common import rfc3339


async def get_certificate_chain_status(services: Services, station: StationContext, payload: Payload) -> Payload:
    now = rfc3339(datetime.now(timezone.utc))
    return {
        "certificateStatus": [
            {
                "certificateHashData": request["certificateHashData"],
                "source": request["source"],
                "status": "Failed",
                "nextUpdate": now,
            }
            for request in payload["certificateStatusRequests"]
        ]
    }


ROUTES: dict[str, Handler] = {"GetCertificateChainStatus": get_certificate_chain_status}
