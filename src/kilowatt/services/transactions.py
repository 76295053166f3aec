"""Charging sessions and their meter values, whichever protocol version reported them.

Every method commits before it returns, so the OCPP answer that follows is never sent for data
that is not stored. Starts are idempotent by (station, EVSE, id token, start time): a charger that
retries a StartTransaction whose answer it lost gets the same transaction id.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kilowatt.bus.base import Bus, Event
from kilowatt.services.authorization import AuthorizationResult, AuthorizationService
from kilowatt.services.common import NotFound, Page, paginate
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import MeterValue, Transaction

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(slots=True)
class MeterSample:
    """One sampled value as the station reported it."""

    timestamp: datetime
    value: str
    measurand: str = ENERGY_REGISTER
    context: str | None = None
    unit: str | None = None
    phase: str | None = None
    location: str | None = None
    format: str | None = None

    @property
    def value_numeric(self) -> float | None:
        if self.format == "SignedData":
            return None
        try:
            value = float(self.value)
        except ValueError:
            return None
        return value if math.isfinite(value) else None  # "NaN", "Infinity", "1e999" are not readings


@dataclass(slots=True)
class TransactionStart:
    station_id: str
    evse_id: int
    connector_id: int
    id_token: str
    meter_start_wh: int
    started_at: datetime
    reservation_id: int | None = None
    station_transaction_id: str | None = None


@dataclass(slots=True)
class TransactionStop:
    station_id: str
    transaction_id: int
    meter_stop_wh: int
    stopped_at: datetime
    reason: str | None = None
    id_token: str | None = None
    samples: list[MeterSample] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class StartResult:
    transaction_id: int
    authorization: AuthorizationResult
    replayed: bool = False


@dataclass(slots=True)
class TransactionView:
    transaction: Transaction
    meter_values: list[MeterValue] = field(default_factory=list)


class UnknownTransaction(Exception):
    """No transaction with that id was started by that station."""


class ReservationConsumer(Protocol):
    """Whoever owns reservations (the reservation service): told when a start uses one."""

    async def consume(self, station_id: str, reservation_id: int, transaction_id: int, id_token: str) -> bool: ...


class TransactionService:
    def __init__(
        self,
        sessions: SessionFactory,
        writes: WriteBatcher,
        authorization: AuthorizationService,
        bus: Bus,
        reservations: ReservationConsumer | None = None,
    ):
        self._sessions = sessions
        self._writes = writes
        self._owners: OrderedDict[int, str] = OrderedDict()  # transaction id -> station id
        self._authorization = authorization
        self._bus = bus
        self._reservations = reservations

    async def authorize_start(self, id_token: str, station_id: str, evse_id: int) -> AuthorizationResult:
        """Authorization for a new transaction: the token's own status, and ConcurrentTx when it
        already holds an active transaction elsewhere (one session per token at a time)."""
        result = await self._authorization.authorize(id_token)
        if result.status != "Accepted":
            return result
        async with self._sessions() as session:
            busy = await session.run_sync(lambda sync: _busy_elsewhere(sync.connection(), id_token, station_id, evse_id))
        if busy:
            return AuthorizationResult("ConcurrentTx", result.expiry_date, result.parent_id_token)
        return result

    async def start(self, start: TransactionStart) -> StartResult:
        """Store a start; a reservation it names is consumed before this returns (so before the answer).

        The look-up of an earlier identical start, the ConcurrentTx check and the insert are one
        batched write: a start costs one hand-off to the database besides the token look-up.
        """
        authorization = await self._authorization.authorize(start.id_token)

        def write(connection: Connection) -> StartResult:
            existing = _find_start(connection, start)
            if existing is not None:
                return existing
            status = authorization
            if status.status == "Accepted" and _busy_elsewhere(connection, start.id_token, start.station_id, start.evse_id):
                status = AuthorizationResult("ConcurrentTx", status.expiry_date, status.parent_id_token)
            row = {
                "station_id": start.station_id,
                "evse_id": start.evse_id,
                "connector_id": start.connector_id,
                "station_transaction_id": start.station_transaction_id,
                "id_token": start.id_token,
                "id_token_status": status.status,
                "reservation_id": start.reservation_id,
                "meter_start_wh": start.meter_start_wh,
                "started_at": start.started_at,
            }
            return StartResult(connection.execute(_INSERT_TRANSACTION, row).scalar_one(), status)  # the id is the answer

        try:
            result = await self._writes.run(write)
        except IntegrityError:  # the same start arrived twice at once; the other one won
            existing = await self._writes.run(lambda connection: _find_start(connection, start))
            if existing is None:
                raise
            result = existing
        if result.replayed:
            await self._consume_reservation(start, result.transaction_id)  # in case the first try died in between
            return result
        self._remember_owner(result.transaction_id, start.station_id)
        await self._consume_reservation(start, result.transaction_id)
        await self._bus.publish(
            Event(
                "transaction.started",
                start.station_id,
                {"transaction_id": result.transaction_id, "evse_id": start.evse_id, "id_token": start.id_token},
            )
        )
        return result

    async def _consume_reservation(self, start: TransactionStart, transaction_id: int) -> None:
        if start.reservation_id is not None and self._reservations is not None:
            await self._reservations.consume(start.station_id, start.reservation_id, transaction_id, start.id_token)

    async def meter_values(
        self, station_id: str, evse_id: int, connector_id: int, transaction_id: int | None, samples: list[MeterSample]
    ) -> bool:
        """Store samples; returns False when they named a transaction this station never started.

        Such samples are still stored (a charger that got our answer deletes its copy), but not
        linked to any transaction: we do not guess which one was meant.
        """

        def store(connection: Connection) -> tuple[int | None, str | None]:
            linked_id, owner = transaction_id, None
            if linked_id is not None:
                owner = self._owners.get(linked_id) or _stored_owner(connection, linked_id)
                if owner != station_id:
                    linked_id = None
            if samples:
                connection.execute(
                    _INSERT_METER_VALUE, [_meter_row(station_id, evse_id, connector_id, linked_id, s, "MeterValues") for s in samples]
                )
            return linked_id, owner

        if transaction_id is None or self._owners.get(transaction_id) == station_id:
            # The busy fleet's case: nothing to look up, a pure insert that merges with its neighbours.
            linked_id = transaction_id
            if samples:
                rows = [_meter_row(station_id, evse_id, connector_id, linked_id, s, "MeterValues") for s in samples]
                await self._writes.insert(_INSERT_METER_VALUE, rows)
        else:
            linked_id, owner = await self._writes.run(store)
            if owner is not None:
                self._remember_owner(transaction_id, owner)  # only now: the batch that saw it is committed
        if samples:
            await self._bus.publish(
                Event("meter.values", station_id, {"evse_id": evse_id, "transaction_id": linked_id, "count": len(samples)})
            )
        return linked_id == transaction_id

    async def stop(self, stop: TransactionStop) -> bool:
        """Close a transaction; False for a replayed stop of an already-stopped one, which changes nothing."""
        stopped = await self._writes.run(lambda connection: _close(connection, stop))
        if stopped is _UNKNOWN:  # raised here, not inside the batch, so the batch need not roll back
            raise UnknownTransaction(f"transaction {stop.transaction_id} was not started by station {stop.station_id!r}")
        if stopped is None:
            return False
        assert isinstance(stopped, int)
        await self._bus.publish(
            Event("transaction.ended", stop.station_id, {"transaction_id": stop.transaction_id, "energy_wh": stopped})
        )
        return True

    def _remember_owner(self, transaction_id: int, station_id: str) -> None:
        """The station that started a transaction never changes, so it is cached once committed:
        a busy fleet's MeterValues then cost no look-up at all."""
        self._owners[transaction_id] = station_id
        if len(self._owners) > _OWNER_CACHE_SIZE:
            self._owners.popitem(last=False)  # the oldest: long finished, most likely


    # --- operator side ------------------------------------------------------------------------

    async def list(
        self,
        limit: int = 50,
        offset: int = 0,
        station_id: str | None = None,
        id_token: str | None = None,
        active: bool | None = None,
    ) -> Page[Transaction]:
        query = select(Transaction)
        if station_id is not None:
            query = query.where(Transaction.station_id == station_id)
        if id_token is not None:
            query = query.where(Transaction.id_token == id_token)
        if active is not None:
            query = query.where(Transaction.stopped_at.is_(None) if active else Transaction.stopped_at.is_not(None))
        async with self._sessions() as session:
            return await paginate(session, query, Transaction.id.desc(), limit, offset)

    async def get(self, transaction_id: int) -> TransactionView:
        async with self._sessions() as session:
            transaction = await session.get(Transaction, transaction_id)
            if transaction is None:
                raise NotFound(f"transaction {transaction_id} not found")
            values = (
                await session.execute(
                    select(MeterValue).where(MeterValue.transaction_id == transaction_id).order_by(MeterValue.timestamp, MeterValue.id)
                )
            ).scalars().all()
        return TransactionView(transaction, list(values))

    async def latest_energy_registers(self, transaction_ids: list[int]) -> dict[int, MeterValue]:
        """The latest whole-meter Energy.Active.Import.Register sample of each transaction that has one."""
        if not transaction_ids:
            return {}
        ranked = (
            select(
                MeterValue.id,
                func.row_number()
                .over(partition_by=MeterValue.transaction_id, order_by=(MeterValue.timestamp.desc(), MeterValue.id.desc()))
                .label("rank"),
            )
            .where(MeterValue.transaction_id.in_(transaction_ids), *_WHOLE_METER_REGISTER)
            .subquery()
        )
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(MeterValue).join(ranked, MeterValue.id == ranked.c.id).where(ranked.c.rank == 1)
                )
            ).scalars().all()
        return {row.transaction_id: row for row in rows if row.transaction_id is not None}


