"""The state of one simulated station, independent of the OCPP version it speaks.

Connectors, the session on each, reservations, availability, faults and the energy register.
No I/O and no clock of its own: the runtime (:mod:`kilowatt.simulator.station`) drives it and a
protocol adapter (:mod:`kilowatt.simulator.v16`) reports it. A connector's status is *derived*
from this state rather than stored, so what the station reports can never drift from what it does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kilowatt.simulator.charging_profiles import ChargingProfiles
from kilowatt.simulator.energy import EvBattery


class ConnectorStatus(str, enum.Enum):
    """OCPP 1.6 ChargePointStatus; 2.0.1's coarser ConnectorStatus is a mapping of these."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class StopReason(str, enum.Enum):
    """Why a session ended, in OCPP 1.6 Reason spelling."""

    LOCAL = "Local"  # the driver ended it at the station
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    DEAUTHORIZED = "DeAuthorized"
    SOFT_RESET = "SoftReset"
    HARD_RESET = "HardReset"
    UNLOCK_COMMAND = "UnlockCommand"
    EMERGENCY_STOP = "EmergencyStop"
    OTHER = "Other"


class SessionPhase(enum.Enum):
    AUTHORIZING = "authorizing"  # plugged in, waiting for authorization
    ACTIVE = "active"  # transaction started (maybe not yet numbered by the CSMS)
    STOPPING = "stopping"  # stop decided, StopTransaction not yet queued


@dataclass(slots=True, frozen=True)
class Reservation:
    reservation_id: int
    id_token: str
    expires_s: float  # on the runtime's monotonic clock
    parent_id_token: str | None = None


@dataclass(slots=True, eq=False)
class Session:
    """One charging session: a driver, a car, and (once started) a transaction."""

    key: int  # the station's own number, unique per station; ties queued messages to the session
    connector_id: int
    id_token: str
    ev: EvBattery
    leave_s: float  # when the driver comes back to end it
    remote: bool = False
    id_token_type: str = "ISO14443"  # what kind of token (2.0.1 IdTokenEnumType; 1.6 has only RFID tags)
    remote_start_id: int | None = None  # the CSMS's id for the remote start that caused it (2.0.1)
    reservation_id: int | None = None
    phase: SessionPhase = SessionPhase.AUTHORIZING
    transaction_id: int | str | None = None  # the CSMS's number (1.6; None until it answers) or the station's (2.0.1)
    meter_start_wh: int = 0
    meter_stop_wh: int | None = None  # the register when the transaction ended (what StopTransaction says)
    started_at: datetime | None = None
    last_advance_s: float = 0.0
    next_meter_s: float = float("inf")
    energy_wh: float = 0.0
    power_w: float = 0.0
    stop_reason: StopReason | None = None
    orphaned: bool = False  # its StartTransaction was never accepted: nothing more can be delivered
    protocol_state: Any = None  # the adapter's own bookkeeping for this session (2.0.1: seqNo, chargingState)

    @property
    def placeholder_transaction_id(self) -> int:
        """What queued messages carry until the CSMS numbers the transaction (never a real id: < 0)."""
        return -self.key


@dataclass(slots=True, eq=False)
class Connector:
    connector_id: int
    max_power_w: float
    meter_wh: float = 0.0  # the energy register: cumulative, survives sessions
    operative: bool = True
    inoperative_scheduled: bool = False  # ChangeAvailability Inoperative answered Scheduled
    plugged: bool = False
    finishing: bool = False  # session over, cable still in
    unplug_s: float | None = None
    session: Session | None = None
    reservation: Reservation | None = None
    error_code: str | None = None  # set while Faulted
    fault_until_s: float | None = None
    reported: tuple[ConnectorStatus, str] | None = None  # last (status, error code) the CSMS got

    @property
    def status(self) -> ConnectorStatus:
        if self.error_code is not None:
            return ConnectorStatus.FAULTED
        session = self.session
        if session is not None:
            if session.phase is SessionPhase.AUTHORIZING:
                return ConnectorStatus.PREPARING
            if session.phase is SessionPhase.STOPPING:
                return ConnectorStatus.FINISHING
            if session.power_w > 0:
                return ConnectorStatus.CHARGING
            return ConnectorStatus.SUSPENDED_EV if session.ev.full else ConnectorStatus.SUSPENDED_EVSE
        if self.plugged:
            return ConnectorStatus.FINISHING if self.finishing else ConnectorStatus.PREPARING
        if not self.operative:
            return ConnectorStatus.UNAVAILABLE
        if self.reservation is not None:
            return ConnectorStatus.RESERVED
        return ConnectorStatus.AVAILABLE

    @property
    def free(self) -> bool:
        """A walk-up driver (no reservation) may plug in here."""
        return self.status is ConnectorStatus.AVAILABLE


@dataclass(slots=True, eq=False)
class StationModel:
    """Everything a station knows about itself. Connector ids start at 1; 0 is the station."""

    station_id: str
    connectors: list[Connector]
    heartbeat_interval_s: float
    meter_values_interval_s: float
    profiles: ChargingProfiles = field(default_factory=ChargingProfiles)
    operative: bool = True  # connector 0 availability
    reported_station_status: ConnectorStatus | None = None
    next_session_key: int = 1
    local_list_version: int = 0

    @classmethod
    def create(
        cls, station_id: str, connectors: int, max_power_w: float, heartbeat_interval_s: float, meter_values_interval_s: float
    ) -> StationModel:
        return cls(
            station_id=station_id,
            connectors=[Connector(n, max_power_w) for n in range(1, connectors + 1)],
            heartbeat_interval_s=heartbeat_interval_s,
            meter_values_interval_s=meter_values_interval_s,
        )

    def connector(self, connector_id: int) -> Connector | None:
        if 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return None

    @property
    def station_status(self) -> ConnectorStatus:
        """Connector 0: the station as a whole."""
        return ConnectorStatus.AVAILABLE if self.operative else ConnectorStatus.UNAVAILABLE

    def sessions(self) -> list[Session]:
        return [c.session for c in self.connectors if c.session is not None]

    def session_by_transaction(self, transaction_id: int | str) -> Session | None:
        for c in self.connectors:
            s = c.session
            if s is not None and s.phase is SessionPhase.ACTIVE and s.transaction_id == transaction_id:
                return s
        return None

    def reservation(self, reservation_id: int) -> Connector | None:
        for c in self.connectors:
            if c.reservation is not None and c.reservation.reservation_id == reservation_id:
                return c
        return None

    def reserved_for(self, id_token: str) -> Connector | None:
        for c in self.connectors:
            if c.reservation is not None and c.reservation.id_token == id_token and c.session is None and not c.plugged:
                return c
        return None

    def new_session_key(self) -> int:
        key = self.next_session_key
        self.next_session_key += 1
        return key

    @property
    def charging_connectors(self) -> int:
        return sum(1 for c in self.connectors if c.session is not None and c.session.phase is SessionPhase.ACTIVE)
