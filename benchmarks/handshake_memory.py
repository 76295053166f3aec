"""Memory of ``kilowatt serve --role gateway`` under aborted WebSocket handshakes (issue 11).

Starts the gateway as a subprocess on a fresh SQLite database with loopback ports, aborts
``--aborts`` handshakes ``--in-flight`` at a time, and prints the server's RSS (and, from a debug
hook in the server process, the collector's counts and pauses) after every step::

    .venv/bin/python -m benchmarks.handshake_memory --aborts 100000 --in-flight 500
    .venv/bin/python -m benchmarks.handshake_memory --aborts 20000 --kinds ok101 --tracemalloc
    .venv/bin/python -m benchmarks.handshake_memory --aborts 0 --idle 10000   # full-collection pause

Each batch opens ``--in-flight`` sockets, takes each through one kind of abort (cycling through
``--kinds``), holds them all for ``--hold`` seconds (long enough for the handshakes' objects to be
promoted by the collector, as in a reconnect storm) and closes them with a TCP reset:

=========  ==============================================================================
nobyte     reset before any byte
midline    reset in the middle of the request line
fullreq    a complete request for a known station, reset without reading the answer
refused    a request for an unknown station, reset after reading the 404
ok101      a complete request for a known station, reset after reading the 101
=========  ==============================================================================

The server is ``kilowatt.cli.main(["serve", "--role", "gateway"])`` run by this module (see
``_serve``) with two additions that do not change what it does: ``gc.callbacks`` timing every
collection, and SIGUSR1 writing a JSON snapshot of RSS-relevant counters (objects per generation,
collections, pauses, optionally tracemalloc's top allocation sites against the first snapshot) to
a file the harness reads. ``--idle N`` first connects N idle WebSocket stations (websockets
clients in this process, answering keep-alive pings) and then forces one full collection in the
server (SIGUSR2) to time it. Only 127.0.0.1 is used; every wait is bounded, and the server is
stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import procstat, targets

KINDS = ("nobyte", "midline", "fullreq", "refused", "ok101")
STATIONS = 2000  # known station ids CP-0000..; a batch never uses one twice

_REQUEST = (
    "GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
)


# --- the server side: kilowatt serve with a debug hook --------------------------------------------


def _serve(stats_path: str, use_tracemalloc: bool, find_garbage: bool) -> int:
    """``kilowatt serve --role gateway`` with a collection timer and a SIGUSR1 snapshot of its memory."""
    import collections
    import gc

    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start(8)
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started: list[float] = [0.0]
    first_snapshot: list[Any] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    gc.callbacks.append(on_gc)

    def snapshot(signum: int, frame: object) -> None:
        # No list of these lists: gc.get_objects(0) would contain it, a cycle holding every object.
        counts = [len(gc.get_objects(0)), len(gc.get_objects(1)), len(gc.get_objects(2))]
        old = collections.Counter(type(obj).__qualname__ for obj in gc.get_objects(2))
        stats: dict[str, Any] = {
            "gc_count": gc.get_count(),
            "gc_threshold": gc.get_threshold(),
            "frozen": gc.get_freeze_count(),
            "objects_per_generation": counts,
            "collections": [s["collections"] for s in gc.get_stats()],
            "pauses_ms": {
                str(g): {"n": len(p), "max": max(p, default=0) * 1e3, "total": sum(p) * 1e3, "last": (p[-1] * 1e3 if p else 0)}
                for g, p in pauses.items()
            },
            "allocated_blocks": sys.getallocatedblocks(),
            "old_generation_types": old.most_common(25),
        }
        if use_tracemalloc:
            current = tracemalloc.take_snapshot()
            if not first_snapshot:
                first_snapshot.append(current)
            stats["tracemalloc_traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
            stats["tracemalloc_growth"] = [
                f"{d.size_diff / 1024:+.1f} KiB {d.count_diff:+d} blocks  " + " <- ".join(str(f) for f in list(d.traceback)[:4])
                for d in current.compare_to(first_snapshot[0], "traceback")[:15]
            ]
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, stats_path)

    def full_collection(signum: int, frame: object) -> None:
        if not find_garbage:
            gc.collect()
            return
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            garbage = gc.garbage[:]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        found = {"objects": len(garbage), "types": collections.Counter(type(o).__qualname__ for o in garbage).most_common(30)}
        # who in the garbage refers to the first object of each of a few types
        inside = {id(o) for o in garbage}
        for name in ("ServerProtocol", "_ServerConnection", "generator", "EOFError", "Future", "Task"):
            sample = next((o for o in garbage if type(o).__qualname__ == name), None)
            if sample is not None:
                found[f"referrers of {name}"] = [
                    _describe(r) for r in gc.get_referrers(sample) if id(r) in inside
                ][:10]
        del garbage
        # what keeps live connection objects (all sockets are closed when this runs): referrer chains
        live = [o for o in gc.get_objects() if type(o).__qualname__ in ("ServerProtocol", "_ServerConnection")]
        found["live connection objects"] = len(live)
        chains: list[list[str]] = []
        some = live[:3]
        for obj in some:
            chain: list[str] = []
            current = obj
            mine = {id(live), id(some), id(chains), id(chain)}
            for _ in range(8):
                referrers = [r for r in gc.get_referrers(current) if id(r) not in mine and type(r).__name__ != "frame"]
                if not referrers:
                    break
                current = referrers[0]
                chain.append(_describe(current) + (f" (+{len(referrers) - 1} more)" if len(referrers) > 1 else ""))
            chains.append(chain)
        found["referrer chains"] = chains
        del live, some
        with open(stats_path + ".garbage", "w") as f:
            json.dump(found, f, indent=1)

    signal.signal(signal.SIGUSR1, snapshot)
    signal.signal(signal.SIGUSR2, full_collection)
    from kilowatt.cli import main

    return main(["serve", "--role", "gateway"])


def _describe(obj: object) -> str:
    import types

    if isinstance(obj, types.FrameType):
        return f"frame {obj.f_code.co_name} {obj.f_code.co_filename}:{obj.f_lineno}"
    if isinstance(obj, types.GeneratorType | types.CoroutineType):
        return f"{type(obj).__name__} {obj.__qualname__}"
    if isinstance(obj, dict):
        return f"dict keys {list(obj)[:12]}"
    return f"{type(obj).__module__}.{type(obj).__qualname__} {repr(obj)[:120]}"


# --- the client side ---------------------------------------------------------------------------


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _batch(port: int, kinds: list[str], size: int, first: int, hold_s: float) -> dict[str, int]:
    """Open ``size`` sockets, take the i-th through kind ``kinds[(first + i) % len(kinds)]``, reset them all."""
    sockets: list[tuple[socket.socket, str]] = []
    outcome: dict[str, int] = {}
    for i in range(size):
        kind = kinds[(first + i) % len(kinds)]
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            outcome["connect failed"] = outcome.get("connect failed", 0) + 1
            continue
        station_id = f"CP-{(first + i) % STATIONS:04d}"
        try:
            if kind == "midline":
                sock.sendall(b"GET /ocpp/CP")
            elif kind in ("fullreq", "ok101"):
                sock.sendall(_REQUEST.format(station_id=station_id).encode())
            elif kind == "refused":
                sock.sendall(_REQUEST.format(station_id="NOBODY").encode())
        except OSError:
            pass
        sockets.append((sock, kind))
    for sock, kind in sockets:  # the server answers all of them at once; reading in turn waits little
        if kind in ("refused", "ok101"):
            try:
                status = sock.recv(4096).split(b" ", 2)[1].decode()
            except (OSError, IndexError):
                status = "no answer"
            outcome[f"{kind} {status}"] = outcome.get(f"{kind} {status}", 0) + 1
    time.sleep(hold_s)
    for sock, _ in sockets:
        _reset(sock)
    return outcome


class Server:
    def __init__(self, workdir: Path, event_loop: str, use_tracemalloc: bool, find_garbage: bool = False):
        self.port = targets.free_port()
        self.stats_path = str(workdir / "stats.json")
        database_url = f"sqlite+aiosqlite:///{workdir / 'kilowatt.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KILOWATT_")} | {
            "KILOWATT_DATABASE_URL": database_url,
            "KILOWATT_HOST": "127.0.0.1",
            "KILOWATT_OCPP_PORT": str(self.port),
            "KILOWATT_HTTP_PORT": str(targets.free_port()),
            "KILOWATT_LOG_LEVEL": "WARNING",
            "KILOWATT_EVENT_LOOP": event_loop,
        }
        self.log = open(workdir / "server.log", "wb")  # noqa: SIM115 - the child writes it
        subprocess.run([sys.executable, "-m", "kilowatt", "migrate"], env=env, check=True, stdout=self.log, stderr=self.log)
        asyncio.run(targets._seed(database_url, [f"CP-{i:04d}" for i in range(STATIONS)], []))
        command = [sys.executable, "-m", "benchmarks.handshake_memory", "--serve", self.stats_path]
        if use_tracemalloc:
            command.append("--tracemalloc")
        if find_garbage:
            command.append("--find-garbage")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log, cwd=targets.ROOT)
        targets.wait_for_port(self.port, self.process)

    def stats(self, timeout_s: float = 120.0) -> dict[str, Any]:
        before = os.stat(self.stats_path).st_mtime_ns if os.path.exists(self.stats_path) else 0
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if os.path.exists(self.stats_path) and os.stat(self.stats_path).st_mtime_ns != before:
                with open(self.stats_path) as f:
                    return json.load(f)
            time.sleep(0.05)
        raise RuntimeError("the server did not write its statistics")

    def rss_mb(self) -> tuple[float, float]:
        sample = procstat.sample(self.process.pid)
        return sample.rss_kib / 1024, sample.hwm_kib / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _row(server: Server, aborts: int, baseline_mb: float | None, elapsed_s: float) -> tuple[str, dict[str, Any]]:
    stats = server.stats()
    rss, hwm = server.rss_mb()
    per_abort = f"{(rss - baseline_mb) * 2**20 / aborts:7.0f}" if baseline_mb is not None and aborts else "      -"
    objects = stats["objects_per_generation"]
    pauses = stats["pauses_ms"]["2"]
    line = (
        f"{aborts:>8} {elapsed_s:7.0f} {rss:8.1f} {hwm:8.1f} {per_abort} "
        f"{objects[0]:>8} {objects[1]:>8} {objects[2]:>9} {'/'.join(str(c) for c in stats['collections']):>16} "
        f"{pauses['n']:>4} {pauses['max']:8.1f}"
    )
    return line, stats


HEADER = (
    f"{'aborts':>8} {'time s':>7} {'RSS MB':>8} {'peak MB':>8} {'B/abort':>7} "
    f"{'gen0':>8} {'gen1':>8} {'gen2':>9} {'collections':>16} {'full':>4} {'max ms':>8}"
)


async def _idle_stations(port: int, count: int, stop: asyncio.Event, ready: asyncio.Event) -> None:
    """``count`` WebSocket stations that connect and then only answer pings (websockets does that)."""
    from websockets.asyncio.client import connect

    connected = 0

    async def one(i: int, gate: asyncio.Semaphore) -> None:
        nonlocal connected
        async with gate:
            ws = await connect(
                f"ws://127.0.0.1:{port}/ocpp/CP-{i:04d}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                ping_interval=None,
                open_timeout=60,
                compression=None,
            )
        connected += 1
        if connected == count:
            ready.set()
        try:
            await stop.wait()
        finally:
            await ws.close()

    gate = asyncio.Semaphore(200)
    await asyncio.gather(*(one(i, gate) for i in range(count)))


def _run_idle(server: Server, count: int, repeat: int) -> None:
    """Connect ``count`` idle stations, then time ``repeat`` forced full collections in the server."""

    async def main() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        clients = asyncio.create_task(_idle_stations(server.port, count, stop, ready))
        await asyncio.wait_for(ready.wait(), 600)
        await asyncio.sleep(5)
        rss, _ = server.rss_mb()
        stats = await asyncio.to_thread(server.stats)
        print(f"{count} idle stations: RSS {rss:.1f} MB, objects per generation {stats['objects_per_generation']}, "
              f"frozen {stats['frozen']}, collections {stats['collections']}, full-collection pauses so far {stats['pauses_ms']['2']}")
        for _ in range(repeat):
            server.process.send_signal(signal.SIGUSR2)
            await asyncio.sleep(2)
            stats = await asyncio.to_thread(server.stats)
            print(f"  forced full collection: {stats['pauses_ms']['2']['last']:.1f} ms "
                  f"(objects per generation after: {stats['objects_per_generation']})")
        stop.set()
        await asyncio.wait_for(clients, 120)

    asyncio.run(main())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.handshake_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--aborts", type=int, default=100_000, help="aborted handshakes in all (default 100000)")
    p.add_argument("--in-flight", type=int, default=500, help="handshakes open at once (default 500)")
    p.add_argument("--steps", type=int, default=10, help="RSS samples over the run (default 10)")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, cycled through (default {','.join(KINDS)})")
    p.add_argument("--hold", type=float, default=0.3, help="seconds a batch's sockets stay open before the reset")
    p.add_argument("--settle", type=float, default=2.0, help="seconds to wait before each sample")
    p.add_argument("--event-loop", default="auto", choices=("auto", "uvloop", "asyncio"), help="KILOWATT_EVENT_LOOP of the server")
    p.add_argument("--idle", type=int, default=0, help="then connect this many idle stations and time a full collection")
    p.add_argument("--tracemalloc", action="store_true", help="trace allocations in the server and print the top growth")
    p.add_argument("--find-garbage", action="store_true",
                   help="at the end, a full collection in the server that lists what it freed (gc.DEBUG_SAVEALL)")
    p.add_argument("--json", type=Path, help="also write the samples here")
    p.add_argument("--serve", metavar="STATS_FILE", help=argparse.SUPPRESS)  # internal: run as the server
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve:
        return _serve(args.serve, args.tracemalloc, args.find_garbage)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown kinds: {', '.join(sorted(unknown))}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="kilowatt-hsmem-") as tmp:
        server = Server(Path(tmp), args.event_loop, args.tracemalloc, args.find_garbage)
        samples: list[dict[str, Any]] = []
        try:
            print(f"kilowatt serve --role gateway (pid {server.process.pid}, event loop {args.event_loop}); "
                  f"{args.aborts} aborts, {args.in_flight} in flight, kinds {','.join(kinds)}", flush=True)
            outcome: dict[str, int] = {}
            for first in range(0, 2 * args.in_flight, args.in_flight):  # warm-up: first-use caches, pools
                _batch(server.port, kinds, args.in_flight, first, args.hold)
            time.sleep(args.settle)
            print(HEADER, flush=True)
            line, stats = _row(server, 0, None, 0)
            baseline = server.rss_mb()[0]
            print(line, flush=True)
            samples.append({"aborts": 0, "rss_mb": baseline, **stats})
            started = time.monotonic()
            done = 0
            step = max(args.in_flight, args.aborts // max(1, args.steps))
            while done < args.aborts:
                target = min(args.aborts, done + step)
                while done < target:
                    size = min(args.in_flight, target - done)
                    for key, value in _batch(server.port, kinds, size, done, args.hold).items():
                        outcome[key] = outcome.get(key, 0) + value
                    done += size
                time.sleep(args.settle)
                line, stats = _row(server, done, baseline, time.monotonic() - started)
                print(line, flush=True)
                samples.append({"aborts": done, "rss_mb": server.rss_mb()[0], **stats})
            if outcome:
                print("answers:", ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())))
            print("oldest generation by type:", ", ".join(f"{n} {c}" for n, c in stats["old_generation_types"][:12]))
            for growth in stats.get("tracemalloc_growth", []):
                print("  ", growth)
            if args.find_garbage:
                server.process.send_signal(signal.SIGUSR2)
                garbage_path = Path(server.stats_path + ".garbage")
                deadline = time.monotonic() + 60
                while not garbage_path.exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(0.5)
                print("what a full collection frees now:", garbage_path.read_text())
            if args.idle:
                _run_idle(server, args.idle, 3)
        finally:
            server.stop()
        if args.json:
            args.json.write_text(json.dumps(samples, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