_WH_PER_UNIT = {"Wh": 1, "kWh": 1000}


_TRANSACTIONS = Transaction.__table__
_INSERT_TRANSACTION = insert(_TRANSACTIONS).returning(_TRANSACTIONS.c.id)
_INSERT_METER_VALUE = insert(MeterValue.__table__)


def _close(connection: Connection, stop: TransactionStop) -> int | object | None:
    """Store the stop; the energy delivered (Wh), None when the transaction was stopped already
    (a replay), _UNKNOWN when this station never started it."""
    columns = _TRANSACTIONS.c
    transaction = connection.execute(
        select(columns.station_id, columns.evse_id, columns.connector_id, columns.meter_start_wh, columns.stopped_at).where(
            columns.id == stop.transaction_id
        )
    ).first()
    if transaction is None or transaction.station_id != stop.station_id:
        return _UNKNOWN
    if transaction.stopped_at is not None:
        return None
    energy_wh = delivered_wh(
        transaction.meter_start_wh, _merged_readings(connection, stop.transaction_id, stop.samples), stop.meter_stop_wh
    )
    connection.execute(
        update(_TRANSACTIONS)
        .where(columns.id == stop.transaction_id)
        .values(
            meter_stop_wh=stop.meter_stop_wh,
            energy_wh=energy_wh,
            stopped_at=stop.stopped_at,
            stop_reason=stop.reason,
            stop_id_token=stop.id_token,
        )
    )
    if stop.samples:
        connection.execute(
            _INSERT_METER_VALUE,
            [
                _meter_row(stop.station_id, transaction.evse_id, transaction.connector_id, stop.transaction_id, sample, "StopTransaction")
                for sample in stop.samples
            ],
        )
    return energy_wh


