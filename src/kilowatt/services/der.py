"""DER control (OCPP 2.1 block R): the grid-support controls each station accepted, and what
stations report about them — alarms, controls starting and stopping, and control reports.

A control is stored once the station answered Accepted to SetDERControl (replacing one with the
same id; the controls the station says it superseded are marked so) and removed when a matching
ClearDERControl is Accepted. Reports (ReportDERControl, in ``tbc`` parts) are stored per part as
the station reported them.

None of the three messages a station sends has an id, so a message sent again after a lost
CALLRESULT is recognised by its content (``storage/repeats.py``): an alarm or a start/stop by
everything it says, its timestamp included (the same alarm at a later time is a new row); a report
part by its requestId, tbc and controls (a new GetDERControl has a new requestId).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update

from kilowatt.commands import fields_of
from kilowatt.commands.der import ClearDerControl, GetDerControl, SetDerControl, SetDerControlResult, setting_of
from kilowatt.commands.status_info import StatusInfoResult
from kilowatt.services.command_service import CommandAnswer, CommandService
from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import DerControl, DerNotification, DerReport
from kilowatt.storage.repeats import insert_ignoring_repeats, repeat_key

MAX_ROWS = 500


@dataclass(slots=True, frozen=True)
class StoredDerControl:
    station_id: str
    control_id: str
    control_type: str
    is_default: bool
    superseded: bool
    setting: dict[str, Any]  # the typed setting's fields (kilowatt.commands.fields_of)
    created_at: datetime


@dataclass(slots=True, frozen=True)
class DerNotificationRecord:
    id: int
    station_id: str
    kind: str  # alarm | start_stop
    control_type: str | None
    grid_event_fault: str | None
    alarm_ended: bool | None
    control_id: str | None
    started: bool | None
    superseded_ids: dict[str, Any] | None
    extra_info: str | None
    timestamp: datetime
    received_at: datetime


@dataclass(slots=True, frozen=True)
class DerReportRecord:
    id: int
    station_id: str
    request_id: int
    tbc: bool
    controls: dict[str, Any]
    received_at: datetime


class DerService:
    def __init__(self, sessions: SessionFactory, commands: CommandService):
        self._sessions = sessions
        self._commands = commands

    # --- what stations report ---------------------------------------------------------------------

    async def record_alarm(
        self,
        station_id: str,
        control_type: str,
        grid_event_fault: str | None,
        alarm_ended: bool | None,
        timestamp: datetime,
        extra_info: str | None,
    ) -> bool:
        """Store a NotifyDERAlarm; False when it was a repeat (stored before, nothing stored now)."""
        row = {
            "kind": "alarm",
            "control_type": control_type,
            "grid_event_fault": grid_event_fault,
            "alarm_ended": alarm_ended,
            "timestamp": timestamp,
            "extra_info": extra_info,
        }
        return await self._insert(DerNotification.__table__, station_id, row)

    async def record_start_stop(
        self, station_id: str, control_id: str, started: bool, timestamp: datetime, superseded_ids: list[str]
    ) -> bool:
        """Store a NotifyDERStartStop; False when it was a repeat."""
        row = {
            "kind": "start_stop",
            "control_id": control_id,
            "started": started,
            "timestamp": timestamp,
            "superseded_ids": {"ids": superseded_ids} if superseded_ids else None,
        }
        return await self._insert(DerNotification.__table__, station_id, row)

    async def record_report(self, station_id: str, request_id: int, tbc: bool, controls: dict[str, Any]) -> bool:
        """Store one ReportDERControl part; False when it was a repeat."""
        return await self._insert(DerReport.__table__, station_id, {"request_id": request_id, "tbc": tbc, "controls": controls})

    async def _insert(self, table: Table, station_id: str, row: dict[str, Any]) -> bool:
        """Insert ``row`` keyed by everything it says; False when the key was stored before."""
        key = repeat_key(table.name, station_id, *row.values())
        async with self._sessions.begin() as session:
            result = await session.execute(
                insert_ignoring_repeats(table).values(station_id=station_id, repeat_key=key, **row)
            )
        return bool(result.rowcount)

    # --- what the CSMS sets -----------------------------------------------------------------------

    async def set_control(self, station_id: str, command: SetDerControl, requested_by: str) -> CommandAnswer[SetDerControlResult]:
        """SetDERControl; on Accepted the control is stored and those it superseded are marked."""
        answer: CommandAnswer[SetDerControlResult] = await self._commands.send(station_id, command, requested_by)
        if answer.status != "Accepted":
            return answer
        setting = getattr(command, setting_of(command.control_type))
        async with self._sessions.begin() as session:
            await session.execute(
                delete(DerControl).where(DerControl.station_id == station_id, DerControl.control_id == command.control_id)
            )
            await session.flush()
            session.add(
                DerControl(
                    station_id=station_id,
                    control_id=command.control_id,
                    control_type=command.control_type.value,
                    is_default=command.is_default,
                    setting=fields_of(setting),
                )
            )
            if answer.result.superseded_ids:
                await session.execute(
                    update(DerControl)
                    .where(DerControl.station_id == station_id, DerControl.control_id.in_(answer.result.superseded_ids))
                    .values(superseded=True)
                )
        return answer

    async def clear_control(
        self, station_id: str, command: ClearDerControl, requested_by: str
    ) -> CommandAnswer[StatusInfoResult]:
        """ClearDERControl; on Accepted the stored controls it matches are removed."""
        answer: CommandAnswer[StatusInfoResult] = await self._commands.send(station_id, command, requested_by)
        if answer.status != "Accepted":
            return answer
        query = delete(DerControl).where(DerControl.station_id == station_id, DerControl.is_default == command.is_default)
        if command.control_id is not None:
            query = query.where(DerControl.control_id == command.control_id)
        if command.control_type is not None:
            query = query.where(DerControl.control_type == command.control_type.value)
        async with self._sessions.begin() as session:
            await session.execute(query)
        return answer

    async def get_control(self, station_id: str, command: GetDerControl, requested_by: str) -> CommandAnswer[StatusInfoResult]:
        """GetDERControl: the station answers Accepted and reports in ReportDERControl messages."""
        return await self._commands.send(station_id, command, requested_by)

    # --- reads ------------------------------------------------------------------------------------

    async def controls(self, station_id: str) -> list[StoredDerControl]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(DerControl).where(DerControl.station_id == station_id).order_by(DerControl.control_id)
            )
            return [from_row(row, StoredDerControl) for row in rows.scalars()]

    async def notifications(self, station_id: str) -> list[DerNotificationRecord]:
        query = (
            select(DerNotification)
            .where(DerNotification.station_id == station_id)
            .order_by(DerNotification.id.desc())
            .limit(MAX_ROWS)
        )
        async with self._sessions() as session:
            return [from_row(row, DerNotificationRecord) for row in reversed(list((await session.execute(query)).scalars()))]

    async def reports(self, station_id: str, request_id: int | None = None) -> list[DerReportRecord]:
        query = select(DerReport).where(DerReport.station_id == station_id)
        if request_id is not None:
            query = query.where(DerReport.request_id == request_id)
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(DerReport.id.desc()).limit(MAX_ROWS))).scalars()
            return [from_row(row, DerReportRecord) for row in reversed(list(rows))]
