"""A TCP relay to a real server (PostgreSQL, Redis) that a test cuts and restores.

The shared servers on 127.0.0.1 cannot be restarted by a test (other tests and sessions use them), so
an outage is this relay going away: every open connection is aborted and new ones are refused — what
a node sees when its database or Redis restarts or the network to it goes. Starting it again on the
same port is the recovery. ``hang()`` is the other kind of failure: connections that stop answering
without a reset reaching anyone. Shared by the Redis bus, readiness and fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit


class TcpRelay:
    """127.0.0.1:<port> forwarded to ``target_host:target_port``; the port stays the same across cuts."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Future[Any]] = set()
        self._hung: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        """Listen (again, on the same port after a cut)."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones, as a server that went down."""
        assert self._server is not None
        self._server.close()
        for writer in [*self._writers, *self._hung]:
            writer.transport.abort()
        self._writers.clear()
        self._hung.clear()
        await self._server.wait_closed()

    def hang(self) -> None:
        """Stop relaying on the open connections without closing them — a network that broke
        without a reset reaching anyone — while new connections work."""
        for pipes in list(self._pipes):
            pipes.cancel()
        self._hung += self._writers
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        pipes = asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._pipes.add(pipes)
        with contextlib.suppress(asyncio.CancelledError):
            await pipes
        self._pipes.discard(pipes)
        self._writers -= {writer, upstream_writer}


class RedisRelay(TcpRelay):
    """A relay to the Redis of ``url``, with the URL that reaches the same database through it."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        super().__init__(parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path.lstrip("/") or "0"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"


@contextlib.asynccontextmanager
async def relay_to(host: str, port: int) -> Any:
    """A started relay, cut (if still up) when the block ends."""
    relay = TcpRelay(host, port)
    await relay.start()
    try:
        yield relay
    finally:
        with contextlib.suppress(Exception):
            await relay.cut()
