"""The benchmark harness runs end to end on a tiny fleet and writes a well-formed report.

No timing assertions: this machine's speed is not under test, the harness is. SQLite only, plus
PostgreSQL when ``KILOWATT_TEST_POSTGRES_URL`` is set (its database name gets a ``_bench`` suffix,
because the harness drops and creates it). Peers are left to the real benchmark run. The scale-out
target (two gateways, API, worker) runs when ``KILOWATT_TEST_REDIS_URL`` is set too (the harness
deletes only the ``kilowatt:*`` keys of that Redis database).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("KILOWATT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("KILOWATT_TEST_REDIS_URL")
CLUSTER_MEMBERS = ["gateway-1", "gateway-2", "api", "worker"]

STEADY = ("rest", "busy", "sustained", "aligned", "tx")
WINDOW_KEYS = {
    "window_s", "messages", "msg_per_s", "cpu_s", "cpu_util", "cpu_us_per_msg", "latency_ms", "errors", "rss_kib",
    "loadgen_cpu_util", "connected",
}  # fmt: skip


def _finite_numbers(node: object, path: str = "") -> list[str]:
    """Paths of numbers in ``node`` that are not finite."""
    bad: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            bad += _finite_numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            bad += _finite_numbers(value, f"{path}[{i}]")
    elif isinstance(node, float) and not math.isfinite(node):
        bad.append(path)
    return bad


def test_benchmark_quick_run_writes_a_well_formed_report(tmp_path: Path) -> None:
    targets = ["kilowatt-sqlite"]
    command = [
        sys.executable, "-m", "benchmarks.run", "--quick", "--stations", "6", "--window", "1.5",
        "--tx-pairs", "12", "--target-rate", "30", "--meter-interval", "0.5", "--no-profile", "--no-docs",
        "--out", str(tmp_path),
    ]  # fmt: skip
    if POSTGRES_URL:
        bench_db = make_url(POSTGRES_URL)
        bench_db = bench_db.set(database=f"{bench_db.database}_bench")
        command += ["--postgres-url", bench_db.render_as_string(hide_password=False)]
        targets.append("kilowatt-postgres")
    command += ["--targets", ",".join(targets)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stderr[-3000:]

    report = json.loads((tmp_path / "report.json").read_text())
    assert (tmp_path / "report.md").read_text().startswith("# Performance")
    for key in ("command", "date", "machine", "settings", "targets", "skipped"):
        assert key in report
    assert not _finite_numbers(report)
    for name in targets:
        assert name in report["targets"], report["skipped"]
        target = report["targets"][name]
        scenarios = target["scenarios"]
        for scenario in (*STEADY, "storm"):
            window = scenarios[scenario]
            assert window is not None, f"{name}: no {scenario} window"
            assert WINDOW_KEYS <= window.keys(), f"{name} {scenario}: missing {WINDOW_KEYS - window.keys()}"
            assert window["errors"] == 0, f"{name} {scenario}: {window['errors_by_kind']}"
            assert window["connected"] == 6
        assert scenarios["rest"]["rss_per_station_kib"] is not None
        assert scenarios["busy"]["messages"] > 0 and scenarios["busy"]["latency_ms"]["p99"] is not None
        assert scenarios["tx"]["start_sent"] == scenarios["tx"]["stop_sent"] == 12
        assert scenarios["aligned"]["complete"] and scenarios["aligned"]["messages"] == 2  # 30 % of 6 stations
        storm = scenarios["storm"]
        assert storm["boots_accepted"] == 6 and storm["refused"] == 0 and storm["all_accepted_s"] is not None
        assert target["errors"] == 0 and target["peak_rss_kib"] > 0
        assert all(code == 0 for code in target["server_exit_codes"].values())
        commands = scenarios["commands"]
        assert commands["measured"] == 30 and not commands["failures"], commands
        assert commands["latency_ms"]["p50"] > 0 and commands["latency_ms"]["p99"] >= commands["latency_ms"]["p50"]


def test_benchmark_cluster_run_reports_every_process(tmp_path: Path) -> None:
    """Two gateways, an API process and a worker: each process's CPU, the fleet split, commands across nodes."""
    if not POSTGRES_URL or not REDIS_URL:
        pytest.skip("the scale-out run needs KILOWATT_TEST_POSTGRES_URL and KILOWATT_TEST_REDIS_URL (PostgreSQL and Redis)")
    bench_db = make_url(POSTGRES_URL)
    bench_db = bench_db.set(database=f"{bench_db.database}_cluster_bench")
    command = [
        sys.executable, "-m", "benchmarks.run", "--quick", "--stations", "4", "--window", "1", "--tx-pairs", "4",
        "--target-rate", "20", "--meter-interval", "0.5", "--commands", "12", "--no-profile", "--no-docs",
        "--targets", "kilowatt-cluster", "--postgres-url", bench_db.render_as_string(hide_password=False),
        "--redis-url", REDIS_URL, "--out", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stderr[-3000:]

    report = json.loads((tmp_path / "report.json").read_text())
    assert "kilowatt-cluster" in report["targets"], report["skipped"]
    assert not _finite_numbers(report)
    target = report["targets"]["kilowatt-cluster"]
    assert target["members"] == CLUSTER_MEMBERS
    scenarios = target["scenarios"]
    for scenario in (*STEADY, "storm"):
        window = scenarios[scenario]
        assert window is not None, f"no {scenario} window"
        assert WINDOW_KEYS <= window.keys()
        assert window["errors"] == 0, f"{scenario}: {window['errors_by_kind']}"
        assert window["connected"] == 4
        per_process = window["per_process"]
        assert list(per_process) == CLUSTER_MEMBERS
        # the sum is what the cluster's own figure says (rounding aside)
        assert abs(sum(p["cpu_s"] for p in per_process.values()) - window["cpu_s"]) < 0.01
        assert all(p["rss_kib"] > 0 for p in per_process.values())
    # the fleet was split, two stations a gateway, and both gateways worked (CPU in 10 ms ticks: summed over the run)
    for plan in ("steady", "storm"):
        assert sorted(target["stations_per_url"][plan].values()) == [2, 2]
    for gateway in ("gateway-1", "gateway-2"):
        assert sum(scenarios[s]["per_process"][gateway]["cpu_s"] for s in (*STEADY, "storm")) > 0
    storm = scenarios["storm"]
    assert storm["boots_accepted"] == 4 and storm["refused"] == 0
    commands = scenarios["commands"]
    assert commands["measured"] == 12 and not commands["failures"], commands
    assert commands["latency_ms"]["p99"] >= commands["latency_ms"]["p50"] > 0
    assert set(commands["per_process_cpu_us_per_command"]) == set(CLUSTER_MEMBERS)
    for plan in ("steady", "storm"):
        assert target["member_exit_codes"][plan] == dict.fromkeys(CLUSTER_MEMBERS, 0)
    assert target["server_log_errors"] == {"steady": 0, "storm": 0}
    markdown = (tmp_path / "report.md").read_text()
    assert "## Scale-out: two gateways, API and worker" in markdown and "added by crossing" in markdown



def test_handoff_micro_benchmark_measures_each_kind() -> None:
    for loop in ("asyncio", "uvloop"):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.handoff", "--batches", "20", "--loop", loop],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        lines = done.stdout.strip().splitlines()
        assert [line.split(":")[0].strip() for line in lines] == ["thread hand-off", "empty batch", "one-row insert"]
        assert all(float(line.split(":")[1].split()[0]) > 0 and f"({loop})" in line for line in lines)
