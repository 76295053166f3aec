"""``/api/v1/stations``: the station registry — credentials, registration, boot data, live status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from kilowatt.api.auth import admin, reader
from kilowatt.api.errors import error_responses
from kilowatt.api.links import location
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import (
    ConnectorOut,
    PrintableText,
    StationCreate,
    StationEventOut,
    StationEventPage,
    StationId,
    StationOut,
    StationPage,
    StationUpdate,
    StatusNotificationOut,
    StatusNotificationPage,
    page_out,
)
from kilowatt.services.stations import StationService, StationView

router = APIRouter(prefix="/stations", tags=["stations"])

READ = [Depends(reader)]
# Stations hold credentials: changing them is for admins (operators send them commands).
WRITE = [Depends(admin)]


def _service(request: Request) -> StationService:
    return request.app.state.services.stations


Stations = Annotated[StationService, Depends(_service)]
StationIdPath = Annotated[StationId, Path(description="The station's id")]


def station_out(view: StationView) -> StationOut:
    station = view.station
    return StationOut.model_validate(
        {
            **{name: getattr(station, name) for name in StationOut.model_fields if name not in ("has_password", "connectors")},
            "has_password": station.has_password,
            "connectors": [ConnectorOut.model_validate(c) for c in view.connectors],
        }
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StationOut,
    dependencies=WRITE,
    responses=error_responses(403, 409, 413),
    summary="Register a station",
    description="Register a station so it may connect at `ws://HOST:OCPP_PORT/ocpp/{id}`. With a `password` it "
    "must authenticate with HTTP Basic auth (OCPP security profile 1 or 2; user = station id). "
    "`registration_status` is what its BootNotification is answered with (default Accepted). "
    "Answers 409 if the id is taken.",
)
async def create_station(body: StationCreate, stations: Stations, response: Response) -> StationOut:
    view = await stations.create(body.id, password=body.password, registration_status=body.registration_status)
    response.headers["Location"] = location("/api/v1/stations", body.id)
    return station_out(view)


@router.get(
    "",
    response_model=StationPage,
    dependencies=READ,
    responses=error_responses(),
    summary="List stations",
    description="Stations ordered by id, with their connectors. `connected=true|false` keeps only stations that "
    "are (not) connected right now.",
)
async def list_stations(
    stations: Stations,
    page: Paginated,
    connected: Annotated[bool | None, Query(description="Only stations that are (true) or are not (false) connected")] = None,
) -> StationPage:
    result = await stations.list(limit=page.limit, offset=page.offset, connected=connected)
    return page_out(StationPage, result, station_out)


@router.get(
    "/{station_id}",
    response_model=StationOut,
    dependencies=READ,
    responses=error_responses(404),
    summary="Get a station",
    description="Identity, what it reported at boot, connection state and the current status of each connector. "
    "`has_password` tells whether it must authenticate; the password itself is never returned.",
)
async def get_station(station_id: StationIdPath, stations: Stations) -> StationOut:
    return station_out(await stations.get(station_id))


@router.patch(
    "/{station_id}",
    response_model=StationOut,
    dependencies=WRITE,
    responses=error_responses(403, 404, 413),
    summary="Change a station's password, registration status or OCPP version pin",
    description="Only the fields sent change. `password` sets a new password, `null` removes it. "
    "`registration_status: Accepted` admits a Pending station: its next BootNotification is accepted. "
    "`ocpp_version` pins the station to one OCPP version (`null` unpins): a station offering only other "
    "versions is refused at the handshake with HTTP 400. "
    "A connected station keeps its current connection; new credentials and pins apply at its next connection.",
)
async def update_station(station_id: StationIdPath, body: StationUpdate, stations: Stations) -> StationOut:
    changes = body.model_dump(include=body.model_fields_set)
    if "ocpp_version" in changes:
        changes["pinned_ocpp_version"] = changes.pop("ocpp_version")
    return station_out(await stations.update(station_id, **changes))


@router.delete(
    "/{station_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=WRITE,
    responses=error_responses(403, 404, 413),
    summary="Delete a station",
    description="Removes the station with its connectors, status history and events. It can no longer connect "
    "(unless unknown stations are admitted). Its transactions are kept.",
)
async def delete_station(station_id: StationIdPath, stations: Stations) -> Response:
    await stations.delete(station_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{station_id}/status-history",
    response_model=StatusNotificationPage,
    dependencies=READ,
    responses=error_responses(404),
    summary="A station's status notifications",
    description="Every StatusNotification the station sent, newest first.",
)
async def status_history(station_id: StationIdPath, stations: Stations, page: Paginated) -> StatusNotificationPage:
    await stations.get(station_id)
    result = await stations.status_history(station_id, limit=page.limit, offset=page.offset)
    return page_out(StatusNotificationPage, result, StatusNotificationOut.model_validate)


@router.get(
    "/{station_id}/events",
    response_model=StationEventPage,
    dependencies=READ,
    responses=error_responses(404),
    summary="A station's firmware, diagnostics, log and security events",
    description="Notifications about long-running work on the station, newest first; `kind` keeps one kind "
    "(firmware, diagnostics, log, security, sign_certificate). A security event the station sent again (same type, "
    "timestamp and techInfo, after a lost answer) is one row, and so is a status with a requestId that repeats the "
    "latest of its kind.",
)
async def station_events(
    station_id: StationIdPath,
    stations: Stations,
    page: Paginated,
    kind: Annotated[PrintableText(32) | None, Query(description="Only events of this kind")] = None,  # type: ignore[valid-type]
) -> StationEventPage:
    await stations.get(station_id)
    result = await stations.events(station_id, kind=kind, limit=page.limit, offset=page.offset)
    return page_out(StationEventPage, result, StationEventOut.model_validate)
