"""Charging sessions and their meter values, whichever protocol version reported them.

One canonical event stream: each version's edge converts its messages into
:class:`TransactionStarted`, :class:`TransactionUpdated` and :class:`TransactionEnded` (OCPP 1.6
StartTransaction / MeterValues / StopTransaction; OCPP 2.0.1 TransactionEvent Started / Updated /
Ended) and hands them to :meth:`TransactionService.apply`, which stores them and answers with domain
objects. A transaction is named by a :class:`TransactionRef`: our integer id (which is also the
1.6 transactionId) and the station's own id (2.0.1's transactionId string; None in 1.6, where the
station uses ours).

Every event is stored idempotently by the key its edge built (:class:`StartKey` for a 1.6 start,
:class:`SeqNoKey` for a 2.0.1 event): a repeat is answered as the first was and stores nothing.
Events named by the station's id may arrive in any order: whichever comes first creates the
transaction, and the others fill in what they know (an Ended before its Started leaves an ended
transaction whose start is completed later, its energy computed again). Every method commits before
it returns, so the OCPP answer that follows is never sent for data that is not stored.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kilowatt.bus.base import Bus, Event
from kilowatt.jobs.outbox import Outbox
from kilowatt.refs import TransactionRef
from kilowatt.services.authorization import AuthorizationResult, AuthorizationService
from kilowatt.services.common import NotFound, Page, from_row, paginate
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import MeterValue, Transaction, TransactionEventRecord, id_token_key
from kilowatt.storage.repeats import insert_ignoring_repeats, repeat_key

__all__ = [
    "ENERGY_REGISTER",
    "IdempotencyKey",
    "MeterReading",
    "MeterSample",
    "SeqNoKey",
    "StartKey",
    "TransactionEnded",
    "TransactionEvent",
    "TransactionOutcome",
    "TransactionRecord",
    "TransactionRef",
    "TransactionService",
    "TransactionStarted",
    "TransactionUpdated",
    "TransactionView",
    "UnknownTransaction",
    "delivered_wh",
    "register_wh",
]

ENERGY_REGISTER = "Energy.Active.Import.Register"
MAX_MISSING_SHOWN = 1000  # missing seqNos a transaction view lists at most


@dataclass(slots=True, frozen=True)
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
    multiplier: int | None = None  # 2.0.1 unitOfMeasure.multiplier: the reading is value × 10^multiplier unit
    signed_meter_value: dict[str, Any] | None = None  # 2.0.1 signedMeterValue, kept as sent

    @property
    def value_numeric(self) -> float | None:
        """The reading in ``unit`` (the multiplier applied); None for signed data or a non-number."""
        if self.format == "SignedData":
            return None
        try:
            value = float(self.value)
            if self.multiplier:
                value *= 10.0**self.multiplier
        except (ValueError, OverflowError):
            return None
        return value if math.isfinite(value) else None  # "NaN", "Infinity", "1e999" are not readings


# --- names and keys -----------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class StartKey:
    """OCPP 1.6: a StartTransaction is the same start when these are (a retry whose answer was lost)."""

    station_id: str
    evse_id: int
    id_token: str
    started_at: datetime


@dataclass(slots=True, frozen=True)
class SeqNoKey:
    """OCPP 2.0.1: every TransactionEvent of a transaction carries its own seqNo."""

    station_id: str
    station_transaction_id: str
    seq_no: int


IdempotencyKey = StartKey | SeqNoKey


@dataclass(slots=True, frozen=True)
class TransactionDetails:
    """What an event may tell about its transaction beyond 1.6's fields (2.0.1 transactionInfo,
    idToken type, the station's limits), each None when not said."""

    trigger_reason: str | None = None  # TriggerReasonEnum: why this event was sent
    charging_state: str | None = None  # ChargingStateEnum: EVConnected, Charging, SuspendedEV, SuspendedEVSE, Idle
    remote_start_id: int | None = None  # the RequestStartTransaction that caused it
    number_of_phases_used: int | None = None
    cable_max_current_a: int | None = None
    id_token_type: str | None = None  # IdTokenEnumType of the event's id token


# --- the canonical events -------------------------------------------------------------------------
# A Started never names our id (we assign it). An Updated or Ended names the transaction by our id
# (``transaction_id``: 1.6, where only we assign ids, so an id we never gave is refused) or by the
# station's (``station_transaction_id``: 2.0.1, where an unknown id is a transaction whose first
# event we have not seen yet, so it is created).


@dataclass(slots=True, frozen=True)
class TransactionStarted:
    station_id: str
    evse_id: int
    connector_id: int
    timestamp: datetime
    id_token: str | None = None
    meter_start_wh: int | None = None  # 1.6 meterStart; else the first energy register sample
    samples: tuple[MeterSample, ...] = ()
    reason: str | None = None  # 2.0.1 triggerReason
    reservation_id: int | None = None
    station_transaction_id: str | None = None
    key: IdempotencyKey | None = None
    offline: bool = False
    details: TransactionDetails = TransactionDetails()

    def __post_init__(self) -> None:
        _check_key(self)


@dataclass(slots=True, frozen=True)
class TransactionUpdated:
    station_id: str
    timestamp: datetime
    transaction_id: int | None = None
    station_transaction_id: str | None = None
    evse_id: int | None = None  # 2.0.1 names the EVSE only in a transaction's first event
    connector_id: int | None = None
    id_token: str | None = None  # a token presented mid-session (2.0.1 triggerReason Authorized)
    samples: tuple[MeterSample, ...] = ()
    reason: str | None = None
    key: IdempotencyKey | None = None
    offline: bool = False
    details: TransactionDetails = TransactionDetails()

    def __post_init__(self) -> None:
        _check_names(self)
        _check_key(self)


@dataclass(slots=True, frozen=True)
class TransactionEnded:
    station_id: str
    timestamp: datetime
    transaction_id: int | None = None
    station_transaction_id: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None  # the token that stopped it
    meter_stop_wh: int | None = None  # 1.6 meterStop; else the last energy register sample
    samples: tuple[MeterSample, ...] = ()
    reason: str | None = None  # 1.6 reason, 2.0.1 stoppedReason
    key: IdempotencyKey | None = None
    offline: bool = False
    details: TransactionDetails = TransactionDetails()

    def __post_init__(self) -> None:
        _check_names(self)
        _check_key(self)


