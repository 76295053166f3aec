"""Display messages (OCPP 2.0.1 functional block O): the messages a station reports it shows."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.handlers._common import Payload, optional_time
from kilowatt.services.bundle import Services
from kilowatt.services.display_messages import DisplayMessageInfo


def _message(info: Payload, index: int) -> DisplayMessageInfo:
    content = info["message"]
    display = info.get("display") or {}
    evse = display.get("evse") or {}
    return DisplayMessageInfo(
        message_id=info["id"],
        priority=info["priority"],
        message_format=content["format"],
        content=content["content"],
        language=content.get("language"),
        state=info.get("state"),
        start_at=optional_time(info, "startDateTime", f"messageInfo[{index}].startDateTime"),
        end_at=optional_time(info, "endDateTime", f"messageInfo[{index}].endDateTime"),
        station_transaction_id=info.get("transactionId"),
        display_component=display.get("name"),
        display_component_instance=display.get("instance"),
        display_evse_id=evse.get("id"),
        display_connector_id=evse.get("connectorId"),
    )


async def notify_display_messages(services: Services, station: StationContext, payload: Payload) -> Payload:
    messages = [_message(info, index) for index, info in enumerate(payload.get("messageInfo", []))]
    await services.display_messages.record_report(
        station.station_id, request_id=payload["requestId"], tbc=payload.get("tbc", False), messages=messages
    )
    return {}


ROUTES = {"NotifyDisplayMessages": notify_display_messages}
