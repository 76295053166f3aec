"""``/api/v1/stations/{id}/reports``: the reports a station sends in parts, and how far each came.

Also the pieces the routes of reported content share (the station check, the ``request_id`` query).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.remote_operations import StationId
from kilowatt.api.schemas import Int32, PageOut, Utc, page_out
from kilowatt.services.station_reports import KINDS

router = APIRouter(tags=["station reports"], dependencies=[Depends(reader)])

ReportKind = Literal[KINDS]  # type: ignore[valid-type]
RequestId = Int32


class ReportedOut(BaseModel):
    """A response item built from a service's record (``from_attributes``)."""

    model_config = ConfigDict(from_attributes=True)


async def known_station(request: Request, station_id: str = StationId) -> str:
    """The path's station id, once it is known to exist (404 otherwise)."""
    await request.app.state.services.stations.get(station_id)
    return station_id


KnownStation = Annotated[str, Depends(known_station)]
RequestIdQuery: Any = Query(
    None,
    description="The report answering this requestId; by default the latest complete report. "
    "409 if that report has not arrived whole yet, 404 if there is none.",
)
COMPLETE_ONLY = (
    "Shown only once the report is whole: its last part (`tbc` false) and, for numbered parts, every part "
    "before it arrived. `/stations/{id}/reports` shows the progress of each report. Without `request_id`, "
    "the list is empty until a first report is complete; a `request_id` no report answered is 404."
)


class StationReportOut(ReportedOut):
    kind: str = Field(description="device_model, monitoring, charging_profiles, display_messages or customer_information")
    request_id: int = Field(description="The requestId the station's messages carry")
    part_count: int = Field(description="Parts received (a replayed part is counted once)")
    final_seq_no: int | None = Field(description="seqNo of the last part (tbc false), once it arrived")
    complete: bool = Field(description="Whether every part arrived; only then is the content shown")
    first_received_at: Utc = Field(
        description="When the first part arrived; for a FullInventory device model report the CSMS asked for, "
        "when it asked (the report is listed from then on, with no parts until the first comes)"
    )
    completed_at: Utc | None


class StationReportPage(PageOut[StationReportOut]):
    pass


@router.get(
    "/stations/{station_id}/reports",
    response_model=StationReportPage,
    responses=error_responses(404),
    summary="Reports a station sent in parts, and how far each came",
    description="NotifyMonitoringReport, ReportChargingProfiles, NotifyDisplayMessages and NotifyCustomerInformation "
    "come in parts (`tbc`) per requestId. Newest first; `kind` keeps one kind.",
)
async def reports(
    request: Request,
    station_id: KnownStation,
    page: Paginated,
    kind: Annotated[ReportKind | None, Query(description="Only reports of this kind")] = None,
) -> StationReportPage:
    result = await request.app.state.services.reports.list(station_id, kind, page.limit, page.offset)
    return page_out(StationReportPage, result, StationReportOut.model_validate)
