"""The outbox: events that others act on are stored with the data they describe, then published.

A service that changes data and announces it (a transaction started or ended, a reservation used
or expired) writes the event into the ``outbox`` table in the same database transaction as the
data (:meth:`Outbox.record` in a batched write, :meth:`Outbox.record_in_session` in an ORM
session). Once that transaction is committed:

1. the writing process publishes the events at once (:meth:`Outbox.publish_committed`), as it did
   before there was an outbox: listeners see them as soon as the data is stored, and no extra
   database round trip is awaited on the message's path;
2. it marks them sent a moment later, many at a time, from a background task (one UPDATE per
   ``MARK_INTERVAL_S`` at most) — only those the bus confirmed (``on_sent``: between processes,
   once Redis took them), so an event the bus dropped while Redis was down stays unsent;
3. the relay (:meth:`Outbox.relay_once`, a periodic job under a lease: one process at a time)
   publishes every event still unsent ``grace_s`` after it was written — its writer died between
   the commit and the publish (or the mark) — and marks it sent.

So a committed event is published at least once. It is published twice only when its writer
published it and died before its mark was stored (or took longer than ``grace_s`` to publish):
consumers de-duplicate by :attr:`Event.id`. Two relays never publish the same row: each first
claims the rows it will publish (an atomic UPDATE of unclaimed or expired claims, ``SKIP LOCKED`` on
PostgreSQL), and marks them sent only as the claimer.

Events that are live hints only (``transaction.updated``, ``meter.values``) are not written
here: they are published directly, and a lost one costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kilowatt.bus.base import Bus, Event
from kilowatt.storage.cluster_models import OutboxEvent
from kilowatt.storage.models import utcnow

log = structlog.get_logger("kilowatt.outbox")

_OUTBOX = OutboxEvent.__table__
_INSERT = insert(_OUTBOX)
MARK_INTERVAL_S = 0.5  # how long a published event waits, at most, to be marked sent with others
CLAIM_S = 30.0  # a relay's claim on rows it is publishing; a relay that died leaves them after this
KEEP_SENT_S = 3600.0  # sent rows are deleted after this long (they are kept a while for diagnostics)
RELAY_BATCH = 500
CONFIRM_S = 5.0  # how long the relay waits for the bus to confirm what it published
PRUNE_INTERVAL_S = 60.0


def outbox_row(event: Event) -> dict[str, Any]:
    """The ``outbox`` row that stores ``event`` (its data must be a JSON object)."""
    return {
        "event_id": event.id,
        "type": event.type,
        "station_id": event.station_id,
        "data": event.data,
        "occurred_at": event.at,
        "created_at": utcnow(),
        "sent_at": None,
    }


class Outbox:
    """Writes events with their data, publishes them after the commit, and relays the forgotten ones."""

    def __init__(self, engine: AsyncEngine, bus: Bus, node_id: str, grace_s: float = 10.0):
        self._engine = engine
        self._bus = bus
        self._node_id = node_id
        self.grace_s = grace_s
        self._postgres = engine.dialect.name == "postgresql"
        self._to_mark: list[str] = []
        self._marker: asyncio.Task[None] | None = None
        self._flush_now = asyncio.Event()
        self._closing = False
        self._pruned_at = float("-inf")
        self.relayed = 0  # counters for tests and diagnostics
        self.published = 0

    # --- writing: inside the data's transaction -------------------------------------------------

    @staticmethod
    def record(connection: Connection, events: Sequence[Event]) -> None:
        """Store ``events`` on ``connection``, in its transaction (a batched write's)."""
        if events:
            connection.execute(_INSERT, [outbox_row(event) for event in events])

    @staticmethod
    async def record_in_session(session: AsyncSession, events: Sequence[Event]) -> None:
        """Store ``events`` in ``session``'s transaction (an ORM unit of work)."""
        if events:
            await session.execute(_INSERT, [outbox_row(event) for event in events])

    # --- after the commit: publish now, mark later ----------------------------------------------

    async def publish_committed(self, events: Sequence[Event]) -> None:
        """Publish events whose rows are committed; they are marked sent in the background once
        the bus has confirmed them.

        A publish that fails or that the bus drops leaves its event unmarked: the relay publishes
        it after ``grace_s``.
        """
        for event in events:
            try:
                await self._bus.publish(event, on_sent=lambda event_id=event.id: self._sent(event_id))
            except Exception:
                log.warning("publishing an event failed; the outbox relay will", event_type=event.type, exc_info=True)

    def _sent(self, event_id: str) -> None:
        """The bus confirmed the event: mark it sent with the next batch of marks."""
        self.published += 1
        self._to_mark.append(event_id)
        if self._marker is None and not self._closing:
            self._marker = asyncio.get_running_loop().create_task(self._mark_soon())

    async def _mark_soon(self) -> None:
        while self._to_mark:  # also those published while the previous marks were being stored
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MARK_INTERVAL_S):
                    await self._flush_now.wait()  # close() cuts the wait short, never a flush
            await self.flush_marks()
        self._marker = None

    async def flush_marks(self) -> None:
        """Mark every event published here so far as sent (one statement)."""
        ids, self._to_mark = self._to_mark, []
        if not ids:
            return
        columns = _OUTBOX.c
        try:
            async with self._engine.begin() as connection:
                for start in range(0, len(ids), 1000):
                    await connection.execute(
                        update(_OUTBOX)
                        .where(columns.event_id.in_(ids[start : start + 1000]), columns.sent_at.is_(None))
                        .values(sent_at=utcnow())
                    )
        except Exception:  # the relay will publish them again: a duplicate, never a loss
            log.warning("marking published events sent failed", count=len(ids), exc_info=True)

    async def close(self) -> None:
        """Store the marks still pending (a clean stop leaves the relay nothing to send twice).

        Call it after the bus has sent what it buffered (:meth:`Bus.flush`), so that those events
        are confirmed and marked too. A mark being stored is finished, not cancelled: a cancelled
        UPDATE would leave published events to be published again.
        """
        self._closing = True
        self._flush_now.set()
        if self._marker is not None:
            await self._marker
        await self.flush_marks()

    # --- the relay: a periodic job, one process at a time -----------------------------------------

    async def relay_once(self) -> int:
        """Publish the events still unsent ``grace_s`` after they were written; returns how many."""
        total = 0
        loop = asyncio.get_running_loop()
        while True:
            rows = await self._claim()
            if not rows:
                return total
            confirmations: dict[int, asyncio.Future[None]] = {}
            try:
                for row in rows:
                    confirmed = confirmations[row.id] = loop.create_future()
                    await self._bus.publish(
                        Event(row.type, row.station_id, row.data, at=row.occurred_at, id=row.event_id),
                        on_sent=lambda confirmed=confirmed: confirmed.done() or confirmed.set_result(None),
                    )
                await asyncio.wait(confirmations.values(), timeout=CONFIRM_S)
            finally:
                taken = {row_id for row_id, confirmed in confirmations.items() if confirmed.done()}
                sent = [row.id for row in rows if row.id in taken]
                await self._settle(sent, [row.id for row in rows if row.id not in taken])
            total += len(sent)
            self.relayed += len(sent)
            if sent:
                log.info("outbox events relayed", count=len(sent))
            if len(sent) < len(rows):  # the bus did not take them all (Redis down?): the next round tries again
                log.warning("outbox events not confirmed by the bus; retried next round", count=len(rows) - len(sent))
                return total
            if len(rows) < RELAY_BATCH:
                return total

    async def _claim(self) -> list[Any]:
        now = utcnow()
        columns = _OUTBOX.c
        claimable = (columns.sent_at.is_(None), or_(columns.claimed_until.is_(None), columns.claimed_until < now))
        candidates = (
            select(columns.id)
            .where(*claimable, columns.created_at <= now - timedelta(seconds=self.grace_s))
            .order_by(columns.id)
            .limit(RELAY_BATCH)
        )
        if self._postgres:  # a second relay skips the rows the first is claiming instead of waiting
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(_OUTBOX)
            .where(columns.id.in_(candidates.scalar_subquery()), *claimable)
            .values(claimed_by=self._node_id, claimed_until=now + timedelta(seconds=CLAIM_S))
            .returning(columns.id, columns.event_id, columns.type, columns.station_id, columns.data, columns.occurred_at)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return sorted(rows, key=lambda row: row.id)

    async def _settle(self, sent: list[int], unsent: list[int]) -> None:
        """Mark what this relay published sent, and give back its claim on the rest."""
        columns = _OUTBOX.c
        mine = columns.claimed_by == self._node_id
        async with self._engine.begin() as connection:
            if sent:
                await connection.execute(update(_OUTBOX).where(columns.id.in_(sent), mine).values(sent_at=utcnow()))
            if unsent:
                await connection.execute(
                    update(_OUTBOX).where(columns.id.in_(unsent), mine).values(claimed_by=None, claimed_until=None)
                )

    async def prune(self) -> int:
        """Delete rows sent more than an hour ago; returns how many."""
        columns = _OUTBOX.c
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(_OUTBOX).where(columns.sent_at.is_not(None), columns.sent_at < utcnow() - timedelta(seconds=KEEP_SENT_S))
            )
        return result.rowcount or 0

    async def relay_job(self) -> None:
        """The periodic job: relay what its writers did not publish; once a minute, prune what is long sent."""
        await self.relay_once()
        if time.monotonic() - self._pruned_at >= PRUNE_INTERVAL_S:
            self._pruned_at = time.monotonic()
            await self.prune()
