"""The load generator: a simulated fleet in its own process, driven phase by phase.

Started by :mod:`benchmarks.run` (never by hand, though it can be: it only needs a CSMS URL). It
runs one *plan* (``steady`` or ``storm``) against one CSMS with the project's simulator
(:class:`~kilowatt.simulator.Fleet`) and talks to the harness over pipes, one JSON object a line:

- at every measurement boundary it prints ``{"mark": name, "t": seconds, "stats": {...}}`` and waits
  for a line on stdin, so the harness samples the CSMS process (CPU time, RSS) exactly there while
  the fleet holds still for the few milliseconds that takes;
- the stats in an ``*.end`` mark are *that window's*: messages by action, errors by kind, refusals,
  and the call round-trip latency of every CALL answered in the window (a fresh histogram per
  window, so earlier phases do not leak into its percentiles);
- last it prints ``{"done": {...}}`` with the plan's own figures (boot storm timings, ...).

Every station speaks ``--protocol`` (``ocpp1.6`` by default; ``ocpp2.0.1`` and ``ocpp2.1`` run the
same plans with TransactionEvent instead of Start/StopTransaction and MeterValues, and one
StatusNotification per EVSE instead of one per connector plus connector 0).

Plans (N = ``--stations``, every station has two connectors):

steady
    ``rest``: N stations connect in batches (at most ``--connect-rate`` per second, each batch once
    the previous is Accepted and the CSMS is quiet again), boot, and sit idle with heartbeats.
    ``busy``: ``--busy-fraction`` of them charge on connector 1, MeterValues every
    ``--meter-interval`` s, start times spread over one interval so the load is even.
    ``sustained``: the same sessions, the interval shortened so the fleet offers ``--target-rate``
    MeterValues per second.
    ``aligned``: periodic samples off, then every charging station sends one clock-aligned
    MeterValues (``Sample.Clock``) in the same second; the window closes when all are answered.
    ``tx``: ``--tx-pairs`` StartTransaction/StopTransaction pairs at once on connector 2 (one pair
    per station when N >= pairs, else several in a row per station), no Authorize.
    ``profile`` (with ``--profile``): the sustained load again, last, while the harness samples the
    server with py-spy (which slows it: nothing after it is measured).
    ``commands`` (with ``--commands``): after the transaction burst, with the fleet otherwise
    quiet (periodic samples off), the generator marks ``commands.begin``, then ``commands.run``
    and waits while the *harness* sends API commands to the stations (the stations, in this
    process, answer them), then marks ``commands.end``.
storm
    N stations connect at once and boot; the window closes when every station is Accepted and
    has reported every connector's status.

``--url`` may be given several times (a cluster's gateways): station *i* connects to URL
*i mod k*, so every gateway gets the same share of the fleet, and of every scenario's stations.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import resource
import sys
import time
from collections import Counter
from typing import Any

import orjson

from kilowatt.logs import configure_logging
from kilowatt.simulator import SUPPORTED_PROTOCOLS, Fleet, FleetConfig, LatencyHistogram, StationConfig, StopReason
from kilowatt.simulator.connection import station_url
from kilowatt.simulator.model import SessionPhase
from kilowatt.simulator.station import SimulatedStation

CONNECTORS = 2
BUSY_CONNECTOR = 1
BURST_CONNECTOR = 2


def busy_token(index: int) -> str:
    return f"BUSY{index:06d}"


def burst_token(index: int) -> str:
    return f"BURST{index:06d}"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Window:
    """Counters at the start of a measured window; :meth:`close` gives the window's own figures."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        stats = fleet.stats
        self.sent = Counter(stats.messages_sent)
        self.received = Counter(stats.messages_received)
        self.errors = Counter(stats.errors)
        self.rejected = Counter(stats.rejected)
        stats.latency = LatencyHistogram()  # stations look it up per call: this window's calls only

    def close(self) -> dict[str, Any]:
        stats = self.fleet.stats
        sent = Counter(stats.messages_sent)
        sent.subtract(self.sent)
        received = Counter(stats.messages_received)
        received.subtract(self.received)
        errors = Counter(stats.errors)
        errors.subtract(self.errors)
        rejected = Counter(stats.rejected)
        rejected.subtract(self.rejected)
        snapshot = self.fleet.snapshot()
        return {
            "sent": sum(sent.values()),
            "sent_by_action": {k: v for k, v in sorted(sent.items()) if v},
            "received": sum(received.values()),
            "received_by_action": {k: v for k, v in sorted(received.items()) if v},
            "errors": sum(errors.values()),
            "errors_by_kind": {k: v for k, v in sorted(errors.items()) if v},
            "rejected_by_action": {k: v for k, v in sorted(rejected.items()) if v},
            "latency_ms": stats.latency.summary(),
            "connected": snapshot.connected,
            "ready": snapshot.ready,
            "charging": snapshot.charging,
        }


