"""Counters a fleet shares: messages, latency, errors, sessions, energy.

All stations of a fleet run on one event loop, so one :class:`FleetStats` is shared without locks.
Latency goes into a log-bucketed histogram: constant memory however long the run, percentiles
within about 2.5 % — a list of every sample would grow by millions in a long load test.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Buckets per factor e: bucket width is e**(1/40) - 1 ≈ 2.5 % of the value.
_BUCKETS_PER_E = 40.0
_MIN_MS = 0.001


class LatencyHistogram:
    """Call round-trip times in milliseconds."""

    __slots__ = ("_buckets", "count", "total_ms", "max_ms")

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0

    def record(self, latency_ms: float) -> None:
        bucket = int(math.log(max(latency_ms, _MIN_MS)) * _BUCKETS_PER_E)
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1
        self.count += 1
        self.total_ms += latency_ms
        if latency_ms > self.max_ms:
            self.max_ms = latency_ms

    def percentile(self, fraction: float) -> float | None:
        """The latency below which ``fraction`` (0..1) of the calls fell; ``None`` before the first call."""
        if not self.count:
            return None
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                # the bucket's geometric middle, never above the true maximum
                return min(math.exp((bucket + 0.5) / _BUCKETS_PER_E), self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, float | int | None]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "count": self.count,
            "p50": ms(self.percentile(0.50)),
            "p95": ms(self.percentile(0.95)),
            "p99": ms(self.percentile(0.99)),
            "max": ms(self.max_ms if self.count else None),
            "mean": ms(self.total_ms / self.count if self.count else None),
        }


@dataclass(slots=True)
class FleetStats:
    """What happened so far, summed over the stations of a fleet."""

    messages_sent: Counter[str] = field(default_factory=Counter)  # our CALLs by action
    messages_received: Counter[str] = field(default_factory=Counter)  # CSMS CALLs by action
    errors: Counter[str] = field(default_factory=Counter)  # by kind, e.g. "timeout", "CallError:InternalError"
    rejected: Counter[str] = field(default_factory=Counter)  # refusals that are answers, not faults
    faults_injected: Counter[str] = field(default_factory=Counter)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    connects: int = 0
    reconnects: int = 0
    boots_accepted: int = 0
    sessions_started: int = 0  # StartTransaction queued (online or off)
    sessions_completed: int = 0  # StopTransaction answered by the CSMS
    drivers_turned_away: int = 0  # arrived while no connector was free
    energy_wh: float = 0.0  # delivered to cars, integrated from the power curve
    offline_messages_replayed: int = 0
    messages_dropped: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages_sent": sum(self.messages_sent.values()),
            "messages_sent_by_action": dict(sorted(self.messages_sent.items())),
            "messages_received": sum(self.messages_received.values()),
            "messages_received_by_action": dict(sorted(self.messages_received.items())),
            "latency_ms": self.latency.summary(),
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(sorted(self.errors.items())),
            "rejected_by_action": dict(sorted(self.rejected.items())),
            "faults_injected": dict(sorted(self.faults_injected.items())),
            "connects": self.connects,
            "reconnects": self.reconnects,
            "boots_accepted": self.boots_accepted,
            "sessions_started": self.sessions_started,
            "sessions_completed": self.sessions_completed,
            "drivers_turned_away": self.drivers_turned_away,
            "energy_delivered_kwh": round(self.energy_wh / 1000.0, 3),
            "offline_messages_replayed": self.offline_messages_replayed,
            "messages_dropped": self.messages_dropped,
        }
