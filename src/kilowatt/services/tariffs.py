"""Tariffs the stations hold (OCPP 2.1 block I): defaults per EVSE and per-transaction tariffs.

What is stored is the CSMS's best knowledge of what each station holds: a default tariff once the
station answered SetDefaultTariff Accepted (replacing the EVSE's previous default), a transaction's
tariff once ChangeTransactionTariff was Accepted (replacing its previous one), and each tariff a
ClearTariffs cleared (Accepted for it) removed. Tariffs are stored as their typed form's fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from kilowatt.commands import fields_of
from kilowatt.commands.status_info import StatusInfoResult
from kilowatt.commands.tariffs import (
    ChangeTransactionTariff,
    ClearTariffs,
    ClearTariffsResult,
    GetTariffs,
    GetTariffsResult,
    SetDefaultTariff,
)
from kilowatt.services.command_service import CommandAnswer, CommandService
from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import StationTariff

DEFAULT = "Default"
TRANSACTION = "Transaction"


@dataclass(slots=True, frozen=True)
class StoredTariff:
    station_id: str
    tariff_id: str
    kind: str  # Default (an EVSE's) | Transaction (a running transaction's)
    evse_id: int | None
    station_transaction_id: str | None
    currency: str
    tariff: dict[str, Any]
    created_at: datetime


class TariffService:
    def __init__(self, sessions: SessionFactory, commands: CommandService):
        self._sessions = sessions
        self._commands = commands

    async def set_default(self, station_id: str, command: SetDefaultTariff, requested_by: str) -> CommandAnswer[StatusInfoResult]:
        answer: CommandAnswer[StatusInfoResult] = await self._commands.send(station_id, command, requested_by)
        if answer.status == "Accepted":
            where = (
                StationTariff.station_id == station_id,
                StationTariff.kind == DEFAULT,
                StationTariff.evse_id == command.evse_id,
            )
            await self._replace(where, station_id, command.tariff, DEFAULT, evse_id=command.evse_id)
        return answer

    async def change_for_transaction(
        self, station_id: str, command: ChangeTransactionTariff, requested_by: str
    ) -> CommandAnswer[StatusInfoResult]:
        answer: CommandAnswer[StatusInfoResult] = await self._commands.send(station_id, command, requested_by)
        if answer.status == "Accepted":
            station_transaction_id = command.transaction.station_transaction_id
            where = (
                StationTariff.station_id == station_id,
                StationTariff.kind == TRANSACTION,
                StationTariff.station_transaction_id == station_transaction_id,
            )
            await self._replace(where, station_id, command.tariff, TRANSACTION, station_transaction_id=station_transaction_id)
        return answer

    async def _replace(self, where: tuple[Any, ...], station_id: str, tariff: Any, kind: str, **target: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(StationTariff).where(*where))
            session.add(
                StationTariff(
                    station_id=station_id,
                    tariff_id=tariff.tariff_id,
                    kind=kind,
                    currency=tariff.currency,
                    tariff=fields_of(tariff),
                    **target,
                )
            )

    async def clear(self, station_id: str, command: ClearTariffs, requested_by: str) -> CommandAnswer[ClearTariffsResult]:
        """ClearTariffs; each tariff the station cleared (Accepted) is removed, all of them for an
        Accepted answer to "clear every tariff"."""
        answer: CommandAnswer[ClearTariffsResult] = await self._commands.send(station_id, command, requested_by)
        cleared = [r for r in answer.result.results if r.status == "Accepted"]
        if not cleared:
            return answer
        query = delete(StationTariff).where(StationTariff.station_id == station_id)
        if command.evse_id is not None:
            query = query.where(StationTariff.evse_id == command.evse_id)
        if command.tariff_ids:
            ids = {r.tariff_id for r in cleared if r.tariff_id is not None} or set(command.tariff_ids)
            query = query.where(StationTariff.tariff_id.in_(ids))
        async with self._sessions.begin() as session:
            await session.execute(query)
        return answer

    async def get(self, station_id: str, command: GetTariffs, requested_by: str) -> CommandAnswer[GetTariffsResult]:
        return await self._commands.send(station_id, command, requested_by)

    async def stored(self, station_id: str) -> list[StoredTariff]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(StationTariff).where(StationTariff.station_id == station_id).order_by(StationTariff.kind, StationTariff.id)
            )
            return [from_row(row, StoredTariff) for row in rows.scalars()]