TransactionEvent = TransactionStarted | TransactionUpdated | TransactionEnded


def _check_names(event: TransactionUpdated | TransactionEnded) -> None:
    if (event.transaction_id is None) == (event.station_transaction_id is None):
        raise ValueError("an event names its transaction by our id or by the station's, exactly one of them")


def _check_key(event: TransactionEvent) -> None:
    key = event.key
    if event.station_transaction_id is not None and not isinstance(key, SeqNoKey):
        raise ValueError("an event named by the station's transaction id needs its seqNo key")
    if isinstance(key, SeqNoKey):
        if (key.station_id, key.station_transaction_id) != (event.station_id, event.station_transaction_id):
            raise ValueError("a seqNo key must name the event's station and transaction")
    elif isinstance(key, StartKey):
        if not isinstance(event, TransactionStarted) or event.station_transaction_id is not None:
            raise ValueError("a start key identifies a start named by our id (OCPP 1.6)")
        if (key.station_id, key.evse_id, key.id_token, key.started_at) != (
            event.station_id, event.evse_id, event.id_token, event.timestamp
        ):  # fmt: skip
            raise ValueError("a start key must be made of the event's station, EVSE, id token and time")


ChargingStateWriter = Callable[[Connection, str, int, int | None, str], None]
"""Stores a connector's charging state in a batched write (the station service's)."""


@dataclass(slots=True, frozen=True)
class TransactionOutcome:
    """What :meth:`TransactionService.apply` stored, for the edge to answer with."""

    ref: TransactionRef | None  # None: samples named a transaction this station never started (stored unlinked)
    authorization: AuthorizationResult | None = None  # for an event with an id token
    duplicate: bool = False  # seen before (same key, or a second end): answered, nothing stored
    ended: bool = False  # the transaction has ended (by this event or an earlier one)
    energy_wh: int | None = None  # energy delivered, once ended
    # (EVSE, connector) of the transaction when this event's chargingState is now its current one
    # (the newest event by seqNo, on an EVSE some event named; the event itself need not name it)
    # and the caller is to record it on the connector; None when there is nothing to record, or
    # the service stored it already (``charging_states``).
    charging_state_on: tuple[int, int] | None = None


# --- what the operator side reads -------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class TransactionRecord:
    id: int
    station_id: str
    evse_id: int
    connector_id: int
    station_transaction_id: str | None
    id_token: str | None
    id_token_status: str | None
    reservation_id: int | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None
    started_at: datetime
    stopped_at: datetime | None
    start_reason: str | None
    stop_reason: str | None
    stop_id_token: str | None
    charging_state: str | None
    trigger_reason: str | None
    remote_start_id: int | None
    number_of_phases_used: int | None
    cable_max_current_a: int | None
    id_token_type: str | None
    offline: bool

    @property
    def ref(self) -> TransactionRef:
        return TransactionRef(self.id, self.station_transaction_id)

    @property
    def active(self) -> bool:
        return self.stopped_at is None


@dataclass(slots=True, frozen=True)
class MeterReading:
    """A stored sample."""

    transaction_id: int | None
    station_id: str
    evse_id: int
    connector_id: int
    timestamp: datetime
    value: str
    value_numeric: float | None
    measurand: str
    context: str | None
    unit: str | None
    phase: str | None
    location: str | None
    format: str | None
    unit_multiplier: int | None
    signed_meter_value: dict[str, Any] | None
    source: str  # the message that carried it: MeterValues, StopTransaction or TransactionEvent


@dataclass(slots=True, frozen=True)
class TransactionEventInfo:
    """One stored 2.0.1 TransactionEvent, as its key and what it said."""

    seq_no: int
    event_type: str  # Started | Updated | Ended
    timestamp: datetime
    reason: str | None
    offline: bool
    received_at: datetime


@dataclass(slots=True, frozen=True)
class TransactionView:
    transaction: TransactionRecord
    meter_values: list[MeterReading]
    events: list[TransactionEventInfo] = field(default_factory=list)  # 2.0.1 only, by seqNo

    @property
    def missing_seq_nos(self) -> list[int]:
        """seqNos below the highest stored that never arrived (a station counts from 0): events a
        charger lost, or that are still in its offline queue. The first 1000 only: a station may
        number its events up to 2**31 - 1, and one high seqNo must not make every read walk them all."""
        if not self.events:
            return []
        stored = {event.seq_no for event in self.events}
        return list(itertools.islice((seq_no for seq_no in range(max(stored)) if seq_no not in stored), MAX_MISSING_SHOWN))


