"""What stations report about smart charging: limits set by others, EV charging needs and
schedules, and the charging profiles they hold.

- A *charging limit* is set on a station by something other than the CSMS — an energy management
  system, a grid operator (SO), the operator's own tools — and notified (NotifyChargingLimit), or
  released (ClearedChargingLimit). Both are kept as a history, newest first.
- *EV charging needs* (NotifyEVChargingNeeds) are what an ISO 15118 EV asks for (energy, currents,
  departure time); the *EV charging schedule* (NotifyEVChargingSchedule) is the one it chose. They
  are stored for the load manager to come and answered Accepted once stored: the answer says the
  CSMS processed the message, not that the needs will be met (OCPP 2.0.1 NotifyEVChargingNeedsStatus).
  Sent again after a lost CALLRESULT, either is answered alike and stored (and announced) once: a
  schedule is recognised by its EVSE, timeBase and schedule, needs by their content and the
  timestamp 2.1 adds (2.0.1's needs have no time, so each is stored: the same needs again later
  are a new negotiation, not a repeat).
- *Reported charging profiles* (ReportChargingProfiles) answer a GetChargingProfiles in unnumbered
  parts per EVSE and source, whoever installed the profiles; shown once the report is whole (see
  :mod:`kilowatt.services.station_reports`). The profiles the CSMS itself set and the station
  accepted are :mod:`kilowatt.services.smart_charging`'s.

Schedules and profiles are stored as JSON of the dataclasses below (snake_case, units in the names,
times RFC 3339), the same whichever version reported them. An ISO 15118 sales tariff is kept as
the station sent it.

Owns ``charging_limits``, ``ev_charging_needs``, ``ev_charging_schedules`` and
``reported_charging_profiles``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from kilowatt.bus.base import Bus, Event
from kilowatt.services.common import Page, from_row, paginate, rfc3339
from kilowatt.services.station_reports import CHARGING_PROFILES, ReportPart, StationReportRecord, StationReportService
from kilowatt.storage import models
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import utcnow
from kilowatt.storage.repeats import insert_ignoring_repeats, repeat_key

_INSERT_LIMIT = insert(models.ChargingLimitRecord.__table__)
_INSERT_NEEDS = insert_ignoring_repeats(models.EvChargingNeedsRecord.__table__)  # storage/repeats.py
_INSERT_SCHEDULE = insert_ignoring_repeats(models.EvChargingScheduleRecord.__table__)
_INSERT_PROFILE = insert(models.ReportedChargingProfile.__table__)


# --- what the edge hands in ----------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class SchedulePeriod:
    start_period_s: int  # from the start of the schedule
    limit: float | None  # in the schedule's charging_rate_unit; 2.1 may give only a setpoint (V2X)
    number_phases: int | None = None
    phase_to_use: int | None = None
    setpoint: float | None = None  # 2.1: the power/current to aim for (negative: discharge)
    discharge_limit: float | None = None  # 2.1: at most this much discharging (a negative number)


@dataclass(slots=True, frozen=True)
class Schedule:
    schedule_id: int
    charging_rate_unit: str  # W | A
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime | None = None
    duration_s: int | None = None
    min_charging_rate: float | None = None
    sales_tariff: dict[str, Any] | None = None  # ISO 15118 SalesTariff, as the station sent it


@dataclass(slots=True, frozen=True)
class ProfileReport:
    """A charging profile as a station reported it."""

    charging_profile_id: int
    stack_level: int
    purpose: str
    kind: str  # Absolute | Recurring | Relative
    schedules: tuple[Schedule, ...]
    recurrency_kind: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    station_transaction_id: str | None = None


@dataclass(slots=True, frozen=True)
class ChargingLimit:
    """A limit set by an external source (``cleared`` False), or its release (``cleared`` True)."""

    charging_limit_source: str  # EMS | Other | SO | CSO (2.1: any short word)
    cleared: bool
    evse_id: int | None = None  # None or 0: the whole station
    is_grid_critical: bool | None = None
    schedules: tuple[Schedule, ...] | None = None


@dataclass(slots=True, frozen=True)
class AcChargingParameters:
    energy_amount_wh: int
    ev_min_current_a: int
    ev_max_current_a: int
    ev_max_voltage_v: int


@dataclass(slots=True, frozen=True)
class DcChargingParameters:
    ev_max_current_a: int
    ev_max_voltage_v: int
    energy_amount_wh: int | None = None
    ev_max_power_w: int | None = None
    state_of_charge_percent: int | None = None
    ev_energy_capacity_wh: int | None = None
    full_soc_percent: int | None = None
    bulk_soc_percent: int | None = None


@dataclass(slots=True, frozen=True)
class EvChargingNeeds:
    evse_id: int
    requested_energy_transfer: str  # DC | AC_single_phase | AC_two_phase | AC_three_phase (2.1 adds more)
    departure_time: datetime | None = None
    max_schedule_tuples: int | None = None
    ac: AcChargingParameters | None = None
    dc: DcChargingParameters | None = None
    timestamp: datetime | None = None  # 2.1: when the EV said it (makes a repeat recognisable); not stored


# --- what reads return ------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ChargingLimitEntry:
    id: int
    evse_id: int | None
    charging_limit_source: str
    cleared: bool
    is_grid_critical: bool | None
    charging_schedules: list[dict[str, Any]] | None
    received_at: datetime


@dataclass(slots=True, frozen=True)
class EvChargingNeedsEntry:
    id: int
    evse_id: int
    requested_energy_transfer: str
    departure_time: datetime | None
    max_schedule_tuples: int | None
    ac_charging_parameters: dict[str, Any] | None
    dc_charging_parameters: dict[str, Any] | None
    status: str
    received_at: datetime


@dataclass(slots=True, frozen=True)
class EvChargingScheduleEntry:
    id: int
    evse_id: int
    time_base: datetime
    charging_schedule: dict[str, Any]
    status: str
    received_at: datetime


@dataclass(slots=True, frozen=True)
class ReportedProfileEntry:
    id: int
    evse_id: int
    charging_limit_source: str
    charging_profile_id: int
    stack_level: int
    purpose: str
    profile: dict[str, Any]
    seq_no: int  # the part it came in, in order of arrival


@dataclass(slots=True, frozen=True)
class ReportedProfilesView:
    report: StationReportRecord | None  # None: no complete report yet, so no profiles
    profiles: Page[ReportedProfileEntry]


def as_json(value: Any) -> Any:
    """A dataclass (nested) as JSON values: datetimes RFC 3339, tuples lists, fields by name."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (tuple, list)):
        return [as_json(item) for item in value]
    if isinstance(value, datetime):
        return rfc3339(value)
    return value


