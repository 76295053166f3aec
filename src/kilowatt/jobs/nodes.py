"""The nodes table: which processes are alive, so that what a dead one held can be let go.

Every process (whatever its role) inserts its row at start, refreshes ``seen_at`` every
``KILOWATT_NODE_HEARTBEAT_INTERVAL_S`` and deletes the row at a clean stop. The periodic job
``nodes.reap`` (under a lease, see :mod:`kilowatt.jobs.runner`) deletes the rows not refreshed for
three intervals — a process that was killed — and has the station service mark every station held
by a node without a row as disconnected: a killed gateway's stations would otherwise show
connected until they reconnect, and a process's earlier run (under another node id, since the
default id is new per process) would leave its stations so too.

A database outage silences every node at once, so silence is judged only by a reaper that has
itself reached the database for three intervals in a row (every live node has had time to beat
since it came back). A live node reaped all the same (it alone lost the database for a while)
notices at its next heartbeat that its row was gone and reclaims the stations whose sockets it
still holds (``on_rejoin``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from kilowatt.storage.cluster_models import Node
from kilowatt.storage.models import utcnow

log = structlog.get_logger("kilowatt.nodes")

_NODES = Node.__table__
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
MISSED_HEARTBEATS = 3  # a node is dead after this many heartbeat intervals without one


class NodeRegistry:
    def __init__(self, engine: AsyncEngine, node_id: str, role: str, interval_s: float = 10.0):
        self._engine = engine
        self.node_id = node_id
        self._role = role
        self.interval_s = interval_s
        insert = _INSERTS[engine.dialect.name](_NODES)
        self._upsert = insert.on_conflict_do_update(
            index_elements=["node_id"], set_={"seen_at": insert.excluded.seen_at}
        ).returning(_NODES.c.started_at)  # the value just sent: the row had been deleted (reaped)
        self._task: asyncio.Task[None] | None = None
        self._reachable_since: float | None = None  # loop time of the first heartbeat since the last failed one
        self._beaten = False
        self.on_rejoin: Callable[[], Awaitable[object]] | None = None  # this node's row had been reaped
        # The first reap also lets go of the stations of nodes that left no row (an earlier run,
        # a reaper that died between deleting rows and letting their stations go); later ones only
        # when they reaped a node.
        self._released_once = False

    async def heartbeat(self) -> None:
        """Say this node is alive (inserting its row if it was reaped meanwhile, then ``on_rejoin``)."""
        now = utcnow()
        try:
            async with self._engine.begin() as connection:
                started_at: datetime = (
                    await connection.execute(
                        self._upsert, {"node_id": self.node_id, "role": self._role, "started_at": now, "seen_at": now}
                    )
                ).scalar_one()
        except Exception:
            self._reachable_since = None
            raise
        if self._reachable_since is None:
            self._reachable_since = asyncio.get_running_loop().time()
        rejoined = self._beaten and started_at == now
        self._beaten = True
        if rejoined:
            log.warning("this node's row had been reaped (it missed heartbeats); reclaiming its stations", node_id=self.node_id)
            if self.on_rejoin is not None:
                await self.on_rejoin()

    async def start(self) -> None:
        """The first heartbeat (awaited: the node exists before it holds anything), then one per interval."""
        await self.heartbeat()
        self._task = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.heartbeat()
            except Exception:  # the database is away; the next beat tries again
                log.warning("node heartbeat failed", node_id=self.node_id, exc_info=True)

    async def stop(self) -> None:
        """Stop beating and delete this node's row (a clean stop: nothing to reap)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            async with self._engine.begin() as connection:
                await connection.execute(delete(_NODES).where(_NODES.c.node_id == self.node_id))
        except Exception:  # the database is gone: the row is reaped later
            log.warning("could not delete this node's row", node_id=self.node_id, exc_info=True)

    async def alive(self) -> list[str]:
        async with self._engine.connect() as connection:
            return list((await connection.execute(select(_NODES.c.node_id).order_by(_NODES.c.node_id))).scalars())

    async def reap(self, release_departed: Callable[[], Awaitable[int]]) -> list[str]:
        """Delete the rows of nodes silent for :data:`MISSED_HEARTBEATS` intervals, then call
        ``release_departed`` (the station service's: stations of nodes without a row are let go).
        Returns the node ids reaped.

        Nobody is reaped until this node's own heartbeats have reached the database for
        :data:`MISSED_HEARTBEATS` intervals: after an outage every node is silent, not dead.
        """
        window_s = MISSED_HEARTBEATS * self.interval_s
        if self._reachable_since is None or asyncio.get_running_loop().time() - self._reachable_since < window_s:
            return []
        cutoff = utcnow() - timedelta(seconds=window_s)
        async with self._engine.begin() as connection:
            dead = list(
                (await connection.execute(delete(_NODES).where(_NODES.c.seen_at < cutoff).returning(_NODES.c.node_id))).scalars()
            )
        if dead:
            log.warning("nodes stopped without a clean stop", node_ids=dead)
        elif self._released_once:
            return dead  # nobody departed since this process last let their stations go
        released = await release_departed()
        self._released_once = True
        if released:
            log.info("stations of departed nodes marked disconnected", count=released)
        return dead
