"""Coalesced look-ups: many concurrent reads of one kind become one ``IN (...)`` query.

After a CSMS restart every station reconnects at once, and each handshake needs its station's
row. One query per handshake means thousands of round trips (on SQLite: thousands of hand-offs
to the connection's thread) while the stations wait. A :class:`BatchedLookup` collects the keys
asked for while a query is running and fetches them all with the next one — the read-side twin
of :class:`~kilowatt.storage.batch.WriteBatcher`. Under light load a query holds just one key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BatchedLookup(Generic[K, V]):
    def __init__(self, fetch_many: Callable[[list[K]], Awaitable[dict[K, V]]], max_keys: int = 500):
        """``fetch_many`` returns the found keys' values; a key it leaves out is answered None."""
        self._fetch_many = fetch_many
        self._max_keys = max_keys
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._fetcher: asyncio.Task[None] | None = None
        self.queries = 0  # for tests and benchmarks

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._fetcher is None:
            self._fetcher = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[: self._max_keys]
                waiters = [(key, self._waiting.pop(key)) for key in keys]
                try:
                    found = await self._fetch(keys)
                except asyncio.CancelledError:  # shutting down: nobody may wait forever
                    _fail(waiters, ConnectionAbortedError("the look-up was cancelled"))
                    raise
                except Exception:
                    # One key the database refuses must not fail the others that shared its
                    # query: ask again key by key, and only the bad key's waiters get the error.
                    await self._one_by_one(waiters)
                    continue
                _answer(waiters, found)
        finally:
            self._fetcher = None

    async def _fetch(self, keys: list[K]) -> dict[K, V]:
        self.queries += 1
        return await self._fetch_many(keys)

    async def _one_by_one(self, waiters: list[tuple[K, list[asyncio.Future[V | None]]]]) -> None:
        for index, (key, futures) in enumerate(waiters):
            try:
                found = await self._fetch([key])
            except asyncio.CancelledError:
                _fail(waiters[index:], ConnectionAbortedError("the look-up was cancelled"))
                raise
            except Exception as exc:  # this key's waiters learn why
                _fail([(key, futures)], exc)
            else:
                _answer([(key, futures)], found)


def _answer(waiters: list[tuple[K, list[asyncio.Future[V | None]]]], found: dict[K, V]) -> None:
    for key, futures in waiters:
        for future in futures:
            if not future.done():  # the handshake may have been abandoned
                future.set_result(found.get(key))


def _fail(waiters: list[tuple[K, list[asyncio.Future[V | None]]]], exc: BaseException) -> None:
    for _, futures in waiters:
        for future in futures:
            if not future.done():
                future.set_exception(exc)
