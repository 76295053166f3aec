"""Group commit: the writes of many OCPP messages in one database transaction.

Every charger message that changes state must be committed before it is answered. Committing
each one alone costs a BEGIN/COMMIT pair, a database round trip per statement and — with one
SQLite connection — idle gaps while the holder of the connection waits for the event loop. The
:class:`WriteBatcher` instead queues each message's write (a function of a session) and one
flusher runs all that are waiting in a single transaction, then resolves every waiter. A waiter is
answered only after the commit that holds its write, so "never acknowledge what is not stored"
still holds; under light load a batch is just one write.

If any write in a batch fails, the transaction is rolled back and each write is retried alone in
its own transaction, so one bad message fails only itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilowatt.storage.database import SessionFactory

log = structlog.get_logger("kilowatt.storage")

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[Any]]


class WriteBatcher:
    def __init__(self, sessions: SessionFactory, max_batch: int = 256):
        self._sessions = sessions
        self._max_batch = max_batch
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # counters for benchmarks and tests
        self.writes = 0

    async def run(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``write`` in the next batch; returns its result once that batch is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: len(batch)]
                await self._flush(batch)
        finally:
            self._flusher = None

    async def _flush(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.writes += len(batch)
        try:
            async with self._sessions.begin() as session:
                results = [await write(session) for write, _ in batch]
        except asyncio.CancelledError:  # shutting down mid-flush: nobody may wait forever
            for _, future in batch:
                _settle(future, exception=ConnectionAbortedError("the database write was cancelled"))
            raise
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            log.info("batch failed; retrying its writes one by one", size=len(batch), error=repr(exc))
            for write, future in batch:
                try:
                    async with self._sessions.begin() as session:
                        result = await write(session)
                except Exception as alone:
                    _settle(future, exception=alone)
                else:
                    _settle(future, result)
            return
        for (_, future), result in zip(batch, results):
            _settle(future, result)

    async def close(self) -> None:
        """Let the writes already queued finish."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)


def _settle(future: asyncio.Future[Any], result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():  # the waiter went away (its connection closed); the write is stored anyway
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
