"""The electric vehicle at the end of the cable: how much power it takes, and how full it gets.

A CSMS is judged by what it does with meter values, so they should look like a real car's: power
ramps up over the first seconds (contactor, pilot negotiation, the car's charger warming up), holds
at the lowest of the station's limit and the car's own maximum, and tapers as the battery nears
full — lithium cells take constant current only up to roughly 80 % state of charge. A full car
draws nothing, which the station reports as SuspendedEV.

Pure arithmetic, no clock: the caller says how much time passed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Integration step: the taper depends on state of charge, which changes while we integrate.
_MAX_STEP_S = 5.0
# Below this the car has stopped drawing for good (balancing trickle is not worth a meter tick).
_TRICKLE_W = 50.0


@dataclass(slots=True)
class EvBattery:
    """One car's battery and on-board charger, as the station sees it through the cable."""

    capacity_wh: float
    soc: float  # state of charge, 0..1
    max_power_w: float  # the most the car accepts (on-board charger for AC, battery limit for DC)
    ramp_s: float = 10.0  # time from first current to full power
    taper_from_soc: float = 0.8  # constant power below this, linear taper to zero at 100 %
    charging_s: float = 0.0  # how long power has flowed in this session (drives the ramp)

    @property
    def full(self) -> bool:
        """The car has stopped drawing current on its own (the battery management system is done)."""
        return self.soc >= 1.0 or self._taper() * self.max_power_w < _TRICKLE_W

    def _taper(self) -> float:
        if self.soc <= self.taper_from_soc:
            return 1.0
        return max(0.0, (1.0 - self.soc) / (1.0 - self.taper_from_soc))

    def power_w(self, limit_w: float) -> float:
        """The power the car draws now if the station offers at most ``limit_w``."""
        if limit_w <= 0 or self.full:
            return 0.0
        power_w = min(limit_w, self.max_power_w * self._taper())
        if self.ramp_s > 0 and self.charging_s < self.ramp_s:
            power_w *= max(self.charging_s / self.ramp_s, 0.05)
        return power_w

    def charge(self, limit_w: float, duration_s: float) -> float:
        """Let ``duration_s`` pass with the station offering ``limit_w``; returns the energy taken in Wh."""
        energy_wh = 0.0
        remaining_s = duration_s
        while remaining_s > 0:
            step_s = min(remaining_s, _MAX_STEP_S)
            power_w = self.power_w(limit_w)
            if power_w <= 0:
                break
            step_wh = min(power_w * step_s / 3600.0, (1.0 - self.soc) * self.capacity_wh)
            energy_wh += step_wh
            self.soc = min(1.0, self.soc + step_wh / self.capacity_wh)
            self.charging_s += step_s
            remaining_s -= step_s
        return energy_wh


def amps_to_watts(limit_a: float, phases: int = 3, voltage_v: float = 230.0) -> float:
    """Charging profiles in 1.6 may limit current instead of power; the simulator thinks in watts."""
    return limit_a * voltage_v * phases
