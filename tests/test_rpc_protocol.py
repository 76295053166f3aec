"""The sans-I/O RPC core: framing, correlation, validation and 1.6 error codes, without a socket."""

from __future__ import annotations

import json

import pytest

from kilowatt.ocpp.v16 import DIALECT
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import (
    Ignored,
    IncomingCall,
    IncomingError,
    IncomingResult,
    IncomingResultError,
    IncomingSend,
    Reply,
    RpcProtocol,
)

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


@pytest.fixture
def csms() -> RpcProtocol:
    return RpcProtocol(DIALECT, "csms")


def error_of(event: object) -> list:
    assert isinstance(event, Reply), event
    return json.loads(event.frame)


def test_valid_call_is_handed_over(csms: RpcProtocol) -> None:
    event = csms.receive(json.dumps([2, "abc", "BootNotification", BOOT]))
    assert event == IncomingCall("abc", "BootNotification", BOOT)


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        ("not json", "-1", "FormationViolation"),
        ("{}", "-1", "FormationViolation"),
        ("[]", "-1", "FormationViolation"),
        ('["2", "a", "Heartbeat", {}]', "a", "FormationViolation"),
        ('[2, 17, "Heartbeat", {}]', "-1", "FormationViolation"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "-1", "FormationViolation"),
        ('[2, "a", "Heartbeat"]', "a", "FormationViolation"),
        ('[2, "a", "Heartbeat", []]', "a", "FormationViolation"),
        ('[2, "a", 5, {}]', "a", "FormationViolation"),
        ('[7, "a", "Heartbeat", {}]', "a", "FormationViolation"),
        ('[2, "a", "FooBar", {}]', "a", "NotImplemented"),
        ('[2, "a", "Reset", {"type": "Hard"}]', "a", "NotSupported"),
        ('[2, "a", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "M"}]', "a", "TypeConstraintViolation"),
        ('[2, "a", "BootNotification", {"chargePointVendor": "V"}]', "a", "OccurenceConstraintViolation"),
        (
            '[2, "a", "BootNotification", {"chargePointVendor": "' + "V" * 21 + '", "chargePointModel": "M"}]',
            "a",
            "PropertyConstraintViolation",
        ),
        (
            '[2, "a", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Bogus"}]',
            "a",
            "PropertyConstraintViolation",
        ),
        (
            '[2, "a", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M", "extra": 1}]',
            "a",
            "FormationViolation",
        ),
        (
            '[2, "a", "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"}]',
            "a",
            "PropertyConstraintViolation",
        ),
    ],
)
def test_bad_frames_get_the_16_error_code(csms: RpcProtocol, frame: str, message_id: str, code: str) -> None:
    answer = error_of(csms.receive(frame))
    assert answer[0] == 4
    assert answer[1] == message_id
    assert answer[2] == code
    assert isinstance(answer[3], str) and answer[3]
    assert isinstance(answer[4], dict)


def test_16_never_uses_the_201_spellings() -> None:
    codes = set(DIALECT.error_codes.values())
    assert "FormatViolation" not in codes
    assert "OccurrenceConstraintViolation" not in codes
    assert {"FormationViolation", "OccurenceConstraintViolation"} <= codes


def test_answer_is_correlated_and_validated(csms: RpcProtocol) -> None:
    message_id, frame = csms.call("Reset", {"type": "Soft"})
    assert json.loads(frame) == [2, message_id, "Reset", {"type": "Soft"}]
    assert csms.pending == 1
    event = csms.receive(json.dumps([3, message_id, {"status": "Accepted"}]))
    assert event == IncomingResult(message_id, "Reset", {"status": "Accepted"})
    assert csms.pending == 0
    # a second answer to the same id is a stray
    assert isinstance(csms.receive(json.dumps([3, message_id, {"status": "Accepted"}])), Ignored)


