"""Runs periodic jobs, each only while this process holds its lease.

Every ``interval_s`` a job's loop takes or renews the job's lease and, if this process holds it,
runs the job once. The holder keeps renewing, so the lease stays with one process while it lives;
when it dies (or stops: a clean stop gives its leases back), another process's loop finds the lease
expired and takes the job over. A run is bounded by half the lease's time to live, so it always
ends before the lease it was started under could pass to another process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from kilowatt.jobs.leases import LeaseStore

log = structlog.get_logger("kilowatt.jobs")


@dataclass(slots=True, frozen=True)
class Job:
    """A periodic job: ``run`` once every ``interval_s`` by the one process holding lease ``name``."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]


class JobRunner:
    def __init__(self, leases: LeaseStore, node_id: str, jobs: list[Job], lease_ttl_s: float = 15.0):
        self._leases = leases
        self._node_id = node_id
        self._jobs = jobs
        self._lease_ttl_s = lease_ttl_s
        self._tasks: list[asyncio.Task[None]] = []
        self.held: set[str] = set()  # the jobs whose lease this process held at its last try
        self._valid_until: dict[str, float] = {}  # loop time until which a held lease is surely ours
        self.runs: dict[str, int] = {job.name: 0 for job in jobs}  # counters for tests and diagnostics

    def ttl_of(self, job: Job) -> float:
        """A lease lives at least three intervals: a holder that misses one renewal keeps it."""
        return max(self._lease_ttl_s, 3 * job.interval_s)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(job), name=f"job:{job.name}") for job in self._jobs]

    async def stop(self, release: bool = True) -> None:
        """Stop every loop (a run in progress is cancelled) and give the held leases back.

        ``release=False`` leaves them to expire, as a process that died would (tests).
        """
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if release:
            for name in sorted(self.held):
                try:
                    await self._leases.release(name, self._node_id)
                except Exception:  # the database is gone: the lease expires by itself
                    log.warning("could not give a lease back", job=name, exc_info=True)
        self.held.clear()

    async def _loop(self, job: Job) -> None:
        ttl_s = self.ttl_of(job)
        while True:
            try:
                await self.run_once(job, ttl_s)
            except Exception:  # the database is away, a bug in the job: try again next period
                log.exception("periodic job failed", job=job.name)
            await asyncio.sleep(job.interval_s)

    async def run_once(self, job: Job, ttl_s: float | None = None) -> bool:
        """Take or renew the job's lease and, if held, run the job once; True if it ran."""
        ttl_s = self.ttl_of(job) if ttl_s is None else ttl_s
        loop = asyncio.get_running_loop()
        # A lease with more than half its time left needs no renewal before a run (which ends
        # within half the time to live): one statement every ttl/2 instead of one a period.
        if not (job.name in self.held and loop.time() < self._valid_until[job.name] - ttl_s / 2):
            asked_at = loop.time()
            held = await self._leases.acquire(job.name, self._node_id, ttl_s)
            if held != (job.name in self.held):
                log.info("lease taken" if held else "lease held by another process", job=job.name, node_id=self._node_id)
            if not held:
                self.held.discard(job.name)
                return False
            self.held.add(job.name)
            self._valid_until[job.name] = asked_at + ttl_s
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that
            # arrives as the job finishes, and this loop would then never stop (stop() hung).
            async with asyncio.timeout(ttl_s / 2):
                await job.run()
        except TimeoutError:
            log.error("periodic job overran half its lease; cancelled", job=job.name, limit_s=ttl_s / 2)
            return False
        self.runs[job.name] += 1
        return True
