"""The benchmark harness runs its scenarios with a 2.0.1 fleet, and renders a fleet-by-version comparison.

No timing assertions (this machine's speed is not under test): the 2.0.1 fleet must get through
every scenario with no error, its transaction burst must open and close every session, and its boot
storm must count one StatusNotification per EVSE (2.0.1 has no connector 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the harness is a package at the repository's root, not an installed one
    sys.path.insert(0, str(ROOT))

from benchmarks.report import fleets_table  # noqa: E402


def test_a_201_fleet_runs_every_scenario_without_errors(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "benchmarks.run", "--quick", "--stations", "4", "--window", "1", "--tx-pairs", "8",
        "--target-rate", "20", "--meter-interval", "0.5", "--no-profile", "--no-docs", "--targets", "kilowatt-sqlite",
        "--protocols", "ocpp2.0.1", "--out", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["settings"]["protocols"] == ["ocpp2.0.1"]
    target = report["targets"]["kilowatt-sqlite"]
    assert target["protocol"] == "ocpp2.0.1"
    scenarios = target["scenarios"]
    for name in ("rest", "busy", "sustained", "aligned", "tx", "storm"):
        assert scenarios[name] is not None, name
        assert scenarios[name]["errors"] == 0, (name, scenarios[name]["errors_by_kind"])
    assert "TransactionEvent" in scenarios["busy"]["by_action"]
    assert scenarios["tx"]["start_sent"] == scenarios["tx"]["stop_sent"] == 8
    assert scenarios["aligned"]["complete"]
    storm = scenarios["storm"]
    assert storm["boots_accepted"] == 4 and storm["status_notifications_expected"] == 4 * 2


def test_unknown_protocol_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--protocols", "ocpp9", "--no-docs"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "ocpp9" in result.stderr


def test_fleets_table_compares_cpu_per_message() -> None:
    window = {"messages": 1000, "msg_per_s": 100.0, "cpu_us_per_msg": 250.0, "latency_ms": {"p99": 3.2}, "errors": 0}
    report = {
        "targets": {"kilowatt-sqlite": {"protocol": "ocpp1.6", "scenarios": {"busy": window, "tx": window}}},
        "fleets": {"kilowatt-sqlite": {"ocpp2.0.1": {"scenarios": {"busy": {**window, "cpu_us_per_msg": 200.0}, "tx": None}}}},
    }
    lines = fleets_table(report)
    rows = [line for line in lines if line.startswith("| busy")]
    assert rows == ["| busy | 1,000 | 1,000 | 100.0 | 100.0 | 250 | 200 | 0.80× | 3.2 | 3.2 | 0 / 0 |"]
    assert not [line for line in lines if line.startswith("| tx")]  # a scenario missing on one side is left out
    assert fleets_table({"targets": {}}) == []