def test_invalid_answer_is_flagged(csms: RpcProtocol) -> None:
    message_id, _ = csms.call("Reset", {"type": "Soft"})
    event = csms.receive(json.dumps([3, message_id, {"status": "Maybe"}]))
    assert isinstance(event, IncomingResult)
    assert event.error is not None and event.error.kind is ErrorKind.PROPERTY_CONSTRAINT


def test_callerror_answer(csms: RpcProtocol) -> None:
    message_id, _ = csms.call("Reset", {"type": "Hard"})
    event = csms.receive(json.dumps([4, message_id, "InternalError", "boom", {"x": 1}]))
    assert event == IncomingError(message_id, "Reset", "InternalError", "boom", {"x": 1})


def test_malformed_answers_are_ignored_not_answered(csms: RpcProtocol) -> None:
    assert isinstance(csms.receive('[3, "zz"]'), Ignored)
    assert isinstance(csms.receive('[4, "zz", 1, 2, 3]'), Ignored)


def test_outgoing_payload_is_validated(csms: RpcProtocol) -> None:
    with pytest.raises(OcppError) as info:
        csms.call("Reset", {"type": "Sideways"})
    assert info.value.kind is ErrorKind.PROPERTY_CONSTRAINT
    with pytest.raises(OcppError) as info:
        csms.call("BootNotification", BOOT)  # a station's action, not ours
    assert info.value.kind is ErrorKind.NOT_SUPPORTED
    assert csms.pending == 0


def test_our_result_is_validated(csms: RpcProtocol) -> None:
    call = csms.receive(json.dumps([2, "x", "Heartbeat", {}]))
    assert isinstance(call, IncomingCall)
    with pytest.raises(OcppError):
        csms.result(call, {"currentTime": 5})
    assert json.loads(csms.result(call, {"currentTime": "2024-01-01T00:00:00Z"})) == [
        3,
        "x",
        {"currentTime": "2024-01-01T00:00:00Z"},
    ]


def test_station_side_accepts_csms_actions() -> None:
    station = RpcProtocol(DIALECT, "station")
    assert isinstance(station.receive(json.dumps([2, "r", "Reset", {"type": "Soft"}])), IncomingCall)
    assert error_of(station.receive(json.dumps([2, "b", "BootNotification", BOOT])))[2] == "NotSupported"


# --- OCPP-J 2.1: SEND (6) and CALLRESULTERROR (5) -------------------------------------------------

STREAM_DATA = {"id": 1, "pending": 0, "basetime": "2025-01-01T00:00:00Z", "data": [{"t": 0.5, "v": "230.1"}]}


@pytest.fixture
def csms21() -> RpcProtocol:
    from kilowatt.ocpp.v21 import DIALECT as V21

    return RpcProtocol(V21, "csms")


def test_21_send_is_handed_over_and_never_answered(csms21: RpcProtocol) -> None:
    event = csms21.receive(json.dumps([6, "s1", "NotifyPeriodicEventStream", STREAM_DATA]))
    assert event == IncomingSend("s1", "NotifyPeriodicEventStream", STREAM_DATA)
    assert csms21.pending == 0


@pytest.mark.parametrize(
    "frame",
    [
        [6, "s1", "NotifyPeriodicEventStream", {"id": 1}],  # required fields missing
        [6, "s1", "NotifyPeriodicEventStream", {**STREAM_DATA, "id": "one"}],  # wrong type
        [6, "s1", "NotifyPeriodicEventStream", {**STREAM_DATA, "extra": 1}],  # unknown field
        [6, "s1", "NotifyPeriodicEventStream", {**STREAM_DATA, "data": [{"t": 0, "v": "\u0000"}]}],  # NUL
        [6, "s1", "Heartbeat", {}],  # a CALL's action sent as a SEND
        [6, "s1", "FooBar", {}],  # unknown action
        [6, "s1", "NotifyPeriodicEventStream"],  # no payload
        [6, "s1", "NotifyPeriodicEventStream", []],  # payload not an object
        [6, 17, "NotifyPeriodicEventStream", STREAM_DATA],  # unreadable id
        [6, "s1", "", {}],  # empty action
    ],
)
def test_21_bad_send_is_dropped_not_answered(csms21: RpcProtocol, frame: list) -> None:
    event = csms21.receive(json.dumps(frame))
    assert isinstance(event, Ignored), event
    assert event.reason


