"""The typed commands as OCPP 2.1 CALLs: 2.0.1's encoders plus the 15 operations 2.1 adds.

:data:`OPERATIONS_ADDED` holds one encoder and one decoder per added operation, with explicit enum
maps (the domain's enums are spelled as 2.1 spells them today, but a value the domain adds must be
a visible gap here, never a silent pass-through). Every other command goes to
:class:`~kilowatt.ocpp.v201.codec.V201Commands`, since 2.1 sends 2.0.1's operations unchanged
(optional fields aside), except those in :data:`ENCODERS_CHANGED`, whose 2.1 request can say more
(CertificateSigned's V2G20Certificate). A 1.6 or 2.0.1 connection has no entry for these commands: its codec
raises ``CannotEncode``, which the API answers as ``invalid`` (422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from kilowatt.commands import der as d
from kilowatt.commands import energy as e
from kilowatt.commands import model as m
from kilowatt.commands import streams as s
from kilowatt.commands import tariffs as t
from kilowatt.commands.status_info import StatusInfo, StatusInfoResult
from kilowatt.ocpp.execute import CannotEncode
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.ocpp.v201.codec import V201Commands
from kilowatt.services.common import rfc3339

E = TypeVar("E", bound=Enum)
C = TypeVar("C", bound=m.Command)
Payload = dict[str, Any]


def _spelled(members: type[E]) -> dict[E, str]:
    """An explicit map domain value -> 2.1 spelling, written out member by member below."""
    return {member: member.value for member in members}


# --- enum maps (domain -> 2.1) ---------------------------------------------------------------------
# The domain enums of these operations were named from 2.1 itself, so each spelling is its value;
# the maps are still explicit so a member added to the domain must be added here on purpose.
DAY_OF_WEEK: dict[t.DayOfWeek, str] = _spelled(t.DayOfWeek)
EVSE_KIND: dict[t.EvseKind, str] = {t.EvseKind.AC: "AC", t.EvseKind.DC: "DC"}
MESSAGE_FORMAT: dict[t.MessageFormat, str] = _spelled(t.MessageFormat)
TARIFF_KIND_OF: dict[str, t.TariffKind] = {"DefaultTariff": t.TariffKind.DEFAULT, "DriverTariff": t.TariffKind.DRIVER}
DER_CONTROL: dict[d.DerControlType, str] = _spelled(d.DerControlType)
DER_UNIT: dict[d.DerUnit, str] = _spelled(d.DerUnit)
CESSATION: dict[d.PowerDuringCessation, str] = {
    d.PowerDuringCessation.ACTIVE: "Active",
    d.PowerDuringCessation.REACTIVE: "Reactive",
}
TRANSFER_MODE: dict[e.EnergyTransferMode, str] = _spelled(e.EnergyTransferMode)


def _spell(mapping: Mapping[Any, str], value: Any, what: str) -> str:
    try:
        return mapping[value]
    except KeyError:
        raise CannotEncode(f"OCPP 2.1 has no {what} {getattr(value, 'value', value)!r}") from None


def _optional(payload: Payload, **fields: Any) -> Payload:
    """``payload`` with the ``fields`` that are not None (absent optional fields are omitted)."""
    payload.update((name, value) for name, value in fields.items() if value is not None)
    return payload


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _station_transaction_id(ref: Any) -> str:
    if ref.station_transaction_id is None:
        raise CannotEncode(f"transaction {ref.id} has no id of the station's own (it was not started over OCPP 2.x)")
    return ref.station_transaction_id


# --- tariffs --------------------------------------------------------------------------------------


def _tax_rates(rates: tuple[t.TaxRate, ...]) -> list[Payload] | None:
    return [_optional({"type": r.type, "tax": r.tax_pct}, stack=r.stack) for r in rates] or None


def _conditions(c: t.TariffConditions | None) -> Payload | None:
    if c is None:
        return None
    return _optional(
        {},
        startTimeOfDay=c.start_time_of_day,
        endTimeOfDay=c.end_time_of_day,
        dayOfWeek=[_spell(DAY_OF_WEEK, day, "day of week") for day in c.day_of_week] or None,
        validFromDate=c.valid_from_date,
        validToDate=c.valid_to_date,
        evseKind=_spell(EVSE_KIND, c.evse_kind, "EVSE kind") if c.evse_kind else None,
        minEnergy=c.min_energy_wh,
        maxEnergy=c.max_energy_wh,
        minCurrent=c.min_current_a,
        maxCurrent=c.max_current_a,
        minPower=c.min_power_w,
        maxPower=c.max_power_w,
        minTime=c.min_time_s,
        maxTime=c.max_time_s,
        minChargingTime=c.min_charging_time_s,
        maxChargingTime=c.max_charging_time_s,
        minIdleTime=c.min_idle_time_s,
        maxIdleTime=c.max_idle_time_s,
        paymentBrand=c.payment_brand,
        paymentRecognition=c.payment_recognition,
    )


def _component(component: t.TariffComponent | None, price_field: str) -> Payload | None:
    """A price component; a fixed one whose conditions carry energy/time bounds breaks the schema
    (``additionalProperties``), so the endpoint's check refuses it before anything is sent."""
    if component is None:
        return None
    prices = [_optional({price_field: p.price}, conditions=_conditions(p.conditions)) for p in component.prices]
    return _optional({"prices": prices}, taxRates=_tax_rates(component.tax_rates))


