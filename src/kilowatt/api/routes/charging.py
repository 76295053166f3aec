"""Smart charging: set and clear charging profiles, read the stored ones, ask for the composite schedule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kilowatt.api.auth import Principal, operator, reader
from kilowatt.api.command_answers import CommandResponse, command_fields
from kilowatt.api.errors import error_responses
from kilowatt.api.profiles import ChargingProfileBody, Purpose, RateUnit
from kilowatt.api.routes.remote_operations import EvseTarget, StationId, transaction_ref
from kilowatt.api.schemas import Int32, NonNegativeInt32, PositiveInt32, Utc
from kilowatt.commands import model as m
from kilowatt.services.bundle import Services

router = APIRouter(tags=["smart charging"], responses=error_responses(403, 404, 413, command=True))

class SetChargingProfileBody(EvseTarget):
    charging_profile: ChargingProfileBody


class CompositeScheduleBody(EvseTarget):
    duration: PositiveInt32 = Field(description="Seconds from now the schedule should cover")
    charging_rate_unit: RateUnit | None = None


class StoredProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    evse_id: int = Field(description="EVSE (OCPP 1.6 connectorId; 0: the whole station)")
    charging_profile_id: int
    stack_level: int
    purpose: str
    transaction_id: int | None
    profile: dict[str, Any] = Field(description="The profile as the typed command carried it (the same for every OCPP version)")
    created_at: Utc


class StoredProfilesOut(BaseModel):
    station_id: str
    items: list[StoredProfileOut]


class SetProfileOut(CommandResponse[m.StatusResult]):
    stored: bool = Field(description="Whether the profile is now stored (the station answered Accepted)")
    replaced: int = Field(description="Stored profiles it replaced (same id, or same EVSE, stack level and purpose)")


class ClearProfilesOut(CommandResponse[m.StatusResult]):
    cleared: int = Field(description="Stored profiles removed (the station answered Accepted)")


def _services(request: Request) -> Services:
    return request.app.state.services


@router.post(
    "/stations/{station_id}/charging-profiles",
    summary="Set a charging profile (SetChargingProfile)",
    description="Stored once the station answers Accepted, replacing a stored profile with the same id on the "
    "station, or with the same EVSE, stack level and purpose (as OCPP 1.6 replaces them).",
    response_model=SetProfileOut,
)
async def set_charging_profile(
    request: Request, body: SetChargingProfileBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> SetProfileOut:
    services = _services(request)
    await services.stations.get(station_id)
    profile = body.charging_profile.to_domain()
    if profile.transaction_id is not None:  # a 2.0.1 station is sent its own id for the transaction
        ref = await transaction_ref(services, station_id, profile.transaction_id)
        profile = replace(profile, station_transaction_id=None if ref is None else ref.station_transaction_id)
    result = await services.smart_charging.set(station_id, body.evse_id, profile, who.name)
    return SetProfileOut(**command_fields(result.answer), stored=result.stored is not None, replaced=result.replaced)


@router.get(
    "/stations/{station_id}/charging-profiles",
    summary="Charging profiles the station accepted",
    description="As stored by the CSMS: every profile the station answered Accepted to, less those cleared since.",
    response_model=StoredProfilesOut,
)
async def list_charging_profiles(
    request: Request,
    station_id: str = StationId,
    evse_id: NonNegativeInt32 | None = Query(None, description="Only this EVSE's profiles"),
    who: Principal = Depends(reader),
) -> StoredProfilesOut:
    services = _services(request)
    await services.stations.get(station_id)
    rows = await services.smart_charging.stored(station_id, evse_id)
    return StoredProfilesOut(station_id=station_id, items=[StoredProfileOut.model_validate(r) for r in rows])


@router.delete(
    "/stations/{station_id}/charging-profiles",
    summary="Clear charging profiles (ClearChargingProfile)",
    description="With `charging_profile_id`, that profile (the other filters are then ignored, as in OCPP 1.6); "
    "otherwise every profile matching all the filters given (none: every profile). On Accepted the matching "
    "stored profiles are removed.",
    response_model=ClearProfilesOut,
)
async def clear_charging_profiles(
    request: Request,
    station_id: str = StationId,
    charging_profile_id: Int32 | None = Query(None, description="The profile to clear"),
    evse_id: NonNegativeInt32 | None = Query(None, description="EVSE (OCPP 1.6 connectorId; 0: the whole station)"),
    purpose: Purpose | None = Query(None, description="chargingProfilePurpose"),
    stack_level: NonNegativeInt32 | None = Query(None),
    who: Principal = Depends(operator),
) -> ClearProfilesOut:
    services = _services(request)
    await services.stations.get(station_id)
    result = await services.smart_charging.clear(
        station_id,
        charging_profile_id=charging_profile_id,
        evse_id=evse_id,
        purpose=m.ChargingProfilePurpose(purpose) if purpose else None,
        stack_level=stack_level,
        requested_by=who.name,
    )
    return ClearProfilesOut(**command_fields(result.answer), cleared=result.cleared)


@router.post(
    "/stations/{station_id}/composite-schedule",
    summary="Ask the station for its composite schedule (GetCompositeSchedule)",
    description="The station's own computation of the limits it will apply on the EVSE for `duration` seconds "
    "from now: `result.charging_schedule` (the station's own payload stays in `response`).",
    response_model=CommandResponse[m.GetCompositeScheduleResult],
)
async def composite_schedule(
    request: Request, body: CompositeScheduleBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse[m.GetCompositeScheduleResult]:
    services = _services(request)
    await services.stations.get(station_id)
    answer = await services.smart_charging.composite_schedule(
        station_id,
        body.evse_id,
        body.duration,
        m.ChargingRateUnit(body.charging_rate_unit) if body.charging_rate_unit else None,
        requested_by=who.name,
    )
    return CommandResponse[m.GetCompositeScheduleResult](**command_fields(answer))
