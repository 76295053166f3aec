"""Tables that several processes of one deployment share to coordinate: leases, the outbox, nodes.

``leases`` belongs to :mod:`kilowatt.jobs.leases`, ``outbox`` to :mod:`kilowatt.jobs.outbox`,
``nodes`` to :mod:`kilowatt.jobs.nodes`. They live in the database every process already uses, so
coordinating needs nothing else (and works on SQLite, where role ``all`` is the only process).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from kilowatt.storage.models import Base, BigIntId, utcnow


class Lease(Base):
    """One periodic job's lease: ``holder`` runs the job until ``expires_at`` unless it renews it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))  # the node id (Settings.node_id) of the process holding it
    expires_at: Mapped[datetime]


class OutboxEvent(Base):
    """A domain event written in the transaction of the data it describes, until it is published.

    ``sent_at`` is set once the event reached the bus (by the process that wrote it, right after its
    commit, or by the relay); ``claimed_by``/``claimed_until`` keep two relays from publishing the
    same row at once.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's question ("what is not sent yet?") reads only the unsent rows.
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"), sqlite_where=text("sent_at IS NULL")),
        Index("ix_outbox_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)  # the relay's order
    event_id: Mapped[str] = mapped_column(String(36), unique=True)  # Event.id: consumers de-duplicate by it
    type: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(48))
    data: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]  # Event.at
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]


class Node(Base):
    """A running process, by its node id: it refreshes ``seen_at`` while it lives."""

    __tablename__ = "nodes"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
