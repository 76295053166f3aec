"""Latency percentiles from the log-bucketed histogram stay within a few percent."""

from __future__ import annotations

import pytest

from kilowatt.simulator.stats import FleetStats, LatencyHistogram


def test_percentiles_are_close_to_the_exact_ones() -> None:
    histogram = LatencyHistogram()
    for ms in range(1, 1001):  # 1..1000 ms
        histogram.record(float(ms))
    assert histogram.percentile(0.50) == pytest.approx(500, rel=0.03)
    assert histogram.percentile(0.99) == pytest.approx(990, rel=0.03)
    assert histogram.percentile(1.0) <= 1000
    summary = histogram.summary()
    assert summary["count"] == 1000 and summary["max"] == 1000


def test_empty_histogram_reports_none() -> None:
    assert LatencyHistogram().summary()["p50"] is None


def test_stats_as_dict_totals() -> None:
    stats = FleetStats()
    stats.messages_sent["Heartbeat"] += 3
    stats.error("timeout")
    stats.energy_wh = 1234.5
    report = stats.as_dict()
    assert report["messages_sent"] == 3
    assert report["errors_by_kind"] == {"timeout": 1}
    assert report["energy_delivered_kwh"] == 1.234
