"""API commands through the HTTP API, one at a time, timed from the harness: the command latency scenario.

The question it answers (issue 14): how much does a command cost when the API process is not
the one holding the station's socket? On one node (``--role all``) the command goes HTTP → the
command service → the station's socket in the same process. In the cluster it goes HTTP (API
process) → Redis (the gateway's call list) → the gateway → the station, and the answer back the
same way. Everything else is the same: the same command (ClearCache: no body, no follow-up
message from the station, no state changed by it; every command is still written to the command
log), the same stations (the load generator's, which answer it), sent one after the other on one
kept-alive HTTP connection, round-robin over the fleet so in the cluster every gateway gets its
share. Latency is the HTTP round trip as the client sees it (request sent → response read).

A few commands first warm the path up (connection pools, first-use imports) and are not
counted in the latency.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

COMMAND = "clear-cache"  # OCPP ClearCache: 1.6 and 2.0.1 alike, answered at once, nothing follows
WARMUP = 10


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (exact: a few hundred values, no histogram)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(q * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run_commands(api_url: str, token: str, station_ids: list[str], count: int, timeout_s: float = 30.0) -> dict[str, Any]:
    """Send ``WARMUP + count`` commands; the figures of the last ``count``."""
    latencies_ms: list[float] = []
    failures: dict[str, int] = {}
    sent = 0
    started = time.perf_counter()
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s) as client:
        for index in range(WARMUP + count):
            station_id = station_ids[index % len(station_ids)]
            began = time.perf_counter()
            try:
                response = client.post(f"/api/v1/stations/{station_id}/{COMMAND}")
                outcome = _outcome(response)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            elapsed_ms = (time.perf_counter() - began) * 1000
            sent += 1
            if outcome != "Accepted":
                failures[outcome] = failures.get(outcome, 0) + 1
            elif index >= WARMUP:
                latencies_ms.append(elapsed_ms)
    wall_s = time.perf_counter() - started
    ordered = sorted(latencies_ms)
    return {
        "command": COMMAND,
        "sent": sent,
        "warmup": WARMUP,
        "measured": len(ordered),
        "failures": failures,
        "wall_s": round(wall_s, 3),
        "latency_ms": {
            "p50": _round(percentile(ordered, 0.50)),
            "p90": _round(percentile(ordered, 0.90)),
            "p99": _round(percentile(ordered, 0.99)),
            "max": _round(ordered[-1] if ordered else None),
            "mean": _round(sum(ordered) / len(ordered) if ordered else None),
        },
    }


def _outcome(response: httpx.Response) -> str:
    """``Accepted`` when the station's answer came back through the API, else what went wrong."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    status = ((response.json() or {}).get("result") or {}).get("status")
    return str(status)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