def _find_start(connection: Connection, start: TransactionStart) -> StartResult | None:
    """The transaction an identical earlier StartTransaction created (a retry whose answer was lost)."""
    row = connection.execute(
        select(Transaction.id, Transaction.id_token_status).where(
            Transaction.station_id == start.station_id,
            Transaction.evse_id == start.evse_id,
            Transaction.id_token == start.id_token,
            Transaction.started_at == start.started_at,
        )
    ).first()
    return None if row is None else StartResult(row.id, AuthorizationResult(row.id_token_status), replayed=True)


def _busy_elsewhere(connection: Connection, id_token: str, station_id: str, evse_id: int) -> bool:
    """Whether the token holds an active transaction on another station or EVSE."""
    return (
        connection.execute(
            select(Transaction.id)
            .where(Transaction.id_token == id_token, Transaction.stopped_at.is_(None))
            .where((Transaction.station_id != station_id) | (Transaction.evse_id != evse_id))
            .limit(1)
        ).first()
        is not None
    )


def _stored_owner(connection: Connection, transaction_id: int) -> str | None:
    return connection.execute(select(Transaction.station_id).where(Transaction.id == transaction_id)).scalar()


def _merged_readings(connection: Connection, transaction_id: int, stop_samples: list[MeterSample]) -> list[int]:
    """The transaction's whole-meter energy register readings in Wh, in the order they were taken.

    By time, and readings with the same timestamp in the order they arrived: a reset sent in the
    same millisecond as the reading before it must stay after it. transactionData often repeats
    readings MeterValues already brought; a repeat (same time, same value) counts once.
    """
    rows = connection.execute(
        select(MeterValue.timestamp, MeterValue.value_numeric, MeterValue.unit)
        .where(MeterValue.transaction_id == transaction_id, *_WHOLE_METER_REGISTER)
        .order_by(MeterValue.timestamp, MeterValue.id)
    )
    readings = [(t, round(value * _WH_PER_UNIT[unit or "Wh"])) for t, value, unit in rows if (unit or "Wh") in _WH_PER_UNIT]
    seen = set(readings)
    readings += [(sample.timestamp, wh) for sample in stop_samples if (wh := _register_wh(sample)) is not None and (sample.timestamp, wh) not in seen]
    readings.sort(key=lambda reading: reading[0])  # stable: equal times keep their arrival order
    return [wh for _, wh in readings]


