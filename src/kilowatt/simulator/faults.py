"""Injected faults: lost network, connector errors, meter resets.

:class:`FaultsMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation` that
injects faults at the Poisson rates of :class:`~kilowatt.simulator.config.FaultConfig` (it owns
``_next_drop_s``, ``_next_error_s`` and ``_next_meter_reset_s``) and on demand, for tests and demos
(:meth:`~FaultsMixin.drop_connection`, :meth:`~FaultsMixin.inject_error`,
:meth:`~FaultsMixin.reset_meter`).
"""

from __future__ import annotations

from kilowatt.simulator.model import StopReason


class FaultsMixin:
    """Inject faults on schedule and on demand (see the module docstring)."""

    async def _inject_faults(self, now: float) -> None:
        faults = self.config.faults
        if now >= self._next_drop_s:
            self._next_drop_s = now + self._exponential(faults.drop_connection_per_h)
            await self.drop_connection(faults.offline_s)
        if now >= self._next_error_s:
            self._next_error_s = now + self._exponential(faults.error_per_h)
            await self.inject_error(self.rng.choice(faults.error_codes), faults.fault_duration_s)
        if now >= self._next_meter_reset_s:
            self._next_meter_reset_s = now + self._exponential(faults.meter_reset_per_h)
            self.reset_meter(self.rng.choice(self.model.connectors).connector_id)

    async def drop_connection(self, offline_s: float = 0.0) -> None:
        """Lose the network: the socket dies without a close frame, and stays down ``offline_s``."""
        self.stats.faults_injected["drop_connection"] += 1
        self._offline_until_s = self.now_s() + offline_s
        self._reconnect_s = max(self._reconnect_s, self._offline_until_s)
        if self._socket is not None:
            await self.disconnect(abort=True)

    async def inject_error(self, error_code: str, duration_s: float, connector_id: int | None = None) -> None:
        """A connector faults: its session ends, it reports Faulted with ``error_code`` for ``duration_s``."""
        if connector_id is None:
            connector = self.rng.choice(self.model.connectors)
        else:
            connector = self.model.connector(connector_id)
            if connector is None:
                return
        self.stats.faults_injected[f"error:{error_code}"] += 1
        if connector.session is not None:
            await self.end_session(connector.session, StopReason.OTHER)
        connector.error_code = error_code
        connector.fault_until_s = self.now_s() + duration_s
        await self._sync_statuses()

    def reset_meter(self, connector_id: int) -> None:
        """The energy register jumps back to zero, as a replaced or glitching meter does."""
        connector = self.model.connector(connector_id)
        if connector is not None:
            self.stats.faults_injected["meter_reset"] += 1
            connector.meter_wh = 0.0

