"""Many simulated stations on one event loop, sharing one set of counters.

A fleet is what ``kilowatt simulate``, ``kilowatt demo`` and the end-to-end tests start. Stations
are started at ``connect_rate_per_s`` so a thousand of them do not hit the CSMS in the same
millisecond, and each is one task (two while connected), so the fleet's cost grows with the
messages it sends, not with threads.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from kilowatt.simulator.config import FleetConfig
from kilowatt.simulator.drivers import TokenPool
from kilowatt.simulator.model import SessionPhase
from kilowatt.simulator.report import summary_line
from kilowatt.simulator.station import SimulatedStation
from kilowatt.simulator.stats import FleetStats


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """The fleet right now: gauges that are counted by looking, not by bookkeeping."""

    elapsed_s: float
    stations: int
    connected: int
    ready: int
    charging: int  # sessions with a transaction running
    queued_messages: int  # transaction messages waiting for delivery


class Fleet:
    """A set of :class:`SimulatedStation`\\ s built from one :class:`FleetConfig`.

    ``async with Fleet(config) as fleet:`` starts it and stops it cleanly; or call :meth:`start`
    and :meth:`stop`, or :meth:`run` for a timed run that returns the report.
    """

    def __init__(self, config: FleetConfig, *, stats: FleetStats | None = None):
        config.validate()
        self.config = config
        self.stats = stats if stats is not None else FleetStats()
        rng = random.Random(config.seed)
        rate = config.connect_rate_per_s
        self.tokens = TokenPool(config.station.id_tokens, rng)
        self.stations: list[SimulatedStation] = [
            SimulatedStation(
                station_id,
                config.url,
                config.station,
                protocol=protocol,
                password=config.password,
                stats=self.stats,
                rng=rng,
                start_delay_s=index / rate,
                tokens=self.tokens,
            )
            for index, (station_id, protocol) in enumerate(zip(config.station_ids(), config.protocol_plan(), strict=True))
        ]
        self._by_id = {s.station_id: s for s in self.stations}
        self._started_s: float | None = None
        self._stopped_s: float | None = None

    def __getitem__(self, station_id: str) -> SimulatedStation:
        return self._by_id[station_id]

    def __len__(self) -> int:
        return len(self.stations)

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def elapsed_s(self) -> float:
        if self._started_s is None:
            return 0.0
        end = self._stopped_s if self._stopped_s is not None else asyncio.get_running_loop().time()
        return end - self._started_s

    async def start(self, *, first: int | None = None) -> None:
        """Start every station (each waits its turn to connect), or only the ``first`` ones; returns at once.

        Calling it again with a larger ``first`` (or none) starts the rest, so a load test can pace
        connections itself — e.g. the next batch once the previous one is accepted — with
        ``connect_rate_per_s`` set high. Stations already started are left alone.
        """
        if self._started_s is None:
            self._started_s = asyncio.get_running_loop().time()
        for station in self.stations[:first]:
            station.start()

    async def stop(self, *, graceful: bool = True, timeout_s: float = 10.0) -> None:
        """Stop every station; with ``graceful`` running sessions end with StopTransaction first."""
        await asyncio.gather(*(s.stop(graceful=graceful, timeout_s=timeout_s) for s in self.stations))
        if self._started_s is not None and self._stopped_s is None:
            self._stopped_s = asyncio.get_running_loop().time()

    async def wait_until(self, predicate: Callable[[FleetSnapshot], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
        """Poll the snapshot until ``predicate`` holds; False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                while not predicate(self.snapshot()):
                    await asyncio.sleep(poll_s)
        except TimeoutError:
            return False
        return True

    async def wait_ready(self, timeout_s: float = 10.0) -> bool:
        """Wait until every station is connected and accepted by the CSMS."""
        return await self.wait_until(lambda s: s.ready == s.stations, timeout_s)

    def snapshot(self) -> FleetSnapshot:
        connected = ready = charging = queued = 0
        for station in self.stations:
            if station.connected:
                connected += 1
                if station.ready:
                    ready += 1
            queued += len(station.queue)
            for connector in station.model.connectors:
                session = connector.session
                if session is not None and session.phase is SessionPhase.ACTIVE:
                    charging += 1
        return FleetSnapshot(self.elapsed_s, len(self.stations), connected, ready, charging, queued)

    async def run(
        self,
        duration_s: float | None = None,
        *,
        stop: asyncio.Event | None = None,
        summary: TextIO | None = None,
        summary_interval_s: float | None = None,
    ) -> dict[str, Any]:
        """Start, run until ``duration_s`` passes or ``stop`` is set, stop gracefully, return :meth:`report`.

        With ``summary``, a live line goes there every ``summary_interval_s``.
        """
        stop = stop or asyncio.Event()
        await self.start()
        loop = asyncio.get_running_loop()
        deadline = None if duration_s is None else loop.time() + duration_s
        interval_s = summary_interval_s or self.config.summary_interval_s or 5.0
        try:
            while not stop.is_set():
                wait_s = interval_s if summary is not None else 3600.0
                if deadline is not None:
                    wait_s = min(wait_s, deadline - loop.time())
                    if wait_s <= 0:
                        break
                try:
                    await asyncio.wait_for(stop.wait(), wait_s)
                except TimeoutError:
                    pass
                if summary is not None and not stop.is_set():
                    print(summary_line(self.snapshot(), self.stats), file=summary, flush=True)
        finally:
            await self.stop()
        return self.report()

    def report(self) -> dict[str, Any]:
        """Everything worth keeping from the run, JSON-ready."""
        snapshot = self.snapshot()
        protocols: dict[str, int] = {}
        for station in self.stations:
            name = station.adapter.subprotocol
            protocols[name] = protocols.get(name, 0) + 1
        return {
            "url": self.config.url,
            "duration_s": round(snapshot.elapsed_s, 3),
            "stations": snapshot.stations,
            "protocols": protocols,
            "connected_at_end": snapshot.connected,
            "charging_at_end": snapshot.charging,
            "queued_messages_at_end": snapshot.queued_messages,
            **self.stats.as_dict(),
        }
