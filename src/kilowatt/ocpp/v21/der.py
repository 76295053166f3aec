"""OCPP 2.1 DER control messages a station sends: NotifyDERAlarm, NotifyDERStartStop, ReportDERControl."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.handlers import Handler, Payload
from kilowatt.services.bundle import Services

# ReportDERControl's lists of controls, one per kind (curve, enterService, fixedPFAbsorb, ...).
_REPORT_FIELDS = (
    "curve",
    "enterService",
    "fixedPFAbsorb",
    "fixedPFInject",
    "fixedVar",
    "freqDroop",
    "gradient",
    "limitMaxDischarge",
)


async def notify_der_alarm(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.der.record_alarm(
        station.station_id,
        payload["controlType"],
        payload.get("gridEventFault"),
        payload.get("alarmEnded"),
        parse_time(payload["timestamp"]),
        payload.get("extraInfo"),
    )
    return {}


async def notify_der_start_stop(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.der.record_start_stop(
        station.station_id,
        payload["controlId"],
        payload["started"],
        parse_time(payload["timestamp"]),
        payload.get("supersededIds", []),
    )
    return {}


async def report_der_control(services: Services, station: StationContext, payload: Payload) -> Payload:
    """One part of a report; its controls are kept as the station reported them, by kind."""
    controls = {name: payload[name] for name in _REPORT_FIELDS if name in payload}
    await services.der.record_report(station.station_id, payload["requestId"], payload.get("tbc", False), controls)
    return {}


ROUTES: dict[str, Handler] = {
    "NotifyDERAlarm": notify_der_alarm,
    "NotifyDERStartStop": notify_der_start_stop,
    "ReportDERControl": report_der_control,
}