class ChargingReportService:
    def __init__(self, sessions: SessionFactory, writes: WriteBatcher, reports: StationReportService, bus: Bus):
        self._sessions = sessions
        self._writes = writes
        self._reports = reports
        self._bus = bus

    async def record_limit(self, station_id: str, limit: ChargingLimit) -> bool:
        """Store a limit set or cleared; False (nothing stored or announced) when it says what the
        latest row for the same EVSE and source already says: the message sent again after a lost
        CALLRESULT (it has no id or timestamp to tell it by). A station notifies a change, so the
        same limit again with nothing between is no change; set, cleared, set again are three rows."""
        said = {
            "cleared": limit.cleared,
            "is_grid_critical": limit.is_grid_critical,
            "charging_schedules": None if limit.schedules is None else {"schedules": as_json(limit.schedules)},
        }
        row = {
            "station_id": station_id,
            "evse_id": limit.evse_id,
            "charging_limit_source": limit.charging_limit_source,
            **said,
            "received_at": utcnow(),
        }
        table = models.ChargingLimitRecord.__table__
        latest = (
            select(*(table.c[name] for name in said))
            .where(
                table.c.station_id == station_id,
                table.c.charging_limit_source == limit.charging_limit_source,
                table.c.evse_id.is_(None) if limit.evse_id is None else table.c.evse_id == limit.evse_id,
            )
            .order_by(table.c.id.desc())
            .limit(1)
        )

        def write(connection: Connection) -> bool:
            # A station sends its CALLs one at a time, so its repeat never races its first message.
            previous = connection.execute(latest).first()
            if previous is not None and dict(previous._mapping) == said:
                return False
            connection.execute(_INSERT_LIMIT, row)
            return True

        if not await self._writes.run(write):
            return False
        await self._bus.publish(
            Event(
                "charging_limit.cleared" if limit.cleared else "charging_limit.set",
                station_id,
                {"evse_id": limit.evse_id, "source": limit.charging_limit_source},
            )
        )
        return True

    async def record_ev_charging_needs(self, station_id: str, needs: EvChargingNeeds, status: str) -> bool:
        """Store the needs with the answer ``status`` the edge will give once this returns; False
        for a repeat (a 2.1 message with a timestamp, stored before: nothing stored or announced)."""
        said = {
            "evse_id": needs.evse_id,
            "requested_energy_transfer": needs.requested_energy_transfer,
            "departure_time": needs.departure_time,
            "max_schedule_tuples": needs.max_schedule_tuples,
            "ac_charging_parameters": as_json(needs.ac),
            "dc_charging_parameters": as_json(needs.dc),
        }
        repeat = None if needs.timestamp is None else repeat_key(station_id, *said.values(), needs.timestamp)
        row = {"station_id": station_id, **said, "status": status, "received_at": utcnow(), "repeat_key": repeat}
        if not await self._writes.run(lambda connection: connection.execute(_INSERT_NEEDS, row).rowcount):
            return False
        await self._bus.publish(Event("ev.charging_needs", station_id, {"evse_id": needs.evse_id}))
        return True

    async def record_ev_charging_schedule(
        self, station_id: str, evse_id: int, time_base: datetime, schedule: Schedule, status: str
    ) -> bool:
        """Store the schedule the EV chose; False for a repeat (same EVSE, timeBase and schedule)."""
        chosen = as_json(schedule)
        row = {
            "station_id": station_id,
            "evse_id": evse_id,
            "time_base": time_base,
            "charging_schedule": chosen,
            "status": status,
            "received_at": utcnow(),
            "repeat_key": repeat_key(station_id, evse_id, time_base, chosen),
        }
        if not await self._writes.run(lambda connection: connection.execute(_INSERT_SCHEDULE, row).rowcount):
            return False
        await self._bus.publish(Event("ev.charging_schedule", station_id, {"evse_id": evse_id}))
        return True

    async def record_profiles_report(
        self,
        station_id: str,
        request_id: int,
        tbc: bool,
        evse_id: int,
        charging_limit_source: str,
        profiles: Sequence[ProfileReport],
    ) -> bool:
        """Store one ReportChargingProfiles part; returns whether the report is whole now."""
        content = {"evse_id": evse_id, "charging_limit_source": charging_limit_source, "profiles": as_json(profiles)}
        part = ReportPart(station_id, CHARGING_PROFILES, request_id, tbc, None, None, content)

        def write(connection: Connection) -> bool:
            outcome = StationReportService.record_part(connection, part)
            if outcome.new and profiles:
                connection.execute(
                    _INSERT_PROFILE,
                    [
                        {
                            "report_id": outcome.report_id,
                            "evse_id": evse_id,
                            "charging_limit_source": charging_limit_source,
                            "charging_profile_id": profile.charging_profile_id,
                            "stack_level": profile.stack_level,
                            "purpose": profile.purpose,
                            "profile": profile_json,
                            "seq_no": outcome.seq_no,
                        }
                        for profile, profile_json in zip(profiles, content["profiles"], strict=True)
                    ],
                )
            return outcome.complete and outcome.new

        completed = await self._writes.run(write)
        if completed:
            await self._bus.publish(Event("charging_profiles.report", station_id, {"request_id": request_id}))
        return completed

    # --- reads -------------------------------------------------------------------------------------

    async def limits(self, station_id: str, limit: int = 50, offset: int = 0) -> Page[ChargingLimitEntry]:
        table = models.ChargingLimitRecord
        page = await self._page(
            select(table).where(table.station_id == station_id), [table.received_at.desc(), table.id.desc()], limit, offset
        )
        return page.map(_limit_entry)

    async def ev_charging_needs(self, station_id: str, limit: int = 50, offset: int = 0) -> Page[EvChargingNeedsEntry]:
        table = models.EvChargingNeedsRecord
        page = await self._page(
            select(table).where(table.station_id == station_id), [table.received_at.desc(), table.id.desc()], limit, offset
        )
        return page.map(lambda row: from_row(row, EvChargingNeedsEntry))

    async def ev_charging_schedules(self, station_id: str, limit: int = 50, offset: int = 0) -> Page[EvChargingScheduleEntry]:
        table = models.EvChargingScheduleRecord
        page = await self._page(
            select(table).where(table.station_id == station_id), [table.received_at.desc(), table.id.desc()], limit, offset
        )
        return page.map(lambda row: from_row(row, EvChargingScheduleEntry))

    async def reported_profiles(
        self, station_id: str, request_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> ReportedProfilesView:
        """The profiles of the latest complete ReportChargingProfiles report (or ``request_id``'s, once complete)."""
        report = await self._reports.complete_report(station_id, CHARGING_PROFILES, request_id)
        if report is None:
            return ReportedProfilesView(None, Page.empty(limit, offset))
        table = models.ReportedChargingProfile
        page = await self._page(
            select(table).where(table.report_id == report.id),
            [table.evse_id, table.charging_limit_source, table.stack_level, table.charging_profile_id, table.id],
            limit,
            offset,
        )
        return ReportedProfilesView(report, page.map(lambda row: from_row(row, ReportedProfileEntry)))

    async def _page(self, query: Any, order: list[Any], limit: int, offset: int) -> Page[Any]:
        async with self._sessions() as session:
            return await paginate(session, query, order, limit, offset)


def _limit_entry(row: models.ChargingLimitRecord) -> ChargingLimitEntry:
    schedules = row.charging_schedules
    return ChargingLimitEntry(
        id=row.id,
        evse_id=row.evse_id,
        charging_limit_source=row.charging_limit_source,
        cleared=row.cleared,
        is_grid_critical=row.is_grid_critical,
        charging_schedules=None if schedules is None else schedules["schedules"],
        received_at=row.received_at,
    )
