"""The two private parts of aiosqlite the write batcher uses, in one place.

aiosqlite runs each connection on a thread of its own and offers no public way to reach the
:class:`sqlite3.Connection` it wraps, nor to run a function of ours on that thread. The write
batcher needs both: it runs a batch on the event loop's thread, on the sqlite3 connection itself,
while it holds the pool's only connection (the hand-off to aiosqlite's thread and back costs more
than a batch); and when another process holds the write lock it runs the batch on aiosqlite's
thread instead, where waiting for the lock blocks nobody.

So this module reads ``Connection._conn`` and calls ``Connection._execute(fn, *args)``, and
nothing else in Kilowatt touches aiosqlite's internals. :func:`check_aiosqlite` says, with a
message that names what changed, whether they are still there; ``tests/test_sqlite_driver.py``
calls it, so an aiosqlite upgrade that moves them fails that test rather than every batch.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

__all__ = ["check_aiosqlite", "run_on_driver_thread", "sqlite3_connection"]

T = TypeVar("T")


def sqlite3_connection(driver_connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The :class:`sqlite3.Connection` an aiosqlite connection wraps (``pooled.driver_connection``)."""
    connection = getattr(driver_connection, "_conn", None)
    if not isinstance(connection, sqlite3.Connection):
        raise RuntimeError(_changed(f"aiosqlite.Connection._conn is {type(connection).__name__}, not the sqlite3.Connection"))
    return connection


async def run_on_driver_thread(driver_connection: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the aiosqlite connection's own thread, queued after its other work."""
    result: T = await driver_connection._execute(fn, *args)
    return result


def check_aiosqlite() -> None:
    """Raise :class:`RuntimeError` naming what changed if aiosqlite's ``_execute`` is not what we call.

    (``_conn`` exists only on an open connection: :func:`sqlite3_connection` checks it on each use.)
    """
    execute = getattr(aiosqlite.Connection, "_execute", None)
    if execute is None or not inspect.iscoroutinefunction(execute):
        raise RuntimeError(_changed("aiosqlite.Connection._execute is gone or no longer a coroutine function"))
    parameters = list(inspect.signature(execute).parameters)
    if parameters[:2] != ["self", "fn"] or "args" not in parameters:
        raise RuntimeError(_changed(f"aiosqlite.Connection._execute{inspect.signature(execute)} is not _execute(self, fn, *args)"))


def _changed(what: str) -> str:
    version = getattr(aiosqlite, "__version__", "?")
    return (
        f"aiosqlite {version} changed the private API Kilowatt's write batcher relies on: {what}. "
        "Update kilowatt/storage/sqlite_driver.py, the only place that uses aiosqlite's internals."
    )
