"""WAL checkpoints on their own thread, off the path of every write.

In WAL mode with ``synchronous=NORMAL`` a commit appends to the WAL file and does not wait for the
disk; the disk is synced when the WAL is *checkpointed* (copied back into the database file). By
default SQLite checkpoints inside whichever commit pushes the WAL past 1,000 pages — so every few
seconds under load one write batch, and every station waiting on it, waited for an fsync
(docs/performance.md has the measurements).

The :class:`WalCheckpointer` turns that off on the process's connection and runs a PASSIVE
checkpoint every second from a connection of its own on a background thread. PASSIVE never blocks
the writer (it copies what is committed and leaves the rest for next time), so the writer only
appends. Durability is unchanged: what NORMAL loses on power failure is the same either way.

The WAL must also be *restarted*, or it grows for as long as writes go on. The writer starts the
WAL file over from its beginning, but only when a transaction begins while every frame in it has
been copied back. One PASSIVE pass copies the frames that were there when it started, while the
writer goes on appending, so under steady load (a busy fleet commits hundreds of times a second)
one pass a second never catches up, and the WAL grows without end. So each round repeats the
pass — each one copies only what arrived during the one before, which takes less time — until a
pass finds nothing new; the next
commit then restarts the WAL, and ``journal_size_limit`` truncates a file that a burst made large.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("kilowatt.storage")

_MAX_PASSES = 20  # per round; under a load that never lets a pass come up empty, the next round goes on
_PRAGMAS = (
    "PRAGMA wal_autocheckpoint=0",  # checkpoints only here
    f"PRAGMA journal_size_limit={64 * 1024 * 1024}",  # a restarted WAL file is cut back to 64 MiB
)


class WalCheckpointer:
    def __init__(self, engine: AsyncEngine, interval_s: float = 1.0):
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # for tests

    @staticmethod
    def applies_to(engine: AsyncEngine) -> bool:
        """A file database in WAL mode; not PostgreSQL, not ``:memory:``."""
        url = engine.url
        return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")

    async def start(self) -> None:
        # Every connection the pool opens from now on (it replaces one that broke), and the one it has.
        event.listen(self._engine.sync_engine, "connect", _apply_wal_pragmas)
        async with self._engine.connect() as connection:  # the process's one connection (pool of 1)
            for pragma in _PRAGMAS:
                await connection.exec_driver_sql(pragma)
        path = make_url(str(self._engine.url)).database
        assert path is not None
        self._thread = threading.Thread(target=self._run, args=(path,), name="kilowatt-wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self, path: str) -> None:
        connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval_s):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        """Copy the WAL back into the database until a pass finds no frame the last one had not seen."""
        try:
            previous = None
            for _ in range(_MAX_PASSES):
                _busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames == copied == previous:  # nothing was committed during the last pass
                    break
                previous = frames
            self.checkpoints += 1
        except sqlite3.Error as exc:  # e.g. the file went away in a test; the next round tries again
            log.warning("WAL checkpoint failed", error=str(exc))

    async def stop(self) -> None:
        if self._thread is None:
            return
        event.remove(self._engine.sync_engine, "connect", _apply_wal_pragmas)
        self._stop.set()
        await asyncio.to_thread(self._thread.join)
        self._thread = None


def _apply_wal_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """A new connection of the process's pool leaves checkpoints to the checkpointer's thread.
    (The WAL file is restarted and truncated by the writer, so the size limit is the writer's.)"""
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
