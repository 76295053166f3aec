"""Distributed energy resource (DER) control of a bidirectional station (OCPP 2.1 block R, IEC 61850-7-420).

A DER control is one grid-support function the station's inverter runs — a volt-var curve, a
fixed power factor, a frequency droop, trip limits ... — identified by ``control_id``, either as a
default (``is_default``, kept across transactions) or scheduled (with a start time and duration).
:class:`SetDerControl` carries exactly the setting its ``control_type`` needs (curves for the
curve types, :class:`FixedPowerFactor` for FixedPFAbsorb/FixedPFInject, ...); the encoder refuses
any other combination. The station answers GetDERControl with ReportDERControl messages, which are
stored as the station reported them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from kilowatt.commands.model import Command, Result
from kilowatt.commands.status_info import StatusInfo, StatusInfoResult


class DerControlType(enum.Enum):
    ENTER_SERVICE = "EnterService"
    FREQ_DROOP = "FreqDroop"
    FREQ_WATT = "FreqWatt"
    FIXED_PF_ABSORB = "FixedPFAbsorb"
    FIXED_PF_INJECT = "FixedPFInject"
    FIXED_VAR = "FixedVar"
    GRADIENTS = "Gradients"
    HF_MUST_TRIP = "HFMustTrip"
    HF_MAY_TRIP = "HFMayTrip"
    HV_MUST_TRIP = "HVMustTrip"
    HV_MOM_CESS = "HVMomCess"
    HV_MAY_TRIP = "HVMayTrip"
    LIMIT_MAX_DISCHARGE = "LimitMaxDischarge"
    LF_MUST_TRIP = "LFMustTrip"
    LV_MUST_TRIP = "LVMustTrip"
    LV_MOM_CESS = "LVMomCess"
    LV_MAY_TRIP = "LVMayTrip"
    POWER_MONITORING_MUST_TRIP = "PowerMonitoringMustTrip"
    VOLT_VAR = "VoltVar"
    VOLT_WATT = "VoltWatt"
    WATT_PF = "WattPF"
    WATT_VAR = "WattVar"


class DerUnit(enum.Enum):
    """What a curve's y values (or a fixed var setpoint) are a percentage of."""

    NOT_APPLICABLE = "Not_Applicable"
    PCT_MAX_W = "PctMaxW"
    PCT_MAX_VAR = "PctMaxVar"
    PCT_W_AVAIL = "PctWAvail"
    PCT_VAR_AVAIL = "PctVarAvail"
    PCT_EFFECTIVE_V = "PctEffectiveV"


class PowerDuringCessation(enum.Enum):
    ACTIVE = "Active"
    REACTIVE = "Reactive"


@dataclass(slots=True, frozen=True)
class CurvePoint:
    x: float
    y: float


@dataclass(slots=True, frozen=True)
class Hysteresis:
    high: float | None = None
    low: float | None = None
    delay_s: float | None = None
    gradient: float | None = None


@dataclass(slots=True, frozen=True)
class ReactivePowerParams:
    v_ref: float | None = None
    autonomous_v_ref_enable: bool | None = None
    autonomous_v_ref_time_constant_s: float | None = None


@dataclass(slots=True, frozen=True)
class VoltageParams:
    hv_10min_mean_value: float | None = None
    hv_10min_mean_trip_delay_s: float | None = None
    power_during_cessation: PowerDuringCessation | None = None


@dataclass(slots=True, frozen=True)
class DerCurve:
    priority: int  # 0 is the highest
    y_unit: DerUnit
    points: tuple[CurvePoint, ...]  # 1 to 10
    hysteresis: Hysteresis | None = None
    reactive_power_params: ReactivePowerParams | None = None
    voltage_params: VoltageParams | None = None
    response_time_s: float | None = None
    start_time: datetime | None = None
    duration_s: float | None = None


@dataclass(slots=True, frozen=True)
class EnterService:
    priority: int
    high_voltage_v: float
    low_voltage_v: float
    high_freq_hz: float
    low_freq_hz: float
    delay_s: float | None = None
    random_delay_s: float | None = None
    ramp_rate: float | None = None


@dataclass(slots=True, frozen=True)
class FixedPowerFactor:
    priority: int
    displacement: float
    excitation: bool
    start_time: datetime | None = None
    duration_s: float | None = None


@dataclass(slots=True, frozen=True)
class FixedVar:
    priority: int
    setpoint: float
    unit: DerUnit
    start_time: datetime | None = None
    duration_s: float | None = None


@dataclass(slots=True, frozen=True)
class FreqDroop:
    priority: int
    over_freq_hz: float
    under_freq_hz: float
    over_droop: float
    under_droop: float
    response_time_s: float
    start_time: datetime | None = None
    duration_s: float | None = None


@dataclass(slots=True, frozen=True)
class Gradient:
    priority: int
    gradient: float
    soft_gradient: float


@dataclass(slots=True, frozen=True)
class LimitMaxDischarge:
    priority: int
    pct_max_discharge_power: float | None = None
    power_monitoring_must_trip: DerCurve | None = None
    start_time: datetime | None = None
    duration_s: float | None = None


@dataclass(slots=True, frozen=True)
class SetDerControlResult(Result):
    status: str  # Accepted | Rejected | NotSupported | NotFound
    status_info: StatusInfo | None = None
    superseded_ids: tuple[str, ...] = ()  # controls this one replaced


@dataclass(slots=True, frozen=True)
class SetDerControl(Command):
    """Exactly one setting is given, the one ``control_type`` uses."""

    operation = "set_der_control"
    result = SetDerControlResult
    control_id: str
    control_type: DerControlType
    is_default: bool
    curve: DerCurve | None = None
    enter_service: EnterService | None = None
    fixed_power_factor: FixedPowerFactor | None = None  # FixedPFAbsorb / FixedPFInject
    fixed_var: FixedVar | None = None
    freq_droop: FreqDroop | None = None
    gradient: Gradient | None = None
    limit_max_discharge: LimitMaxDischarge | None = None


@dataclass(slots=True, frozen=True)
class GetDerControl(Command):
    """The station reports the matching controls in ReportDERControl messages with ``request_id``."""

    operation = "get_der_control"
    result = StatusInfoResult
    request_id: int
    is_default: bool | None = None
    control_type: DerControlType | None = None
    control_id: str | None = None


@dataclass(slots=True, frozen=True)
class ClearDerControl(Command):
    operation = "clear_der_control"
    result = StatusInfoResult
    is_default: bool
    control_type: DerControlType | None = None
    control_id: str | None = None


# Which setting each control type takes (the rest take a curve).
SETTING_OF: dict[DerControlType, str] = {
    DerControlType.ENTER_SERVICE: "enter_service",
    DerControlType.FIXED_PF_ABSORB: "fixed_power_factor",
    DerControlType.FIXED_PF_INJECT: "fixed_power_factor",
    DerControlType.FIXED_VAR: "fixed_var",
    DerControlType.FREQ_DROOP: "freq_droop",
    DerControlType.GRADIENTS: "gradient",
    DerControlType.LIMIT_MAX_DISCHARGE: "limit_max_discharge",
}
SETTINGS = ("curve", "enter_service", "fixed_power_factor", "fixed_var", "freq_droop", "gradient", "limit_max_discharge")


def setting_of(control_type: DerControlType) -> str:
    """The :class:`SetDerControl` field that ``control_type`` is set with."""
    return SETTING_OF.get(control_type, "curve")


COMMANDS: tuple[type[Command], ...] = (SetDerControl, GetDerControl, ClearDerControl)
RESULTS: tuple[type[Result], ...] = (SetDerControlResult,)
