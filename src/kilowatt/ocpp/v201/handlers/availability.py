"""Availability (OCPP 2.0.1 block G): StatusNotification per EVSE and connector."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.convert import Payload
from kilowatt.services.bundle import Services
from kilowatt.services.stations import ConnectorStatus


async def status_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    """2.0.1's ConnectorStatus is already the domain's word; what the EV is doing (chargingState)
    comes with the transaction's events, so it is not said here."""
    status = payload["connectorStatus"]
    await services.stations.status_notification(
        station.station_id,
        ConnectorStatus(
            evse_id=payload["evseId"],
            connector_id=payload["connectorId"],
            status=status,
            connector_status=status,
            timestamp=parse_time(payload["timestamp"], "timestamp"),
        ),
    )
    return {}


ROUTES = {"StatusNotification": status_notification}
