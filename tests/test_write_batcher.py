"""Group commit: many writes in one transaction, each waiter answered only after its commit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from charger import TestCharger, now
from conftest import RunningCsms
from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.checkpoint import WalCheckpointer
from kilowatt.storage.database import create_engine, session_factory
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import IdToken, MeterValue, id_token_key, utcnow


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
async def batcher(engine):
    batcher = WriteBatcher(engine)
    yield batcher
    await batcher.close()  # gives back the connection it may keep for inserts (PostgreSQL)


def add_token(value: str):
    def write(session):
        session.execute(insert(IdToken), [{"id_token": value, "key": id_token_key(value), "type": "ISO14443", "status": "Accepted"}])
        return value

    return write


async def count(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(IdToken))).scalar_one()


async def test_concurrent_writes_share_transactions_and_are_committed_when_answered(batcher, sessions) -> None:
    seen_committed: list[int] = []

    async def write_and_check(i: int) -> None:
        assert await batcher.run(add_token(f"T{i}")) == f"T{i}"
        async with sessions() as session:  # another session sees it: it is committed
            found = (await session.execute(select(IdToken.id).where(IdToken.id_token == f"T{i}"))).first()
        seen_committed.append(found is not None)

    await asyncio.gather(*(write_and_check(i) for i in range(60)))
    assert all(seen_committed) and len(seen_committed) == 60
    assert await count(sessions) == 60
    assert batcher.writes == 60
    assert batcher.batches < 60  # they were grouped


async def test_a_failing_write_fails_alone(batcher, sessions) -> None:
    await batcher.run(add_token("DUP"))
    results = await asyncio.gather(
        batcher.run(add_token("A")), batcher.run(add_token("DUP")), batcher.run(add_token("B")), return_exceptions=True
    )
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], IntegrityError)
    assert await count(sessions) == 3


async def test_a_write_whose_waiter_left_is_still_stored(batcher, sessions) -> None:
    task = asyncio.create_task(batcher.run(add_token("GONE")))
    await asyncio.sleep(0)
    task.cancel()
    await batcher.close()
    assert await count(sessions) == 1


async def test_adjacent_inserts_merge_and_later_writes_see_them(batcher, sessions) -> None:
    statement = insert(IdToken.__table__)

    def rows(*values: str) -> list[dict[str, str]]:
        return [{"id_token": v, "key": id_token_key(v), "type": "ISO14443", "status": "Accepted"} for v in values]

    def count_now(connection) -> int:
        return connection.execute(select(func.count()).select_from(IdToken.__table__)).scalar_one()

    results = await asyncio.gather(
        batcher.insert(statement, rows("M1", "M2")),
        batcher.insert(statement, rows("M3")),
        batcher.run(count_now),  # queued after the inserts: sees all three
        batcher.insert(statement, rows("M4")),
    )
    assert results == [None, None, 3, None]
    assert await count(sessions) == 4
    assert batcher.batches == 1


async def test_a_failing_merged_insert_fails_alone(batcher, sessions) -> None:
    statement = insert(IdToken.__table__)
    row = {"type": "ISO14443", "status": "Accepted"}
    await batcher.insert(statement, [{"id_token": "TAKEN", "key": id_token_key("TAKEN"), **row}])
    results = await asyncio.gather(
        batcher.insert(statement, [{"id_token": "N1", "key": id_token_key("N1"), **row}]),
        batcher.insert(statement, [{"id_token": "TAKEN", "key": id_token_key("TAKEN"), **row}]),
        batcher.insert(statement, [{"id_token": "N2", "key": id_token_key("N2"), **row}]),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None and isinstance(results[1], IntegrityError)
    assert await count(sessions) == 3


async def test_inserts_store_values_as_sqlalchemy_would(batcher, sessions) -> None:
    """The DB-API fast path converts values with SQLAlchemy's own processors and fills Python-side
    defaults: what the ORM reads back is what was given, timestamps and floats included."""
    at = datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=UTC)
    before = utcnow()
    await batcher.insert(
        insert(IdToken.__table__), [{"id_token": "D1", "key": id_token_key("D1"), "type": "ISO14443", "status": "Accepted", "expiry_date": at}]
    )
    await batcher.insert(
        insert(MeterValue.__table__),
        [{"station_id": "CP-1", "evse_id": 1, "connector_id": 1, "transaction_id": None, "timestamp": at, "value": "12.5",
          "value_numeric": 12.5, "measurand": "Power.Active.Import", "context": None, "unit": "kW", "phase": "L1",
          "location": "Outlet", "format": "Raw", "source": "MeterValues"}],
    )  # fmt: skip
    async with sessions() as session:
        token = (await session.execute(select(IdToken).where(IdToken.id_token == "D1"))).scalar_one()
        meter = (await session.execute(select(MeterValue))).scalar_one()
    assert token.expiry_date == at
    assert token.created_at is not None and before <= token.created_at <= utcnow()  # default filled in per row
    assert (meter.timestamp, meter.value, meter.value_numeric, meter.unit, meter.phase) == (at, "12.5", 12.5, "kW", "L1")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_insert_connection_that_was_closed_is_replaced(database_url, batcher, sessions) -> None:
    """PostgreSQL only: inserts use a connection the batcher keeps. When the server hangs up on it
    (a restart, an administrator), the next batch notices and reconnects instead of failing."""
    statement = insert(IdToken.__table__)
    row = {"type": "ISO14443", "status": "Accepted"}
    await batcher.insert(statement, [{"id_token": "K1", "key": id_token_key("K1"), **row}])
    async with sessions() as session:  # another connection kills the batcher's
        killed = (
            await session.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ).scalar_one()
    assert killed >= 1
    await asyncio.sleep(0.2)  # the hang-up reaches the batcher's socket
    await batcher.insert(statement, [{"id_token": "K2", "key": id_token_key("K2"), **row}])
    async with sessions() as session:
        stored = set((await session.execute(select(IdToken.id_token))).scalars())
    assert stored == {"K1", "K2"}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_insert_connection_that_breaks_during_a_batch_is_replaced(database_url, batcher, sessions) -> None:
    """PostgreSQL only: a kept insert connection the server hung up on, before asyncpg has read
    the hang-up, fails in the middle of the batch; the batch runs again on a new connection, so a
    lone write is stored and answered instead of failing."""
    statement = insert(IdToken.__table__)
    row = {"type": "ISO14443", "status": "Accepted"}
    await batcher.insert(statement, [{"id_token": "M1", "key": id_token_key("M1"), **row}])
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def terminate_others() -> int:
        connection = await asyncpg.connect(dsn)
        try:  # with a timeout, pg_terminate_backend returns once the backend has exited
            return await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()

    # From another thread while this loop is blocked, so the loop has not yet read the hang-up on
    # the batcher's socket when the next batch is written to it.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        killed = pool.submit(asyncio.run, terminate_others()).result()
    assert killed >= 1
    await batcher.insert(statement, [{"id_token": "M2", "key": id_token_key("M2"), **row}])
    async with sessions() as session:
        stored = set((await session.execute(select(IdToken.id_token))).scalars())
    assert stored == {"M1", "M2"}


async def test_sqlite_checkpoints_run_off_the_write_path(tmp_path) -> None:
    """SQLite only (not parametrized): the WAL is checkpointed by a background thread, not in a commit."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    await upgrade(engine)
    assert WalCheckpointer.applies_to(engine)
    checkpointer = WalCheckpointer(engine, interval_s=0.1)
    await checkpointer.start()
    try:
        async with engine.connect() as connection:  # the process's connection no longer checkpoints itself
            assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        await engine.dispose()  # nor does the one the pool opens to replace it
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        batcher = WriteBatcher(engine)
        for i in range(20):
            await batcher.insert(insert(IdToken.__table__), [{"id_token": f"W{i}", "key": id_token_key(f"W{i}"), "type": "ISO14443", "status": "Accepted"}])
        before = checkpointer.checkpoints
        for _ in range(40):
            await asyncio.sleep(0.05)
            if checkpointer.checkpoints > before:
                break
        assert checkpointer.checkpoints > before
    finally:
        await checkpointer.stop()
        await engine.dispose()
    assert not WalCheckpointer.applies_to(create_engine("postgresql+asyncpg://u@localhost/db"))
    # and `kilowatt serve` uses one on a SQLite file, with the page cache it is configured for
    application = Application(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", sqlite_cache_mib=16))
    assert application.checkpointer is not None
    async with application.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA cache_size")).scalar_one() == -16 * 1024  # KiB
    await application.engine.dispose()


async def test_sqlite_batches_wait_for_another_process_lock_off_the_event_loop(tmp_path) -> None:
    """Batches run on the loop's thread, but a write lock held elsewhere must not freeze the loop."""
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    batcher = WriteBatcher(engine)
    row = {"type": "ISO14443", "status": "Accepted"}
    await batcher.insert(insert(IdToken.__table__), [{"id_token": "BEFORE", "key": id_token_key("BEFORE"), **row}])
    assert batcher.lock_waits == 0
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # "another process"
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, other.execute, "COMMIT")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        started = loop.time()
        await batcher.insert(insert(IdToken.__table__), [{"id_token": "AFTER", "key": id_token_key("AFTER"), **row}])
        waited = loop.time() - started
    finally:
        ticking.cancel()
        other.close()
    assert batcher.lock_waits == 1
    assert waited >= 0.4  # it did wait for the lock ...
    assert ticks >= 20  # ... while the event loop went on running
    assert await count(session_factory(engine)) == 2
    await engine.dispose()


