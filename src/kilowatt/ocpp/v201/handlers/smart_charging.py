"""Smart charging (OCPP 2.0.1 functional block K), what the station reports: external charging
limits, ISO 15118 EV charging needs and schedules, and the profiles it holds."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.handlers._common import Payload, optional_time
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.services.bundle import Services
from kilowatt.services.charging_reports import (
    AcChargingParameters,
    ChargingLimit,
    DcChargingParameters,
    EvChargingNeeds,
    ProfileReport,
    Schedule,
    SchedulePeriod,
)


def _schedule(schedule: Payload, field: str) -> Schedule:
    """A ChargingScheduleType, read explicitly (each field named, units made explicit)."""
    return Schedule(
        schedule_id=schedule["id"],
        charging_rate_unit=schedule["chargingRateUnit"],
        periods=tuple(
            SchedulePeriod(
                start_period_s=period["startPeriod"],
                limit=period.get("limit"),  # required in 2.0.1, optional in 2.1
                number_phases=period.get("numberPhases"),
                phase_to_use=period.get("phaseToUse"),
                setpoint=period.get("setpoint"),
                discharge_limit=period.get("dischargeLimit"),
            )
            for period in schedule["chargingSchedulePeriod"]
        ),
        start_schedule=optional_time(schedule, "startSchedule", f"{field}.startSchedule"),
        duration_s=schedule.get("duration"),
        min_charging_rate=schedule.get("minChargingRate"),
        sales_tariff=schedule.get("salesTariff"),
    )


def _profile(profile: Payload, index: int) -> ProfileReport:
    field = f"chargingProfile[{index}]"
    return ProfileReport(
        charging_profile_id=profile["id"],
        stack_level=profile["stackLevel"],
        purpose=profile["chargingProfilePurpose"],
        kind=profile["chargingProfileKind"],
        schedules=tuple(_schedule(s, f"{field}.chargingSchedule[{n}]") for n, s in enumerate(profile["chargingSchedule"])),
        recurrency_kind=profile.get("recurrencyKind"),
        valid_from=optional_time(profile, "validFrom", f"{field}.validFrom"),
        valid_to=optional_time(profile, "validTo", f"{field}.validTo"),
        station_transaction_id=profile.get("transactionId"),
    )


def _ev_evse_id(payload: Payload) -> int:
    """The EVSE an EV is connected to: never 0, the station as a whole (K15/K17)."""
    evse_id = payload["evseId"]
    if evse_id < 1:
        raise OcppError(
            ErrorKind.PROPERTY_CONSTRAINT, "evseId must be 1 or more: an EV is connected to an EVSE", {"field": "evseId"}
        )
    return evse_id


async def notify_charging_limit(services: Services, station: StationContext, payload: Payload) -> Payload:
    limit = payload["chargingLimit"]
    schedules = payload.get("chargingSchedule")
    await services.charging_reports.record_limit(
        station.station_id,
        ChargingLimit(
            charging_limit_source=limit["chargingLimitSource"],
            cleared=False,
            evse_id=payload.get("evseId"),
            is_grid_critical=limit.get("isGridCritical"),
            schedules=None
            if schedules is None
            else tuple(_schedule(s, f"chargingSchedule[{n}]") for n, s in enumerate(schedules)),
        ),
    )
    return {}


async def cleared_charging_limit(services: Services, station: StationContext, payload: Payload) -> Payload:
    await services.charging_reports.record_limit(
        station.station_id,
        ChargingLimit(charging_limit_source=payload["chargingLimitSource"], cleared=True, evse_id=payload.get("evseId")),
    )
    return {}


async def notify_ev_charging_needs(services: Services, station: StationContext, payload: Payload) -> Payload:
    needs = payload["chargingNeeds"]
    ac, dc = needs.get("acChargingParameters"), needs.get("dcChargingParameters")
    evse_id = _ev_evse_id(payload)
    # Accepted: the CSMS processed (stored) the needs — the status does not promise they can be met.
    # Processing is for a load manager that will compute a schedule; Kilowatt has none yet.
    status = "Accepted"
    await services.charging_reports.record_ev_charging_needs(
        station.station_id,
        EvChargingNeeds(
            evse_id=evse_id,
            requested_energy_transfer=needs["requestedEnergyTransfer"],
            departure_time=optional_time(needs, "departureTime", "chargingNeeds.departureTime"),
            max_schedule_tuples=payload.get("maxScheduleTuples"),
            ac=None
            if ac is None
            else AcChargingParameters(
                energy_amount_wh=ac["energyAmount"],
                ev_min_current_a=ac["evMinCurrent"],
                ev_max_current_a=ac["evMaxCurrent"],
                ev_max_voltage_v=ac["evMaxVoltage"],
            ),
            dc=None
            if dc is None
            else DcChargingParameters(
                ev_max_current_a=dc["evMaxCurrent"],
                ev_max_voltage_v=dc["evMaxVoltage"],
                energy_amount_wh=dc.get("energyAmount"),
                ev_max_power_w=dc.get("evMaxPower"),
                state_of_charge_percent=dc.get("stateOfCharge"),
                ev_energy_capacity_wh=dc.get("evEnergyCapacity"),
                full_soc_percent=dc.get("fullSoC"),
                bulk_soc_percent=dc.get("bulkSoC"),
            ),
            timestamp=optional_time(payload, "timestamp", "timestamp"),  # 2.1 only: recognises a repeat
        ),
        status,
    )
    return {"status": status}


async def notify_ev_charging_schedule(services: Services, station: StationContext, payload: Payload) -> Payload:
    evse_id = _ev_evse_id(payload)
    time_base = parse_time(payload["timeBase"], "timeBase")
    schedule = _schedule(payload["chargingSchedule"], "chargingSchedule")
    status = "Accepted"  # stored; the CSMS does not renegotiate (K17)
    await services.charging_reports.record_ev_charging_schedule(station.station_id, evse_id, time_base, schedule, status)
    return {"status": status}


async def report_charging_profiles(services: Services, station: StationContext, payload: Payload) -> Payload:
    profiles = [_profile(profile, index) for index, profile in enumerate(payload["chargingProfile"])]
    await services.charging_reports.record_profiles_report(
        station.station_id,
        request_id=payload["requestId"],
        tbc=payload.get("tbc", False),
        evse_id=payload["evseId"],
        charging_limit_source=payload["chargingLimitSource"],
        profiles=profiles,
    )
    return {}


ROUTES = {
    "NotifyChargingLimit": notify_charging_limit,
    "ClearedChargingLimit": cleared_charging_limit,
    "NotifyEVChargingNeeds": notify_ev_charging_needs,
    "NotifyEVChargingSchedule": notify_ev_charging_schedule,
    "ReportChargingProfiles": report_charging_profiles,
}