def _price(price: t.Price | None) -> Payload | None:
    if price is None:
        return None
    return _optional({}, exclTax=price.excl_tax, inclTax=price.incl_tax, taxRates=_tax_rates(price.tax_rates))


def _tariff(tariff: t.Tariff) -> Payload:
    description = [
        _optional(
            {"format": _spell(MESSAGE_FORMAT, text.format, "message format"), "content": text.content}, language=text.language
        )
        for text in tariff.description
    ]
    return _optional(
        {"tariffId": tariff.tariff_id, "currency": tariff.currency},
        description=description or None,
        validFrom=_time(tariff.valid_from),
        energy=_component(tariff.energy, "priceKwh"),
        chargingTime=_component(tariff.charging_time, "priceMinute"),
        idleTime=_component(tariff.idle_time, "priceMinute"),
        fixedFee=_component(tariff.fixed_fee, "priceFixed"),
        reservationTime=_component(tariff.reservation_time, "priceMinute"),
        reservationFixed=_component(tariff.reservation_fixed, "priceFixed"),
        minCost=_price(tariff.min_cost),
        maxCost=_price(tariff.max_cost),
    )


def encode_set_default_tariff(c: t.SetDefaultTariff) -> Payload:
    return {"evseId": c.evse_id, "tariff": _tariff(c.tariff)}


def encode_get_tariffs(c: t.GetTariffs) -> Payload:
    return {"evseId": c.evse_id}


def encode_clear_tariffs(c: t.ClearTariffs) -> Payload:
    return _optional({}, tariffIds=list(c.tariff_ids) or None, evseId=c.evse_id)


def encode_change_transaction_tariff(c: t.ChangeTransactionTariff) -> Payload:
    return {"transactionId": _station_transaction_id(c.transaction), "tariff": _tariff(c.tariff)}


# --- DER control ----------------------------------------------------------------------------------


def _curve(c: d.DerCurve) -> Payload:
    hysteresis = c.hysteresis
    reactive = c.reactive_power_params
    voltage = c.voltage_params
    return _optional(
        {
            "priority": c.priority,
            "yUnit": _spell(DER_UNIT, c.y_unit, "DER unit"),
            "curveData": [{"x": point.x, "y": point.y} for point in c.points],
        },
        hysteresis=_optional(
            {},
            hysteresisHigh=hysteresis.high,
            hysteresisLow=hysteresis.low,
            hysteresisDelay=hysteresis.delay_s,
            hysteresisGradient=hysteresis.gradient,
        )
        if hysteresis
        else None,
        reactivePowerParams=_optional(
            {},
            vRef=reactive.v_ref,
            autonomousVRefEnable=reactive.autonomous_v_ref_enable,
            autonomousVRefTimeConstant=reactive.autonomous_v_ref_time_constant_s,
        )
        if reactive
        else None,
        voltageParams=_optional(
            {},
            hv10MinMeanValue=voltage.hv_10min_mean_value,
            hv10MinMeanTripDelay=voltage.hv_10min_mean_trip_delay_s,
            powerDuringCessation=_spell(CESSATION, voltage.power_during_cessation, "power during cessation")
            if voltage.power_during_cessation
            else None,
        )
        if voltage
        else None,
        responseTime=c.response_time_s,
        startTime=_time(c.start_time),
        duration=c.duration_s,
    )