def _started_event(event: TransactionStarted, outcome: TransactionOutcome) -> Event:
    assert outcome.ref is not None
    return Event(
        "transaction.started", event.station_id, {**_ids(outcome.ref), "evse_id": event.evse_id, "id_token": event.id_token}
    )


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
        outbox: Outbox,
        reservations: ReservationConsumer | None = None,
        charging_states: ChargingStateWriter | None = None,
    ):
        """``charging_states``: the station service's :func:`record_charging_state`, so that a
        2.0.1 Started or Ended stores its connector's charging state in its own batched write."""
        self._charging_states = charging_states
        self._sessions = sessions
        # transaction.started / transaction.ended are written with the transaction (billing acts on
        # them); transaction.updated and meter.values are live hints, published directly.
        self._outbox = outbox
        self._writes = writes
        self._owners: OrderedDict[int, str] = OrderedDict()  # transaction id -> station id
        self._authorization = authorization
        self._bus = bus
        self._reservations = reservations
        # Running 2.0.1 transactions of the stations connected here, by station: what an Updated
        # needs to be stored without reading anything back (see _update_open).
        self._open: dict[str, dict[str, _OpenTransaction]] = {}
        bus.subscribe(self._on_event)

    async def _on_event(self, event: Event) -> None:
        if event.type == "station.disconnected":  # it may send its next events to another node
            self._open.pop(event.station_id, None)

    async def apply(self, event: TransactionEvent) -> TransactionOutcome:
        """Store ``event`` (idempotently by its key) and say what was stored; returns after the commit.

        Raises :class:`UnknownTransaction` for an Ended naming one of our ids this station never
        started: nothing is stored. An Updated naming such an id stores its samples unlinked
        (``ref`` None): a charger that got our answer deletes its copy, and we do not guess.
        """
        if event.station_transaction_id is not None:
            return await self._apply_by_station_id(event)
        if isinstance(event, TransactionStarted):
            return await self._start(event)
        if isinstance(event, TransactionUpdated):
            assert event.transaction_id is not None
            return await self._samples(
                event.station_id, event.evse_id or 0, event.connector_id or 0, event.transaction_id, list(event.samples)
            )
        return await self._end(event)

    async def record_meter_values(self, station_id: str, evse_id: int, connector_id: int, samples: list[MeterSample]) -> None:
        """Samples taken outside any transaction (1.6 MeterValues without transactionId, 2.0.1 MeterValues)."""
        await self._samples(station_id, evse_id, connector_id, None, samples)

    # --- named by our id (OCPP 1.6) -------------------------------------------------------------

    async def _start(self, start: TransactionStarted) -> TransactionOutcome:
        """Store a start; a reservation it names is consumed before this returns (so before the answer).

        The look-up of an earlier identical start, the ConcurrentTx check and the insert are one
        batched write: a start costs one hand-off to the database besides the token look-up.
        """
        authorization = await self._authorize(start.id_token, start.details.id_token_type)
        key = start.key if isinstance(start.key, StartKey) else None

        def write(connection: Connection) -> tuple[TransactionOutcome, list[Event]]:
            if key is not None and (existing := _find_start(connection, key)) is not None:
                return existing, []
            status = _concurrent(connection, authorization, start.id_token, start.station_id, start.evse_id)
            row = {
                "station_id": start.station_id,
                "evse_id": start.evse_id,
                "connector_id": start.connector_id,
                "id_token": start.id_token,  # as the station sent it
                "id_token_key": _key(start.id_token),
                "id_token_status": None if status is None else status.status,
                "reservation_id": start.reservation_id,
                "meter_start_wh": start.meter_start_wh if start.meter_start_wh is not None else _first_register_wh(start.samples),
                "started_at": start.timestamp,
                "start_reason": start.reason,
                **_detail_columns(start.details, start.offline),
            }
            transaction_id = connection.execute(_INSERT_TRANSACTION, row).scalar_one()  # the id is the answer
            if start.samples:
                connection.execute(
                    _INSERT_METER_VALUE,
                    _meter_rows(
                        start.station_id, start.evse_id, start.connector_id, transaction_id, start.samples, "StartTransaction"
                    ),
                )
            outcome = TransactionOutcome(TransactionRef(transaction_id), status)
            events = [_started_event(start, outcome)]
            Outbox.record(connection, events)
            return outcome, events

        try:
            result, events = await self._writes.run(write)
        except IntegrityError:  # the same start arrived twice at once; the other one won
            existing = None if key is None else await self._writes.run(lambda connection: _find_start(connection, key))
            if existing is None:
                raise
            result, events = existing, []
        assert result.ref is not None
        if not result.duplicate:
            self._remember_owner(result.ref.id, start.station_id)
        # Also for a repeat: in case the first try died between its commit and the reservation's.
        await self._consume_reservation(start, result.ref.id)
        await self._outbox.publish_committed(events)
        return result

    async def _consume_reservation(self, start: TransactionStarted, transaction_id: int) -> None:
        if start.reservation_id is not None and self._reservations is not None:
            await self._reservations.consume(start.station_id, start.reservation_id, transaction_id, start.id_token or "")

    async def _samples(
        self, station_id: str, evse_id: int, connector_id: int, transaction_id: int | None, samples: list[MeterSample]
    ) -> TransactionOutcome:
        def store(connection: Connection) -> tuple[int | None, str | None]:
            linked_id, owner = transaction_id, None
            if linked_id is not None:
                owner = self._owners.get(linked_id) or _stored_owner(connection, linked_id)
                if owner != station_id:
                    linked_id = None
            if samples:
                connection.execute(
                    _INSERT_METER_VALUE, _meter_rows(station_id, evse_id, connector_id, linked_id, samples, "MeterValues")
                )
            return linked_id, owner

        if transaction_id is None or self._owners.get(transaction_id) == station_id:
            # The busy fleet's case: nothing to look up, a pure insert that merges with its neighbours.
            linked_id = transaction_id
            if samples:
                await self._writes.insert(
                    _INSERT_METER_VALUE, _meter_rows(station_id, evse_id, connector_id, linked_id, samples, "MeterValues")
                )
        else:
            linked_id, owner = await self._writes.run(store)
            if owner is not None:
                self._remember_owner(transaction_id, owner)  # only now: the batch that saw it is committed
        if linked_id is None:
            if samples:
                await self._bus.publish(
                    Event("meter.values", station_id, {"evse_id": evse_id, "transaction_id": None, "count": len(samples)})
                )
            return TransactionOutcome(None)
        ref = TransactionRef(linked_id)
        await self._bus.publish(
            Event("transaction.updated", station_id, {**_ids(ref), "evse_id": evse_id, "samples": len(samples)})
        )
        return TransactionOutcome(ref)

    async def _end(self, end: TransactionEnded) -> TransactionOutcome:
        """Close a transaction; a repeated end of an already-ended one changes nothing (``duplicate``)."""
        assert end.transaction_id is not None
        authorization = await self._authorize(end.id_token, end.details.id_token_type)
        ref = TransactionRef(end.transaction_id)
        events: list[Event] = []

        def write(connection: Connection) -> int | None | _Stopped | object:
            stopped = _close(connection, end)
            if stopped is not _UNKNOWN and not isinstance(stopped, _Stopped):
                events[:] = [Event("transaction.ended", end.station_id, {**_ids(ref), "energy_wh": stopped})]
                Outbox.record(connection, events)
            return stopped

        stopped = await self._writes.run(write)
        if stopped is _UNKNOWN:  # raised here, not inside the batch, so the batch need not roll back
            raise UnknownTransaction(f"transaction {end.transaction_id} was not started by station {end.station_id!r}")
        if isinstance(stopped, _Stopped):
            return TransactionOutcome(ref, authorization, duplicate=True, ended=True, energy_wh=stopped.energy_wh)
        assert isinstance(stopped, int)
        await self._outbox.publish_committed(events)
        return TransactionOutcome(ref, authorization, ended=True, energy_wh=stopped)

    # --- named by the station's id (OCPP 2.0.1) ---------------------------------------------------

    async def _apply_by_station_id(self, event: TransactionEvent) -> TransactionOutcome:
        """One batched write: the key look-up, the transaction found or created, the event merged
        into it, its samples and its key stored, and the energy computed again once it has ended."""
        authorization = await self._authorize(event.id_token, event.details.id_token_type)
        if isinstance(event, TransactionUpdated):
            updated = await self._update_open(event, authorization)
            if updated is not None:
                return updated

        assert isinstance(event.key, SeqNoKey) and event.station_transaction_id is not None
        running = self._open.get(event.station_id, {}).get(event.station_transaction_id)
        if running is not None and event.key.seq_no <= running.last_seq_no:
            running = None  # maybe a replay: look it up

        def write(connection: Connection, running: _OpenTransaction | None = running) -> tuple[_Applied, list[Event]]:
            applied = _merge(connection, event, authorization, running)
            charging_state = event.details.charging_state
            if self._charging_states is not None and applied.charging_state_on is not None and charging_state is not None:
                self._charging_states(connection, event.station_id, *applied.charging_state_on, charging_state)
                applied = replace(applied, charging_state_on=None)  # stored: nothing left for the edge to do
            events: list[Event] = []
            if not applied.duplicate and isinstance(event, TransactionStarted):
                events.append(_started_event(event, TransactionOutcome(applied.ref)))
            if applied.newly_ended:
                events.append(
                    Event("transaction.ended", event.station_id, {**_ids(applied.ref), "energy_wh": applied.energy_wh})
                )
            Outbox.record(connection, events)
            return applied, events

        try:
            applied, events = await self._writes.run(write)
        except IntegrityError:  # the same key, or the same new transaction, stored by another process meanwhile
            applied, events = await self._writes.run(lambda connection: write(connection, None))
        outcome = TransactionOutcome(
            applied.ref,
            applied.authorization,
            duplicate=applied.duplicate,
            ended=applied.ended,
            energy_wh=applied.energy_wh,
            charging_state_on=applied.charging_state_on,
        )
        if applied.duplicate:
            return outcome
        station_open = self._open.setdefault(event.station_id, {})
        assert event.station_transaction_id is not None
        if applied.open is not None:
            station_open[event.station_transaction_id] = applied.open
        else:
            station_open.pop(event.station_transaction_id, None)
        self._remember_owner(applied.ref.id, event.station_id)
        if isinstance(event, TransactionStarted):
            if event.reservation_id is not None and self._reservations is not None:
                await self._reservations.consume(event.station_id, event.reservation_id, applied.ref.id, event.id_token or "")
        elif isinstance(event, TransactionUpdated):
            await self._bus.publish(
                Event(
                    "transaction.updated",
                    event.station_id,
                    {**_ids(applied.ref), "evse_id": applied.evse_id, "samples": len(event.samples)},
                )
            )
        await self._outbox.publish_committed(events)
        return outcome

    async def _update_open(
        self, event: TransactionUpdated, authorization: AuthorizationResult | None
    ) -> TransactionOutcome | None:
        """The busy fleet's case: the next Updated of a running transaction this node has seen
        start, saying nothing new about its token or EVSE. It is stored without reading anything
        back: the event's key and samples are inserted, and the transaction's columns updated only
        when the event changes them. A higher seqNo than any stored cannot be a replay, and the
        unique key still guards it (a clash falls back to the general path). None: not this case."""
        assert isinstance(event.key, SeqNoKey) and event.station_transaction_id is not None
        running = self._open.get(event.station_id, {}).get(event.station_transaction_id)
        if (
            running is None
            or event.key.seq_no <= running.last_seq_no
            or (event.id_token is not None and event.id_token != running.id_token)
            or (event.evse_id is not None and event.evse_id != running.evse_id)
            or (event.connector_id is not None and event.connector_id != running.connector_id)
        ):
            return None
        changes = running.changes(event)
        transaction_id = running.transaction_id
        event_row = _event_row(event, transaction_id)
        samples = _meter_rows(
            event.station_id, running.evse_id, running.connector_id, transaction_id, event.samples, "TransactionEvent"
        )

        try:
            if changes:

                def write(connection: Connection) -> None:
                    connection.execute(_INSERT_EVENT, event_row)
                    if samples:
                        connection.execute(_INSERT_METER_VALUE, samples)
                    connection.execute(update(_TRANSACTIONS).where(_TRANSACTIONS.c.id == transaction_id).values(**changes))

                await self._writes.run(write)
            else:  # the usual case: inserts only, which merge with the other stations' in one executemany
                await self._writes.insert_together((_INSERT_EVENT, [event_row]), (_INSERT_METER_VALUE, samples))
        except IntegrityError:
            return None
        running.applied(event.key.seq_no, changes)
        ref = TransactionRef(transaction_id, event.station_transaction_id)
        await self._bus.publish(
            Event(
                "transaction.updated", event.station_id, {**_ids(ref), "evse_id": running.evse_id, "samples": len(event.samples)}
            )
        )
        # Only a change is written to the connector: chargers repeat their chargingState on every Updated.
        state_on = (running.evse_id, running.connector_id) if "charging_state" in changes else None
        return TransactionOutcome(ref, authorization, charging_state_on=state_on)

    # --- shared ---------------------------------------------------------------------------------

    async def _authorize(self, id_token: str | None, id_token_type: str | None) -> AuthorizationResult | None:
        """The event's token as the station presented it (2.0.1: with its type; 1.6: by value)."""
        return None if id_token is None else await self._authorization.authorize(id_token, id_token_type)

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
        remote_start_id: int | None = None,
    ) -> Page[TransactionRecord]:
        query = select(Transaction)
        if remote_start_id is not None:
            query = query.where(Transaction.remote_start_id == remote_start_id)
        if station_id is not None:
            query = query.where(Transaction.station_id == station_id)
        if id_token is not None:
            query = query.where(Transaction.id_token == id_token)
        if active is not None:
            query = query.where(Transaction.stopped_at.is_(None) if active else Transaction.stopped_at.is_not(None))
        async with self._sessions() as session:
            page = await paginate(session, query, Transaction.id.desc(), limit, offset)
        return page.map(lambda row: from_row(row, TransactionRecord))

    async def get(self, transaction_id: int) -> TransactionView:
        """A transaction by our id, with its samples oldest first."""
        return await self._view(_TRANSACTIONS.c.id == transaction_id, f"transaction {transaction_id} not found")

    async def get_for_station(self, station_id: str, station_transaction_id: str) -> TransactionView:
        """A transaction by the id its station knows it by: the station's own id (2.0.1), or, for a
        transaction that has none (1.6), our id, which is what a 1.6 station uses."""
        columns = _TRANSACTIONS.c
        by_station_id = (columns.station_id == station_id) & (columns.station_transaction_id == station_transaction_id)
        condition = by_station_id
        if station_transaction_id.isascii() and station_transaction_id.isdigit() and int(station_transaction_id) <= _DB_ID_MAX:
            ours = (
                (columns.station_id == station_id)
                & columns.station_transaction_id.is_(None)
                & (columns.id == int(station_transaction_id))
            )
            condition = by_station_id | ours
        return await self._view(
            condition, f"station {station_id!r} has no transaction {station_transaction_id!r}", prefer=by_station_id
        )

    async def _view(self, condition: Any, missing: str, prefer: Any = None) -> TransactionView:
        async with self._sessions() as session:
            query = select(_TRANSACTIONS).where(condition).limit(1)
            if prefer is not None:  # the station's own id wins over our id spelled the same way
                query = query.order_by(case((prefer, 0), else_=1))  # (NULL, not false, for a 1.6 row)
            row = (await session.execute(query)).first()
            if row is None:
                raise NotFound(missing)
            values = (
                await session.execute(
                    select(_METER_VALUES)
                    .where(_METER_VALUES.c.transaction_id == row.id)
                    .order_by(_METER_VALUES.c.timestamp, _METER_VALUES.c.id)
                )
            ).all()
            events = (
                await session.execute(
                    select(_EVENTS).where(_EVENTS.c.transaction_id == row.id).order_by(_EVENTS.c.seq_no, _EVENTS.c.id)
                )
            ).all()
        return TransactionView(
            from_row(row, TransactionRecord),
            [from_row(value, MeterReading) for value in values],
            [from_row(event, TransactionEventInfo) for event in events],
        )

    async def latest_energy_registers(self, transaction_ids: list[int]) -> dict[int, MeterReading]:
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
                    select(_METER_VALUES).join(ranked, _METER_VALUES.c.id == ranked.c.id).where(ranked.c.rank == 1)
                )
            ).all()
        return {row.transaction_id: from_row(row, MeterReading) for row in rows if row.transaction_id is not None}


