"""Dynamic charging (OCPP 2.1 block K): schedule updates for dynamic charging profiles, and
priority charging.

A dynamic profile's current values are pushed by UpdateDynamicSchedule (stored once Accepted, per
station and charging profile id) or pulled by the station (PullDynamicScheduleUpdate), which is
answered from what is stored — Rejected when nothing is. Priority charging switched on or off for
a transaction, by the operator (UsePriorityCharging) or at the station (NotifyPriorityCharging), is
recorded as the station reports it: each switch is a row. NotifyPriorityCharging has neither an id
nor a timestamp, so a message sent again after a lost CALLRESULT is recognised as saying what the
transaction's latest row already says (switched on when it is on): a station reports a switch, and
switching on what is on is no switch. On, off, on again are three rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kilowatt.commands import fields_of
from kilowatt.commands.energy import ScheduleUpdate, UpdateDynamicSchedule
from kilowatt.commands.status_info import StatusInfoResult
from kilowatt.services.command_service import CommandAnswer, CommandService
from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import DynamicScheduleUpdate, PriorityChargingEvent
from kilowatt.storage.upsert import upsert

MAX_ROWS = 500


@dataclass(slots=True, frozen=True)
class PriorityChargingRecord:
    id: int
    station_id: str
    station_transaction_id: str
    activated: bool
    received_at: datetime


class DynamicChargingService:
    def __init__(self, sessions: SessionFactory, commands: CommandService):
        self._sessions = sessions
        self._commands = commands

    async def update_schedule(
        self, station_id: str, command: UpdateDynamicSchedule, requested_by: str
    ) -> CommandAnswer[StatusInfoResult]:
        """UpdateDynamicSchedule; on Accepted the update is what the profile is pulled as from now on."""
        answer: CommandAnswer[StatusInfoResult] = await self._commands.send(station_id, command, requested_by)
        if answer.status == "Accepted":
            row = {
                "station_id": station_id,
                "charging_profile_id": command.charging_profile_id,
                "schedule_update": fields_of(command.update),
            }
            async with self._sessions.begin() as session:
                await session.run_sync(
                    lambda s: upsert(s.connection(), DynamicScheduleUpdate.__table__, row, ("station_id", "charging_profile_id"))
                )
        return answer

    async def schedule_update(self, station_id: str, charging_profile_id: int) -> ScheduleUpdate | None:
        """The last update the station accepted for the profile, None when there is none."""
        async with self._sessions() as session:
            row = await session.get(DynamicScheduleUpdate, (station_id, charging_profile_id))
        return ScheduleUpdate(**row.schedule_update) if row is not None else None

    async def record_priority_charging(self, station_id: str, station_transaction_id: str, activated: bool) -> bool:
        """Store a switch; False (nothing stored) when it repeats the transaction's latest one."""
        latest = (
            select(PriorityChargingEvent.activated)
            .where(
                PriorityChargingEvent.station_id == station_id,
                PriorityChargingEvent.station_transaction_id == station_transaction_id,
            )
            .order_by(PriorityChargingEvent.id.desc())
            .limit(1)
        )
        async with self._sessions.begin() as session:
            # A station sends its CALLs one at a time, so its repeat never races its first message.
            if await session.scalar(latest) == activated:
                return False
            session.add(
                PriorityChargingEvent(station_id=station_id, station_transaction_id=station_transaction_id, activated=activated)
            )
        return True

    async def priority_charging(self, station_id: str) -> list[PriorityChargingRecord]:
        query = (
            select(PriorityChargingEvent)
            .where(PriorityChargingEvent.station_id == station_id)
            .order_by(PriorityChargingEvent.id.desc())
            .limit(MAX_ROWS)
        )
        async with self._sessions() as session:
            return [from_row(row, PriorityChargingRecord) for row in reversed(list((await session.execute(query)).scalars()))]
