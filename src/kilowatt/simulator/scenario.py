"""Scenario files: a fleet described in YAML or JSON, so a load test or a demo can be replayed.

Top-level keys are :class:`~kilowatt.simulator.config.FleetConfig` fields and
:class:`~kilowatt.simulator.config.StationConfig` fields side by side, plus ``faults``::

    url: ws://localhost:9000/ocpp
    stations: 200                    # fleet size
    protocols: {ocpp1.6: 1.0}        # mix by weight; a name or a list of names also works
    id_prefix: LOAD-
    connectors: 2
    duration_s: 600
    meter_values_interval_s: 30
    arrival_rate_per_h: 4            # drivers per station and hour
    session_length_s: 900
    id_tokens: [TAG-A, TAG-B]
    faults:
      drop_connection_per_h: 1       # per station
      offline_s: 20
      error_per_h: 0.2
      error_codes: [GroundFailure, HighTemperature]
      fault_duration_s: 30
      meter_reset_per_h: 0.1

Unknown keys are an error, not ignored: a typo in a load test should not silently test something else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from kilowatt.simulator.config import FaultConfig, FleetConfig, StationConfig

_FLEET_KEYS = {f.name for f in fields(FleetConfig)} - {"station", "protocols"}
_STATION_KEYS = {f.name for f in fields(StationConfig)} - {"faults"}
_FAULT_KEYS = {f.name for f in fields(FaultConfig)}
_ALIASES = {"fleet_size": "stations", "protocol": "protocols"}
_TUPLES = {"id_tokens", "error_codes"}


def load_scenario(path: str | Path, base: FleetConfig | None = None) -> FleetConfig:
    """Read a YAML or JSON scenario file over ``base`` (defaults when omitted)."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a scenario must be a mapping of settings")
    return scenario_config(data, base or FleetConfig())


def scenario_config(data: Mapping[str, Any], base: FleetConfig) -> FleetConfig:
    """Apply the settings in ``data`` to ``base``."""
    fleet: dict[str, Any] = {}
    station: dict[str, Any] = {}
    faults: dict[str, Any] = {}
    unknown: list[str] = []
    items = dict(data)
    nested = items.pop("station", None)
    if isinstance(nested, Mapping):
        items.update(nested)
    for raw_key, value in items.items():
        key = _ALIASES.get(str(raw_key).replace("-", "_"), str(raw_key).replace("-", "_"))
        if key == "protocols":
            fleet[key] = _protocol_mix(value)
        elif key == "faults":
            if not isinstance(value, Mapping):
                raise ValueError("faults must be a mapping")
            for fault_key, fault_value in value.items():
                fault_key = str(fault_key).replace("-", "_")
                if fault_key not in _FAULT_KEYS:
                    unknown.append(f"faults.{fault_key}")
                else:
                    faults[fault_key] = _value(fault_key, fault_value)
        elif key in _FLEET_KEYS:
            fleet[key] = _value(key, value)
        elif key in _STATION_KEYS:
            station[key] = _value(key, value)
        else:
            unknown.append(str(raw_key))
    if unknown:
        raise ValueError(f"unknown scenario settings: {', '.join(sorted(unknown))}")
    station_config = replace(base.station, **station)
    if faults:
        station_config = replace(station_config, faults=replace(station_config.faults, **faults))
    return replace(base, station=station_config, **fleet)


def _value(key: str, value: Any) -> Any:
    if key in _TUPLES:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return tuple(str(v) for v in value)
    return value


def _protocol_mix(value: Any) -> tuple[tuple[str, float], ...]:
    """``ocpp1.6`` | ``[ocpp1.6, ocpp2.0.1]`` | ``{ocpp1.6: 0.7, ocpp2.0.1: 0.3}`` → weighted pairs."""
    if isinstance(value, str):
        return ((value, 1.0),)
    if isinstance(value, Mapping):
        return tuple((str(name), float(weight)) for name, weight in value.items())
    if isinstance(value, list):
        return tuple((str(name), 1.0) for name in value)
    raise ValueError("protocols must be a name, a list of names or a mapping of name to weight")