def _ids(ref: TransactionRef) -> dict[str, Any]:
    return {"transaction_id": ref.id, "station_transaction_id": ref.station_transaction_id}


_WH_PER_UNIT = {"Wh": 1, "kWh": 1000}
# No energy register holds more (1 TWh: 350 kW without a pause for three centuries); a reading
# beyond it (a finite "1e300") is not a reading, and would overflow the 64-bit energy columns.
MAX_ENERGY_WH = 10**12
_DB_ID_MAX = 2**63 - 1

_TRANSACTIONS = Transaction.__table__
_METER_VALUES = MeterValue.__table__
_EVENTS = TransactionEventRecord.__table__
_INSERT_TRANSACTION = insert(_TRANSACTIONS).returning(_TRANSACTIONS.c.id)
_INSERT_METER_VALUE = insert_ignoring_repeats(_METER_VALUES)  # a repeated MeterValues is dropped (storage/repeats.py)
_INSERT_EVENT = insert(_EVENTS)


@dataclass(slots=True, frozen=True)
class _Stopped:
    """_close's answer for a transaction that had already ended: a repeated stop."""

    energy_wh: int | None


def _close(connection: Connection, end: TransactionEnded) -> int | None | _Stopped | object:
    """Store a 1.6 stop; the energy delivered (Wh), _Stopped when the transaction had ended already
    (a replay), _UNKNOWN when this station never started it."""
    columns = _TRANSACTIONS.c
    transaction = connection.execute(
        select(
            columns.station_id,
            columns.evse_id,
            columns.connector_id,
            columns.meter_start_wh,
            columns.stopped_at,
            columns.energy_wh,
        ).where(columns.id == end.transaction_id)
    ).first()
    if transaction is None or transaction.station_id != end.station_id:
        return _UNKNOWN
    if transaction.stopped_at is not None:
        return _Stopped(transaction.energy_wh)
    meter_stop_wh = end.meter_stop_wh if end.meter_stop_wh is not None else _last_register_wh(end.samples)
    energy_wh = _energy(transaction.meter_start_wh, _merged_readings(connection, end.transaction_id, end.samples), meter_stop_wh)
    connection.execute(
        update(_TRANSACTIONS)
        .where(columns.id == end.transaction_id)
        .values(
            meter_stop_wh=meter_stop_wh,
            energy_wh=energy_wh,
            stopped_at=end.timestamp,
            stop_reason=end.reason,
            stop_id_token=end.id_token,
        )
    )
    if end.samples:
        connection.execute(
            _INSERT_METER_VALUE,
            _meter_rows(
                end.station_id, transaction.evse_id, transaction.connector_id, end.transaction_id, end.samples, "StopTransaction"
            ),
        )
    return energy_wh


