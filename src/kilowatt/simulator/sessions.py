"""Charging sessions: a driver plugs in, is authorized, charges, and leaves.

:class:`SessionsMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation` that
creates sessions (a random car per driver: battery, state of charge, on-board charger), walks them
through Preparing → Authorize → transaction → Finishing, and keeps the last
:data:`COMPLETED_SESSIONS_KEPT` sessions the CSMS closed (``completed_sessions``) as the station's
own account to check a CSMS against. The transaction messages themselves are the adapter's words,
queued through :class:`~kilowatt.simulator.delivery.DeliveryMixin`.
"""

from __future__ import annotations

import math

from kilowatt.simulator.energy import EvBattery
from kilowatt.simulator.model import Connector, Session, SessionPhase, StopReason

_INF = math.inf

# Cars that show up: (battery capacity Wh, on-board AC charger W). DC stations use DC_EV_POWER_W.
_AC_CARS = ((40_000, 7_400), (60_000, 11_000), (75_000, 11_000), (100_000, 22_000), (52_000, 7_400))
_DC_EV_POWER_W = (50_000, 100_000, 150_000)
COMPLETED_SESSIONS_KEPT = 64  # per station; bounded so a long load test does not grow


class SessionsMixin:
    """Start, run and end charging sessions (see the module docstring)."""

    def new_session(self, connector: Connector, id_token: str, *, remote: bool = False) -> Session:
        """A driver plugs a car into ``connector``."""
        config = self.config
        rng = self.rng
        if config.max_power_w > 22_000:
            capacity_wh, ev_power_w = rng.choice((60_000, 77_000, 100_000)), rng.choice(_DC_EV_POWER_W)
        else:
            capacity_wh, ev_power_w = rng.choice(_AC_CARS)
        ev = EvBattery(capacity_wh=capacity_wh, soc=rng.uniform(0.1, 0.8), max_power_w=ev_power_w, ramp_s=config.ev_ramp_s)
        now = self.now_s()
        session = Session(
            key=self.model.new_session_key(),
            connector_id=connector.connector_id,
            id_token=id_token,
            ev=ev,
            leave_s=now + config.session_length_s * rng.uniform(0.5, 1.5),
            remote=remote,
            id_token_type=config.id_token_type,
        )
        if connector.reservation is not None and connector.reservation.id_token == id_token:
            session.reservation_id = connector.reservation.reservation_id
        connector.session = session
        connector.plugged = True
        connector.finishing = False
        connector.unplug_s = None
        self.tokens.hold(id_token)
        return session

    def plug_in(
        self, connector_id: int | None = None, id_token: str | None = None, *, stay_s: float | None = None
    ) -> Session | None:
        """A driver arrives now (for demos and tests): plugs in, authorizes, charges for ``stay_s``.

        Returns the session, or ``None`` when the connector (or, without one, every connector) is busy.
        """
        if id_token is None:
            id_token = self.tokens.take()
            self.tokens.release(id_token)  # new_session holds it again
        if connector_id is not None:
            connector = self.model.connector(connector_id)
            if connector is None or not (connector.free or self.model.reserved_for(id_token) is connector):
                return None
        else:
            connector = self.model.reserved_for(id_token) or next((c for c in self.model.connectors if c.free), None)
            if connector is None:
                return None
        session = self.new_session(connector, id_token)
        if stay_s is not None:
            session.leave_s = self.now_s() + stay_s
        self.post(lambda: self.authorize_and_start(session))
        return session

    async def _driver_arrives(self) -> None:
        free = [c for c in self.model.connectors if c.free]
        if not free:
            self.stats.drivers_turned_away += 1
            return
        id_token = self.tokens.take()
        self.tokens.release(id_token)  # new_session holds it again
        connector = self.model.reserved_for(id_token) or self.rng.choice(free)
        session = self.new_session(connector, id_token)
        await self.authorize_and_start(session)

    async def authorize_and_start(self, session: Session, *, authorize: bool = True) -> None:
        """Preparing → (Authorize) → start the transaction; the driver leaves if refused."""
        connector = self.model.connector(session.connector_id)
        assert connector is not None
        await self._sync_statuses()  # Preparing
        if authorize:
            accepted = await self.adapter.authorize(session.id_token, session.id_token_type)
            if accepted is None:  # not asked: offline, or no answer
                accepted = self.allow_offline_tx
            if connector.session is not session:  # unplugged or reset meanwhile
                return
            if not accepted:
                self.stats.rejected["Authorize"] += 1
                self.tokens.release(session.id_token)
                connector.session = None
                connector.plugged = False
                await self._sync_statuses()
                return
        if connector.session is not session or connector.error_code is not None:
            return
        self.begin_transaction(session)
        await self.flush()
        await self._sync_statuses()

    def begin_transaction(self, session: Session) -> None:
        connector = self.model.connector(session.connector_id)
        assert connector is not None
        now = self.now_s()
        reservation = connector.reservation
        if reservation is not None and reservation.id_token == session.id_token:
            session.reservation_id = reservation.reservation_id
            connector.reservation = None
        session.phase = SessionPhase.ACTIVE
        session.meter_start_wh = int(connector.meter_wh)
        session.started_at = self.wall_clock()
        session.last_advance_s = now
        interval_s = self.model.meter_values_interval_s
        session.next_meter_s = now + interval_s if interval_s > 0 else _INF
        self.stats.sessions_started += 1
        self.adapter.transaction_started(session)
        self.advance(now)

    async def end_session(self, session: Session, reason: StopReason) -> None:
        """Stop charging and close the transaction; the driver unplugs a little later."""
        connector = self.model.connector(session.connector_id)
        if connector is None or connector.session is not session:
            return
        if session.phase is SessionPhase.ACTIVE:
            self.advance()
            session.phase = SessionPhase.STOPPING
            session.stop_reason = reason
            session.power_w = 0.0
            session.meter_stop_wh = int(connector.meter_wh)
            self.adapter.transaction_stopped(session)
            self.model.profiles.end_transaction(session.transaction_id, connector.connector_id)
        connector.session = None
        self.tokens.release(session.id_token)
        connector.finishing = connector.plugged
        connector.unplug_s = self.now_s() + self.config.unplug_delay_s if connector.plugged else None
        if connector.inoperative_scheduled:
            connector.operative = False
            connector.inoperative_scheduled = False
        await self.flush()
        await self._sync_statuses()

    def session_completed(self, session: Session) -> None:
        """The CSMS answered the session's StopTransaction: it is over, on both sides."""
        self.stats.sessions_completed += 1
        self.completed_sessions.append(session)
