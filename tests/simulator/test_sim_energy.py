"""The energy curve: ramp up, respect the limit, taper near full, never overfill."""

from __future__ import annotations

import pytest

from kilowatt.simulator.energy import EvBattery, amps_to_watts


def car(soc: float = 0.2, **kw: float) -> EvBattery:
    return EvBattery(capacity_wh=kw.pop("capacity_wh", 60_000), soc=soc, max_power_w=kw.pop("max_power_w", 11_000), **kw)


def test_power_ramps_up_then_holds_at_the_lower_of_station_and_car_limit() -> None:
    ev = car(ramp_s=10)
    assert 0 < ev.power_w(22_000) < 1_000  # just switched on
    ev.charge(22_000, 5)
    assert ev.power_w(22_000) == pytest.approx(5_500, rel=0.01)  # half way up the ramp
    ev.charge(22_000, 10)
    assert ev.power_w(22_000) == pytest.approx(11_000)  # the car's on-board charger is the limit
    assert ev.power_w(7_000) == pytest.approx(7_000)  # the station's limit is lower


def test_zero_limit_means_no_power_and_no_energy() -> None:
    ev = car()
    assert ev.power_w(0) == 0
    assert ev.charge(0, 600) == 0
    assert ev.soc == 0.2


def test_taper_above_80_percent_and_nothing_when_full() -> None:
    ev = car(soc=0.9, ramp_s=0)
    assert ev.power_w(22_000) == pytest.approx(5_500, rel=0.01)  # half way between 80 % and 100 %
    assert not ev.full
    ev.charge(22_000, 10 * 3600)
    assert ev.full
    assert ev.power_w(22_000) == 0
    assert ev.soc <= 1.0


def test_energy_matches_power_over_time_and_never_exceeds_the_battery() -> None:
    ev = car(soc=0.2, ramp_s=0)
    energy_wh = ev.charge(11_000, 3600)
    assert energy_wh == pytest.approx(11_000, rel=0.001)
    assert ev.soc == pytest.approx(0.2 + 11_000 / 60_000, rel=0.001)
    total_wh = energy_wh + ev.charge(11_000, 24 * 3600)
    assert total_wh <= 0.8 * 60_000 + 1e-6


def test_amps_to_watts_three_phase() -> None:
    assert amps_to_watts(16) == pytest.approx(11_040)
    assert amps_to_watts(32, phases=1) == pytest.approx(7_360)
