"""``kilowatt demo``'s fleet is mixed: 1.6 and 2.0.1 stations side by side, and the banner says which is which."""

from __future__ import annotations

from kilowatt import demo
from kilowatt.simulator import FleetConfig


def test_the_demo_fleet_is_half_16_half_201_and_the_banner_names_the_ranges() -> None:
    plan = FleetConfig(stations=5, protocols=demo.FLEET_PROTOCOLS).protocol_plan()
    assert plan == ["ocpp1.6"] * 3 + ["ocpp2.0.1"] * 2
    assert demo._protocol_ranges(plan) == "DEMO-0001..0003 ocpp1.6, DEMO-0004..0005 ocpp2.0.1"
    assert demo._protocol_ranges(["ocpp2.0.1"]) == "DEMO-0001 ocpp2.0.1"
    assert FleetConfig(stations=3, protocols=demo.FLEET_PROTOCOLS).protocol_plan().count("ocpp1.6") == 2  # commands need one
