"""OCPP 2.1's added operations: one case per typed command — the exact payload sent (valid by 2.1's
request schema), a station's answer (valid by its response schema) and the typed result; JSON
round trips of envelopes and outcomes; what 2.1 cannot carry refused naming why; 1.6 and 2.0.1
refuse every one of them."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest

from kilowatt.commands import CommandEnvelope, CommandOutcome
from kilowatt.commands import der as d
from kilowatt.commands import energy as e
from kilowatt.commands import model as m
from kilowatt.commands import streams as s
from kilowatt.commands import tariffs as t
from kilowatt.commands.status_info import StatusInfo, StatusInfoResult
from kilowatt.ocpp import v21
from kilowatt.ocpp.execute import CannotEncode
from kilowatt.ocpp.v16.codec import V16Commands
from kilowatt.ocpp.v21 import codec as c21
from kilowatt.ocpp.v201.codec import V201Commands
from kilowatt.refs import TransactionRef
from kilowatt.rpc.protocol import RpcProtocol

T = datetime(2030, 1, 1, tzinfo=timezone.utc)
TX = TransactionRef(7, "TX-7")
OK = ({"status": "Accepted"}, StatusInfoResult("Accepted"))
TARIFF = t.Tariff(
    "T-1",
    "EUR",
    (t.MessageContent("Standard", language="en"),),
    T,
    energy=t.TariffComponent(
        (t.TariffPrice(0.3, t.TariffConditions(day_of_week=(t.DayOfWeek.MONDAY,), evse_kind=t.EvseKind.DC, min_power_w=50000)),),
        (t.TaxRate("VAT", 21.0, 0),),
    ),
    fixed_fee=t.TariffComponent((t.TariffPrice(1.0),)),
    min_cost=t.Price(excl_tax=2.0),
)
TARIFF_21 = {
    "tariffId": "T-1",
    "currency": "EUR",
    "description": [{"format": "UTF8", "content": "Standard", "language": "en"}],
    "validFrom": "2030-01-01T00:00:00.000Z",
    "energy": {
        "prices": [{"priceKwh": 0.3, "conditions": {"dayOfWeek": ["Monday"], "evseKind": "DC", "minPower": 50000}}],
        "taxRates": [{"type": "VAT", "tax": 21.0, "stack": 0}],
    },
    "fixedFee": {"prices": [{"priceFixed": 1.0}]},
    "minCost": {"exclTax": 2.0},
}
CURVE = d.DerCurve(
    1,
    d.DerUnit.PCT_MAX_VAR,
    (d.CurvePoint(0.9, 30), d.CurvePoint(1.1, -30)),
    voltage_params=d.VoltageParams(power_during_cessation=d.PowerDuringCessation.ACTIVE),
)
CURVE_21 = {
    "priority": 1,
    "yUnit": "PctMaxVar",
    "curveData": [{"x": 0.9, "y": 30}, {"x": 1.1, "y": -30}],
    "voltageParams": {"powerDuringCessation": "Active"},
}

CASES = [
    (t.SetDefaultTariff(1, TARIFF), "SetDefaultTariff", {"evseId": 1, "tariff": TARIFF_21}, *OK),
    (
        t.GetTariffs(0),
        "GetTariffs",
        {"evseId": 0},
        {
            "status": "Accepted",
            "tariffAssignments": [
                {"tariffId": "T-1", "tariffKind": "DriverTariff", "validFrom": "2030-01-01T00:00:00Z", "idTokens": ["A"]}
            ],
        },
        t.GetTariffsResult("Accepted", None, (t.TariffAssignment("T-1", t.TariffKind.DRIVER, T, (), ("A",)),)),
    ),
    (
        t.ClearTariffs(("T-1",), 2),
        "ClearTariffs",
        {"tariffIds": ["T-1"], "evseId": 2},
        {"clearTariffsResult": [{"tariffId": "T-1", "status": "NoTariff", "statusInfo": {"reasonCode": "Gone"}}]},
        t.ClearTariffsResult((t.TariffCleared("NoTariff", "T-1", StatusInfo("Gone")),)),
    ),
    (
        t.ChangeTransactionTariff(TX, TARIFF),
        "ChangeTransactionTariff",
        {"transactionId": "TX-7", "tariff": TARIFF_21},
        {"status": "NoCurrencyChange"},
        StatusInfoResult("NoCurrencyChange"),
    ),
    (
        d.SetDerControl("vv", d.DerControlType.VOLT_VAR, True, curve=CURVE),
        "SetDERControl",
        {"isDefault": True, "controlId": "vv", "controlType": "VoltVar", "curve": CURVE_21},
        {"status": "Accepted", "supersededIds": ["a"]},
        d.SetDerControlResult("Accepted", None, ("a",)),
    ),
    (
        d.SetDerControl(
            "pf", d.DerControlType.FIXED_PF_ABSORB, False, fixed_power_factor=d.FixedPowerFactor(0, 0.9, False, T, 60)
        ),
        "SetDERControl",
        {
            "isDefault": False,
            "controlId": "pf",
            "controlType": "FixedPFAbsorb",
            "fixedPFAbsorb": {
                "priority": 0,
                "displacement": 0.9,
                "excitation": False,
                "startTime": "2030-01-01T00:00:00.000Z",
                "duration": 60,
            },
        },
        {"status": "NotSupported"},
        d.SetDerControlResult("NotSupported"),
    ),
    (
        d.SetDerControl(
            "lm", d.DerControlType.LIMIT_MAX_DISCHARGE, True, limit_max_discharge=d.LimitMaxDischarge(2, 50.0, CURVE)
        ),
        "SetDERControl",
        {
            "isDefault": True,
            "controlId": "lm",
            "controlType": "LimitMaxDischarge",
            "limitMaxDischarge": {"priority": 2, "pctMaxDischargePower": 50.0, "powerMonitoringMustTrip": CURVE_21},
        },
        {"status": "Accepted"},
        d.SetDerControlResult("Accepted"),
    ),
    (
        d.GetDerControl(3, True, d.DerControlType.FREQ_DROOP),
        "GetDERControl",
        {"requestId": 3, "isDefault": True, "controlType": "FreqDroop"},
        *OK,
    ),
    (
        d.ClearDerControl(False, control_id="x"),
        "ClearDERControl",
        {"isDefault": False, "controlId": "x"},
        {"status": "NotFound"},
        StatusInfoResult("NotFound"),
    ),
    (e.AfrrSignal(T, -3), "AFRRSignal", {"timestamp": "2030-01-01T00:00:00.000Z", "signal": -3}, *OK),
    (
        e.UpdateDynamicSchedule(5, e.ScheduleUpdate(limit=10.0, setpoint_l3=2.0, discharge_limit=-1.0)),
        "UpdateDynamicSchedule",
        {"chargingProfileId": 5, "scheduleUpdate": {"limit": 10.0, "setpoint_L3": 2.0, "dischargeLimit": -1.0}},
        {"status": "Rejected", "statusInfo": {"reasonCode": "NoProfile", "additionalInfo": "?"}},
        StatusInfoResult("Rejected", StatusInfo("NoProfile", "?")),
    ),
    (
        e.UsePriorityCharging(TX, False),
        "UsePriorityCharging",
        {"transactionId": "TX-7", "activate": False},
        {"status": "NoProfile"},
        StatusInfoResult("NoProfile"),
    ),
    (
        e.NotifyAllowedEnergyTransfer(TX, (e.EnergyTransferMode.DC, e.EnergyTransferMode.DC_BPT)),
        "NotifyAllowedEnergyTransfer",
        {"transactionId": "TX-7", "allowedEnergyTransfer": ["DC", "DC_BPT"]},
        *OK,
    ),
    (
        e.RequestBatterySwap("TOK", "eMAID", 9),
        "RequestBatterySwap",
        {"idToken": {"idToken": "TOK", "type": "eMAID"}, "requestId": 9},
        *OK,
    ),
    (e.NotifyWebPaymentStarted(1, 300), "NotifyWebPaymentStarted", {"evseId": 1, "timeout": 300}, {}, m.EmptyResult()),
    (
        s.GetPeriodicEventStream(),
        "GetPeriodicEventStream",
        {},
        {"constantStreamData": [{"id": 1, "variableMonitoringId": 2, "params": {}}]},
        s.GetPeriodicEventStreamResult((s.EventStream(1, 2, s.StreamParams()),)),
    ),
    (
        s.AdjustPeriodicEventStream(1, s.StreamParams(5, 10)),
        "AdjustPeriodicEventStream",
        {"id": 1, "params": {"interval": 5, "values": 10}},
        *OK,
    ),
]
CODEC = c21.V21Commands()
PROTOCOL = RpcProtocol(v21.DIALECT, "csms")


def test_every_added_operation_has_a_case() -> None:
    assert {type(case[0]) for case in CASES} == set(c21.OPERATIONS_ADDED)
    assert {op.action for op in c21.OPERATIONS_ADDED.values()} == v21.dialect.CSMS_ACTIONS_ADDED


@pytest.mark.parametrize(
    ("command", "action", "payload", "answer", "result"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_21_encode_and_decode(command: m.Command, action: str, payload: dict, answer: dict, result: m.Result) -> None:
    assert CODEC.encode(command) == (action, payload)
    PROTOCOL.check_call(action, payload)  # the official 2.1 request schema
    v21.DIALECT.schemas.validate_response(action, answer)
    assert CODEC.decode(command, answer) == result
    assert type(result) is type(command).result
    envelope = CommandEnvelope("CS-1", command)
    assert CommandEnvelope.from_json(orjson.loads(orjson.dumps(envelope.to_json()))) == envelope
    outcome = CommandOutcome(result=result, action=action, request=payload, response=answer)
    assert CommandOutcome.from_json(orjson.loads(orjson.dumps(outcome.to_json()))) == outcome


@pytest.mark.parametrize("codec", [V16Commands(), V201Commands()], ids=["ocpp1.6", "ocpp2.0.1"])
@pytest.mark.parametrize("command", [case[0] for case in CASES], ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_older_versions_refuse_21_operations(codec: object, command: m.Command) -> None:
    with pytest.raises(CannotEncode, match="has no operation"):
        codec.encode(command)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (d.SetDerControl("x", d.DerControlType.FREQ_DROOP, True, curve=CURVE), "FreqDroop control is set with freq_droop"),
        (d.SetDerControl("x", d.DerControlType.VOLT_VAR, True), "given: nothing"),
        (
            d.SetDerControl("x", d.DerControlType.VOLT_VAR, True, curve=CURVE, gradient=d.Gradient(0, 1, 1)),
            "given: curve, gradient",
        ),
        (e.UsePriorityCharging(TransactionRef(3), True), "no id of the station's own"),
        (t.ChangeTransactionTariff(TransactionRef(3), TARIFF), "no id of the station's own"),
    ],
)
def test_what_21_cannot_carry_is_refused_naming_why(command: m.Command, message: str) -> None:
    with pytest.raises(CannotEncode, match=message):
        CODEC.encode(command)


def test_enum_maps_are_complete() -> None:
    assert set(c21.DER_CONTROL) == set(d.DerControlType)
    assert set(c21.DER_UNIT) == set(d.DerUnit)
    assert set(c21.TRANSFER_MODE) == set(e.EnergyTransferMode)
    assert set(c21.DAY_OF_WEEK) == set(t.DayOfWeek)
    assert set(c21.MESSAGE_FORMAT) == set(t.MessageFormat)
    assert set(c21.TARIFF_KIND_OF.values()) == set(t.TariffKind)
