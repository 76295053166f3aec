"""OCPP 2.1 energy messages a station sends: BatterySwap, NotifyPriorityCharging, PullDynamicScheduleUpdate."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v21.codec import schedule_update
from kilowatt.ocpp.v201.handlers import Handler, Payload
from kilowatt.services.battery_swaps import Battery
from kilowatt.services.bundle import Services

NO_UPDATE = "UnknownProfile"  # statusInfo reasonCode when no update is stored for the profile


async def battery_swap(services: Services, station: StationContext, payload: Payload) -> Payload:
    batteries = [
        Battery(
            b["evseId"],
            b["serialNumber"],
            b["soC"],
            b["soH"],
            parse_time(b["productionDate"], "productionDate") if "productionDate" in b else None,
            b.get("vendorInfo"),
        )
        for b in payload["batteryData"]
    ]
    token = payload["idToken"]
    await services.battery_swaps.record(
        station.station_id, payload["eventType"], payload["requestId"], token["idToken"], token["type"], batteries
    )
    return {}


async def notify_priority_charging(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.dynamic_charging.record_priority_charging(station.station_id, payload["transactionId"], payload["activated"])
    return {}


async def pull_dynamic_schedule_update(services: Services, station: StationContext, payload: Payload) -> Payload:
    update = await services.dynamic_charging.schedule_update(station.station_id, payload["chargingProfileId"])
    if update is None:
        return {
            "status": "Rejected",
            "statusInfo": {"reasonCode": NO_UPDATE, "additionalInfo": "no schedule update is stored for this charging profile"},
        }
    return {"status": "Accepted", "scheduleUpdate": schedule_update(update)}


ROUTES: dict[str, Handler] = {
    "BatterySwap": battery_swap,
    "NotifyPriorityCharging": notify_priority_charging,
    "PullDynamicScheduleUpdate": pull_dynamic_schedule_update,
}
