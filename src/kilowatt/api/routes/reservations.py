"""Reservations: hold a connector for an id token until an expiry date (ReserveNow / CancelReservation)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kilowatt.api.auth import Principal, operator, reader
from kilowatt.api.command_answers import CommandResponse, command_fields
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.remote_operations import EvseTarget, StationId
from kilowatt.api.schemas import IdTokenValue, PageOut, PositiveInt32, Utc, UtcInput, page_out
from kilowatt.commands import model as m
from kilowatt.services.bundle import Services
from kilowatt.services.reservations import ReservationRecord

router = APIRouter(tags=["reservations"], responses=error_responses(403, 404, 413, command=True))

ReservationStatus = Literal[
    "Requested",
    "Accepted",
    "Faulted",
    "Occupied",
    "Rejected",
    "Unavailable",
    "Failed",
    "Used",
    "Cancelled",
    "Expired",
    "Removed",  # the station removed it (OCPP 2.0.1 ReservationStatusUpdate)
    "NoTransaction",  # OCPP 2.1 ReservationStatusUpdate
]
ReservationId = Annotated[PositiveInt32, Path(description="The reservation id (the OCPP reservationId)")]


class ReservationBody(EvseTarget):
    id_token: IdTokenValue = Field(description="The id token the connector is held for; it must exist and be Accepted")
    expiry_date: UtcInput = Field(description="When the reservation ends; in the future, with a time zone")

    @field_validator("expiry_date")
    @classmethod
    def _future(cls, value):  # noqa: ANN001, ANN206 - pydantic validator
        if value <= datetime.now(timezone.utc):
            raise ValueError("expiry_date must be in the future")
        return value


class ReservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="The OCPP reservationId")
    station_id: str
    evse_id: int = Field(description="EVSE (OCPP 1.6 connectorId; 0: any connector)")
    id_token: str
    parent_id_token: str | None
    expiry_date: Utc
    status: ReservationStatus = Field(
        description="Requested; the station's answer (Accepted, Faulted, Occupied, Rejected, Unavailable) or Failed "
        "(no answer); then Used (a transaction started on it), Cancelled, Expired, or as the station updated it "
        "(OCPP 2.0.1 ReservationStatusUpdate: Expired, Removed; 2.1 also NoTransaction)"
    )
    transaction_id: int | None = Field(description="The transaction that used the reservation")
    created_at: Utc
    updated_at: Utc


class ReservationPage(PageOut[ReservationOut]):
    pass


class ReservationCommandOut(CommandResponse[m.StatusResult]):
    reservation: ReservationOut


def _services(request: Request) -> Services:
    return request.app.state.services


def _out(reservation: ReservationRecord) -> ReservationOut:
    return ReservationOut.model_validate(reservation)


@router.post(
    "/stations/{station_id}/reservations",
    summary="Reserve a connector (ReserveNow)",
    description="Creates the reservation (its id is the reservationId sent), sends ReserveNow and stores the "
    "station's answer as the reservation's status. A StartTransaction naming the reservation marks it Used; "
    "past its expiry date an Accepted reservation is Expired.",
    response_model=ReservationCommandOut,
)
async def reserve(
    request: Request, body: ReservationBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> ReservationCommandOut:
    services = _services(request)
    await services.stations.get(station_id)
    reservation, answer = await services.reservations.reserve(station_id, body.evse_id, body.id_token, body.expiry_date, who.name)
    return ReservationCommandOut(**command_fields(answer), reservation=_out(reservation))


@router.get(
    "/stations/{station_id}/reservations",
    summary="A station's reservations",
    description="Newest first; `status` keeps one status (an Accepted reservation past its expiry date is Expired).",
    response_model=ReservationPage,
)
async def list_reservations(
    request: Request,
    page: Paginated,
    station_id: str = StationId,
    status: ReservationStatus | None = Query(None, description="Only reservations in this status"),
    who: Principal = Depends(reader),
) -> ReservationPage:
    services = _services(request)
    await services.stations.get(station_id)
    result = await services.reservations.list(station_id, page.limit, page.offset, status)
    return page_out(ReservationPage, result, _out)


@router.get(
    "/reservations/{reservation_id}",
    summary="One reservation",
    description="Its status, and the transaction that used it.",
    response_model=ReservationOut,
)
async def get_reservation(request: Request, reservation_id: ReservationId, who: Principal = Depends(reader)) -> ReservationOut:
    return _out(await _services(request).reservations.get(reservation_id))


@router.delete(
    "/stations/{station_id}/reservations/{reservation_id}",
    summary="Cancel a reservation (CancelReservation)",
    description="Sends CancelReservation; the reservation becomes Cancelled when the station answers Accepted. "
    "A reservation that is already Used, Cancelled, Expired or was refused gives 409.",
    response_model=ReservationCommandOut,
)
async def cancel_reservation(
    request: Request, reservation_id: ReservationId, station_id: str = StationId, who: Principal = Depends(operator)
) -> ReservationCommandOut:
    reservation, answer = await _services(request).reservations.cancel(reservation_id, who.name, station_id=station_id)
    return ReservationCommandOut(**command_fields(answer), reservation=_out(reservation))