def test_21_send_action_as_a_call_is_refused(csms21: RpcProtocol) -> None:
    answer = error_of(csms21.receive(json.dumps([2, "c1", "NotifyPeriodicEventStream", STREAM_DATA])))
    assert answer[:3] == [4, "c1", "NotSupported"]


def test_21_callresulterror_is_reported_not_answered(csms21: RpcProtocol) -> None:
    event = csms21.receive(json.dumps([5, "r9", "FormatViolation", "your answer was bad", {"field": "x"}]))
    assert event == IncomingResultError("r9", "FormatViolation", "your answer was bad", {"field": "x"})
    assert isinstance(csms21.receive('[5, "r9", "FormatViolation"]'), Ignored)
    assert isinstance(csms21.receive('[5, "r9", 1, "x", {}]'), Ignored)


def test_21_invalid_result_gets_a_callresulterror(csms21: RpcProtocol) -> None:
    message_id, _ = csms21.call("Reset", {"type": "Immediate"})
    event = csms21.receive(json.dumps([3, message_id, {"status": "Maybe"}]))
    assert isinstance(event, IncomingResult) and event.error is not None
    frame = csms21.result_error_for(event)
    assert frame is not None
    answer = json.loads(frame)
    assert answer[:3] == [5, message_id, "PropertyConstraintViolation"]
    assert isinstance(answer[3], str) and answer[3] and isinstance(answer[4], dict)
    valid_id, _ = csms21.call("Reset", {"type": "Immediate"})
    valid = csms21.receive(json.dumps([3, valid_id, {"status": "Accepted"}]))
    assert isinstance(valid, IncomingResult) and csms21.result_error_for(valid) is None


def test_21_send_framing_is_validated() -> None:
    from kilowatt.ocpp.v21 import DIALECT as V21

    station = RpcProtocol(V21, "station")
    frame = json.loads(station.send("NotifyPeriodicEventStream", STREAM_DATA))
    assert frame[0] == 6 and frame[2:] == ["NotifyPeriodicEventStream", STREAM_DATA]
    assert station.pending == 0
    with pytest.raises(OcppError):
        station.send("NotifyPeriodicEventStream", {"id": 1})
    with pytest.raises(OcppError):
        station.send("Heartbeat", {})  # not a SEND
    with pytest.raises(OcppError):
        station.call("NotifyPeriodicEventStream", STREAM_DATA)  # a SEND is never a CALL


@pytest.mark.parametrize("version", ["v16", "v201"])
@pytest.mark.parametrize(
    "frame",
    [
        [6, "s1", "NotifyPeriodicEventStream", STREAM_DATA],
        [5, "s1", "FormatViolation", "x", {}],
    ],
)
def test_types_5_and_6_stay_unknown_before_21(version: str, frame: list) -> None:
    import importlib

    dialect = importlib.import_module(f"kilowatt.ocpp.{version}").DIALECT
    answer = error_of(RpcProtocol(dialect, "csms").receive(json.dumps(frame)))
    assert answer[:3] == [4, "s1", "FormationViolation" if version == "v16" else "MessageTypeNotSupported"]


def test_before_21_an_invalid_result_gets_no_callresulterror() -> None:
    from kilowatt.ocpp.v201 import DIALECT as V201

    csms = RpcProtocol(V201, "csms")
    message_id, _ = csms.call("Reset", {"type": "Immediate"})
    event = csms.receive(json.dumps([3, message_id, {"status": "Maybe"}]))
    assert isinstance(event, IncomingResult) and event.error is not None
    assert csms.result_error_for(event) is None
