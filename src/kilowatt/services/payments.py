"""Payments made at the station (OCPP 2.1 block C, "ad hoc payment"): settlements its payment
terminal reports, and VAT number checks it asks for.

A settlement is kept once per (station, PSP reference): a repeated NotifySettlement (a station
that lost our answer) stores nothing new, and a later one for the same reference — a payment
settled after a first Failed — updates the record. It is linked to its transaction by the
station's own transaction id, as the station sent it.

VAT numbers: Kilowatt has no VAT registry to check a number against, so every number is answered
``Rejected`` with the reason ``NoVatRegistry``; the request is recorded. A CSMS that adds a registry
answers from it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import Settlement, VatNumberValidation
from kilowatt.storage.upsert import upsert

NO_VAT_REGISTRY = "NoVatRegistry"


@dataclass(slots=True, frozen=True)
class SettlementRecord:
    id: int
    station_id: str
    station_transaction_id: str | None
    psp_ref: str
    status: str
    status_info: str | None
    amount: float
    settlement_time: datetime
    receipt_id: str | None
    receipt_url: str | None
    vat_number: str | None
    vat_company: dict[str, Any] | None
    received_at: datetime


@dataclass(slots=True, frozen=True)
class VatAnswer:
    status: str  # Accepted | Rejected
    reason_code: str | None = None
    additional_info: str | None = None
    company: dict[str, Any] | None = None  # name, address1, city, country, ... when Accepted


class PaymentService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    async def record_settlement(self, station_id: str, **fields: Any) -> None:
        """Store (or update, by PSP reference) a settlement; committed when this returns."""
        values = {"station_id": station_id, **fields}
        async with self._sessions.begin() as session:
            await session.run_sync(lambda s: upsert(s.connection(), Settlement.__table__, values, ("station_id", "psp_ref")))

    async def validate_vat_number(self, station_id: str, vat_number: str, evse_id: int | None) -> VatAnswer:
        """Answer a VAT number check (see the module docstring); recorded before it is returned."""
        answer = VatAnswer("Rejected", NO_VAT_REGISTRY, "this CSMS has no VAT registry to validate the number against")
        async with self._sessions.begin() as session:
            session.add(
                VatNumberValidation(
                    station_id=station_id,
                    vat_number=vat_number,
                    evse_id=evse_id,
                    status=answer.status,
                    reason_code=answer.reason_code,
                )
            )
        return answer

    async def settlements(self, station_id: str, station_transaction_id: str | None = None) -> list[SettlementRecord]:
        query = select(Settlement).where(Settlement.station_id == station_id)
        if station_transaction_id is not None:
            query = query.where(Settlement.station_transaction_id == station_transaction_id)
        async with self._sessions() as session:
            rows = await session.execute(query.order_by(Settlement.id))
            return [from_row(row, SettlementRecord) for row in rows.scalars()]
