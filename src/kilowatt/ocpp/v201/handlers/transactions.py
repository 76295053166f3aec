"""Transactions (OCPP 2.0.1 block E): TransactionEvent onto the canonical transaction events.

Each TransactionEvent becomes one :class:`TransactionStarted`, :class:`TransactionUpdated` or
:class:`TransactionEnded` named by the station's transactionId, with its idempotency key
(station, transactionId, seqNo): a replayed event is answered as before and stores nothing, and
events may arrive in any order (see services/transactions.py).
"""

from __future__ import annotations

import structlog

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.convert import ACCEPTED, NO_AUTHORIZATION, Payload, evse_and_connector, id_token_info, meter_samples
from kilowatt.services.bundle import Services
from kilowatt.services.transactions import (
    SeqNoKey,
    TransactionDetails,
    TransactionEnded,
    TransactionEvent,
    TransactionStarted,
    TransactionUpdated,
)

log = structlog.get_logger("kilowatt.ocpp.v201")

# E06: stoppedReason may be omitted only when the reason is Local.
DEFAULT_STOPPED_REASON = "Local"


async def transaction_event(services: Services, station: StationContext, payload: Payload) -> Payload:
    event = canonical_event(station.station_id, payload)
    outcome = await services.transactions.apply(event)
    if outcome.duplicate:
        log.info("TransactionEvent replayed", station_transaction_id=event.station_transaction_id, seq_no=payload["seqNo"])
    charging_state = event.details.charging_state
    if charging_state is not None and outcome.charging_state_on is not None:  # a late older event does not overwrite
        evse_id, connector_id = outcome.charging_state_on
        await services.stations.charging_state(station.station_id, evse_id, connector_id, charging_state)
    answer: Payload = {}
    id_token = payload.get("idToken")
    if id_token is not None:  # E01.FR.?: idTokenInfo answers every event that carries a token
        if id_token["type"] == NO_AUTHORIZATION:
            answer["idTokenInfo"] = id_token_info(ACCEPTED)
        elif outcome.authorization is not None:
            answer["idTokenInfo"] = id_token_info(outcome.authorization, station.ocpp_version)
    return answer


def canonical_event(station_id: str, payload: Payload) -> TransactionEvent:
    """The canonical event for one TransactionEvent request (schema-valid)."""
    info = payload["transactionInfo"]
    station_transaction_id = info["transactionId"]
    evse_id, connector_id = evse_and_connector(payload.get("evse"))
    id_token = payload.get("idToken")
    token = None if id_token is None or id_token["type"] == NO_AUTHORIZATION else id_token["idToken"]
    common = {
        "station_id": station_id,
        "timestamp": parse_time(payload["timestamp"], "timestamp"),
        "station_transaction_id": station_transaction_id,
        "id_token": token,
        "samples": meter_samples(payload.get("meterValue", ()), "meterValue"),
        "key": SeqNoKey(station_id, station_transaction_id, payload["seqNo"]),
        "offline": payload.get("offline", False),
        "details": TransactionDetails(
            trigger_reason=payload["triggerReason"],
            charging_state=info.get("chargingState"),
            remote_start_id=info.get("remoteStartId"),
            number_of_phases_used=payload.get("numberOfPhasesUsed"),
            cable_max_current_a=payload.get("cableMaxCurrent"),
            id_token_type=None if id_token is None else id_token["type"],
        ),
    }
    event_type = payload["eventType"]
    if event_type == "Started":
        return TransactionStarted(
            evse_id=evse_id or 0,
            connector_id=connector_id or 0,
            reason=payload["triggerReason"],
            reservation_id=payload.get("reservationId"),
            **common,
        )
    if event_type == "Updated":
        return TransactionUpdated(evse_id=evse_id, connector_id=connector_id, reason=payload["triggerReason"], **common)
    return TransactionEnded(
        evse_id=evse_id, connector_id=connector_id, reason=info.get("stoppedReason", DEFAULT_STOPPED_REASON), **common
    )


ROUTES = {"TransactionEvent": transaction_event}