def _find_start(connection: Connection, key: StartKey) -> TransactionOutcome | None:
    """The transaction an identical earlier 1.6 StartTransaction created (a retry whose answer was lost)."""
    columns = _TRANSACTIONS.c
    row = connection.execute(
        select(columns.id, columns.id_token_status).where(
            columns.station_id == key.station_id,
            columns.evse_id == key.evse_id,
            columns.id_token == key.id_token,
            columns.started_at == key.started_at,
            columns.station_transaction_id.is_(None),
        )
    ).first()
    if row is None:
        return None
    status = None if row.id_token_status is None else AuthorizationResult(row.id_token_status)
    return TransactionOutcome(TransactionRef(row.id), status, duplicate=True)


# The columns that describe a running session now; each event with a higher seqNo may change them.
_CURRENT = ("charging_state", "trigger_reason", "number_of_phases_used", "cable_max_current_a")


@dataclass(slots=True)
class _OpenTransaction:
    """A started, not yet ended 2.0.1 transaction as stored, for :meth:`TransactionService._update_open`."""

    transaction_id: int
    evse_id: int
    connector_id: int
    id_token: str | None
    last_seq_no: int  # the highest seqNo stored
    offline: bool
    remote_start_id: int | None
    current: dict[str, Any]  # _CURRENT as stored

    def changes(self, event: TransactionEvent) -> dict[str, Any]:
        """The columns ``event`` (with a higher seqNo than any stored) changes."""
        details = event.details
        said = {
            "charging_state": details.charging_state,
            "trigger_reason": details.trigger_reason,
            "number_of_phases_used": details.number_of_phases_used,
            "cable_max_current_a": details.cable_max_current_a,
        }
        changes = {name: value for name, value in said.items() if value is not None and value != self.current[name]}
        if event.offline and not self.offline:
            changes["offline"] = True
        if details.remote_start_id is not None and self.remote_start_id is None:
            changes["remote_start_id"] = details.remote_start_id
        return changes

    def applied(self, seq_no: int, changes: dict[str, Any]) -> None:
        self.last_seq_no = seq_no
        self.offline = changes.get("offline", self.offline)
        self.remote_start_id = changes.get("remote_start_id", self.remote_start_id)
        self.current.update((name, value) for name, value in changes.items() if name in _CURRENT)