async def test_sqlite_sessions_waiting_for_the_connection_get_it_between_batches(tmp_path) -> None:
    """The batcher must not keep re-taking the process's one SQLite connection from sessions queued for it.

    A session holds the connection while 30 one-write batches queue up (``max_batch=1``), and a
    second session queues behind the batcher. When the first lets go, the batcher runs one batch;
    the second session must get the connection next, not after all 30 (in a boot storm that
    starved the handshakes' reads).
    """
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}")
    await upgrade(engine)
    batcher = WriteBatcher(engine, max_batch=1)
    writes_before_second_session: list[int] = []

    async def second_session() -> None:
        async with engine.connect() as connection:
            writes_before_second_session.append(batcher.writes)
            await connection.exec_driver_sql("SELECT 1")

    try:
        first = await engine.connect()
        await first.exec_driver_sql("SELECT 1")
        writes = [asyncio.create_task(batcher.run(add_token(f"F{i}"))) for i in range(30)]
        await asyncio.sleep(0.05)  # the batcher is now waiting for the connection ...
        waiting = asyncio.create_task(second_session())
        await asyncio.sleep(0.05)  # ... and the second session behind it
        await first.close()
        await asyncio.gather(waiting, *writes)
    finally:
        await engine.dispose()
    assert batcher.writes == 30
    assert writes_before_second_session[0] <= 2, writes_before_second_session


