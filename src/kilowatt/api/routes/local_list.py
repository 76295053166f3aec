"""Local authorization lists: send a station the list of id tokens it may authorize offline, and read what it holds."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kilowatt.api.auth import Principal, operator, reader
from kilowatt.api.command_answers import CommandResponse, command_fields
from kilowatt.api.errors import error_responses
from kilowatt.api.routes.remote_operations import Body, StationId
from kilowatt.api.schemas import IdTokenValue, Utc
from kilowatt.commands import model as m
from kilowatt.services.bundle import Services

router = APIRouter(tags=["local authorization list"], responses=error_responses(403, 404, 413, command=True))


class LocalListBody(Body):
    update_type: Literal["Full", "Differential"] = Field(
        description="Full: the station's list becomes exactly this one. Differential: only the entries that "
        "changed since the stored list are sent, and the tokens no longer wanted are removed."
    )
    id_tokens: list[IdTokenValue] | None = Field(
        None,
        max_length=10_000,
        description="The tokens the list should hold; all id tokens when omitted. Each goes with its effective "
        "authorization (a token in a Blocked group is Blocked, one past its expiry is Expired). OCPP 1.6 lists hold "
        "id tags of at most 20 characters: a longer token makes the request fail with 422.",
    )


class LocalListEntryOut(BaseModel):
    id_token: str
    status: str = Field(description="Accepted, Blocked, Expired or Invalid")
    expiry_date: Utc | None
    parent_id_token: str | None
    id_token_type: str | None = Field(
        description="The IdTokenType an OCPP 2.0.1/2.1 station got the token with (its registered type); null: "
        "sent before Kilowatt kept it"
    )
    parent_id_token_type: str | None = Field(description="The group's type, likewise")


class LocalListOut(BaseModel):
    station_id: str
    version: int = Field(description="The version the station last accepted; 0 when it never accepted a list")
    entries: list[LocalListEntryOut]
    updated_at: Utc | None


class LocalListUpdateOut(CommandResponse[m.StatusResult]):
    update_type: str
    sent_version: int = Field(description="The listVersion that was sent")
    list_version: int = Field(description="The stored version now: the sent one if the station accepted, else unchanged")
    entries_sent: int = Field(description="Entries sent with authorization data")
    removals_sent: int = Field(description="Entries sent to remove a token (Differential only)")
    entries_stored: int = Field(description="Entries in the stored list now")
    note: str | None = Field(None, description="What to do next when the station did not accept (e.g. VersionMismatch)")


class LocalListVersionOut(CommandResponse[m.GetLocalListVersionResult]):
    list_version: int | None = Field(description="The version the station reports (-1: it has no list; 0: none yet)")
    stored_version: int = Field(description="The version stored here as last accepted")


def _services(request: Request) -> Services:
    return request.app.state.services


@router.post(
    "/stations/{station_id}/local-list",
    summary="Send the local authorization list (SendLocalList)",
    description="Computes the list from the CSMS's id tokens and sends it with version = stored version + 1. "
    "Only a list the station answers Accepted is stored; Failed, VersionMismatch and NotSupported leave the "
    "stored list unchanged (after VersionMismatch, send a Full update).",
    response_model=LocalListUpdateOut,
)
async def send_local_list(
    request: Request, body: LocalListBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> LocalListUpdateOut:
    services = _services(request)
    await services.stations.get(station_id)
    update = await services.local_list.send(station_id, body.update_type, body.id_tokens, who.name)
    return LocalListUpdateOut(
        **command_fields(update.answer),
        update_type=update.update_type,
        sent_version=update.sent_version,
        list_version=update.list_version,
        entries_sent=update.entries_sent,
        removals_sent=update.removals_sent,
        entries_stored=update.entries_stored,
        note=update.note,
    )


@router.get(
    "/stations/{station_id}/local-list",
    summary="The local authorization list the station last accepted",
    description="As stored by the CSMS: the version and entries of the last SendLocalList the station accepted.",
    response_model=LocalListOut,
)
async def get_local_list(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> LocalListOut:
    services = _services(request)
    await services.stations.get(station_id)
    stored = await services.local_list.stored(station_id)
    return LocalListOut(
        station_id=station_id,
        version=stored.version,
        entries=[LocalListEntryOut(**{f: getattr(e, f) for f in LocalListEntryOut.model_fields}) for e in stored.entries],
        updated_at=stored.updated_at,
    )


@router.get(
    "/stations/{station_id}/local-list/version",
    summary="Ask the station for its local list version (GetLocalListVersion)",
    description="Sends a command, so it needs the operator role. `list_version` is the station's answer, "
    "`stored_version` what the CSMS stored as last accepted; when they differ, send a Full update.",
    response_model=LocalListVersionOut,
)
async def get_local_list_version(
    request: Request, station_id: str = StationId, who: Principal = Depends(operator)
) -> LocalListVersionOut:
    services = _services(request)
    await services.stations.get(station_id)
    answer = await services.local_list.version(station_id, who.name)
    stored = await services.local_list.stored(station_id)
    return LocalListVersionOut(
        **command_fields(answer),
        list_version=answer.result.list_version,
        stored_version=stored.version,
    )
