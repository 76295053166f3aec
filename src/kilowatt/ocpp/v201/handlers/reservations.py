"""Reservation (OCPP 2.0.1 functional block H): the station ends a reservation on its own."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers._common import Payload
from kilowatt.services.bundle import Services


async def reservation_status_update(services: Services, station: StationContext, payload: Payload) -> Payload:
    # H04: Expired or Removed (2.1 adds NoTransaction). An unknown reservation is logged by the
    # service and answered all the same: the station has nothing to correct.
    await services.reservations.station_update(station.station_id, payload["reservationId"], payload["reservationUpdateStatus"])
    return {}


ROUTES = {"ReservationStatusUpdate": reservation_status_update}