async def test_sqlite_wal_is_restarted_while_writes_go_on(tmp_path) -> None:
    """Under steady writes the WAL file must not grow without end: each round of checkpoints
    catches up with the writer, so its next commit starts the WAL over. One PASSIVE pass a round
    never did, and the file grew by at least a page per commit."""
    path = tmp_path / "steady.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    checkpointer = WalCheckpointer(engine, interval_s=0.05)
    await checkpointer.start()
    batcher = WriteBatcher(engine)
    statement = insert(IdToken.__table__)
    commits = 0
    try:
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.5
        while loop.time() < until:  # one commit at a time, as a busy fleet's lone messages
            await batcher.insert(statement, [{"id_token": f"S{commits}", "key": id_token_key(f"S{commits}"), "type": "ISO14443", "status": "Accepted"}])
            commits += 1
            await asyncio.sleep(0.001)
        wal_bytes = Path(f"{path}-wal").stat().st_size  # before the last connection closes and removes it
    finally:
        await checkpointer.stop()
        await engine.dispose()
    assert commits > 200
    # Without restarts every commit adds at least one 4 KiB page (here ~13 KB); restarted every
    # ~0.05 s, the file holds about one round's worth (~1 MB for ~1,200 commits).
    assert wal_bytes < commits * 4096, (wal_bytes, commits)