@dataclass(slots=True, frozen=True)
class _Applied:
    ref: TransactionRef
    authorization: AuthorizationResult | None
    duplicate: bool
    ended: bool
    newly_ended: bool
    energy_wh: int | None
    evse_id: int
    open: _OpenTransaction | None = None  # the transaction is started and not ended: what it now is
    charging_state_on: tuple[int, int] | None = None  # see TransactionOutcome


def _merge(
    connection: Connection,
    event: TransactionEvent,
    authorization: AuthorizationResult | None,
    running: _OpenTransaction | None = None,
) -> _Applied:
    """Apply an event named by the station's id (2.0.1) to its transaction, in whatever order events come.

    The first event to arrive creates the transaction with what it knows (its time as the start
    time until the Started says otherwise; EVSE 0 until an event names the EVSE). A Started sets
    the start fields; a token is stored by the first event that brings one; the first Ended ends
    it. Once ended, the energy is computed again from everything stored, so a late Started or
    Updated corrects it.

    ``running``: what this node knows of the transaction, started and not ended, when the event's
    seqNo is above any stored — then it cannot be a replay, and the highest seqNo is known.
    """
    key = event.key
    assert isinstance(key, SeqNoKey)
    columns, events = _TRANSACTIONS.c, _EVENTS.c
    tx = connection.execute(
        select(_TRANSACTIONS).where(
            columns.station_id == event.station_id, columns.station_transaction_id == event.station_transaction_id
        )
    ).first()
    seen = None
    if tx is not None and running is None:  # an event of a transaction not stored yet cannot be a replay
        seen = connection.execute(
            select(events.transaction_id).where(
                events.station_id == key.station_id,
                events.station_transaction_id == key.station_transaction_id,
                events.seq_no == key.seq_no,
            )
        ).scalar()
    if seen is not None:
        assert tx is not None
        if event.id_token is not None and event.id_token == tx.id_token and tx.id_token_status is not None:
            authorization = (
                replace(authorization, status=tx.id_token_status)
                if authorization
                else AuthorizationResult(tx.id_token_status)
            )
        return _Applied(
            TransactionRef(tx.id, tx.station_transaction_id),
            authorization,
            True,
            tx.stopped_at is not None,
            False,
            tx.energy_wh,
            tx.evse_id,
        )

    state: dict[str, Any] = (
        dict(tx._mapping)
        if tx is not None
        else {
            "id": None,
            "station_id": event.station_id,
            "station_transaction_id": event.station_transaction_id,
            "evse_id": 0,
            "connector_id": 0,
            "id_token": None,
            "id_token_key": None,
            "id_token_status": None,
            "reservation_id": None,
            "meter_start_wh": None,
            "meter_stop_wh": None,
            "energy_wh": None,
            "started_at": event.timestamp,
            "stopped_at": None,
            "start_reason": None,
            "stop_reason": None,
            "stop_id_token": None,
            "charging_state": None,
            "trigger_reason": None,
            "remote_start_id": None,
            "number_of_phases_used": None,
            "cable_max_current_a": None,
            "id_token_type": None,
            "offline": False,
        }
    )
    changes: dict[str, Any] = {}
    started_seen = running is not None or (
        tx is not None
        and connection.execute(
            select(events.id).where(events.transaction_id == tx.id, events.event_type == "Started").limit(1)
        ).first()
        is not None
    )
    if event.evse_id is not None and state["evse_id"] == 0:
        changes["evse_id"] = event.evse_id
        changes["connector_id"] = event.connector_id if event.connector_id is not None else 0
    if isinstance(event, TransactionStarted):
        if not started_seen:  # a second Started (a new seqNo) changes no start field
            changes["started_at"] = event.timestamp
            changes["start_reason"] = event.reason
            changes["reservation_id"] = event.reservation_id
            meter_start_wh = event.meter_start_wh if event.meter_start_wh is not None else _first_register_wh(event.samples)
            if meter_start_wh is not None:
                changes["meter_start_wh"] = meter_start_wh
    elif not started_seen and event.timestamp < state["started_at"]:
        changes["started_at"] = event.timestamp  # the earliest known time, until the Started comes
    details_changed, last_seq_no = _latest_details(connection, event, tx, None if running is None else running.last_seq_no)
    changes.update(details_changed)
    status = authorization
    if not isinstance(event, TransactionEnded) and event.id_token is not None and state["id_token"] is None:
        status = _concurrent(
            connection, authorization, event.id_token, event.station_id, changes.get("evse_id", state["evse_id"]), state["id"]
        )
        changes["id_token"] = event.id_token
        changes["id_token_key"] = id_token_key(event.id_token)
        changes["id_token_status"] = None if status is None else status.status
        changes["id_token_type"] = event.details.id_token_type
    newly_ended = False
    if isinstance(event, TransactionEnded) and state["stopped_at"] is None:
        newly_ended = True
        changes["stopped_at"] = event.timestamp
        changes["stop_reason"] = event.reason
        changes["stop_id_token"] = event.id_token
        changes["meter_stop_wh"] = event.meter_stop_wh if event.meter_stop_wh is not None else _last_register_wh(event.samples)
    state.update(changes)
    ended = state["stopped_at"] is not None
    if ended:
        # Computed before anything is written, with this event's samples beside the stored ones
        # (none are stored for a transaction this event creates), so the energy goes into the
        # same INSERT or UPDATE as the rest.
        readings = (
            _merged_readings(connection, tx.id, event.samples, until=state["stopped_at"])
            if tx is not None
            else _readings_of(event.samples, until=state["stopped_at"])
        )
        energy_wh = _energy(state["meter_start_wh"], readings, state["meter_stop_wh"])
        if energy_wh != state["energy_wh"]:
            changes["energy_wh"] = state["energy_wh"] = energy_wh

    if tx is None:
        row = {name: value for name, value in state.items() if name != "id"}
        transaction_id = connection.execute(_INSERT_TRANSACTION, row).scalar_one()
    else:
        transaction_id = tx.id
        if changes:
            connection.execute(update(_TRANSACTIONS).where(columns.id == transaction_id).values(**changes))
    if event.samples:
        connection.execute(
            _INSERT_METER_VALUE,
            _meter_rows(
                event.station_id, state["evse_id"], state["connector_id"], transaction_id, event.samples, "TransactionEvent"
            ),
        )
    connection.execute(_INSERT_EVENT, _event_row(event, transaction_id))
    energy_wh = state["energy_wh"]
    running = None
    if not ended and (started_seen or isinstance(event, TransactionStarted)):
        running = _OpenTransaction(
            transaction_id,
            state["evse_id"],
            state["connector_id"],
            state["id_token"],
            last_seq_no,
            state["offline"],
            state["remote_start_id"],
            {name: state[name] for name in _CURRENT},
        )
    return _Applied(
        TransactionRef(transaction_id, event.station_transaction_id),
        status,
        False,
        ended,
        newly_ended,
        energy_wh,
        state["evse_id"],
        running,
        (state["evse_id"], state["connector_id"]) if "charging_state" in details_changed and state["evse_id"] else None,
    )


