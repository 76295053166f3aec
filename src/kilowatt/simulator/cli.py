"""``kilowatt simulate``: the argument surface and the run. ``kilowatt.cli`` wires these two in.

Every option defaults to ``None`` so that a ``--scenario`` file can set it and an option given on
the command line still wins: defaults < scenario < command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import yaml

from kilowatt.simulator.config import SUPPORTED_PROTOCOLS, FleetConfig
from kilowatt.simulator.fleet import Fleet
from kilowatt.simulator.report import format_report
from kilowatt.simulator.scenario import load_scenario

DEFAULT_URL = "ws://127.0.0.1:9000/ocpp"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` options to ``parser``."""
    parser.add_argument(
        "url",
        nargs="?",
        help=f"CSMS WebSocket URL; the station id is appended as the last path segment (default {DEFAULT_URL})",
    )
    parser.add_argument("-n", "--stations", type=int, help="number of simulated charge points (default 1)")
    parser.add_argument("--protocol", choices=SUPPORTED_PROTOCOLS, help="OCPP version the stations speak")
    parser.add_argument("--id-prefix", help="station ids are PREFIX0001, PREFIX0002, ... (default SIM-)")
    parser.add_argument("--connectors", type=int, help="connectors per station (default 2)")
    parser.add_argument("--password", help="Basic-auth password (security profile 1/2), same for every station")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--meter-interval", type=float, metavar="SECONDS", help="MeterValues interval (default 60)")
    parser.add_argument(
        "--arrival-rate", type=float, metavar="PER_HOUR", help="drivers arriving per station and hour (default 2)"
    )
    parser.add_argument(
        "--session-length", type=float, metavar="SECONDS", help="mean plug-in time of a driver, ±50%% (default 1800)"
    )
    parser.add_argument("--id-tokens", metavar="A,B,...", help="id tokens drivers present (default SIMTAG0001..0010)")
    parser.add_argument("--max-power", type=float, metavar="WATTS", help="power per connector (default 22000)")
    parser.add_argument("--connect-rate", type=float, metavar="PER_SECOND", help="stations started per second (default 200)")
    parser.add_argument("--seed", type=int, help="random seed, for repeatable driver behaviour")
    parser.add_argument("--scenario", metavar="FILE", help="YAML or JSON scenario (fleet, mix, rates, faults)")
    parser.add_argument("--json", metavar="FILE", help="also write the final report as JSON to FILE ('-' for stdout)")
    parser.add_argument("--summary-interval", type=float, metavar="SECONDS", help="live summary period (default 5)")
    parser.add_argument("--no-summary", action="store_true", help="no live summary line on stderr")


_OPTION_FIELDS: dict[str, tuple[str, str]] = {
    # argument -> (where, field)
    "stations": ("fleet", "stations"),
    "id_prefix": ("fleet", "id_prefix"),
    "password": ("fleet", "password"),
    "duration": ("fleet", "duration_s"),
    "connect_rate": ("fleet", "connect_rate_per_s"),
    "seed": ("fleet", "seed"),
    "summary_interval": ("fleet", "summary_interval_s"),
    "connectors": ("station", "connectors"),
    "meter_interval": ("station", "meter_values_interval_s"),
    "arrival_rate": ("station", "arrival_rate_per_h"),
    "session_length": ("station", "session_length_s"),
    "max_power": ("station", "max_power_w"),
}


def config_from_args(args: argparse.Namespace) -> FleetConfig:
    """Defaults, then the scenario file, then the command line."""
    config = FleetConfig(url=DEFAULT_URL)
    if getattr(args, "scenario", None):
        config = load_scenario(args.scenario, config)
    fleet: dict[str, Any] = {}
    station: dict[str, Any] = {}
    for option, (where, name) in _OPTION_FIELDS.items():
        value = getattr(args, option, None)
        if value is not None:
            (fleet if where == "fleet" else station)[name] = value
    if getattr(args, "url", None):
        fleet["url"] = args.url
    if getattr(args, "protocol", None):
        fleet["protocols"] = ((args.protocol, 1.0),)
    if getattr(args, "id_tokens", None):
        station["id_tokens"] = tuple(t.strip() for t in args.id_tokens.split(",") if t.strip())
    if getattr(args, "no_summary", False):
        fleet["summary_interval_s"] = None
    config = replace(config, station=replace(config.station, **station), **fleet)
    config.validate()
    return config


async def run(args: argparse.Namespace) -> int:
    """Run the fleet; the report goes to stdout (and ``--json``). Exit code 0, 1 if no station ever connected, 2 on bad input."""
    try:
        config = config_from_args(args)
    except (ValueError, TypeError, OSError, yaml.YAMLError, orjson.JSONDecodeError) as exc:
        print(f"kilowatt simulate: {exc}", file=sys.stderr)
        return 2
    fleet = Fleet(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    live = config.summary_interval_s is not None
    print(
        f"kilowatt simulate: {config.stations} station(s) -> {config.url}"
        + (f" for {config.duration_s:g} s" if config.duration_s else " until Ctrl-C"),
        file=sys.stderr,
    )
    try:
        report = await fleet.run(
            config.duration_s, stop=stop, summary=sys.stderr if live else None, summary_interval_s=config.summary_interval_s
        )
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    json_target = getattr(args, "json", None)
    if json_target != "-":
        print(format_report(report))
    if json_target:
        data = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
        if json_target == "-":
            print(data)
        else:
            Path(json_target).write_text(data + "\n", encoding="utf-8")
    return 0 if report["connects"] > 0 or config.stations == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m kilowatt.simulator``) until ``kilowatt simulate`` is wired."""
    parser = argparse.ArgumentParser(prog="kilowatt simulate", description="Simulated OCPP charge points")
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv)))
