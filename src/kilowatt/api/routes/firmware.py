"""Firmware and diagnostics tracking: each request sent to a station with the notifications that followed it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kilowatt.api.auth import Principal, reader
from kilowatt.api.errors import error_responses
from kilowatt.api.routes.remote_operations import CommandRecordOut, StationId
from kilowatt.api.schemas import StationEventOut
from kilowatt.services.common import MAX_PAGE_SIZE
from kilowatt.services.firmware import Tracking

router = APIRouter(tags=["firmware and diagnostics"], responses=error_responses(404))


class TrackedRequestOut(BaseModel):
    command: CommandRecordOut = Field(description="The request as recorded (see /stations/{id}/commands)")
    request_id: int | None = Field(description="requestId of a signed firmware update or a log request")
    sent: bool = Field(description="Whether the station took it (answered without refusing, or did not answer in time)")
    latest_status: str | None = Field(description="The status of the latest notification attributed to it")
    notifications: list[StationEventOut] = Field(description="Status notifications attributed to it, oldest first")


class TrackingOut(BaseModel):
    station_id: str
    requests: list[TrackedRequestOut] = Field(description="Newest first")
    unattributed: list[StationEventOut] = Field(description="Notifications no listed request explains, oldest first")


def _out(tracking: Tracking) -> TrackingOut:
    return TrackingOut(
        station_id=tracking.station_id,
        requests=[
            TrackedRequestOut(
                command=CommandRecordOut.model_validate(t.command),
                request_id=t.request_id,
                sent=t.sent,
                latest_status=t.latest_status,
                notifications=[StationEventOut.model_validate(e) for e in t.notifications],
            )
            for t in tracking.requests
        ],
        unattributed=[StationEventOut.model_validate(e) for e in tracking.unattributed],
    )


_ATTRIBUTION = (
    "A notification is attributed to the request whose requestId it carries, else to the latest request sent "
    "before it."
)
Limit: Any = Query(50, ge=1, le=MAX_PAGE_SIZE, description="How many of the latest requests to show")


@router.get(
    "/stations/{station_id}/firmware",
    summary="Firmware updates sent to a station and how they went",
    description="Every UpdateFirmware and SignedUpdateFirmware request with the (Signed)FirmwareStatusNotifications "
    "that followed it. " + _ATTRIBUTION,
    response_model=TrackingOut,
)
async def firmware(request: Request, station_id: str = StationId, limit: int = Limit, who: Principal = Depends(reader)) -> TrackingOut:
    return _out(await request.app.state.services.firmware.firmware(station_id, limit))


@router.get(
    "/stations/{station_id}/diagnostics",
    summary="Diagnostics and log uploads requested from a station and how they went",
    description="Every GetDiagnostics and GetLog request with the DiagnosticsStatusNotifications and "
    "LogStatusNotifications that followed it. " + _ATTRIBUTION,
    response_model=TrackingOut,
)
async def diagnostics(request: Request, station_id: str = StationId, limit: int = Limit, who: Principal = Depends(reader)) -> TrackingOut:
    return _out(await request.app.state.services.firmware.diagnostics(station_id, limit))
