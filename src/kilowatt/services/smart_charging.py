"""Smart charging: charging profiles sent to stations, and the profiles each station accepted.

A profile is kept (per station and EVSE) only once the station answered Accepted, and it is removed
when a ClearChargingProfile that matches it is Accepted — so what is stored is the CSMS's best
knowledge of what the station holds. Profiles are stored as given (snake_case fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select

from kilowatt.services.commands import CommandAnswer, CommandService
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import ChargingProfileRecord


@dataclass(slots=True, frozen=True)
class ProfileSet:
    answer: CommandAnswer
    stored: ChargingProfileRecord | None  # None unless Accepted
    replaced: int  # stored profiles the new one replaced


@dataclass(slots=True, frozen=True)
class ProfilesCleared:
    answer: CommandAnswer
    cleared: int  # stored profiles removed


class SmartChargingService:
    def __init__(self, sessions: SessionFactory, commands: CommandService):
        self._sessions = sessions
        self._commands = commands

    async def set(self, station_id: str, evse_id: int, profile: dict[str, Any], requested_by: str) -> ProfileSet:
        """SetChargingProfile; on Accepted the profile is stored.

        As OCPP 1.6 says, it replaces a profile with the same chargingProfileId on the station, or
        with the same stackLevel and purpose on the same connector (EVSE).
        """
        answer = await self._commands.send(
            station_id, "set_charging_profile", {"evse_id": evse_id, "charging_profile": profile}, requested_by
        )
        if answer.status != "Accepted":
            return ProfileSet(answer, None, 0)
        profile_id = int(profile["charging_profile_id"])
        stack_level = int(profile["stack_level"])
        purpose = str(profile["charging_profile_purpose"])
        record = ChargingProfileRecord(
            station_id=station_id,
            evse_id=evse_id,
            charging_profile_id=profile_id,
            stack_level=stack_level,
            purpose=purpose,
            transaction_id=profile.get("transaction_id"),
            profile=profile,
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
        return ProfileSet(answer, record, result.rowcount or 0)

    async def clear(
        self,
        station_id: str,
        charging_profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        *,
        requested_by: str,
    ) -> ProfilesCleared:
        """ClearChargingProfile; on Accepted the stored profiles it matches are removed.

        Matching as in OCPP 1.6: an id names one profile (the other criteria are then ignored);
        otherwise every profile that matches all the criteria given (none given: every profile).
        """
        params = {
            "charging_profile_id": charging_profile_id,
            "evse_id": evse_id,
            "charging_profile_purpose": purpose,
            "stack_level": stack_level,
        }
        answer = await self._commands.send(
            station_id, "clear_charging_profile", {k: v for k, v in params.items() if v is not None}, requested_by
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
                query = query.where(ChargingProfileRecord.purpose == purpose)
            if stack_level is not None:
                query = query.where(ChargingProfileRecord.stack_level == stack_level)
        async with self._sessions.begin() as session:
            result = await session.execute(query)
        return ProfilesCleared(answer, result.rowcount or 0)

    async def composite_schedule(
        self, station_id: str, evse_id: int, duration_s: int, charging_rate_unit: str | None = None, *, requested_by: str
    ) -> CommandAnswer:
        """GetCompositeSchedule: the station's own computation of the schedule it will follow."""
        params: dict[str, Any] = {"evse_id": evse_id, "duration": duration_s}
        if charging_rate_unit is not None:
            params["charging_rate_unit"] = charging_rate_unit
        return await self._commands.send(station_id, "get_composite_schedule", params, requested_by)

    async def stored(self, station_id: str, evse_id: int | None = None) -> list[ChargingProfileRecord]:
        query = select(ChargingProfileRecord).where(ChargingProfileRecord.station_id == station_id)
        if evse_id is not None:
            query = query.where(ChargingProfileRecord.evse_id == evse_id)
        async with self._sessions() as session:
            rows = await session.execute(
                query.order_by(ChargingProfileRecord.evse_id, ChargingProfileRecord.stack_level, ChargingProfileRecord.charging_profile_id)
            )
            return list(rows.scalars())
