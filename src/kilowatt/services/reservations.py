"""Reservations: a connector (EVSE) held for one id token until an expiry date.

Lifecycle of a row (its id is the OCPP reservationId)::

    Requested --ReserveNow answer--> Accepted | Faulted | Occupied | Rejected | Unavailable
                                  \\-> Failed (no answer: offline, busy, timeout, CALLERROR, invalid)
    Accepted --StartTransaction with the reservationId--> Used (transaction linked)
             --CancelReservation Accepted---------------> Cancelled
             --expiry_date passed------------------------> Expired (the expiry job; reads show it at once)

The row is created before ReserveNow is sent, because the station needs the reservationId.

The events that others act on (``reservation.used``, ``reservation.expired``, the station's own
updates) are written to the outbox with the reservation's new status. :meth:`expire_due` is a
periodic job that runs under a lease (``reservations.expire``, see :mod:`kilowatt.jobs`): one
process expires reservations at a time, so each expiry is announced once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

import structlog
from sqlalchemy import and_, or_, select, update

from kilowatt.bus.base import Event
from kilowatt.commands.model import CancelReservation, IdTokenType, ReserveNow
from kilowatt.jobs.outbox import Outbox
from kilowatt.services.authorization import AuthorizationService
from kilowatt.services.command_service import CommandAnswer, CommandFailed, CommandService
from kilowatt.services.common import Conflict, Invalid, NotFound, Page, from_row, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import Reservation, id_token_key, utcnow

log = structlog.get_logger("kilowatt.reservations")

STATION_ANSWERS = ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")
# What a StartTransaction naming the reservation may consume: the station's word is final, so a
# reservation we think expired (clocks differ) or whose ReserveNow answer we lost still counts.
_CONSUMABLE = ("Requested", "Accepted", "Expired", "Failed")
_CANCELLABLE = ("Requested", "Accepted", "Failed")


@dataclass(slots=True, frozen=True)
class ReservationRecord:
    """A reservation as stored (reads show an Accepted one past its expiry date as Expired)."""

    id: int  # the OCPP reservationId
    station_id: str
    evse_id: int  # 0: any connector
    id_token: str
    parent_id_token: str | None
    expiry_date: datetime
    status: str
    transaction_id: int | None  # the transaction that used it
    created_at: datetime
    updated_at: datetime


class ReservationService:
    def __init__(
        self,
        sessions: SessionFactory,
        commands: CommandService,
        authorization: AuthorizationService,
        outbox: Outbox,
    ):
        self._sessions = sessions
        self._commands = commands
        self._authorization = authorization
        self._outbox = outbox

    async def reserve(
        self, station_id: str, evse_id: int, id_token: str, expiry_date: datetime, requested_by: str
    ) -> tuple[ReservationRecord, CommandAnswer]:
        """ReserveNow; the station's answer is stored as the reservation's status."""
        if expiry_date.tzinfo is None:
            raise Invalid("expiry_date must carry a time zone")
        if expiry_date <= utcnow():
            raise Invalid("expiry_date must be in the future")
        authorization = await self._authorization.authorize(id_token)
        if authorization.status != "Accepted":
            raise Invalid(f"id token {id_token!r} cannot reserve: its authorization is {authorization.status}")
        reservation = Reservation(
            station_id=station_id,
            evse_id=evse_id,
            id_token=id_token,
            parent_id_token=authorization.parent_id_token,
            expiry_date=expiry_date.astimezone(timezone.utc),
            status="Requested",
        )
        async with self._sessions.begin() as session:
            session.add(reservation)
        command = ReserveNow(
            reservation.id,
            evse_id,
            id_token,
            reservation.expiry_date,
            reservation.parent_id_token,
            _token_type(authorization.id_token_type),
            _token_type(authorization.parent_id_token_type),
        )
        try:
            answer = await self._commands.send(station_id, command, requested_by)
        except (CommandFailed, NotFound):
            await self._set_status(reservation.id, "Failed", ("Requested",))
            raise
        status = answer.status if answer.status in STATION_ANSWERS else "Failed"
        return await self._set_status(reservation.id, status, ("Requested",)), answer

    async def cancel(
        self, reservation_id: int, requested_by: str, station_id: str | None = None
    ) -> tuple[ReservationRecord, CommandAnswer]:
        """CancelReservation; Accepted makes the reservation Cancelled."""
        reservation = await self.get(reservation_id, station_id)
        if reservation.status not in _CANCELLABLE:
            raise Conflict(f"reservation {reservation_id} is {reservation.status}; only an active reservation can be cancelled")
        answer = await self._commands.send(reservation.station_id, CancelReservation(reservation_id), requested_by)
        if answer.status == "Accepted":
            reservation = await self._set_status(reservation_id, "Cancelled", _CANCELLABLE)
        return reservation, answer

    async def consume(self, station_id: str, reservation_id: int, transaction_id: int, id_token: str) -> bool:
        """A transaction started on the reservation: it is Used and linked to the transaction.

        Called by the transaction service before the StartTransaction is answered. Idempotent (a
        replayed start changes nothing); returns False when the reservation is not this station's
        or cannot be used any more (logged, and the start itself stands).
        """
        async with self._sessions.begin() as session:
            reservation = await session.get(Reservation, reservation_id)
            if reservation is None or reservation.station_id != station_id:
                log.warning("StartTransaction names an unknown reservation", station_id=station_id, reservation_id=reservation_id)
                return False
            if reservation.status == "Used":
                return reservation.transaction_id == transaction_id
            if reservation.status not in _CONSUMABLE:
                log.warning(
                    "StartTransaction names a reservation that is not active",
                    station_id=station_id,
                    reservation_id=reservation_id,
                    status=reservation.status,
                )
                return False
            # Tokens match whatever their case (OCPP: an IdToken is case insensitive).
            if id_token_key(id_token) not in {id_token_key(t) for t in (reservation.id_token, reservation.parent_id_token) if t}:
                log.info("reservation used by another id token of its group or by the station's choice", reservation_id=reservation_id)
            reservation.status = "Used"
            reservation.transaction_id = transaction_id
            events = [Event("reservation.used", station_id, {"reservation_id": reservation_id, "transaction_id": transaction_id})]
            await Outbox.record_in_session(session, events)
        await self._outbox.publish_committed(events)
        return True

    async def station_update(self, station_id: str, reservation_id: int, status: str) -> ReservationRecord | None:
        """The station ended a reservation on its own (OCPP 2.0.1 ReservationStatusUpdate):
        ``Expired`` (its expiry time passed) or ``Removed`` (it could no longer hold it, e.g. the
        EVSE became unavailable); 2.1's other words are stored as sent.

        Only an active reservation moves (Requested, Accepted, Failed — the station's word is
        final, as for a start — or Expired by our own expiry job, which the station's Removed
        corrects). Returns the reservation as stored, or None (logged) when it is not this
        station's or not known: the station's message is answered all the same.
        """
        moved_from = ("Requested", "Accepted", "Failed", "Expired")
        async with self._sessions.begin() as session:
            reservation = await session.get(Reservation, reservation_id)
            if reservation is None or reservation.station_id != station_id:
                log.warning(
                    "ReservationStatusUpdate names an unknown reservation", station_id=station_id, reservation_id=reservation_id
                )
                return None
            if reservation.status == status:  # a repeat
                return from_row(reservation, ReservationRecord)
            if reservation.status not in moved_from:
                log.info(
                    "ReservationStatusUpdate for a reservation that is no longer active",
                    station_id=station_id,
                    reservation_id=reservation_id,
                    status=reservation.status,
                    update=status,
                )
                return from_row(reservation, ReservationRecord)
            reservation.status = status
            reservation.updated_at = utcnow()
            await session.flush()
            record = from_row(reservation, ReservationRecord)
            events = [Event(f"reservation.{status.lower()}", station_id, {"reservation_id": reservation_id})]
            await Outbox.record_in_session(session, events)
        await self._outbox.publish_committed(events)
        return record

    async def expire_due(self) -> int:
        """Accepted reservations past their expiry date become Expired; returns how many.

        The periodic job ``reservations.expire`` (under a lease: one process at a time). One
        UPDATE ... WHERE status = 'Accepted' RETURNING moves them all in one round trip, and only
        rows it moved are announced: a start consuming a reservation meanwhile wins (PostgreSQL
        re-checks the condition on a row another transaction changed), and nothing is announced twice.
        """
        now = utcnow()
        async with self._sessions.begin() as session:
            moved = (
                await session.execute(
                    update(Reservation)
                    .where(Reservation.status == "Accepted", Reservation.expiry_date <= now)
                    .values(status="Expired", updated_at=now)
                    .returning(Reservation.id, Reservation.station_id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            events = [
                Event("reservation.expired", row.station_id, {"reservation_id": row.id})
                for row in sorted(moved, key=lambda row: row.id)
            ]
            await Outbox.record_in_session(session, events)
        await self._outbox.publish_committed(events)
        if events:
            log.info("reservations expired", count=len(events))
        return len(events)

    # --- reads: an Accepted reservation past its expiry reads as Expired before the expiry job runs

    async def get(self, reservation_id: int, station_id: str | None = None) -> ReservationRecord:
        async with self._sessions() as session:
            reservation = await session.get(Reservation, reservation_id)
        if reservation is None or (station_id is not None and reservation.station_id != station_id):
            raise NotFound(f"reservation {reservation_id} not found")
        return _as_read(reservation, utcnow())

    async def list(self, station_id: str, limit: int = 50, offset: int = 0, status: str | None = None) -> Page[ReservationRecord]:
        now = utcnow()
        query = select(Reservation).where(Reservation.station_id == station_id)
        if status == "Expired":
            query = query.where(
                or_(Reservation.status == "Expired", and_(Reservation.status == "Accepted", Reservation.expiry_date <= now))
            )
        elif status == "Accepted":
            query = query.where(Reservation.status == "Accepted", Reservation.expiry_date > now)
        elif status:
            query = query.where(Reservation.status == status)
        async with self._sessions() as session:
            page = await paginate(session, query, Reservation.id.desc(), limit, offset)
        return page.map(lambda row: _as_read(row, now))

    async def _set_status(self, reservation_id: int, status: str, from_statuses: tuple[str, ...]) -> ReservationRecord:
        """Move to ``status`` unless something else moved it meanwhile (e.g. a start consumed it); returns it as stored."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Reservation)
                .where(Reservation.id == reservation_id, Reservation.status.in_(from_statuses))
                .values(status=status, updated_at=utcnow())
            )
            current = await session.get(Reservation, reservation_id, populate_existing=True)
            assert current is not None
            return from_row(current, ReservationRecord)


def _as_read(reservation: Reservation, now: datetime) -> ReservationRecord:
    record = from_row(reservation, ReservationRecord)
    if record.status == "Accepted" and record.expiry_date <= now:
        return replace(record, status="Expired")  # what is shown, not what is stored
    return record


def _token_type(name: str | None) -> IdTokenType | None:
    """The registered type as the command carries it (2.0.1 sends the token with it; 1.6 ignores it)."""
    return None if name is None else IdTokenType(name)