def _event_row(event: TransactionEvent, transaction_id: int) -> dict[str, Any]:
    key = event.key
    assert isinstance(key, SeqNoKey)
    return {
        "station_id": key.station_id,
        "station_transaction_id": key.station_transaction_id,
        "seq_no": key.seq_no,
        "transaction_id": transaction_id,
        "event_type": _EVENT_TYPES[type(event)],
        "timestamp": event.timestamp,
        "reason": event.reason,
        "offline": event.offline,
    }


_EVENT_TYPES = {TransactionStarted: "Started", TransactionUpdated: "Updated", TransactionEnded: "Ended"}


def _detail_columns(details: TransactionDetails, offline: bool) -> dict[str, Any]:
    return {
        "trigger_reason": details.trigger_reason,
        "charging_state": details.charging_state,
        "remote_start_id": details.remote_start_id,
        "number_of_phases_used": details.number_of_phases_used,
        "cable_max_current_a": details.cable_max_current_a,
        "id_token_type": details.id_token_type,
        "offline": offline,
    }


def _latest_details(
    connection: Connection, event: TransactionEvent, tx: Any, stored_seq_no: int | None = None
) -> tuple[dict[str, Any], int]:
    """The columns ``event`` changes, and the transaction's highest seqNo with it (``stored_seq_no``:
    the highest stored, when known). What describes the session now (charging state, trigger
    reason, phases, cable current) follows the event with the highest seqNo, so a late-delivered
    older event does not overwrite it; the remoteStartId is kept from whichever event brings it;
    ``offline`` records that any event was queued."""
    assert isinstance(event.key, SeqNoKey)
    details = event.details
    changes: dict[str, Any] = {}
    if tx is None or not tx.offline:
        if event.offline:
            changes["offline"] = True
    if details.remote_start_id is not None and (tx is None or tx.remote_start_id is None):
        changes["remote_start_id"] = details.remote_start_id
    stored = stored_seq_no
    if stored is None and tx is not None:
        stored = connection.execute(select(func.max(_EVENTS.c.seq_no)).where(_EVENTS.c.transaction_id == tx.id)).scalar()
    newest = stored is None or event.key.seq_no >= stored
    if newest:
        current = {
            "charging_state": details.charging_state,
            "trigger_reason": details.trigger_reason,
            "number_of_phases_used": details.number_of_phases_used,
            "cable_max_current_a": details.cable_max_current_a,
        }
        changes.update({name: value for name, value in current.items() if value is not None})
    return changes, event.key.seq_no if newest else stored


def _concurrent(
    connection: Connection,
    authorization: AuthorizationResult | None,
    id_token: str | None,
    station_id: str,
    evse_id: int,
    transaction_id: int | None = None,
) -> AuthorizationResult | None:
    """The answer for a token that starts (or joins) a transaction: ConcurrentTx when it already
    holds an active transaction on another station or EVSE (one session per token at a time)."""
    if authorization is None or id_token is None or authorization.status != "Accepted":
        return authorization
    if _busy_elsewhere(connection, id_token, authorization.id_token_type, station_id, evse_id, transaction_id):
        return replace(authorization, status="ConcurrentTx")
    return authorization


def _key(id_token: str | None) -> str | None:
    return None if id_token is None else id_token_key(id_token)


