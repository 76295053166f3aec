"""Firmware management (OCPP 2.0.1 functional block L): progress of an UpdateFirmware or a PublishFirmware.

Stored as station events like 1.6's: kind ``firmware`` (keeps the station's current firmware
status) and ``publish_firmware`` (a local controller publishing firmware to its stations), with the
requestId. A 2.0.1 UpdateFirmware is the signed kind (the typed ``SignedUpdateFirmware``), so its
notifications are marked ``signed`` and attributed to it by the firmware tracking.
"""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers._common import Payload
from kilowatt.services.bundle import Services


async def firmware_status_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.stations.record_event(
        station.station_id, "firmware", payload["status"], payload.get("requestId"), {"signed": True}
    )
    return {}


async def publish_firmware_status_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    location = payload.get("location")
    await services.stations.record_event(
        station.station_id,
        "publish_firmware",
        payload["status"],
        payload.get("requestId"),
        None if location is None else {"location": location},  # the URIs it publishes at, once Published
    )
    return {}


ROUTES = {
    "FirmwareStatusNotification": firmware_status_notification,
    "PublishFirmwareStatusNotification": publish_firmware_status_notification,
}
