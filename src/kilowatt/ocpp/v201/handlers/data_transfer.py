"""DataTransfer (OCPP 2.0.1 block P): vendor-specific messages from the station."""

from __future__ import annotations

import orjson

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.convert import Payload
from kilowatt.services.bundle import Services


async def data_transfer(services: Services, station: StationContext, payload: Payload) -> Payload:
    """2.0.1's data may be any JSON value; the domain keeps text (1.6's type), so anything but a
    string is kept as its JSON text."""
    data = payload.get("data")
    text = data if data is None or isinstance(data, str) else orjson.dumps(data).decode()
    answer = await services.data_transfer.inbound(station.station_id, payload["vendorId"], payload.get("messageId"), text)
    return {"status": answer.status} if answer.data is None else {"status": answer.status, "data": answer.data}


ROUTES = {"DataTransfer": data_transfer}
