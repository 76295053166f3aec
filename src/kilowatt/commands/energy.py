"""Energy operations OCPP 2.1 adds: grid balancing (aFRR), dynamic schedules, priority charging,
the energy transfer modes an EV may use, battery swapping and web payments.

Transactions are named by :class:`~kilowatt.refs.TransactionRef`; the station knows them by its own
id (``station_transaction_id``), which the encoder needs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from kilowatt.commands.model import Command, EmptyResult, Result
from kilowatt.commands.status_info import StatusInfoResult
from kilowatt.refs import TransactionRef


class EnergyTransferMode(enum.Enum):
    AC_SINGLE_PHASE = "AC_single_phase"
    AC_TWO_PHASE = "AC_two_phase"
    AC_THREE_PHASE = "AC_three_phase"
    DC = "DC"
    AC_BPT = "AC_BPT"  # bidirectional power transfer
    AC_BPT_DER = "AC_BPT_DER"
    AC_DER = "AC_DER"
    DC_BPT = "DC_BPT"
    DC_ACDP = "DC_ACDP"  # automated connection device, pantograph
    DC_ACDP_BPT = "DC_ACDP_BPT"
    WPT = "WPT"  # wireless


@dataclass(slots=True, frozen=True)
class ScheduleUpdate:
    """New values for the current period of a dynamic charging profile, in the profile's rate unit
    (A or W); ``_l2``/``_l3`` are phases 2 and 3. Discharge limits are negative or zero."""

    limit: float | None = None
    limit_l2: float | None = None
    limit_l3: float | None = None
    discharge_limit: float | None = None
    discharge_limit_l2: float | None = None
    discharge_limit_l3: float | None = None
    setpoint: float | None = None
    setpoint_l2: float | None = None
    setpoint_l3: float | None = None
    setpoint_reactive: float | None = None
    setpoint_reactive_l2: float | None = None
    setpoint_reactive_l3: float | None = None


@dataclass(slots=True, frozen=True)
class AfrrSignal(Command):
    """An automatic frequency restoration reserve activation signal, effective at ``timestamp``."""

    operation = "afrr_signal"
    result = StatusInfoResult
    timestamp: datetime
    signal: int


@dataclass(slots=True, frozen=True)
class UpdateDynamicSchedule(Command):
    operation = "update_dynamic_schedule"
    result = StatusInfoResult
    charging_profile_id: int
    update: ScheduleUpdate


@dataclass(slots=True, frozen=True)
class UsePriorityCharging(Command):
    """Switch a transaction to (or off) the station's priority charging profile."""

    operation = "use_priority_charging"
    result = StatusInfoResult
    transaction: TransactionRef
    activate: bool


@dataclass(slots=True, frozen=True)
class NotifyAllowedEnergyTransfer(Command):
    """Which energy transfer modes the EV of a transaction may use (after the CSMS checked its contract)."""

    operation = "notify_allowed_energy_transfer"
    result = StatusInfoResult
    transaction: TransactionRef
    modes: tuple[EnergyTransferMode, ...]


@dataclass(slots=True, frozen=True)
class RequestBatterySwap(Command):
    """Authorise a battery swap for ``id_token``; the station reports the swap in BatterySwap messages."""

    operation = "request_battery_swap"
    result = StatusInfoResult
    id_token: str
    id_token_type: str  # e.g. ISO14443, eMAID, Central
    request_id: int


@dataclass(slots=True, frozen=True)
class NotifyWebPaymentStarted(Command):
    """A driver opened the web payment page of an EVSE: the station shows it and waits ``timeout_s``."""

    operation = "notify_web_payment_started"
    result = EmptyResult
    evse_id: int
    timeout_s: int


COMMANDS: tuple[type[Command], ...] = (
    AfrrSignal,
    UpdateDynamicSchedule,
    UsePriorityCharging,
    NotifyAllowedEnergyTransfer,
    RequestBatterySwap,
    NotifyWebPaymentStarted,
)
RESULTS: tuple[type[Result], ...] = (StatusInfoResult,)
