"""Engine and session factory: one code path for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SQLITE_BUSY_TIMEOUT_S = 30  # how long a connection waits for another process's write lock
SQLITE_CACHE_MIB = 64  # page cache of the process's SQLite connection (KILOWATT_SQLITE_CACHE_MIB)


def json_dumps(value: Any) -> str:
    """JSON columns (command payloads, event details) through orjson: several times faster than
    the standard library, on a path every boot takes."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, *, sqlite_cache_mib: int = SQLITE_CACHE_MIB, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout, a page cache of ``sqlite_cache_mib`` and
    enforced foreign keys on every connection.

    SQLite allows one writer at a time, and a connection that finds the database locked sleeps in
    SQLite's busy handler (in steps of up to 100 ms). With a pool of connections, a burst of
    messages turns into lock contention and throughput collapses. So a process uses ONE SQLite
    connection: sessions wait their turn in the pool's queue — in order, without sleeping — and
    each transaction runs at full speed. (Several processes on one SQLite file still meet at the
    lock; that is what PostgreSQL is for.)

    The page cache is SQLite's default of 2 MiB otherwise. A busy fleet appends to the meter-value
    indexes at one place per charging station — thousands of leaf pages — so with 2 MiB nearly
    every insert would read its index pages back from the file. The cache grows to its size only as pages are used; ``kilowatt serve``
    takes it from ``KILOWATT_SQLITE_CACHE_MIB``.
    """
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if is_sqlite(url):
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 120)
        # Every user of the connection ends its own transaction (sessions roll back on close, the
        # write batcher commits or rolls back), so the pool's extra ROLLBACK on each return is
        # pure cost: on aiosqlite it is one more hand-off to the connection's thread.
        kwargs.setdefault("pool_reset_on_return", None)
        # check_same_thread=False: the write batcher runs its batches on the event loop's thread
        # while it holds the (only) pooled connection, so use is still one thread at a time.
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if make_url(url).database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA cache_size=-{sqlite_cache_mib * 1024}")  # negative: in KiB
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