def _enter_service(v: d.EnterService) -> Payload:
    return _optional(
        {
            "priority": v.priority,
            "highVoltage": v.high_voltage_v,
            "lowVoltage": v.low_voltage_v,
            "highFreq": v.high_freq_hz,
            "lowFreq": v.low_freq_hz,
        },
        delay=v.delay_s,
        randomDelay=v.random_delay_s,
        rampRate=v.ramp_rate,
    )


def _fixed_pf(v: d.FixedPowerFactor) -> Payload:
    return _optional(
        {"priority": v.priority, "displacement": v.displacement, "excitation": v.excitation},
        startTime=_time(v.start_time),
        duration=v.duration_s,
    )


def _fixed_var(v: d.FixedVar) -> Payload:
    return _optional(
        {"priority": v.priority, "setpoint": v.setpoint, "unit": _spell(DER_UNIT, v.unit, "DER unit")},
        startTime=_time(v.start_time),
        duration=v.duration_s,
    )


def _freq_droop(v: d.FreqDroop) -> Payload:
    return _optional(
        {
            "priority": v.priority,
            "overFreq": v.over_freq_hz,
            "underFreq": v.under_freq_hz,
            "overDroop": v.over_droop,
            "underDroop": v.under_droop,
            "responseTime": v.response_time_s,
        },
        startTime=_time(v.start_time),
        duration=v.duration_s,
    )


def _gradient(v: d.Gradient) -> Payload:
    return {"priority": v.priority, "gradient": v.gradient, "softGradient": v.soft_gradient}


def _limit_max_discharge(v: d.LimitMaxDischarge) -> Payload:
    return _optional(
        {"priority": v.priority},
        pctMaxDischargePower=v.pct_max_discharge_power,
        powerMonitoringMustTrip=_curve(v.power_monitoring_must_trip) if v.power_monitoring_must_trip else None,
        startTime=_time(v.start_time),
        duration=v.duration_s,
    )


# The 2.1 field each setting goes in, and how it is written (FixedPF depends on the control type).
_SETTING_ENCODERS: dict[str, Callable[[Any], Payload]] = {
    "curve": _curve,
    "enter_service": _enter_service,
    "fixed_power_factor": _fixed_pf,
    "fixed_var": _fixed_var,
    "freq_droop": _freq_droop,
    "gradient": _gradient,
    "limit_max_discharge": _limit_max_discharge,
}
_SETTING_FIELDS: dict[str, str] = {
    "curve": "curve",
    "enter_service": "enterService",
    "fixed_var": "fixedVar",
    "freq_droop": "freqDroop",
    "gradient": "gradient",
    "limit_max_discharge": "limitMaxDischarge",
}


def encode_set_der_control(c: d.SetDerControl) -> Payload:
    wanted = d.setting_of(c.control_type)
    given = [name for name in d.SETTINGS if getattr(c, name) is not None]
    if given != [wanted]:
        raise CannotEncode(
            f"a {c.control_type.value} control is set with {wanted} alone (given: {', '.join(given) or 'nothing'})"
        )
    if wanted == "fixed_power_factor":
        field = "fixedPFAbsorb" if c.control_type is d.DerControlType.FIXED_PF_ABSORB else "fixedPFInject"
    else:
        field = _SETTING_FIELDS[wanted]
    return {
        "isDefault": c.is_default,
        "controlId": c.control_id,
        "controlType": _spell(DER_CONTROL, c.control_type, "DER control type"),
        field: _SETTING_ENCODERS[wanted](getattr(c, wanted)),
    }


def encode_get_der_control(c: d.GetDerControl) -> Payload:
    return _optional(
        {"requestId": c.request_id},
        isDefault=c.is_default,
        controlType=_spell(DER_CONTROL, c.control_type, "DER control type") if c.control_type else None,
        controlId=c.control_id,
    )


def encode_clear_der_control(c: d.ClearDerControl) -> Payload:
    return _optional(
        {"isDefault": c.is_default},
        controlType=_spell(DER_CONTROL, c.control_type, "DER control type") if c.control_type else None,
        controlId=c.control_id,
    )


