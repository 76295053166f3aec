"""Provisioning (OCPP 2.0.1 block B): BootNotification, Heartbeat, NotifyReport."""

from __future__ import annotations

from datetime import UTC, datetime

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.convert import Payload
from kilowatt.services.bundle import Services
from kilowatt.services.common import rfc3339
from kilowatt.services.configuration import VariableAttribute
from kilowatt.services.station_reports import DEVICE_MODEL, ReportPart
from kilowatt.services.stations import BootInfo


async def boot_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    settings = services.settings
    charging_station = payload["chargingStation"]
    modem = charging_station.get("modem") or {}
    status = await services.stations.boot(
        station.station_id,
        BootInfo(
            ocpp_version=station.ocpp_version,
            vendor=charging_station["vendorName"],
            model=charging_station["model"],
            serial_number=charging_station.get("serialNumber"),
            firmware_version=charging_station.get("firmwareVersion"),
            iccid=modem.get("iccid"),
            imsi=modem.get("imsi"),
            reason=payload["reason"],
        ),
    )
    station.registration_status = status
    if status == "Accepted":
        # Learn the station's device model after answering (GetBaseReport FullInventory); the
        # answer must not wait for it.
        services.configuration.request_report_in_background(station.station_id)
    interval = settings.heartbeat_interval_s if status == "Accepted" else settings.boot_retry_interval_s
    return {"status": status, "currentTime": _now(), "interval": interval}


async def heartbeat(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.stations.heartbeat(station.station_id)
    return {"currentTime": _now()}


async def notify_report(services: Services, station: StationContext, payload: Payload) -> Payload:
    """One part of a device model report. Each part is stored as it comes (a report of thousands
    of variables arrives in many ``tbc`` parts); a later report updates what an earlier one said."""
    attributes = [attribute for data in payload.get("reportData", ()) for attribute in _attributes(data)]
    part = ReportPart(
        station.station_id,
        DEVICE_MODEL,
        payload["requestId"],
        payload.get("tbc", False),
        payload["seqNo"],
        parse_time(payload["generatedAt"], "generatedAt"),
        None,
    )
    await services.configuration.report(station.station_id, part, attributes)
    return {}


def _attributes(report: Payload) -> list[VariableAttribute]:
    component, variable = report["component"], report["variable"]
    evse = component.get("evse") or {}
    characteristics = report.get("variableCharacteristics")
    return [
        VariableAttribute(
            component=component["name"],
            component_instance=component.get("instance", ""),
            evse_id=evse.get("id", 0),
            connector_id=evse.get("connectorId", 0),
            variable=variable["name"],
            variable_instance=variable.get("instance", ""),
            attribute_type=attribute.get("type", "Actual"),
            value=attribute.get("value"),
            mutability=attribute.get("mutability", "ReadWrite"),
            persistent=attribute.get("persistent", False),
            constant=attribute.get("constant", False),
            characteristics=characteristics,
        )
        for attribute in report["variableAttribute"]
    ]


def _now() -> str:
    return rfc3339(datetime.now(UTC))


ROUTES = {"BootNotification": boot_notification, "Heartbeat": heartbeat, "NotifyReport": notify_report}
