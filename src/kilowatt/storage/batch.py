"""Group commit: the writes of many OCPP messages in one database transaction, in one hand-off.

Every charger message that changes state must be committed before it is answered. Committing
each one alone costs a BEGIN/COMMIT pair and a database round trip per statement. The
:class:`WriteBatcher` instead queues each message's write and one flusher runs all that are
waiting in a single transaction, then resolves every waiter. A waiter is answered only after the
commit that holds its write, so "never acknowledge what is not stored" still holds; under light
load a batch is just one write.

A write is a plain *synchronous* function of a SQLAlchemy Core
:class:`~sqlalchemy.engine.Connection` (Core, not the ORM: the ORM's unit of work and bulk-insert
machinery cost more than the SQL itself on this path). That is what makes a batch cheap:

- on SQLite the whole batch runs right on the event loop's thread, on the process's one
  connection, while the batcher holds it (the pool's only connection, so nobody else is using
  it). A commit in WAL mode does not wait for the disk (checkpoints run on their own thread, see
  ``checkpoint.py``), so a batch takes microseconds to a few milliseconds — less than the
  hand-off to aiosqlite's worker thread and back (measured in docs/performance.md). The loop must
  never wait for another process's write lock, though: the batch runs with SQLite's busy timeout
  at zero, and if the database is locked it is rolled back and run again on aiosqlite's thread,
  where waiting is harmless. Reaching the sqlite3 connection and aiosqlite's thread takes
  aiosqlite's private API, wrapped in ``sqlite_driver.py``;
- on PostgreSQL it runs through ``AsyncConnection.run_sync``: no thread at all, and a multi-row
  insert is one pipelined ``executemany`` round trip.

A write that only inserts rows (:meth:`WriteBatcher.insert`, e.g. the sampled values of a
MeterValues) is merged with the inserts of the same statement next to it in the batch: under a
busy fleet a whole batch of MeterValues becomes one ``executemany``. In a batch that also holds
other writes only neighbours merge, so every write still sees the writes queued before it; a batch
of inserts only (whose rows never reference each other) merges all rows of one statement, and an
event's rows inserted together (:meth:`WriteBatcher.insert_together`) join them. Those inserts go to the DB-API with SQL and
value conversion compiled once (``raw_insert.py``), and a batch of nothing else never enters
SQLAlchemy's execution machinery: on SQLite it is committed by sqlite3 itself, on PostgreSQL it
is one atomic asyncpg ``executemany`` on a connection the batcher keeps (see
:meth:`WriteBatcher._insert_postgres`).

If any write in a batch fails, the transaction is rolled back and each write is retried alone in
its own transaction, so one bad message fails only itself.

**A batch is never stored twice.** Running a batch again — the one-by-one retry, SQLite's run on
aiosqlite's thread after a lock, PostgreSQL's run on a new connection after the kept one broke — is
safe only if the failed attempt is known not to have committed. Where that is known:

- SQLite is in the process: a COMMIT that raises did not commit, and the attempt is rolled back
  (a batch also starts by rolling back anything an earlier attempt left open on the connection, so
  a half-done attempt can never be committed together with the next one);
- PostgreSQL answered the attempt with an error (a constraint, a deadlock, an administrator
  shutdown — any SQLSTATE but class 08): the server rolled the transaction back.

Where it is not — the connection was lost while the COMMIT (for a lone ``executemany``, the
statement itself, which commits on its own) was on its way or its answer was — the rows may be
stored. The batch is then *not* run again: every waiter gets the connection's error, so nothing is
acknowledged that is not known to be stored, and the charger, unanswered, sends the message again
(as it would for any lost answer: 1.6 starts are idempotent by key in the services; 1.6 MeterValues
carry no key, see docs/simulator.md). ``tests/test_write_batcher.py`` loses such a commit's answer
on purpose and checks the rows are stored once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import structlog
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, StaticPool
from sqlalchemy.sql.dml import Insert
from sqlalchemy.util.concurrency import greenlet_spawn

from kilowatt.storage.database import SQLITE_BUSY_TIMEOUT_S, json_dumps
from kilowatt.storage.raw_insert import CompiledInsert, CompiledInserts, execute_asyncpg
from kilowatt.storage.sqlite_driver import check_aiosqlite, run_on_driver_thread, sqlite3_connection

log = structlog.get_logger("kilowatt.storage")

T = TypeVar("T")
Write = Callable[[Connection], Any]


class WriteBatcher:
    def __init__(self, engine: AsyncEngine, max_batch: int = 256):
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        if self._sqlite:
            check_aiosqlite()  # fail at start-up, not on the first write, if aiosqlite's internals moved
        self._pool = engine.sync_engine.pool
        self._sqlite_engines: dict[int, Engine] = {}  # id(sqlite3 connection) -> an engine over it
        self._inserts = CompiledInserts(engine.dialect)
        self._held: PoolProxiedConnection | None = None  # PostgreSQL: the connection kept for inserts
        self._max_batch = max_batch
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # counters for benchmarks and tests
        self.writes = 0
        self.lock_waits = 0  # SQLite batches that found another process's write lock

    async def run(self, write: Callable[[Connection], T]) -> T:
        """Run ``write`` in the next batch; returns its result once that batch is committed.

        ``write`` must only use the connection it is given and must not touch asyncio: on SQLite
        it may run on aiosqlite's thread.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def insert(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` with ``statement`` (built once, shared by the callers that may merge)."""
        await self.run(_Rows(statement, rows))

    async def insert_together(self, *inserts: tuple[Insert, list[dict[str, Any]]]) -> None:
        """Several inserts that must be stored together or not at all (an event and its samples);
        like :meth:`insert`, they merge with other callers' rows of the same statements."""
        await self.run(_RowSets(tuple(_Rows(statement, rows) for statement, rows in inserts if rows)))

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: len(batch)]
                await self._flush(batch)
                if self._sqlite and self._pending:
                    # The flush gave the connection back and woke the first session waiting for
                    # it, but that session takes it only when it next runs. The pool hands a
                    # connection that is back in its queue to whoever asks first, so checking out
                    # for the next batch at once would take it from under every waiting session,
                    # batch after batch, and starve them (docs/performance.md). Let them run.
                    await asyncio.sleep(0)
        finally:
            self._flusher = None

    async def _flush(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.writes += len(batch)
        try:
            results = await self._transaction([write for write, _ in batch])
        except asyncio.CancelledError:  # shutting down mid-flush: nobody may wait forever
            for _, future in batch:
                _settle(future, exception=ConnectionAbortedError("the database write was cancelled"))
            raise
        except _OutcomeUnknown as unknown:  # maybe committed: running it again could store it twice
            log.warning("connection lost with a batch's commit in flight; not running it again", size=len(batch))
            for _, future in batch:
                _settle(future, exception=unknown.error)
            return
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            log.info("batch failed; retrying its writes one by one", size=len(batch), error=repr(exc))
            for write, future in batch:
                try:
                    (result,) = await self._transaction([write])
                except _OutcomeUnknown as unknown:
                    _settle(future, exception=unknown.error)
                except Exception as alone:
                    _settle(future, exception=alone)
                else:
                    _settle(future, result)
            return
        for (_, future), result in zip(batch, results):
            _settle(future, result)

    async def _transaction(self, writes: list[Write]) -> list[Any]:
        """Run ``writes`` in one transaction and commit it; their results in order."""
        if not self._sqlite:
            if _inserts_only(writes):
                return await self._insert_postgres(writes)
            return await self._transaction_postgres(writes)
        # The process's one SQLite connection, ours now: straight from the pool, without an
        # AsyncConnection around it (a third of the CPU). Nothing here does I/O on the pool's
        # behalf — SQLite connections are not reset on return — so checking it in needs no greenlet.
        pooled = await greenlet_spawn(self._pool.connect)
        try:
            worker = pooled.driver_connection
            dbapi_connection = sqlite3_connection(worker)
            try:
                return self._run_on_loop_thread(dbapi_connection, writes)
            except sqlite3.OperationalError as exc:  # raised by sqlite3 itself
                if not _locked(exc):
                    raise
            except DBAPIError as exc:  # raised through SQLAlchemy, the driver's error in .orig
                if not _locked(exc.orig):
                    raise
            self.lock_waits += 1  # another process holds the write lock: wait for it off the loop
            return await run_on_driver_thread(worker, self._run_sqlite, dbapi_connection, writes)
        finally:
            pooled.close()

    async def _transaction_postgres(self, writes: list[Write]) -> list[Any]:
        """Any batch on PostgreSQL, through SQLAlchemy; a COMMIT lost with the connection raises
        :class:`_OutcomeUnknown` (a statement lost before it was not committed: safe to retry)."""
        phase = "writes"
        try:
            async with self._engine.connect() as connection:
                results = await connection.run_sync(_run_all, writes)  # in the transaction it began
                phase = "commit"
                await connection.commit()
                phase = "committed"
        except Exception as exc:
            if phase == "committed":  # only giving the connection back failed: the batch is stored
                log.info("connection failed after a committed batch", error=repr(exc))
                return results
            if phase == "commit" and (not isinstance(exc, DBAPIError) or _connection_lost(exc)):
                raise _OutcomeUnknown(exc) from exc
            raise  # rolled back: a statement failed, or the server refused the COMMIT
        return results

    async def _insert_postgres(self, writes: list[Write]) -> list[Any]:
        """An insert-only batch on PostgreSQL: straight to asyncpg, on a connection the batcher keeps.

        Through SQLAlchemy the batch cost four round trips (the pool's pre-ping, BEGIN, the
        executemany, COMMIT) plus a greenlet and a pool checkout; here it is one pipelined
        ``executemany``. The connection is checked out of the pool once and kept (the pool has
        several; batches run one at a time, so one is enough) until :meth:`close`, or until it
        breaks — then the next batch checks out another. A connection asyncpg already knows is
        closed (the server restarted and hung up) is replaced before use, as the pool's pre-ping
        would have done. One that breaks during the batch is replaced too. The batch runs once more
        on the new one only if the server answered it with an error (typically the administrator
        shutdown a restarting server sends, which asyncpg had not yet read): then nothing was
        committed, and a lone MeterValues is not failed for a connection it never chose. If the
        connection was lost with no answer, the rows may be stored (one ``executemany`` commits by
        itself): the batch is not run again (see the module docstring).
        """
        plan = [step for statement, rows in _insert_runs(writes) for step in self._inserts.plan(statement, rows)]
        try:
            await self._insert_on_held(plan)
        except DBAPIError as exc:
            if self._held is not None:
                raise  # the database refused the rows; the connection is fine
            if _connection_lost(exc):
                raise _OutcomeUnknown(exc) from exc
            log.info(
                "insert connection broke during a batch, which it rolled back; running it again on a new one", error=repr(exc)
            )
            await self._insert_on_held(plan)
        return [None] * len(writes)

    async def _insert_on_held(self, plan: list[tuple[CompiledInsert, list[dict[str, Any]]]]) -> None:
        """Run ``plan`` on the kept connection, checking one out first if there is none or it is
        closed; a connection that breaks (or a batch cancelled mid-protocol) is dropped."""
        if self._held is not None and self._held.driver_connection.is_closed():
            self._held.invalidate()
            self._held = None
        if self._held is None:
            self._held = await greenlet_spawn(self._pool.connect)
        held = self._held
        try:
            await execute_asyncpg(held.driver_connection, plan)
        except BaseException as exc:
            if not isinstance(exc, DBAPIError) or held.driver_connection.is_closed():
                self._held = None  # never used again
                held.invalidate()
            raise

    def _run_on_loop_thread(self, dbapi_connection: sqlite3.Connection, writes: list[Write]) -> list[Any]:
        dbapi_connection.execute("PRAGMA busy_timeout=0")  # never sleep on the event loop's thread
        try:
            return self._run_sqlite(dbapi_connection, writes)
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")

    def _run_sqlite(self, dbapi_connection: sqlite3.Connection, writes: list[Write]) -> list[Any]:
        """Run the batch on ``dbapi_connection``, which the caller holds for itself.

        A batch of inserts only (a busy fleet's MeterValues) runs on the DB-API alone: sqlite3
        begins the transaction at the first INSERT, and the batch commits it. Any other batch runs
        its writes as ordinary SQLAlchemy code on a synchronous engine that wraps that very
        connection (a StaticPool over it); its inserts still go to the DB-API, inside the same
        transaction.
        """
        if dbapi_connection.in_transaction:  # an earlier attempt's leftovers are never committed with this one
            dbapi_connection.rollback()

        def insert(statement: Insert, rows: list[dict[str, Any]]) -> None:
            self._inserts.execute(dbapi_connection, statement, rows)

        if _inserts_only(writes):
            try:
                for statement, rows in _insert_runs(writes):
                    insert(statement, rows)
                dbapi_connection.commit()
            except BaseException:
                dbapi_connection.rollback()
                raise
            return [None] * len(writes)
        engine = self._sqlite_engines.get(id(dbapi_connection))
        if engine is None:  # first batch, or the pool replaced its connection
            engine = create_sync_engine(
                "sqlite+pysqlite://", creator=lambda: dbapi_connection, poolclass=StaticPool, json_serializer=json_dumps
            )
            self._sqlite_engines[id(dbapi_connection)] = engine
        with engine.begin() as connection:
            return _run_all(connection, writes, insert)

    async def close(self) -> None:
        """Let the writes already queued finish, then give back the connection kept for inserts."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._held is not None:
            held, self._held = self._held, None
            await greenlet_spawn(held.close)


class _Rows:
    """An insert-only write; adjacent ones with the same statement run as one executemany."""

    __slots__ = ("statement", "rows")

    def __init__(self, statement: Insert, rows: list[dict[str, Any]]):
        self.statement = statement
        self.rows = rows

    def __call__(self, connection: Connection) -> None:
        connection.execute(self.statement, self.rows)


class _RowSets:
    """Inserts into several tables that are one write: all stored in its batch, or none."""

    __slots__ = ("sets",)

    def __init__(self, sets: tuple[_Rows, ...]):
        self.sets = sets

    def __call__(self, connection: Connection) -> None:
        for rows in self.sets:
            rows(connection)


def _inserts_only(writes: list[Write]) -> bool:
    return all(type(write) is _Rows or type(write) is _RowSets for write in writes)


def _insert_runs(writes: list[Write]) -> list[tuple[Insert, list[dict[str, Any]]]]:
    """An insert-only batch as one row list per statement, in order of first appearance. The rows
    of one batch are independent of each other (none references another's), so the statements
    need not keep the callers' interleaving, and each becomes one executemany."""
    by_statement: dict[int, tuple[Insert, list[dict[str, Any]]]] = {}
    for write in writes:
        for part in write.sets if isinstance(write, _RowSets) else (write,):
            assert isinstance(part, _Rows)
            run = by_statement.get(id(part.statement))
            if run is None:
                by_statement[id(part.statement)] = (part.statement, list(part.rows))
            else:
                run[1].extend(part.rows)
    return list(by_statement.values())


class _OutcomeUnknown(Exception):
    """The connection was lost while a batch's commit was in flight: it may or may not be stored."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _connection_lost(exc: DBAPIError) -> bool:
    """PostgreSQL: the connection broke and the server never answered the batch.

    The server's answer is an error with a SQLSTATE of its own anywhere in the chain of causes —
    asyncpg raises ``ConnectionDoesNotExistError`` (08003, its own) for a socket closed
    mid-operation and chains the server's last ErrorResponse as its ``__cause__``, e.g. 57P01 when
    the server was shutting down. A transaction the server answered with an error is rolled back;
    class 08 (*connection exception*) alone, or no SQLSTATE at all, tells nothing of the outcome.
    """
    error: BaseException | None = exc.orig if exc.orig is not None else exc.__cause__
    while error is not None:  # SQLAlchemy's adapted error, then asyncpg's, then the server's
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate and not str(sqlstate).startswith("08"):
            return False
        error = error.__cause__
    return True


def _locked(error: BaseException | None) -> bool:
    """SQLITE_BUSY: another connection (another process) holds the write lock."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _runs(writes: list[Write]) -> Iterator[tuple[Write, int]]:
    """The batch in order as ``(write, how many queued writes it stands for)``: neighbouring
    :class:`_Rows` of one statement merged into one, any other write as it is."""
    i = 0
    while i < len(writes):
        write = writes[i]
        if not isinstance(write, _Rows):
            yield write, 1
            i += 1
            continue
        rows, j = list(write.rows), i + 1
        while j < len(writes) and isinstance(writes[j], _Rows) and writes[j].statement is write.statement:
            rows.extend(writes[j].rows)
            j += 1
        yield _Rows(write.statement, rows), j - i
        i = j


def _run_all(
    connection: Connection, writes: list[Write], insert: Callable[[Insert, list[dict[str, Any]]], None] | None = None
) -> list[Any]:
    """Run the writes in order and return their results; a run of inserts is one ``insert``
    (by default ``connection.execute``: one executemany) and its writes' results are None."""
    results: list[Any] = []
    for write, count in _runs(writes):
        if not isinstance(write, _Rows):
            results.append(write(connection))
            continue
        if insert is None:
            connection.execute(write.statement, write.rows)
        else:
            insert(write.statement, write.rows)
        results.extend([None] * count)
    return results


def _settle(future: asyncio.Future[Any], result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():  # the waiter went away (its connection closed); the write is stored anyway
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
