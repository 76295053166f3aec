"""Leases: a named right to run one periodic job, held by one process until it expires.

A lease is a row ``(name, holder, expires_at)``. Taking or renewing it is one atomic statement,

    UPDATE leases SET holder = :me, expires_at = :until
    WHERE name = :name AND (expires_at < :now OR holder = :me)

which succeeds for the holder (a renewal) or for anyone once the holder stopped renewing (a
take-over), and for nobody else. PostgreSQL re-checks the WHERE clause on the row it locked, so
two processes racing for an expired lease cannot both win; SQLite has one writer at a time. The
first use inserts the row (``ON CONFLICT DO NOTHING``: of two first users, one inserts).

Times are the processes' own clocks (UTC): they must agree (NTP) to well within a lease's time to
live, which is seconds. A job runs only for half its lease's time to live after taking it (see
:class:`~kilowatt.jobs.runner.JobRunner`), so a slow run cannot overlap the next holder's.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from kilowatt.storage.cluster_models import Lease
from kilowatt.storage.models import utcnow

_LEASES = Lease.__table__
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class LeaseStore:
    """Takes, renews and gives back leases in the ``leases`` table."""

    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._insert = _INSERTS[engine.dialect.name](_LEASES).on_conflict_do_nothing(index_elements=["name"])

    async def acquire(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew lease ``name`` for ``ttl_s`` seconds; True if ``holder`` now holds it."""
        now = utcnow()
        until = now + timedelta(seconds=ttl_s)
        columns = _LEASES.c
        async with self._engine.begin() as connection:
            renewed = await connection.execute(
                update(_LEASES)
                .where(columns.name == name, or_(columns.expires_at < now, columns.holder == holder))
                .values(holder=holder, expires_at=until)
            )
            if renewed.rowcount == 1:
                return True
            inserted = await connection.execute(self._insert, {"name": name, "holder": holder, "expires_at": until})
            return inserted.rowcount == 1

    async def release(self, name: str, holder: str) -> None:
        """Give the lease back now (a clean stop): another process takes the job over at its next try."""
        columns = _LEASES.c
        async with self._engine.begin() as connection:
            await connection.execute(
                update(_LEASES)
                .where(columns.name == name, columns.holder == holder)
                .values(expires_at=utcnow() - timedelta(microseconds=1))
            )

    async def holder(self, name: str) -> tuple[str, object] | None:
        """``(holder, expires_at)`` of lease ``name`` as stored, or None (diagnostics and tests)."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(_LEASES.select().where(_LEASES.c.name == name))).first()
        return None if row is None else (row.holder, row.expires_at)
