"""Simulated charge points for demos, end-to-end tests and load benchmarks.

One asyncio task per station (plus its socket reader while connected), speaking OCPP through the
project's own RPC core, so thousands run from one process. The station's behaviour — connectors,
sessions, the energy curve, reservations, availability, charging limits, configuration, the
offline queue — is version-agnostic (:mod:`.model`, :mod:`.station`); the words it uses on the wire
come from a protocol adapter (:mod:`.v16` for OCPP 1.6J, :mod:`.v201` for 2.0.1, and :mod:`.v21` —
the 2.0.1 adapter on 2.1's dialect — for 2.1).

Programmatic use::

    from kilowatt.simulator import Fleet, FleetConfig, StationConfig

    config = FleetConfig(url="ws://127.0.0.1:9000/ocpp", stations=10,
                         station=StationConfig(meter_values_interval_s=5, arrival_rate_per_h=30))
    async with Fleet(config) as fleet:
        await fleet.wait_ready()
        ...
    print(fleet.report())
"""

from kilowatt.simulator.config import DEFAULT_ID_TOKENS, SUPPORTED_PROTOCOLS, FaultConfig, FleetConfig, StationConfig
from kilowatt.simulator.fleet import Fleet, FleetSnapshot
from kilowatt.simulator.model import ConnectorStatus, StopReason
from kilowatt.simulator.report import format_report, summary_line
from kilowatt.simulator.scenario import load_scenario
from kilowatt.simulator.station import SimulatedStation
from kilowatt.simulator.stats import FleetStats, LatencyHistogram

__all__ = [
    "DEFAULT_ID_TOKENS",
    "SUPPORTED_PROTOCOLS",
    "ConnectorStatus",
    "FaultConfig",
    "Fleet",
    "FleetConfig",
    "FleetSnapshot",
    "FleetStats",
    "LatencyHistogram",
    "SimulatedStation",
    "StationConfig",
    "StopReason",
    "format_report",
    "load_scenario",
    "summary_line",
]
