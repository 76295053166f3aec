"""Diagnostics (OCPP 2.0.1 functional block N): log uploads, events, monitoring reports, customer information.

- LogStatusNotification → a station event of kind ``log`` with its requestId (as 1.6's).
- NotifyEvent → monitoring events, each stored once by (station, eventId, timestamp).
- NotifyMonitoringReport → the station's monitors, a report in numbered parts.
- NotifyCustomerInformation → customer information, a report in numbered parts.

Every time in a message is read before anything is stored, so a refused message stores nothing.
"""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.handlers._common import Payload, component_variable
from kilowatt.services.bundle import Services
from kilowatt.services.monitoring import MonitoringEventData, ReportedMonitor


async def log_status_notification(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.stations.record_event(station.station_id, "log", payload["status"], payload.get("requestId"))
    return {}


async def notify_event(services: Services, station: StationContext, payload: Payload) -> Payload:
    events = [
        MonitoringEventData(
            event_id=event["eventId"],
            timestamp=parse_time(event["timestamp"], f"eventData[{index}].timestamp"),
            trigger=event["trigger"],
            actual_value=event["actualValue"],
            event_notification_type=event["eventNotificationType"],
            target=component_variable(event["component"], event["variable"]),
            cause=event.get("cause"),
            tech_code=event.get("techCode"),
            tech_info=event.get("techInfo"),
            cleared=event.get("cleared"),
            station_transaction_id=event.get("transactionId"),
            variable_monitoring_id=event.get("variableMonitoringId"),
        )
        for index, event in enumerate(payload["eventData"])
    ]
    await services.monitoring.record_events(
        station.station_id,
        generated_at=parse_time(payload["generatedAt"], "generatedAt"),
        seq_no=payload["seqNo"],
        tbc=payload.get("tbc", False),
        events=events,
    )
    return {}


async def notify_monitoring_report(services: Services, station: StationContext, payload: Payload) -> Payload:
    monitors = [
        ReportedMonitor(
            monitor_id=monitor["id"],
            target=target,
            type=monitor["type"],
            value=monitor["value"],
            severity=monitor["severity"],
            transaction=monitor["transaction"],
            event_notification_type=monitor.get("eventNotificationType"),  # 2.1 only
        )
        for data in payload.get("monitor", [])
        for target in [component_variable(data["component"], data["variable"])]
        for monitor in data["variableMonitoring"]
    ]
    await services.monitoring.record_monitoring_report(
        station.station_id,
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        tbc=payload.get("tbc", False),
        generated_at=parse_time(payload["generatedAt"], "generatedAt"),
        monitors=monitors,
    )
    return {}


async def notify_customer_information(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.customer_information.record_part(
        station.station_id,
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        tbc=payload.get("tbc", False),
        generated_at=parse_time(payload["generatedAt"], "generatedAt"),
        data=payload["data"],
    )
    return {}


ROUTES = {
    "LogStatusNotification": log_status_notification,
    "NotifyEvent": notify_event,
    "NotifyMonitoringReport": notify_monitoring_report,
    "NotifyCustomerInformation": notify_customer_information,
}