# Only whole-meter readings at the outlet count as "the" energy register: per-phase values and the
# EV's or the grid inlet's readings measure something else.
_WHOLE_METER_REGISTER = (
    MeterValue.measurand == ENERGY_REGISTER,
    MeterValue.value_numeric.is_not(None),
    MeterValue.phase.is_(None),
    (MeterValue.location.is_(None)) | (MeterValue.location == "Outlet"),
)


def _register_wh(sample: MeterSample) -> int | None:
    unit = sample.unit or "Wh"
    if sample.measurand != ENERGY_REGISTER or sample.phase is not None or sample.location not in (None, "Outlet"):
        return None
    value = sample.value_numeric
    return None if value is None or unit not in _WH_PER_UNIT else round(value * _WH_PER_UNIT[unit])


def delivered_wh(meter_start_wh: int, readings: list[int], meter_stop_wh: int) -> int:
    """Energy delivered, from the start reading through every register reading to the stop reading.

    A reading below half of the highest one so far means the meter was reset (or rolled over):
    counting restarts from zero there, so a reset never yields negative or lost energy. A smaller
    dip is a less precise reading (a kWh register against a Wh meterStart) and counts nothing.
    Without either this is just ``meter_stop_wh - meter_start_wh``.
    """
    total, high = 0, meter_start_wh
    for reading in (*readings, meter_stop_wh):
        if reading >= high:
            total, high = total + reading - high, reading
        elif reading < high / 2:  # reset: everything up to this reading is new energy
            total, high = total + reading, reading
    return total


_UNKNOWN = object()  # _close's answer for a transaction the station never started

_OWNER_CACHE_SIZE = 100_000  # ~10 MB; far more transactions than are active at once on one node


def _meter_row(
    station_id: str, evse_id: int, connector_id: int, transaction_id: int | None, sample: MeterSample, source: str
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "evse_id": evse_id,
        "connector_id": connector_id,
        "transaction_id": transaction_id,
        "timestamp": sample.timestamp,
        "value": sample.value,
        "value_numeric": sample.value_numeric,
        "measurand": sample.measurand,
        "context": sample.context,
        "unit": sample.unit,
        "phase": sample.phase,
        "location": sample.location,
        "format": sample.format,
        "source": source,
    }
