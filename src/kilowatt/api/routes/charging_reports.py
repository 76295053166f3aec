"""What stations report about smart charging: ``/charging-limits``, ``/ev-charging-needs``,
``/ev-charging-schedules`` and ``/reports/charging-profiles`` under ``/api/v1/stations/{id}``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.routes.station_reports import COMPLETE_ONLY, KnownStation, ReportedOut, RequestId, RequestIdQuery
from kilowatt.api.schemas import PageOut, Utc, page_out

router = APIRouter(tags=["smart charging"], dependencies=[Depends(reader)])

_SCHEDULE = (
    "A schedule: `schedule_id`, `charging_rate_unit` (W or A), `periods` (`start_period_s`, `limit`, `number_phases`, "
    "`phase_to_use`; from 2.1 stations also `setpoint` and `discharge_limit`, and `limit` may be null), `start_schedule`, `duration_s`, `min_charging_rate`, `sales_tariff` (ISO 15118, as the station "
    "sent it)."
)


class ChargingLimitOut(ReportedOut):
    id: int
    evse_id: int | None = Field(description="None or 0: the whole station")
    charging_limit_source: str = Field(description="Who set it: EMS, SO (system operator), CSO, Other")
    cleared: bool = Field(description="False: a limit was set (NotifyChargingLimit); True: released (ClearedChargingLimit)")
    is_grid_critical: bool | None
    charging_schedules: list[dict[str, Any]] | None = Field(description="The limit's schedules. " + _SCHEDULE)
    received_at: Utc


class ChargingLimitPage(PageOut[ChargingLimitOut]):
    pass


class EvChargingNeedsOut(ReportedOut):
    id: int
    evse_id: int
    requested_energy_transfer: str = Field(description="DC, AC_single_phase, AC_two_phase, AC_three_phase")
    departure_time: Utc | None
    max_schedule_tuples: int | None
    ac_charging_parameters: dict[str, Any] | None = Field(
        description="`energy_amount_wh`, `ev_min_current_a`, `ev_max_current_a`, `ev_max_voltage_v`"
    )
    dc_charging_parameters: dict[str, Any] | None = Field(
        description="`ev_max_current_a`, `ev_max_voltage_v`, `energy_amount_wh`, `ev_max_power_w`, "
        "`state_of_charge_percent`, `ev_energy_capacity_wh`, `full_soc_percent`, `bulk_soc_percent`"
    )
    status: str = Field(description="What the CSMS answered")
    received_at: Utc


class EvChargingNeedsPage(PageOut[EvChargingNeedsOut]):
    pass


class EvChargingScheduleOut(ReportedOut):
    id: int
    evse_id: int
    time_base: Utc = Field(description="The time the schedule's periods count from")
    charging_schedule: dict[str, Any] = Field(description=_SCHEDULE)
    status: str = Field(description="What the CSMS answered")
    received_at: Utc


class EvChargingSchedulePage(PageOut[EvChargingScheduleOut]):
    pass


class ReportedChargingProfileOut(ReportedOut):
    request_id: int = Field(description="The GetChargingProfiles request the report answers")
    evse_id: int = Field(description="0: the whole station")
    charging_limit_source: str = Field(description="Who installed it: CSO (the CSMS), EMS, SO, Other")
    charging_profile_id: int
    stack_level: int
    purpose: str
    profile: dict[str, Any] = Field(
        description="`charging_profile_id`, `stack_level`, `purpose`, `kind`, `recurrency_kind`, `valid_from`, `valid_to`, "
        "`station_transaction_id`, `schedules` (each: " + _SCHEDULE + ")"
    )
    seq_no: int = Field(description="The part it came in, in order of arrival")


class ReportedChargingProfilePage(PageOut[ReportedChargingProfileOut]):
    pass


@router.get(
    "/stations/{station_id}/charging-limits",
    response_model=ChargingLimitPage,
    responses=error_responses(404),
    summary="Charging limits set on a station by others, and their release",
    description="Every NotifyChargingLimit and ClearedChargingLimit, newest first; one that says what the latest "
    "for its EVSE and source says (sent again after a lost answer) is not a new row.",
)
async def charging_limits(request: Request, station_id: KnownStation, page: Paginated) -> ChargingLimitPage:
    result = await request.app.state.services.charging_reports.limits(station_id, page.limit, page.offset)
    return page_out(ChargingLimitPage, result, ChargingLimitOut.model_validate)


@router.get(
    "/stations/{station_id}/ev-charging-needs",
    response_model=EvChargingNeedsPage,
    responses=error_responses(404),
    summary="What EVs told a station they need (NotifyEVChargingNeeds, ISO 15118)",
    description="Newest first, with the status the CSMS answered. A 2.1 message sent again (same needs and timestamp) "
    "is one row; 2.0.1's carry no time, so each message is a row.",
)
async def ev_charging_needs(request: Request, station_id: KnownStation, page: Paginated) -> EvChargingNeedsPage:
    result = await request.app.state.services.charging_reports.ev_charging_needs(station_id, page.limit, page.offset)
    return page_out(EvChargingNeedsPage, result, EvChargingNeedsOut.model_validate)


@router.get(
    "/stations/{station_id}/ev-charging-schedules",
    response_model=EvChargingSchedulePage,
    responses=error_responses(404),
    summary="The schedules EVs chose (NotifyEVChargingSchedule, ISO 15118)",
    description="Newest first, with the status the CSMS answered. A message sent again (same EVSE, timeBase and "
    "schedule) is one row.",
)
async def ev_charging_schedules(request: Request, station_id: KnownStation, page: Paginated) -> EvChargingSchedulePage:
    result = await request.app.state.services.charging_reports.ev_charging_schedules(station_id, page.limit, page.offset)
    return page_out(EvChargingSchedulePage, result, EvChargingScheduleOut.model_validate)


@router.get(
    "/stations/{station_id}/reports/charging-profiles",
    response_model=ReportedChargingProfilePage,
    responses=error_responses(404, 409),
    summary="The charging profiles a station reported holding (ReportChargingProfiles)",
    description="The profiles of the latest complete report, or of the report answering `request_id`, whoever "
    "installed them, by EVSE, source, stack level and profile id. " + COMPLETE_ONLY,
)
async def reported_charging_profiles(
    request: Request,
    station_id: KnownStation,
    page: Paginated,
    request_id: RequestId | None = RequestIdQuery,  # type: ignore[valid-type]
) -> ReportedChargingProfilePage:
    view = await request.app.state.services.charging_reports.reported_profiles(station_id, request_id, page.limit, page.offset)
    return page_out(
        ReportedChargingProfilePage,
        view.profiles,
        lambda p: ReportedChargingProfileOut.model_validate(
            {**asdict(p), "request_id": view.report.request_id if view.report else None}
        ),
    )
