"""What the CSMS can ask a station to do, in version-neutral terms.

:class:`RemoteOperationsMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation`
that the protocol adapter maps commands onto: remote start/stop, reset and reboot, unlock,
availability, reservations, and the configuration settings that act (heartbeat and meter
intervals). These run inside a message handler, so they never await a CALL on the station's own
endpoint: anything that must send a message (a StartTransaction after a remote start, the reboot
after a Reset) is *posted* to the behaviour task with ``post``. They return the version-neutral
answer (``"Accepted"``, ``"Scheduled"``, a session or ``None``) for the adapter to put into words.
"""

from __future__ import annotations

import math
from datetime import datetime

from kilowatt.simulator.model import ConnectorStatus, Reservation, Session, StopReason

_INF = math.inf


class RemoteOperationsMixin:
    """Commands from the CSMS, as station behaviour (see the module docstring)."""

    def remote_start(self, connector_id: int | None, id_token: str, *, authorize: bool) -> Session | None:
        """Claim a connector for a remotely started session; ``None`` when none can take it."""
        model = self.model
        if connector_id is not None:
            candidates = [c] if (c := model.connector(connector_id)) is not None else []
        else:
            reserved = model.reserved_for(id_token)
            candidates = [reserved] if reserved is not None else list(model.connectors)
        for connector in candidates:
            usable = (
                connector.session is None
                and connector.error_code is None
                and connector.operative
                and model.operative
                and not connector.finishing
                and (connector.reservation is None or connector.reservation.id_token == id_token)
            )
            if usable:
                session = self.new_session(connector, id_token, remote=True)
                self.post(lambda session=session: self.authorize_and_start(session, authorize=authorize))
                return session
        return None

    def remote_stop(self, transaction_id: int | str) -> bool:
        session = self.model.session_by_transaction(transaction_id)
        if session is None:
            return False
        self.post(lambda: self.end_session(session, StopReason.REMOTE))
        return True

    def reset(self, *, hard: bool) -> None:
        self.post(lambda: self.reboot(hard=hard))

    async def reboot(self, *, hard: bool = False) -> None:
        """End every session, close the connection, come back after ``reboot_s`` and boot again."""
        reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET
        for connector in self.model.connectors:
            if connector.session is not None:
                await self.end_session(connector.session, reason)
            connector.plugged = connector.finishing = False
            connector.unplug_s = None
            connector.reservation = None
            connector.error_code = None
            connector.fault_until_s = None
        await self.flush()
        await self.disconnect()
        self._booted = False
        self._reconnect_s = self.now_s() + self.config.reboot_s
        self.model.reported_station_status = None
        for connector in self.model.connectors:
            connector.reported = None

    def unlock(self, connector_id: int) -> str:
        connector = self.model.connector(connector_id)
        if connector is None:
            return "NotSupported"
        session = connector.session
        if session is not None:
            async def stop_and_unplug() -> None:
                await self.end_session(session, StopReason.UNLOCK_COMMAND)
                connector.unplug_s = self.now_s()

            self.post(stop_and_unplug)
        elif connector.plugged:
            connector.unplug_s = self.now_s()
            self.wake()
        return "Unlocked"

    def change_availability(self, connector_id: int, operative: bool) -> str:
        """``Accepted``, ``Rejected`` (no such connector) or ``Scheduled`` (after the running session)."""
        model = self.model
        if connector_id == 0:
            model.operative = operative
            targets = model.connectors
        else:
            connector = model.connector(connector_id)
            if connector is None:
                return "Rejected"
            targets = [connector]
        scheduled = False
        for connector in targets:
            if not operative and connector.session is not None:
                connector.inoperative_scheduled = True
                scheduled = True
            else:
                connector.operative = operative
                connector.inoperative_scheduled = False
        self.wake()
        return "Scheduled" if scheduled else "Accepted"

    def reserve(
        self, connector_id: int, id_token: str, expiry: datetime, reservation_id: int, parent_id_token: str | None = None
    ) -> str:
        """ReserveNow: ``Accepted``, ``Occupied``, ``Faulted``, ``Unavailable`` or ``Rejected``."""
        model = self.model
        connector = model.connector(connector_id)
        if connector is None:
            return "Rejected"  # connector 0 reservations are not supported (ReserveConnectorZeroSupported)
        existing = model.reservation(reservation_id)
        if existing is not None and existing is not connector:
            existing.reservation = None  # a known reservation id moves (OCPP: replace)
        status = connector.status
        if status is ConnectorStatus.FAULTED:
            return "Faulted"
        if status is ConnectorStatus.UNAVAILABLE or not model.operative:
            return "Unavailable"
        same = connector.reservation is not None and connector.reservation.reservation_id == reservation_id
        if status is not ConnectorStatus.AVAILABLE and not same:
            return "Occupied"
        remaining_s = (expiry - self.wall_clock()).total_seconds()
        if remaining_s <= 0:
            return "Rejected"
        connector.reservation = Reservation(reservation_id, id_token, self.now_s() + remaining_s, parent_id_token)
        self.wake()
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> bool:
        connector = self.model.reservation(reservation_id)
        if connector is None:
            return False
        connector.reservation = None
        self.wake()
        return True

    def set_meter_interval(self, interval_s: float) -> None:
        """MeterValueSampleInterval changed: reschedule the samples of running sessions."""
        self.model.meter_values_interval_s = interval_s
        now = self.now_s()
        for session in self.model.sessions():
            session.next_meter_s = now + interval_s if interval_s > 0 else _INF
        self.wake()

    def set_heartbeat_interval(self, interval_s: float) -> None:
        self.model.heartbeat_interval_s = interval_s
        if self._booted:
            self._next_heartbeat_s = self.now_s() + interval_s if interval_s > 0 else _INF
        self.wake()

