"""Scenario files and command-line options become one FleetConfig: defaults < scenario < CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kilowatt.simulator import cli
from kilowatt.simulator.config import FleetConfig, StationConfig
from kilowatt.simulator.scenario import load_scenario

SCENARIO = """
url: ws://csms.example:9000/ocpp
stations: 5
protocols: {ocpp1.6: 1}
id_prefix: LOAD-
connectors: 3
meter_values_interval_s: 15
arrival_rate_per_h: 12
session_length_s: 300
id_tokens: [TAG-A, TAG-B]
faults:
  drop_connection_per_h: 2
  offline_s: 10
  error_codes: [GroundFailure]
  meter_reset_per_h: 0.5
"""


def test_yaml_scenario(tmp_path: Path) -> None:
    path = tmp_path / "load.yaml"
    path.write_text(SCENARIO)
    config = load_scenario(path)
    assert config.url == "ws://csms.example:9000/ocpp"
    assert config.stations == 5
    assert config.station_ids() == ["LOAD-0001", "LOAD-0002", "LOAD-0003", "LOAD-0004", "LOAD-0005"]
    assert config.station.connectors == 3
    assert config.station.id_tokens == ("TAG-A", "TAG-B")
    assert config.station.faults.drop_connection_per_h == 2
    assert config.station.faults.error_codes == ("GroundFailure",)
    assert config.station.faults.fault_duration_s == 60  # default kept
    config.validate()


def test_json_scenario_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"fleet_size": 3, "protocol": "ocpp1.6", "session_length_s": 60}))
    config = load_scenario(path)
    assert config.stations == 3 and config.protocol_plan() == ["ocpp1.6"] * 3


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("stations: 2\narival_rate_per_h: 3\nfaults: {drop_per_h: 1}\n")
    with pytest.raises(ValueError, match="arival_rate_per_h.*faults.drop_per_h"):
        load_scenario(path)


def test_protocol_mix_is_spread_by_weight_and_unsupported_ones_refused() -> None:
    config = FleetConfig(stations=10, protocols=(("ocpp1.6", 0.7), ("ocpp2.0.1", 0.3)))
    assert config.protocol_plan().count("ocpp1.6") == 7
    config.validate()  # 2.0.1 is simulated
    with pytest.raises(ValueError, match="ocpp9"):
        FleetConfig(stations=2, protocols=(("ocpp1.6", 1.0), ("ocpp9", 1.0))).validate()
    with pytest.raises(ValueError, match="ocpp1.6 id tokens are at most 20"):
        FleetConfig(protocols=(("ocpp1.6", 1.0), ("ocpp2.0.1", 1.0)), station=StationConfig(id_tokens=("T" * 21,))).validate()
    FleetConfig(protocols=(("ocpp2.0.1", 1.0),), station=StationConfig(id_tokens=("T" * 36,))).validate()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_line_wins_over_scenario(tmp_path: Path) -> None:
    path = tmp_path / "load.yaml"
    path.write_text(SCENARIO)
    config = cli.config_from_args(parse("--scenario", str(path), "-n", "2", "--id-tokens", "X1,X2,X3", "--no-summary"))
    assert config.stations == 2
    assert config.station.connectors == 3  # from the scenario
    assert config.station.id_tokens == ("X1", "X2", "X3")
    assert config.summary_interval_s is None
    assert config.url == "ws://csms.example:9000/ocpp"
    config = cli.config_from_args(parse("ws://other:1/ocpp", "--duration", "5", "--meter-interval", "2"))
    assert config.url == "ws://other:1/ocpp"
    assert config.duration_s == 5 and config.station.meter_values_interval_s == 2


async def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli.run(parse("http://not-a-websocket")) == 2
    assert "ws://" in capsys.readouterr().err
    missing = tmp_path / "missing.yaml"
    assert await cli.run(parse("--scenario", str(missing))) == 2
