"""Authorization (OCPP 2.0.1 block C): Authorize, for every IdTokenEnumType."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.convert import ACCEPTED, NO_AUTHORIZATION, Payload, id_token_info
from kilowatt.services.bundle import Services


async def authorize(services: Services, station: StationContext, payload: Payload) -> Payload:
    """The token's status (with its group, expiry as cacheExpiryDateTime, personal message). A
    token is the registered one only when presented with its registered type; otherwise it is
    Unknown. NoAuthorization asks nobody to be authorized: Accepted without a look-up. ISO 15118
    contract certificate data, when sent, is kept as a station event: no contract certificate
    authority is connected to check it, so its status is NoCertificateAvailable."""
    id_token = payload["idToken"]
    if id_token["type"] == NO_AUTHORIZATION:
        result = ACCEPTED
    else:
        result = await services.authorization.authorize(id_token["idToken"], id_token["type"])
    answer: Payload = {"idTokenInfo": id_token_info(result, station.ocpp_version)}
    certificate, hashes = payload.get("certificate"), payload.get("iso15118CertificateHashData")
    if certificate is not None or hashes is not None:
        await services.stations.record_event(
            station.station_id,
            "authorize_certificate",
            "NoCertificateAvailable",
            None,
            {"id_token": id_token["idToken"], "type": id_token["type"], "certificate": certificate, "hash_data": hashes},
        )
        answer["certificateStatus"] = "NoCertificateAvailable"
    return answer


ROUTES = {"Authorize": authorize}