# --- energy, streams, payments --------------------------------------------------------------------


def encode_afrr_signal(c: e.AfrrSignal) -> Payload:
    return {"timestamp": rfc3339(c.timestamp), "signal": c.signal}


def schedule_update(u: e.ScheduleUpdate) -> Payload:
    """A :class:`ScheduleUpdate` as 2.1's ChargingScheduleUpdateType (also how PullDynamicScheduleUpdate answers)."""
    return _optional(
        {},
        limit=u.limit,
        limit_L2=u.limit_l2,
        limit_L3=u.limit_l3,
        dischargeLimit=u.discharge_limit,
        dischargeLimit_L2=u.discharge_limit_l2,
        dischargeLimit_L3=u.discharge_limit_l3,
        setpoint=u.setpoint,
        setpoint_L2=u.setpoint_l2,
        setpoint_L3=u.setpoint_l3,
        setpointReactive=u.setpoint_reactive,
        setpointReactive_L2=u.setpoint_reactive_l2,
        setpointReactive_L3=u.setpoint_reactive_l3,
    )


def encode_update_dynamic_schedule(c: e.UpdateDynamicSchedule) -> Payload:
    return {"chargingProfileId": c.charging_profile_id, "scheduleUpdate": schedule_update(c.update)}


def encode_use_priority_charging(c: e.UsePriorityCharging) -> Payload:
    return {"transactionId": _station_transaction_id(c.transaction), "activate": c.activate}


def encode_allowed_energy_transfer(c: e.NotifyAllowedEnergyTransfer) -> Payload:
    return {
        "transactionId": _station_transaction_id(c.transaction),
        "allowedEnergyTransfer": [_spell(TRANSFER_MODE, mode, "energy transfer mode") for mode in c.modes],
    }


def encode_request_battery_swap(c: e.RequestBatterySwap) -> Payload:
    return {"idToken": {"idToken": c.id_token, "type": c.id_token_type}, "requestId": c.request_id}


def encode_web_payment_started(c: e.NotifyWebPaymentStarted) -> Payload:
    return {"evseId": c.evse_id, "timeout": c.timeout_s}


def _stream_params(p: s.StreamParams) -> Payload:
    return _optional({}, interval=p.interval_s, values=p.values)


def encode_adjust_stream(c: s.AdjustPeriodicEventStream) -> Payload:
    return {"id": c.stream_id, "params": _stream_params(c.params)}


def encode_nothing(c: m.Command) -> Payload:
    return {}


# --- decoders -------------------------------------------------------------------------------------


def status_info(data: Payload | None) -> StatusInfo | None:
    return StatusInfo(data["reasonCode"], data.get("additionalInfo")) if data else None


def decode_status_info(payload: Payload) -> StatusInfoResult:
    return StatusInfoResult(payload["status"], status_info(payload.get("statusInfo")))


def decode_get_tariffs(payload: Payload) -> t.GetTariffsResult:
    assignments = tuple(
        t.TariffAssignment(
            a["tariffId"],
            TARIFF_KIND_OF[a["tariffKind"]],
            parse_time(a["validFrom"]) if "validFrom" in a else None,
            tuple(a.get("evseIds", ())),
            tuple(a.get("idTokens", ())),
        )
        for a in payload.get("tariffAssignments", ())
    )
    return t.GetTariffsResult(payload["status"], status_info(payload.get("statusInfo")), assignments)


def decode_clear_tariffs(payload: Payload) -> t.ClearTariffsResult:
    return t.ClearTariffsResult(
        tuple(
            t.TariffCleared(r["status"], r.get("tariffId"), status_info(r.get("statusInfo")))
            for r in payload["clearTariffsResult"]
        )
    )


def decode_set_der_control(payload: Payload) -> d.SetDerControlResult:
    return d.SetDerControlResult(
        payload["status"], status_info(payload.get("statusInfo")), tuple(payload.get("supersededIds", ()))
    )


def decode_streams(payload: Payload) -> s.GetPeriodicEventStreamResult:
    return s.GetPeriodicEventStreamResult(
        tuple(
            s.EventStream(
                stream["id"],
                stream["variableMonitoringId"],
                s.StreamParams(stream["params"].get("interval"), stream["params"].get("values")),
            )
            for stream in payload.get("constantStreamData", ())
        )
    )


