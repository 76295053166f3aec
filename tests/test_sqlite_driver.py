"""The write batcher's only use of aiosqlite's private API (storage/sqlite_driver.py): still there.

If an aiosqlite upgrade moves ``Connection._conn`` or ``Connection._execute``, these fail with a
message naming what changed, instead of every SQLite write batch failing at run time.
"""

from __future__ import annotations

import sqlite3
import threading

import aiosqlite
import pytest

from kilowatt.storage.sqlite_driver import check_aiosqlite, run_on_driver_thread, sqlite3_connection


async def test_aiosqlite_still_has_the_private_api_the_write_batcher_uses(tmp_path) -> None:
    check_aiosqlite()
    # check_same_thread=False, as the engine opens it: used from the loop's thread and aiosqlite's
    async with aiosqlite.connect(tmp_path / "driver.db", check_same_thread=False) as driver_connection:
        connection = sqlite3_connection(driver_connection)
        assert isinstance(connection, sqlite3.Connection)
        connection.execute("CREATE TABLE t (x INTEGER)")  # on the loop's thread, as the batcher does
        connection.commit()

        def on_its_thread(value: int) -> tuple[int, str]:
            connection.execute("INSERT INTO t VALUES (?)", (value,))
            connection.commit()
            return value, threading.current_thread().name

        value, thread = await run_on_driver_thread(driver_connection, on_its_thread, 7)
        assert value == 7 and thread != threading.current_thread().name
        async with driver_connection.execute("SELECT x FROM t") as cursor:
            assert await cursor.fetchall() == [(7,)]


async def test_a_changed_aiosqlite_fails_loudly(tmp_path, monkeypatch) -> None:
    async with aiosqlite.connect(tmp_path / "driver.db") as driver_connection:
        monkeypatch.setattr(aiosqlite.Connection, "_conn", property(lambda self: None))
        with pytest.raises(RuntimeError, match="sqlite_driver.py"):
            sqlite3_connection(driver_connection)
        monkeypatch.undo()
    monkeypatch.delattr(aiosqlite.Connection, "_execute")
    with pytest.raises(RuntimeError, match=r"_execute is gone.*sqlite_driver\.py"):
        check_aiosqlite()