class Driver:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.t0 = time.monotonic()
        self.results: dict[str, Any] = {}

    # --- talking to the harness -------------------------------------------------------------

    def emit(self, obj: dict[str, Any]) -> None:
        _PROTOCOL.write(orjson.dumps(obj) + b"\n")
        _PROTOCOL.flush()

    async def mark(self, name: str, stats: dict[str, Any] | None = None) -> None:
        """Tell the harness where we are and wait until it has taken its sample."""
        self.emit({"mark": name, "t": round(time.monotonic() - self.t0, 4), "stats": stats})
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line:
            raise SystemExit("harness went away")

    def log(self, message: str) -> None:
        print(f"[loadgen {time.monotonic() - self.t0:7.1f}s] {message}", file=sys.stderr, flush=True)

    # --- helpers ------------------------------------------------------------------------------

    def fleet_config(self, connect_rate_per_s: float) -> FleetConfig:
        args = self.args
        return FleetConfig(
            url=args.url[0],
            stations=args.stations,
            id_prefix=args.id_prefix,
            protocols=((args.protocol, 1.0),),
            connect_rate_per_s=connect_rate_per_s,
            summary_interval_s=None,
            seed=args.seed,
            station=StationConfig(
                connectors=CONNECTORS,
                arrival_rate_per_h=0.0,  # no random drivers: the plan decides who charges
                meter_values_interval_s=args.meter_interval,
                session_length_s=10 * 24 * 3600.0,
                connect_timeout_s=120.0,
                call_timeout_s=120.0,
                reconnect_min_s=1.0,
                reconnect_max_s=10.0,
                id_tokens=(busy_token(0),),
            ),
        )

    def fleet(self, connect_rate_per_s: float) -> Fleet:
        """The fleet, split across the ``--url``\ s by station index (station i to URL i mod k)."""
        fleet = Fleet(self.fleet_config(connect_rate_per_s))
        urls = self.args.url
        if len(urls) > 1:
            for index, station in enumerate(fleet.stations):
                station.url = station_url(urls[index % len(urls)], station.station_id)
        split = [len(range(index, len(fleet.stations), len(urls))) for index in range(len(urls))]
        self.results["stations_per_url"] = dict(zip(urls, split, strict=True))
        return fleet

    async def window(self, fleet: Fleet, name: str, seconds: float) -> dict[str, Any]:
        await self.mark(f"{name}.begin")
        window = Window(fleet)
        await asyncio.sleep(seconds)
        stats = window.close()
        await self.mark(f"{name}.end", stats)
        return stats

    async def connect_in_batches(self, fleet: Fleet) -> bool:
        """Connect the fleet as fast as the CSMS keeps up, at most ``--connect-rate`` per second.

        Closed loop: a batch starts, and the next waits until the batch is Accepted and the CSMS has
        finished its own follow-up calls (e.g. GetConfiguration), so the at-rest figures are not
        a boot storm in disguise (scenario 3 is the storm).
        """
        args = self.args
        batch = max(50, min(500, args.stations // 50 or 1))
        loop = asyncio.get_running_loop()
        started_count = 0
        while started_count < len(fleet.stations):
            group = fleet.stations[started_count : started_count + batch]
            began = loop.time()
            started_count += len(group)
            await fleet.start(first=started_count)
            if not await fleet.wait_until(lambda snap, n=started_count: snap.ready >= n, timeout_s=300.0, poll_s=0.02):
                return False
            await self.settle(fleet, quiet_s=0.3, limit_s=60.0)
            pause = len(group) / args.connect_rate - (loop.time() - began)
            if pause > 0:
                await asyncio.sleep(pause)
        return True

    async def settle(self, fleet: Fleet, quiet_s: float = 2.0, limit_s: float = 120.0, stations_too: bool = False) -> None:
        """Wait until the CSMS stops sending calls of its own (e.g. GetConfiguration after boot).

        ``stations_too``: and until the stations stop sending (e.g. the statuses after a stop).
        """
        deadline = time.monotonic() + limit_s
        last = -1
        while time.monotonic() < deadline:
            now = sum(fleet.stats.messages_received.values()) + fleet.snapshot().queued_messages
            if stations_too:
                now += sum(fleet.stats.messages_sent.values())
            if now == last:
                return
            last = now
            await asyncio.sleep(quiet_s)

    # --- plans --------------------------------------------------------------------------------

    async def steady(self) -> None:
        args = self.args
        fleet = self.fleet(1e9)  # no start delays: connect_in_batches paces the stations
        await self.mark("start")
        connect_started = time.monotonic()
        ok = await self.connect_in_batches(fleet)
        self.results["connect_s"] = round(time.monotonic() - connect_started, 3)
        self.results["all_ready"] = ok
        self.log(f"{fleet.snapshot().ready}/{args.stations} ready in {self.results['connect_s']} s")
        await self.settle(fleet)
        quiet_gc()
        await asyncio.sleep(1.0)

        await self.window(fleet, "rest", args.window)

        # busy: a fraction of the stations charge, their start times spread over one interval
        charging = [s for s in fleet.stations[: max(1, round(args.busy_fraction * args.stations))]]
        spread_s = args.meter_interval
        for index, station in enumerate(charging):
            station.plug_in(BUSY_CONNECTOR, busy_token(index), stay_s=10 * 24 * 3600.0)
            await asyncio.sleep(spread_s / len(charging))
        await fleet.wait_until(lambda snap: snap.charging >= len(charging), timeout_s=120.0)
        await asyncio.sleep(2.0)
        self.results["charging"] = fleet.snapshot().charging
        self.results["busy_meter_interval_s"] = args.meter_interval
        await self.window(fleet, "busy", args.window)

        # sustained: the same sessions, a shorter interval for --target-rate MeterValues per second
        interval_s = max(0.2, len(charging) / args.target_rate)
        self.results["sustained_meter_interval_s"] = round(interval_s, 3)
        for station in charging:  # spread over one new interval so the samples stay evenly spaced
            station.set_meter_interval(interval_s)
            await asyncio.sleep(interval_s / len(charging))
        await asyncio.sleep(interval_s + 1.0)
        await self.window(fleet, "sustained", args.window)

        # aligned: periodic samples off, then one Sample.Clock MeterValues from every charging station at once
        for station in charging:
            station.set_meter_interval(0)
        await fleet.wait_until(lambda snap: snap.queued_messages == 0, timeout_s=60.0)
        await asyncio.sleep(1.0)
        await self.aligned_burst(fleet, charging)

        await self.tx_burst(fleet)

        if args.commands:
            # quiet first: the burst's drivers unplug 5 s after their StopTransaction and the stations
            # then report their connectors Available, which would land in the commands' window
            await fleet.wait_until(lambda snap: snap.queued_messages == 0, timeout_s=60.0)
            await fleet.wait_until(lambda _snap: not any(_unplug_pending(s) for s in fleet.stations), timeout_s=60.0)
            await self.settle(fleet, quiet_s=1.0, limit_s=60.0, stations_too=True)
            await self.mark("commands.begin")
            window = Window(fleet)
            await self.mark("commands.run")  # the harness sends its commands now; the stations answer them
            await self.mark("commands.end", window.close())

        if args.profile:  # last: the sampler slows the server down, and nothing after it is measured
            await asyncio.sleep(args.meter_interval)
            profile_interval_s = args.meter_interval if args.profile_load == "busy" else interval_s
            for station in charging:
                station.set_meter_interval(profile_interval_s)
                await asyncio.sleep(profile_interval_s / len(charging))
            await asyncio.sleep(profile_interval_s + 1.0)
            await self.window(fleet, "profile", args.profile_window or args.window)

        await self.mark("stopping")
        await fleet.stop(graceful=True, timeout_s=120.0)
        self.results["final"] = {
            k: v for k, v in fleet.report().items() if k in ("messages_sent", "errors", "errors_by_kind", "sessions_completed")
        }

    async def aligned_burst(self, fleet: Fleet, charging: list[SimulatedStation]) -> None:
        loop = asyncio.get_running_loop()
        # start on the next whole second of the wall clock, as ClockAlignedDataInterval does
        await asyncio.sleep(math.ceil(time.time()) - time.time() + 0.001)
        await self.mark("aligned.begin")
        window = Window(fleet)
        started = loop.time()
        sessions = 0
        for station in charging:
            session = station.model.connectors[BUSY_CONNECTOR - 1].session
            if session is not None and session.phase is SessionPhase.ACTIVE:
                station.adapter.meter_values(session, "Sample.Clock")
                station.post(station.flush)
                sessions += 1
        enqueued_s = loop.time() - started
        action = "MeterValues" if self.args.protocol == "ocpp1.6" else "TransactionEvent"  # 2.0.1: an Updated event
        sent_before = window.sent[action]

        def drained(_snapshot: object) -> bool:
            return fleet.stats.messages_sent[action] - sent_before >= sessions and fleet.snapshot().queued_messages == 0

        ok = await fleet.wait_until(drained, timeout_s=120.0, poll_s=0.005)
        drain_s = loop.time() - started
        stats = window.close()
        await self.mark("aligned.end", stats)
        self.results["aligned"] = {
            "messages": sessions,
            "enqueue_s": round(enqueued_s, 4),
            "drain_s": round(drain_s, 4),
            "complete": ok,
        }

    async def tx_burst(self, fleet: Fleet) -> None:
        args = self.args
        loop = asyncio.get_running_loop()
        stations = fleet.stations[: min(len(fleet.stations), args.tx_pairs)]
        pairs_each = [args.tx_pairs // len(stations)] * len(stations)
        for i in range(args.tx_pairs - sum(pairs_each)):
            pairs_each[i] += 1
        done: list[asyncio.Future[None]] = []

        def job(station: SimulatedStation, index: int, pairs: int, finished: asyncio.Future[None]):
            async def run() -> None:
                try:
                    connector = station.model.connectors[BURST_CONNECTOR - 1]
                    for _ in range(pairs):
                        session = station.new_session(connector, burst_token(index))
                        await station.authorize_and_start(session, authorize=False)
                        await station.end_session(session, StopReason.LOCAL)
                finally:
                    if not finished.done():
                        finished.set_result(None)

            return run

        await self.mark("tx.begin")
        window = Window(fleet)
        sessions_before = (fleet.stats.sessions_started, fleet.stats.sessions_completed)
        started = loop.time()
        for index, (station, pairs) in enumerate(zip(stations, pairs_each, strict=True)):
            finished = loop.create_future()
            done.append(finished)
            station.post(job(station, index, pairs, finished))
        await asyncio.wait_for(asyncio.gather(*done), timeout=600.0)
        await fleet.wait_until(lambda snap: snap.queued_messages == 0, timeout_s=120.0, poll_s=0.005)
        elapsed_s = loop.time() - started
        stats = window.close()
        await self.mark("tx.end", stats)
        answered = stats["sent_by_action"]
        if args.protocol == "ocpp1.6":
            start_sent, stop_sent = answered.get("StartTransaction", 0), answered.get("StopTransaction", 0)
        else:  # TransactionEvent Started / Ended: counted by the sessions they opened and closed
            start_sent = fleet.stats.sessions_started - sessions_before[0]
            stop_sent = fleet.stats.sessions_completed - sessions_before[1]
        self.results["tx"] = {
            "pairs": args.tx_pairs,
            "stations": len(stations),
            "elapsed_s": round(elapsed_s, 4),
            "start_sent": start_sent,
            "stop_sent": stop_sent,
        }

    async def storm(self) -> None:
        args = self.args
        fleet = self.fleet(1e9)  # every station starts in the same instant
        loop = asyncio.get_running_loop()
        quiet_gc()
        await self.mark("storm.begin")
        window = Window(fleet)
        started = loop.time()
        await fleet.start()
        expected_statuses = CONNECTORS + 1 if args.protocol == "ocpp1.6" else CONNECTORS  # 2.0.1: no connector 0
        all_connected_s = all_accepted_s = all_status_s = None
        deadline = started + args.storm_timeout
        while loop.time() < deadline:
            await asyncio.sleep(0.01)
            now = loop.time() - started
            snap = fleet.snapshot()
            if all_connected_s is None and snap.connected == snap.stations:
                all_connected_s = now
            if all_accepted_s is None and fleet.stats.boots_accepted >= snap.stations:
                all_accepted_s = now
            if all_accepted_s is not None and all(_reported(s) for s in fleet.stations):
                all_status_s = now
                break
        stats = window.close()
        await self.mark("storm.end", stats)
        self.results["storm"] = {
            "stations": args.stations,
            "all_connected_s": _round(all_connected_s),
            "all_accepted_s": _round(all_accepted_s),
            "all_statuses_s": _round(all_status_s),
            "boots_accepted": fleet.stats.boots_accepted,
            "connects": fleet.stats.connects,
            "status_notifications_expected": args.stations * expected_statuses,
        }
        await self.settle(fleet, quiet_s=1.0, limit_s=60.0)
        await self.mark("stopping")
        await fleet.stop(graceful=True, timeout_s=60.0)


def _unplug_pending(station: SimulatedStation) -> bool:
    return any(connector.unplug_s is not None for connector in station.model.connectors)


def _reported(station: SimulatedStation) -> bool:
    model = station.model
    return model.reported_station_status is not None and all(c.reported is not None for c in model.connectors)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description="Benchmark load generator")
    parser.add_argument("plan", choices=("steady", "storm"))
    parser.add_argument("--url", required=True, action="append", help="CSMS URL; several split the fleet by station index")
    parser.add_argument("--commands", type=int, default=0, help="mark a window for the harness's API commands (steady plan)")
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--id-prefix", default="BENCH-")
    parser.add_argument("--connect-rate", type=float, default=1000.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-window", type=float)
    parser.add_argument("--profile-load", choices=("busy", "sustained"), default="sustained")
    parser.add_argument("--busy-fraction", type=float, default=0.3)
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--target-rate", type=float, default=2000.0)
    parser.add_argument("--tx-pairs", type=int, default=1000)
    parser.add_argument("--storm-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocol", choices=SUPPORTED_PROTOCOLS, default="ocpp1.6", help="OCPP version the fleet speaks")
    return parser


async def main_async(args: argparse.Namespace) -> None:
    driver = Driver(args)
    try:
        await (driver.steady() if args.plan == "steady" else driver.storm())
    finally:
        driver.emit({"done": driver.results})


_PROTOCOL = sys.stdout.buffer


def _private_stdout() -> None:
    """Keep the harness pipe for marks only: whatever else writes to stdout (logs) goes to stderr."""
    global _PROTOCOL
    _PROTOCOL = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)


def quiet_gc() -> None:
    """Keep the load generator's own garbage collector out of the latencies it measures.

    10,000 simulated stations are a large heap: with the default thresholds the generator ran a
    full collection (~400 ms, nothing freed) every few seconds, and every call in flight then
    looked 400 ms slow — whichever system was under test. Everything alive now is frozen out of
    the collector's sight (the run is short; nothing needs reclaiming), and collections are rare.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def main(argv: list[str] | None = None) -> None:
    _private_stdout()
    configure_logging("WARNING", stream=sys.stderr)
    raise_fd_limit()
    args = build_parser().parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