def decode_empty(payload: Payload) -> m.EmptyResult:
    return m.EmptyResult()


@dataclass(slots=True, frozen=True)
class Operation(Generic[C]):
    action: str
    encode: Callable[[C], Payload]
    decode: Callable[[Payload], m.Result]


# 2.0.1 operations whose 2.1 request has more to say (the answer is decoded as 2.0.1's).
CERTIFICATE_SIGNING_USE: dict[m.CertificateSigningUse, str] = {
    m.CertificateSigningUse.CHARGING_STATION: "ChargingStationCertificate",
    m.CertificateSigningUse.V2G: "V2GCertificate",
    m.CertificateSigningUse.V2G20: "V2G20Certificate",
}


def encode_certificate_signed(c: m.CertificateSigned) -> Payload:
    payload: Payload = {"certificateChain": c.certificate_chain}
    if c.certificate_type is not None:
        payload["certificateType"] = CERTIFICATE_SIGNING_USE[c.certificate_type]
    return payload


ENCODERS_CHANGED: dict[type[m.Command], tuple[str, Callable[[Any], Payload]]] = {
    m.CertificateSigned: ("CertificateSigned", encode_certificate_signed),
}


OPERATIONS_ADDED: dict[type[m.Command], Operation[Any]] = {
    t.SetDefaultTariff: Operation("SetDefaultTariff", encode_set_default_tariff, decode_status_info),
    t.GetTariffs: Operation("GetTariffs", encode_get_tariffs, decode_get_tariffs),
    t.ClearTariffs: Operation("ClearTariffs", encode_clear_tariffs, decode_clear_tariffs),
    t.ChangeTransactionTariff: Operation("ChangeTransactionTariff", encode_change_transaction_tariff, decode_status_info),
    d.SetDerControl: Operation("SetDERControl", encode_set_der_control, decode_set_der_control),
    d.GetDerControl: Operation("GetDERControl", encode_get_der_control, decode_status_info),
    d.ClearDerControl: Operation("ClearDERControl", encode_clear_der_control, decode_status_info),
    e.AfrrSignal: Operation("AFRRSignal", encode_afrr_signal, decode_status_info),
    e.UpdateDynamicSchedule: Operation("UpdateDynamicSchedule", encode_update_dynamic_schedule, decode_status_info),
    e.UsePriorityCharging: Operation("UsePriorityCharging", encode_use_priority_charging, decode_status_info),
    e.NotifyAllowedEnergyTransfer: Operation("NotifyAllowedEnergyTransfer", encode_allowed_energy_transfer, decode_status_info),
    e.RequestBatterySwap: Operation("RequestBatterySwap", encode_request_battery_swap, decode_status_info),
    e.NotifyWebPaymentStarted: Operation("NotifyWebPaymentStarted", encode_web_payment_started, decode_empty),
    s.GetPeriodicEventStream: Operation("GetPeriodicEventStream", encode_nothing, decode_streams),
    s.AdjustPeriodicEventStream: Operation("AdjustPeriodicEventStream", encode_adjust_stream, decode_status_info),
}


class V21Commands(V201Commands):
    """The :class:`~kilowatt.ocpp.execute.CommandCodec` of OCPP 2.1: the added operations here,
    every other one as 2.0.1 encodes it."""

    def encode(self, command: m.Command) -> tuple[str, Payload]:
        operation = OPERATIONS_ADDED.get(type(command))
        if operation is None:
            changed = ENCODERS_CHANGED.get(type(command))
            if changed is not None:
                action, encode = changed
                return action, encode(command)
            return super().encode(command)
        return operation.action, operation.encode(command)

    def decode(self, command: m.Command, payload: Payload) -> m.Result:
        operation = OPERATIONS_ADDED.get(type(command))
        if operation is None:
            return super().decode(command, payload)
        return operation.decode(payload)

    def actions(self) -> frozenset[str]:
        """The OCPP actions this codec sends (docs/ocpp-coverage.md is generated from it)."""
        return super().actions() | {operation.action for operation in OPERATIONS_ADDED.values()}