def _busy_elsewhere(
    connection: Connection,
    id_token: str,
    id_token_type: str | None,
    station_id: str,
    evse_id: int,
    transaction_id: int | None = None,
) -> bool:
    """Whether the token holds an active transaction on another station or EVSE (other than ``transaction_id``).

    ``id_token_type`` is the registered token's type: a transaction a 2.0.1 station started with
    the same value but another type is another token's (1.6 transactions have no type and count).
    The value matches whatever its case (OCPP: an IdToken is case insensitive), by its key.
    """
    query = (
        select(Transaction.id)
        .where(Transaction.id_token_key == id_token_key(id_token), Transaction.stopped_at.is_(None))
        .where((Transaction.station_id != station_id) | (Transaction.evse_id != evse_id))
    )
    if id_token_type is not None:
        query = query.where(Transaction.id_token_type.is_(None) | (Transaction.id_token_type == id_token_type))
    if transaction_id is not None:
        query = query.where(Transaction.id != transaction_id)
    return connection.execute(query.limit(1)).first() is not None


def _stored_owner(connection: Connection, transaction_id: int) -> str | None:
    return connection.execute(select(Transaction.station_id).where(Transaction.id == transaction_id)).scalar()


def _merged_readings(
    connection: Connection,
    transaction_id: int,
    extra_samples: tuple[MeterSample, ...] | list[MeterSample],
    until: datetime | None = None,
) -> list[int]:
    """The transaction's whole-meter energy register readings in Wh, in the order they were taken.

    By time, and readings with the same timestamp in the order they arrived: a reset sent in the
    same millisecond as the reading before it must stay after it. An end often repeats readings
    earlier messages already brought (1.6 transactionData, 2.0.1 SampledDataTxEndedMeasurands); a
    repeat (same time, same value) counts once. With ``until``, readings taken after it (after the
    end, sent by a later event) are not part of the session.
    """
    query = select(MeterValue.timestamp, MeterValue.value_numeric, MeterValue.unit).where(
        MeterValue.transaction_id == transaction_id, *_WHOLE_METER_REGISTER
    )
    if until is not None:
        query = query.where(MeterValue.timestamp <= until)
    rows = connection.execute(query.order_by(MeterValue.timestamp, MeterValue.id))
    stored = [(t, wh) for t, value, unit in rows if (wh := register_wh(value, unit)) is not None]
    return _ordered([*stored, *_timed_readings(extra_samples, until)])


def _readings_of(samples: tuple[MeterSample, ...] | list[MeterSample], until: datetime | None = None) -> list[int]:
    """:func:`_merged_readings` of a transaction with nothing stored yet: the samples' own."""
    return _ordered(_timed_readings(samples, until))


def _timed_readings(samples: tuple[MeterSample, ...] | list[MeterSample], until: datetime | None) -> list[tuple[datetime, int]]:
    return [
        (sample.timestamp, wh)
        for sample in samples
        if (until is None or sample.timestamp <= until) and (wh := _sample_wh(sample)) is not None
    ]


def _ordered(readings: list[tuple[datetime, int]]) -> list[int]:
    """Wh values by time; a repeat (same time, same value) counts once, equal times keep arrival order."""
    unique = list(dict.fromkeys(readings))  # first occurrence of each, in arrival order
    unique.sort(key=lambda reading: reading[0])  # stable
    return [wh for _, wh in unique]


# Only whole-meter readings at the outlet count as "the" energy register: per-phase values and the
# EV's or the grid inlet's readings measure something else.
_WHOLE_METER_REGISTER = (
    MeterValue.measurand == ENERGY_REGISTER,
    MeterValue.value_numeric.is_not(None),
    MeterValue.phase.is_(None),
    (MeterValue.location.is_(None)) | (MeterValue.location == "Outlet"),
)


def _sample_wh(sample: MeterSample) -> int | None:
    unit = sample.unit
    if sample.measurand != ENERGY_REGISTER or sample.phase is not None or sample.location not in (None, "Outlet"):
        return None
    return None if sample.value_numeric is None else register_wh(sample.value_numeric, unit)


def register_wh(value: float, unit: str | None) -> int | None:
    """A register reading in Wh, or None when its unit is not an energy unit or it is beyond any meter."""
    per_unit = _WH_PER_UNIT.get(unit or "Wh")
    if per_unit is None or abs(value * per_unit) > MAX_ENERGY_WH:
        return None
    return round(value * per_unit)


def _first_register_wh(samples: tuple[MeterSample, ...]) -> int | None:
    readings = [wh for sample in samples if (wh := _sample_wh(sample)) is not None]
    return readings[0] if readings else None


def _last_register_wh(samples: tuple[MeterSample, ...]) -> int | None:
    readings = [wh for sample in samples if (wh := _sample_wh(sample)) is not None]
    return readings[-1] if readings else None


def _energy(meter_start_wh: int | None, readings: list[int], meter_stop_wh: int | None) -> int | None:
    """:func:`delivered_wh`, with the first reading standing in for an unknown start reading and the
    last for an unknown stop reading (2.0.1 has neither field); None without any reading at all."""
    start = meter_start_wh if meter_start_wh is not None else (readings[0] if readings else meter_stop_wh)
    stop = meter_stop_wh if meter_stop_wh is not None else (readings[-1] if readings else start)
    if start is None or stop is None:
        return None
    return delivered_wh(start, readings, stop)


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


def _meter_rows(
    station_id: str,
    evse_id: int,
    connector_id: int,
    transaction_id: int | None,
    samples: tuple[MeterSample, ...] | list[MeterSample],
    source: str,
) -> list[dict[str, Any]]:
    return [_meter_row(station_id, evse_id, connector_id, transaction_id, sample, source) for sample in samples]


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
        "unit_multiplier": sample.multiplier,
        "signed_meter_value": sample.signed_meter_value,
        "source": source,
        "repeat_key": repeat_key(
            station_id, evse_id, connector_id, transaction_id, sample.timestamp.isoformat(), sample.value,
            sample.measurand, sample.context, sample.unit, sample.phase, sample.location, sample.format,
            sample.multiplier, sample.signed_meter_value, source,
        ),  # fmt: skip
    }
