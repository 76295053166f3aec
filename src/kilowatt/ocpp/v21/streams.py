"""OCPP 2.1 periodic event streams: OpenPeriodicEventStream, ClosePeriodicEventStream and the
NotifyPeriodicEventStream SEND that carries their data (its answer, if any, is never sent)."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.handlers import Handler, Payload
from kilowatt.services.bundle import Services


async def open_stream(services: Services, station: StationContext, payload: Payload) -> Payload:
    stream = payload["constantStreamData"]
    params = stream["params"]
    await services.event_streams.open(
        station.station_id, stream["id"], stream["variableMonitoringId"], params.get("interval"), params.get("values")
    )
    return {"status": "Accepted"}


async def close_stream(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.event_streams.close(station.station_id, payload["id"])  # closing an unknown stream changes nothing
    return {}


async def stream_data(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.event_streams.record_data(
        station.station_id, payload["id"], parse_time(payload["basetime"], "basetime"), payload["pending"], payload["data"]
    )
    return {}  # a SEND: the endpoint sends nothing back


ROUTES: dict[str, Handler] = {
    "OpenPeriodicEventStream": open_stream,
    "ClosePeriodicEventStream": close_stream,
    "NotifyPeriodicEventStream": stream_data,
}
