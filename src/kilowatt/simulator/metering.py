"""The energy that flows: cars charging between steps, and the limit each connector offers.

:class:`MeteringMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation` that
integrates the power curve into the energy registers (:meth:`~MeteringMixin.advance`, called before
anything reads or changes a limit, so energy so far is booked at the limit that was in force) and
computes the limit in force: the connector's rating capped by the installed charging profiles. What
a meter sample *says* is the adapter's business (``ProtocolAdapter.meter_values``); when samples are
due is the behaviour task's (``SimulatedStation._connector_due``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kilowatt.simulator.charging_profiles import ChargingProfile
from kilowatt.simulator.model import Connector, Session, SessionPhase


class MeteringMixin:
    """Energy registers, state of charge, power, and charging limits (see the module docstring)."""

    def advance(self, now_s: float | None = None) -> None:
        """Let the cars charge up to ``now_s``: energy registers, state of charge, current power."""
        now_s = self.now_s() if now_s is None else now_s
        wall: datetime | None = None
        sharing = 0
        for connector in self.model.connectors:
            session = connector.session
            if session is None or session.phase is not SessionPhase.ACTIVE:
                continue
            if wall is None and len(self.model.profiles):
                wall = self.wall_clock()
                sharing = self.model.charging_connectors
            limit_w = self.limit_w(connector, session, wall, sharing)
            elapsed_s = now_s - session.last_advance_s
            if elapsed_s > 0:
                energy_wh = session.ev.charge(limit_w, elapsed_s)
                session.energy_wh += energy_wh
                connector.meter_wh += energy_wh
                self.stats.energy_wh += energy_wh
                session.last_advance_s = now_s
            session.power_w = session.ev.power_w(limit_w)

    def limit_w(self, connector: Connector, session: Session | None, wall: datetime | None = None, sharing: int = 1) -> float:
        """What the station offers ``connector`` now: its rating, capped by charging profiles."""
        limit_w = connector.max_power_w
        if len(self.model.profiles):
            profile_limit_w = self.model.profiles.limit_w(
                connector.connector_id,
                wall or self.wall_clock(),
                tx_start=session.started_at if session is not None else None,
                transaction_id=session.transaction_id if session is not None else None,
                sharing_connectors=max(1, sharing or self.model.charging_connectors),
            )
            if profile_limit_w is not None:
                limit_w = min(limit_w, max(0.0, profile_limit_w))
        return limit_w

    def install_profile(self, profile: ChargingProfile) -> None:
        """Install a charging profile; energy so far is booked at the old limit first."""
        self.advance()
        self.model.profiles.install(profile)
        self.advance()
        self.wake()

    def clear_profiles(self, **criteria: Any) -> int:
        self.advance()
        cleared = self.model.profiles.clear(**criteria)
        self.advance()
        self.wake()
        return cleared