async def test_an_unknown_stop_does_not_disturb_the_writes_batched_with_it(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-1")
    ids = [f"CP-{i}" for i in range(6)]
    for station_id in ids:
        await csms.services.stations.create(station_id)

    async def session(station_id: str, bad: bool) -> list:
        async with TestCharger.connect(csms.ocpp_url, station_id) as cp:
            await cp.boot()
            if bad:
                return await cp.call_frame("StopTransaction", {"transactionId": 987654, "meterStop": 1, "timestamp": now()})
            mv = {"connectorId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [{"value": "5"}]}]}
            return await cp.call_frame("MeterValues", mv)

    answers = await asyncio.gather(*(session(s, i % 2 == 0) for i, s in enumerate(ids)))
    assert [a[0] for a in answers] == [4, 3, 4, 3, 4, 3]
    assert {a[2] for a in answers if a[0] == 4} == {"PropertyConstraintViolation"}
    async with csms.application.sessions() as s:
        assert len((await s.execute(select(MeterValue))).scalars().all()) == 3


# --- a batch is never stored twice -----------------------------------------------------------------
# A batch runs again (one by one, or on a new connection) only when its failed attempt is known not
# to have committed. These lose the answer to a COMMIT that did commit, on purpose: the rows must be
# stored once, and every waiter told of the failure (it cannot know the rows are stored).


def meter_rows(*values: str) -> list[dict]:
    return [
        {"station_id": "CP-1", "evse_id": 1, "connector_id": 1, "timestamp": datetime(2026, 1, 1, tzinfo=UTC), "value": v}
        for v in values
    ]


def insert_meter_values(*values: str):
    """A write that is not an insert-only ``_Rows``, so its batch runs through SQLAlchemy."""

    def write(connection):
        connection.execute(insert(MeterValue.__table__), meter_rows(*values))
        return values

    return write


async def stored_meter_values(sessions) -> list[str]:
    async with sessions() as session:
        return sorted((await session.execute(select(MeterValue.value))).scalars())


def lost_connection_error() -> Exception:
    """What the batcher sees when the socket dies before the server's answer arrives."""
    from kilowatt.storage.raw_insert import _postgres_error

    return _postgres_error(
        "INSERT", asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_insert_batch_whose_commit_answer_is_lost_is_not_run_again(
    database_url, batcher, sessions, monkeypatch
) -> None:
    import kilowatt.storage.batch as batch_module

    real = batch_module.execute_asyncpg
    calls = 0

    async def commit_then_lose_the_answer(connection, plan):
        nonlocal calls
        calls += 1
        await real(connection, plan)  # committed: one executemany commits by itself
        if calls == 1:
            connection.terminate()  # ... and the answer never arrives
            raise lost_connection_error()

    monkeypatch.setattr(batch_module, "execute_asyncpg", commit_then_lose_the_answer)
    statement = insert(MeterValue.__table__)
    results = await asyncio.gather(
        batcher.insert(statement, meter_rows("1")), batcher.insert(statement, meter_rows("2", "3")), return_exceptions=True
    )
    assert await stored_meter_values(sessions) == ["1", "2", "3"], "a committed batch was stored twice"
    assert all(isinstance(r, OperationalError) for r in results), results  # not acknowledged: not known to be stored
    await batcher.insert(statement, meter_rows("4"))  # and the next batch gets a new connection
    assert await stored_meter_values(sessions) == ["1", "2", "3", "4"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_insert_batch_the_server_refused_on_a_dying_connection_runs_again(
    database_url, batcher, sessions, monkeypatch
) -> None:
    """The server's own answer (here the administrator shutdown a restarting server sends) means
    the transaction was rolled back: running the batch on a new connection stores it once."""
    import kilowatt.storage.batch as batch_module
    from kilowatt.storage.raw_insert import _postgres_error

    real = batch_module.execute_asyncpg
    calls = 0

    async def shut_down_before_the_batch(connection, plan):
        nonlocal calls
        calls += 1
        if calls == 1:
            connection.terminate()
            lost = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
            lost.__cause__ = asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
            raise _postgres_error("INSERT", lost)  # as asyncpg reports a FATAL error before the hang-up
        await real(connection, plan)

    monkeypatch.setattr(batch_module, "execute_asyncpg", shut_down_before_the_batch)
    statement = insert(MeterValue.__table__)
    results = await asyncio.gather(batcher.insert(statement, meter_rows("1")), batcher.insert(statement, meter_rows("2")))
    assert results == [None, None]
    assert await stored_meter_values(sessions) == ["1", "2"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_batch_whose_commit_answer_is_lost_is_not_retried_one_by_one(
    database_url, batcher, sessions, monkeypatch
) -> None:
    from sqlalchemy.ext.asyncio import AsyncConnection

    real_commit = AsyncConnection.commit
    calls = 0

    async def commit_then_lose_the_answer(self):
        nonlocal calls
        calls += 1
        await real_commit(self)
        if calls == 1:
            await self.invalidate()
            raise OperationalError("COMMIT", None, ConnectionResetError("connection lost"), connection_invalidated=True)

    monkeypatch.setattr(AsyncConnection, "commit", commit_then_lose_the_answer)
    results = await asyncio.gather(
        batcher.run(insert_meter_values("1")), batcher.run(insert_meter_values("2")), return_exceptions=True
    )
    assert await stored_meter_values(sessions) == ["1", "2"], "a committed batch was stored twice"
    assert all(isinstance(r, OperationalError) for r in results), results
    assert await batcher.run(insert_meter_values("3")) == ("3",)


async def test_a_batch_whose_statement_fails_before_commit_is_retried_and_stored_once(batcher, sessions) -> None:
    """The other side of the rule: a failure before COMMIT rolls back, so the one-by-one retry stores
    each good write exactly once (SQLite and PostgreSQL)."""

    def fails(connection):
        raise ValueError("a bad message")

    results = await asyncio.gather(
        batcher.run(insert_meter_values("1")), batcher.run(fails), batcher.run(insert_meter_values("2")), return_exceptions=True
    )
    assert results[0] == ("1",) and results[2] == ("2",) and isinstance(results[1], ValueError)
    assert await stored_meter_values(sessions) == ["1", "2"]


async def test_sqlite_batch_never_commits_what_an_earlier_attempt_left_open(tmp_path) -> None:
    """A transaction left open on the process's one connection (an attempt that failed without
    rolling back) is rolled back before the next batch, never committed with it."""
    from sqlalchemy.util.concurrency import greenlet_spawn

    from kilowatt.storage.sqlite_driver import sqlite3_connection

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'leftover.db'}")
    await upgrade(engine)
    batcher = WriteBatcher(engine)
    try:
        pooled = await greenlet_spawn(engine.sync_engine.pool.connect)  # as the batcher takes it
        connection = sqlite3_connection(pooled.driver_connection)
        connection.execute(
            "INSERT INTO meter_values (station_id, evse_id, connector_id, timestamp, value, measurand, source) "
            "VALUES ('CP-1', 1, 1, '2026-01-01 00:00:00.000000', 'leftover', 'Energy.Active.Import.Register', 'MeterValues')"
        )
        assert connection.in_transaction
        pooled.close()  # back to the pool as it is: no reset on return
        await batcher.insert(insert(MeterValue.__table__), meter_rows("1"))  # insert-only: straight on sqlite3
        await batcher.run(insert_meter_values("2"))
        assert await stored_meter_values(session_factory(engine)) == ["1", "2"]
    finally:
        await batcher.close()
        await engine.dispose()


async def test_inserts_stored_together_are_stored_together_or_not_at_all(batcher, sessions) -> None:
    """insert_together: an event and its samples. When one of its statements fails, none of its
    rows is stored, while the writes batched with it (merged into the same executemany) are."""
    tokens = insert(IdToken.__table__)
    samples = insert(MeterValue.__table__)
    row = {"type": "ISO14443", "status": "Accepted"}
    await batcher.insert(tokens, [{"id_token": "TAKEN", "key": id_token_key("TAKEN"), **row}])

    def sample(station_id: str) -> dict[str, object]:
        return {
            "station_id": station_id,
            "evse_id": 1,
            "connector_id": 1,
            "transaction_id": None,
            "timestamp": utcnow(),
            "value": "1",
            "value_numeric": 1.0,
            "measurand": "Energy.Active.Import.Register",
            "source": "MeterValues",
        }

    results = await asyncio.gather(
        batcher.insert_together((tokens, [{"id_token": "OK-1", "key": id_token_key("OK-1"), **row}]), (samples, [sample("S1")])),
        batcher.insert_together((tokens, [{"id_token": "TAKEN", "key": id_token_key("TAKEN"), **row}]), (samples, [sample("S2")])),  # the token clashes
        batcher.insert(samples, [sample("S3")]),
        batcher.insert_together((samples, [sample("S4")]), (tokens, [])),  # an empty part is nothing to insert
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], IntegrityError) and results[2:] == [None, None]
    async with sessions() as session:
        stations = set((await session.execute(select(MeterValue.station_id))).scalars())
        tokens_stored = set((await session.execute(select(IdToken.id_token))).scalars())
    assert stations == {"S1", "S3", "S4"}  # not S2: its token failed, so its sample is not stored either
    assert tokens_stored == {"TAKEN", "OK-1"}
