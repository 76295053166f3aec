"""Smart charging: charging profiles sent to stations, and the profiles each station accepted.

A profile is kept (per station and EVSE) only once the station answered Accepted, and it is removed
when a ClearChargingProfile that matches it is Accepted — so what is stored is the CSMS's best
knowledge of what the station holds. Profiles are stored in their typed form's JSON
(:func:`kilowatt.commands.fields_of`), the same for every OCPP version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select

from kilowatt.commands import fields_of
from kilowatt.commands.model import (
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ClearChargingProfile,
    GetCompositeSchedule,
    GetCompositeScheduleResult,
    SetChargingProfile,
)
from kilowatt.services.command_service import CommandAnswer, CommandService
from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import ChargingProfileRecord


@dataclass(slots=True, frozen=True)
class StoredProfile:
    """A charging profile the station accepted, as the CSMS believes the station holds it."""

    station_id: str
    evse_id: int  # 0: the whole station
    charging_profile_id: int
    stack_level: int
    purpose: str
    transaction_id: int | None
    profile: dict[str, Any]  # the typed profile's fields (kilowatt.commands.fields_of), the same for every version
    created_at: datetime


@dataclass(slots=True, frozen=True)
class ProfileSet:
    answer: CommandAnswer
    stored: StoredProfile | None  # None unless Accepted
    replaced: int  # stored profiles the new one replaced


@dataclass(slots=True, frozen=True)
class ProfilesCleared:
    answer: CommandAnswer
    cleared: int  # stored profiles removed


class SmartChargingService:
    def __init__(self, sessions: SessionFactory, commands: CommandService):
        self._sessions = sessions
        self._commands = commands

    async def set(self, station_id: str, evse_id: int, profile: ChargingProfile, requested_by: str) -> ProfileSet:
        """SetChargingProfile; on Accepted the profile is stored.

        As OCPP 1.6 says, it replaces a profile with the same chargingProfileId on the station, or
        with the same stackLevel and purpose on the same connector (EVSE).
        """
        answer = await self._commands.send(station_id, SetChargingProfile(evse_id, profile), requested_by)
        if answer.status != "Accepted":
            return ProfileSet(answer, None, 0)
        profile_id, stack_level, purpose = profile.charging_profile_id, profile.stack_level, profile.purpose.value
        record = ChargingProfileRecord(
            station_id=station_id,
            evse_id=evse_id,
            charging_profile_id=profile_id,
            stack_level=stack_level,
            purpose=purpose,
            transaction_id=profile.transaction_id,
            profile=fields_of(profile),
        )
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ChargingProfileRecord).where(
                    ChargingProfileRecord.station_id == station_id,
                    or_(
                        ChargingProfileRecord.charging_profile_id == profile_id,
                        and_(
                            ChargingProfileRecord.evse_id == evse_id,
                            ChargingProfileRecord.stack_level == stack_level,
                            ChargingProfileRecord.purpose == purpose,
                        ),
                    ),
                )
            )
            await session.flush()
            session.add(record)
        return ProfileSet(answer, from_row(record, StoredProfile), result.rowcount or 0)

    async def clear(
        self,
        station_id: str,
        charging_profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: ChargingProfilePurpose | None = None,
        stack_level: int | None = None,
        *,
        requested_by: str,
    ) -> ProfilesCleared:
        """ClearChargingProfile; on Accepted the stored profiles it matches are removed.

        Matching as in OCPP 1.6: an id names one profile (the other criteria are then ignored);
        otherwise every profile that matches all the criteria given (none given: every profile).
        """
        answer = await self._commands.send(
            station_id, ClearChargingProfile(charging_profile_id, evse_id, purpose, stack_level), requested_by
        )
        if answer.status != "Accepted":
            return ProfilesCleared(answer, 0)
        query = delete(ChargingProfileRecord).where(ChargingProfileRecord.station_id == station_id)
        if charging_profile_id is not None:
            query = query.where(ChargingProfileRecord.charging_profile_id == charging_profile_id)
        else:
            if evse_id is not None:
                query = query.where(ChargingProfileRecord.evse_id == evse_id)
            if purpose is not None:
                query = query.where(ChargingProfileRecord.purpose == purpose.value)
            if stack_level is not None:
                query = query.where(ChargingProfileRecord.stack_level == stack_level)
        async with self._sessions.begin() as session:
            result = await session.execute(query)
        return ProfilesCleared(answer, result.rowcount or 0)

    async def composite_schedule(
        self,
        station_id: str,
        evse_id: int,
        duration_s: int,
        charging_rate_unit: ChargingRateUnit | None = None,
        *,
        requested_by: str,
    ) -> CommandAnswer[GetCompositeScheduleResult]:
        """GetCompositeSchedule: the station's own computation of the schedule it will follow."""
        return await self._commands.send(station_id, GetCompositeSchedule(evse_id, duration_s, charging_rate_unit), requested_by)

    async def stored(self, station_id: str, evse_id: int | None = None) -> list[StoredProfile]:
        query = select(ChargingProfileRecord).where(ChargingProfileRecord.station_id == station_id)
        if evse_id is not None:
            query = query.where(ChargingProfileRecord.evse_id == evse_id)
        async with self._sessions() as session:
            rows = await session.execute(
                query.order_by(ChargingProfileRecord.evse_id, ChargingProfileRecord.stack_level, ChargingProfileRecord.charging_profile_id)
            )
            return [from_row(row, StoredProfile) for row in rows.scalars()]
