"""``/api/v1/transactions``: charging sessions, whichever OCPP version reported them, with their meter values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import (
    DbId,
    IdTokenValue,
    MeterValueOut,
    StationId,
    TransactionDetailOut,
    TransactionOut,
    TransactionPage,
)
from kilowatt.services.transactions import TransactionService
from kilowatt.storage.models import MeterValue, Transaction

router = APIRouter(prefix="/transactions", tags=["transactions"])

READ = [Depends(reader)]

# How many Wh one unit of an energy register reading is; OCPP's default unit is Wh.
_WH_PER_UNIT = {None: 1, "Wh": 1, "kWh": 1000}


def _service(request: Request) -> TransactionService:
    return request.app.state.services.transactions


Transactions = Annotated[TransactionService, Depends(_service)]


def energy_wh(transaction: Transaction, register: MeterValue | None) -> int | None:
    """Energy delivered so far: once stopped, what the transaction service computed at the stop
    (meter resets accounted for); while active, the latest energy register sample minus the start
    reading; None for an active session without such a sample, or whose meter went below its start."""
    if transaction.stopped_at is not None:
        return transaction.energy_wh
    if register is None or register.value_numeric is None:
        return None
    per_unit = _WH_PER_UNIT.get(register.unit)
    if per_unit is None:
        return None
    delivered = round(register.value_numeric * per_unit) - transaction.meter_start_wh
    return delivered if delivered >= 0 else None


def _fields(transaction: Transaction, register: MeterValue | None) -> dict[str, object]:
    fields = {name: getattr(transaction, name) for name in TransactionOut.model_fields if name not in ("energy_wh", "active")}
    fields["energy_wh"] = energy_wh(transaction, register)
    fields["active"] = transaction.stopped_at is None
    return fields


@router.get(
    "",
    response_model=TransactionPage,
    dependencies=READ,
    responses=error_responses(),
    summary="List transactions",
    description="Charging sessions, newest first, without their meter values (get one transaction for those). "
    "Filter by `station_id`, by `id_token` (the token that started it) and by `active` (true: not stopped yet; "
    "false: stopped).",
)
async def list_transactions(
    transactions: Transactions,
    page: Paginated,
    station_id: Annotated[StationId | None, Query(description="Only this station's transactions")] = None,
    id_token: Annotated[IdTokenValue | None, Query(description="Only transactions started with this id token")] = None,
    active: Annotated[bool | None, Query(description="true: still running; false: stopped")] = None,
) -> TransactionPage:
    result = await transactions.list(
        limit=page.limit, offset=page.offset, station_id=station_id, id_token=id_token, active=active
    )
    registers = await transactions.latest_energy_registers([t.id for t in result.items if t.stopped_at is None])
    return TransactionPage(
        items=[TransactionOut.model_validate(_fields(t, registers.get(t.id))) for t in result.items],
        total=result.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{transaction_id}",
    response_model=TransactionDetailOut,
    dependencies=READ,
    responses=error_responses(404),
    summary="Get a transaction with its meter values",
    description="One charging session with every meter value the station reported for it, oldest first "
    "(periodic MeterValues and the transaction data of the stop). `energy_wh` is the energy delivered: "
    "meter_stop_wh - meter_start_wh once stopped; while active, the latest Energy.Active.Import.Register "
    "sample minus meter_start_wh, or null before the first sample.",
)
async def get_transaction(
    transaction_id: Annotated[DbId, Path(description="Kilowatt's transaction id (the OCPP 1.6 transactionId)")],
    transactions: Transactions,
) -> TransactionDetailOut:
    view = await transactions.get(transaction_id)
    transaction = view.transaction
    register = None
    if transaction.stopped_at is None:
        register = (await transactions.latest_energy_registers([transaction.id])).get(transaction.id)
    return TransactionDetailOut.model_validate(
        {**_fields(transaction, register), "meter_values": [MeterValueOut.model_validate(v) for v in view.meter_values]}
    )
