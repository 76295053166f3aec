"""``/api/v1/stations/{id}/customer-information``: what a station reported holding about a customer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.station_reports import KnownStation, ReportedOut
from kilowatt.api.schemas import PageOut, Utc, page_out

router = APIRouter(tags=["customer information"], dependencies=[Depends(reader)])


class CustomerInformationOut(ReportedOut):
    request_id: int = Field(description="The CustomerInformation request it answers")
    complete: bool = Field(description="Whether every part arrived")
    parts_received: int
    data: str | None = Field(description="The parts' text joined in seqNo order; null until the report is whole")
    first_received_at: Utc
    completed_at: Utc | None


class CustomerInformationPage(PageOut[CustomerInformationOut]):
    pass


@router.get(
    "/stations/{station_id}/customer-information",
    response_model=CustomerInformationPage,
    responses=error_responses(404),
    summary="Customer information a station reported (NotifyCustomerInformation)",
    description="One item per requestId, newest first. `data` is shown once the report is whole (its last part and "
    "every part before it arrived); a replayed part is stored once.",
)
async def customer_information(request: Request, station_id: KnownStation, page: Paginated) -> CustomerInformationPage:
    result = await request.app.state.services.customer_information.reports(station_id, page.limit, page.offset)
    return page_out(CustomerInformationPage, result, CustomerInformationOut.model_validate)
