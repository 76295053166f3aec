"""``/api/v1/transactions``: charging sessions, whichever OCPP version reported them, with their meter values.

A transaction is found by either of its ids: ours (``/transactions/{id}``, the OCPP 1.6 transactionId)
or the one its station knows it by, under the station (``/stations/{station_id}/transactions/{id}``:
the OCPP 2.0.1 transactionId, or ours for a 1.6 station). The service answers with domain objects;
this module turns them into the response models.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kilowatt.api.auth import reader
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import (
    DbId,
    IdTokenValue,
    Int32,
    MeterValueOut,
    StationId,
    StationTransactionId,
    TransactionDetailOut,
    TransactionEventOut,
    TransactionOut,
    TransactionPage,
)
from kilowatt.services.transactions import MeterReading, TransactionRecord, TransactionService, TransactionView, register_wh

router = APIRouter(tags=["transactions"])

READ = [Depends(reader)]

def _service(request: Request) -> TransactionService:
    return request.app.state.services.transactions


Transactions = Annotated[TransactionService, Depends(_service)]


def energy_wh(transaction: TransactionRecord, register: MeterReading | None) -> int | None:
    """Energy delivered so far: once stopped, what the transaction service computed at the stop
    (meter resets accounted for); while active, the latest energy register sample minus the start
    reading; None for an active session without such a sample, or whose meter went below its start."""
    if transaction.stopped_at is not None:
        return transaction.energy_wh
    if register is None or register.value_numeric is None or transaction.meter_start_wh is None:
        return None
    reading_wh = register_wh(register.value_numeric, register.unit)
    if reading_wh is None:
        return None
    delivered = reading_wh - transaction.meter_start_wh
    return delivered if delivered >= 0 else None


def _fields(transaction: TransactionRecord, register: MeterReading | None) -> dict[str, object]:
    fields = {name: getattr(transaction, name) for name in TransactionOut.model_fields if name not in ("energy_wh", "active")}
    fields["energy_wh"] = energy_wh(transaction, register)
    fields["active"] = transaction.stopped_at is None
    return fields


@router.get(
    "/transactions",
    response_model=TransactionPage,
    dependencies=READ,
    responses=error_responses(),
    summary="List transactions",
    description="Charging sessions, newest first, without their meter values (get one transaction for those). "
    "Filter by `station_id`, by `id_token` (the token that started it), by `active` (true: not stopped yet; "
    "false: stopped) and by `remote_start_id` (the id a remote-start command answered with, OCPP 2.0.1).",
)
async def list_transactions(
    transactions: Transactions,
    page: Paginated,
    station_id: Annotated[StationId | None, Query(description="Only this station's transactions")] = None,
    id_token: Annotated[IdTokenValue | None, Query(description="Only transactions started with this id token")] = None,
    active: Annotated[bool | None, Query(description="true: still running; false: stopped")] = None,
    remote_start_id: Annotated[Int32 | None, Query(description="Only the transaction this remote start caused")] = None,
) -> TransactionPage:
    result = await transactions.list(
        limit=page.limit,
        offset=page.offset,
        station_id=station_id,
        id_token=id_token,
        active=active,
        remote_start_id=remote_start_id,
    )
    registers = await transactions.latest_energy_registers([t.id for t in result.items if t.stopped_at is None])
    return TransactionPage(
        items=[TransactionOut.model_validate(_fields(t, registers.get(t.id))) for t in result.items],
        total=result.total,
        limit=page.limit,
        offset=page.offset,
    )


async def _detail(transactions: TransactionService, view: TransactionView) -> TransactionDetailOut:
    transaction = view.transaction
    register = None
    if transaction.stopped_at is None:
        register = (await transactions.latest_energy_registers([transaction.id])).get(transaction.id)
    return TransactionDetailOut.model_validate(
        {
            **_fields(transaction, register),
            "meter_values": [MeterValueOut.model_validate(v) for v in view.meter_values],
            "events": [TransactionEventOut.model_validate(event) for event in view.events],
            "missing_seq_nos": view.missing_seq_nos,
        }
    )


_DETAIL = (
    "One charging session with every meter value the station reported for it, oldest first "
    "(periodic MeterValues, the transaction data of the stop, the samples of 2.0.1 TransactionEvents). "
    "`energy_wh` is the energy delivered: computed at the end (meter resets accounted for); while active, "
    "the latest Energy.Active.Import.Register sample minus meter_start_wh, or null before the first sample. "
    "The answer carries both ids: `id` (ours) and `station_transaction_id` (the station's, OCPP 2.0.1)."
)


@router.get(
    "/transactions/{transaction_id}",
    response_model=TransactionDetailOut,
    dependencies=READ,
    responses=error_responses(404),
    summary="Get a transaction with its meter values",
    description=_DETAIL,
)
async def get_transaction(
    transaction_id: Annotated[DbId, Path(description="Kilowatt's transaction id (the OCPP 1.6 transactionId)")],
    transactions: Transactions,
) -> TransactionDetailOut:
    return await _detail(transactions, await transactions.get(transaction_id))


@router.get(
    "/stations/{station_id}/transactions/{station_transaction_id}",
    response_model=TransactionDetailOut,
    dependencies=READ,
    responses=error_responses(404),
    summary="Get a transaction by the id its station knows it by",
    description="The same answer as `GET /transactions/{id}`, found by the station's own transaction id: the "
    "transactionId of OCPP 2.0.1 (a string, unique per station), or for an OCPP 1.6 station the transactionId "
    "it was given, which is Kilowatt's id. Where a 2.0.1 id and one of our ids are spelled the same, the "
    "station's own id wins. " + _DETAIL,
)
async def get_station_transaction(
    station_id: Annotated[StationId, Path(description="The station")],
    station_transaction_id: Annotated[
        StationTransactionId, Path(description="The station's transaction id (OCPP 2.0.1 transactionId; for 1.6 our id)")
    ],
    transactions: Transactions,
) -> TransactionDetailOut:
    return await _detail(transactions, await transactions.get_for_station(station_id, station_transaction_id))
