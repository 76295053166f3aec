"""A fleet and the ``simulate`` command, end to end against the in-test CSMS."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sim_csms import FAST, FakeCsms, fake_csms  # noqa: F401  (fixture)

from kilowatt.simulator import Fleet, FleetConfig, cli


def fleet_config(url: str, stations: int = 3) -> FleetConfig:
    return FleetConfig(
        url=url,
        stations=stations,
        id_prefix="FLEET-",
        seed=7,
        connect_rate_per_s=1000,
        station=replace(FAST, arrival_rate_per_h=36_000, session_length_s=0.2),
    )


async def test_fleet_runs_sessions_and_stops_cleanly(fake_csms: FakeCsms) -> None:
    async with Fleet(fleet_config(fake_csms.url)) as fleet:
        assert await fleet.wait_ready(timeout_s=3)
        assert fleet.snapshot().connected == 3
        assert await fleet.wait_until(lambda _: fleet.stats.sessions_completed >= 3, timeout_s=3)
        assert fleet["FLEET-0002"].ready
    report = fleet.report()
    assert report["stations"] == 3 and report["connected_at_end"] == 0
    assert {p for p in fake_csms.paths} == {"/ocpp/FLEET-0001", "/ocpp/FLEET-0002", "/ocpp/FLEET-0003"}
    # a graceful stop ends every running session: every start has its stop
    assert len(fake_csms.of("StartTransaction")) == len(fake_csms.of("StopTransaction")) == report["sessions_completed"]
    assert report["energy_delivered_kwh"] > 0
    assert report["latency_ms"]["p99"] is not None
    assert report["errors"] == 0


async def test_fleet_can_be_started_in_batches(fake_csms: FakeCsms) -> None:
    fleet = Fleet(replace(fleet_config(fake_csms.url, stations=4), connect_rate_per_s=1e9))
    try:
        await fleet.start(first=2)
        assert [s.running for s in fleet.stations] == [True, True, False, False]
        assert await fleet.wait_until(lambda snap: snap.ready == 2, timeout_s=3)
        await fleet.start(first=2)  # already started: nothing happens
        assert fleet.snapshot().ready == 2 and len(fake_csms.paths) == 2
        await fleet.start()
        assert await fleet.wait_ready(timeout_s=3)
    finally:
        await fleet.stop()
    assert fleet.report()["connects"] == 4


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


async def test_simulate_command_prints_summary_and_writes_json(
    fake_csms: FakeCsms, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    args = parse(
        fake_csms.url, "-n", "2", "--duration", "0.6", "--meter-interval", "0.1", "--arrival-rate", "36000",
        "--session-length", "0.2", "--summary-interval", "0.2", "--json", str(out), "--id-prefix", "CLI-",
    )  # fmt: skip
    assert await cli.run(args) == 0
    captured = capsys.readouterr()
    assert "Kilowatt simulator report" in captured.out
    assert "connected 2/2" in captured.err  # the live line
    report = json.loads(out.read_text())
    assert report["stations"] == 2
    assert report["messages_sent"] > 0 and report["messages_sent_by_action"]["BootNotification"] == 2
    assert set(report["latency_ms"]) >= {"p50", "p95", "p99"}
    assert "errors_by_kind" in report and "sessions_completed" in report and "energy_delivered_kwh" in report


async def test_simulate_exits_1_when_nothing_connects(fake_csms: FakeCsms, capsys: pytest.CaptureFixture[str]) -> None:
    url = fake_csms.url
    await fake_csms.close()
    assert await cli.run(parse(url, "--duration", "0.2", "--no-summary")) == 1
    assert "connect:" in capsys.readouterr().out
