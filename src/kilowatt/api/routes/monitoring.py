"""``/api/v1/stations/{id}/monitoring-events`` and ``/monitors``: what a station noticed and what it watches."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.station_reports import COMPLETE_ONLY, KnownStation, ReportedOut, RequestId, RequestIdQuery
from kilowatt.api.schemas import PageOut, PrintableText, Utc, page_out

router = APIRouter(tags=["monitoring"], dependencies=[Depends(reader)])


class MonitoringEventOut(ReportedOut):
    id: int
    event_id: int = Field(description="The station's eventId")
    timestamp: Utc = Field(description="When it happened, by the station's clock")
    trigger: str = Field(description="Alerting, Delta or Periodic")
    cause: int | None = Field(description="eventId of the event that caused this one")
    actual_value: str
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None = Field(description="True when the condition that raised an earlier event has gone")
    station_transaction_id: str | None = Field(description="The station's transactionId, if it happened in a transaction")
    variable_monitoring_id: int | None = Field(description="The monitor that triggered it")
    event_notification_type: str = Field(
        description="HardWiredNotification, HardWiredMonitor, PreconfiguredMonitor or CustomMonitor"
    )
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    seq_no: int = Field(description="seqNo of the NotifyEvent part that carried it")
    tbc: bool = Field(description="Whether that part said more parts follow")
    generated_at: Utc = Field(description="When the station generated that part")
    received_at: Utc


class MonitoringEventPage(PageOut[MonitoringEventOut]):
    pass


class MonitorOut(ReportedOut):
    request_id: int = Field(description="The monitoring report it came in")
    monitor_id: int = Field(description="The station's id of the monitor")
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    type: str = Field(description="UpperThreshold, LowerThreshold, Delta, Periodic or PeriodicClockAligned")
    value: float = Field(description="Threshold, delta or interval (s), per type")
    severity: int = Field(description="0 (Danger) to 9 (Debug)")
    transaction: bool = Field(description="Only active while a transaction runs")
    event_notification_type: str | None = Field(
        description="OCPP 2.1: HardWiredMonitor, PreconfiguredMonitor or CustomMonitor (only custom ones can be "
        "cleared); null from 2.0.1, which does not say"
    )


class MonitorPage(PageOut[MonitorOut]):
    pass


@router.get(
    "/stations/{station_id}/monitoring-events",
    response_model=MonitoringEventPage,
    responses=error_responses(404),
    summary="Events a station notified (NotifyEvent)",
    description="Newest first by the station's timestamp. Each event is shown as soon as it arrives (an event is "
    "an alert; a NotifyEvent split in parts only splits a batch) and stored once by (eventId, timestamp), so a "
    "replayed NotifyEvent adds nothing. `component` keeps the events of one component.",
)
async def monitoring_events(
    request: Request,
    station_id: KnownStation,
    page: Paginated,
    component: Annotated[PrintableText(50) | None, Query(description="Only events of this component")] = None,  # type: ignore[valid-type]
) -> MonitoringEventPage:
    result = await request.app.state.services.monitoring.events(station_id, page.limit, page.offset, component)
    return page_out(MonitoringEventPage, result, MonitoringEventOut.model_validate)


@router.get(
    "/stations/{station_id}/monitors",
    response_model=MonitorPage,
    responses=error_responses(404, 409),
    summary="The monitors a station reported (NotifyMonitoringReport)",
    description="The monitors of the latest complete monitoring report, or of the report answering `request_id`, "
    "ordered by component, variable and monitor id. " + COMPLETE_ONLY,
)
async def monitors(
    request: Request,
    station_id: KnownStation,
    page: Paginated,
    request_id: RequestId | None = RequestIdQuery,  # type: ignore[valid-type]
) -> MonitorPage:
    view = await request.app.state.services.monitoring.monitors(station_id, request_id, page.limit, page.offset)
    return page_out(
        MonitorPage,
        view.monitors,
        lambda m: MonitorOut.model_validate({**asdict(m), "request_id": view.report.request_id if view.report else None}),
    )
