"""``/api/v1/stations/{id}/display-messages``: the messages a station reported it shows drivers."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.station_reports import COMPLETE_ONLY, KnownStation, ReportedOut, RequestId, RequestIdQuery
from kilowatt.api.schemas import PageOut, Utc, page_out

router = APIRouter(tags=["display messages"], dependencies=[Depends(reader)])


class DisplayMessageOut(ReportedOut):
    request_id: int = Field(description="The NotifyDisplayMessages report it came in")
    message_id: int = Field(description="The message's id on the station")
    priority: str = Field(description="AlwaysFront, InFront or NormalCycle")
    state: str | None = Field(description="Shown only in this station state (Charging, Faulted, Idle, Unavailable)")
    start_at: Utc | None
    end_at: Utc | None
    station_transaction_id: str | None = Field(description="Shown only during this transaction (the station's id)")
    message_format: str = Field(description="ASCII, HTML, URI or UTF8")
    language: str | None
    content: str
    display_component: str | None = Field(description="The display it is shown on, when the station has several")
    display_component_instance: str | None
    display_evse_id: int | None
    display_connector_id: int | None
    seq_no: int = Field(description="The part it came in, in order of arrival (NotifyDisplayMessages parts are not numbered)")


class DisplayMessagePage(PageOut[DisplayMessageOut]):
    pass


@router.get(
    "/stations/{station_id}/display-messages",
    response_model=DisplayMessagePage,
    responses=error_responses(404, 409),
    summary="The display messages a station reported (NotifyDisplayMessages)",
    description="The messages of the latest complete report, or of the report answering `request_id`, by message "
    "id. " + COMPLETE_ONLY,
)
async def display_messages(
    request: Request,
    station_id: KnownStation,
    page: Paginated,
    request_id: RequestId | None = RequestIdQuery,  # type: ignore[valid-type]
) -> DisplayMessagePage:
    view = await request.app.state.services.display_messages.messages(station_id, request_id, page.limit, page.offset)
    return page_out(
        DisplayMessagePage,
        view.messages,
        lambda m: DisplayMessageOut.model_validate({**asdict(m), "request_id": view.report.request_id if view.report else None}),
    )
