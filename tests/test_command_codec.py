"""Typed commands without a socket: every 1.6 encoder and decoder, the enum maps, and the JSON the bus carries."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

import orjson
import pytest

from kilowatt.bus.memory import InProcessBus
from kilowatt.commands import COMMAND_TYPES, RESULT_TYPES, CommandEnvelope, CommandError, CommandErrorKind, CommandOutcome
from kilowatt.commands import model as m
from kilowatt.ocpp import v16
from kilowatt.ocpp.execute import CannotEncode, execute
from kilowatt.ocpp.v16 import codec as c16
from kilowatt.refs import TransactionRef
from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected
from kilowatt.rpc.protocol import RpcProtocol

CODEC = c16.V16Commands()
T = datetime(2030, 1, 1, tzinfo=timezone.utc)
PROFILE = m.ChargingProfile(
    7,
    1,
    m.ChargingProfilePurpose.CHARGING_STATION_MAX,
    m.ChargingProfileKind.RECURRING,
    m.ChargingSchedule(m.ChargingRateUnit.WATTS, (m.ChargingSchedulePeriod(0, 7400.0), m.ChargingSchedulePeriod(60, 3700.0, 1)), 3600, T, 100.0),
    recurrency_kind=m.RecurrencyKind.DAILY,
    valid_from=T,
)
PROFILE_16 = {
    "chargingProfileId": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "validFrom": "2030-01-01T00:00:00.000Z",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "duration": 3600,
        "startSchedule": "2030-01-01T00:00:00.000Z",
        "minChargingRate": 100.0,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}, {"startPeriod": 60, "limit": 3700.0, "numberPhases": 1}],
    },
}
HASH = m.CertificateHashData(m.HashAlgorithm.SHA384, "n", "k", "s")
HASH_16 = {"hashAlgorithm": "SHA384", "issuerNameHash": "n", "issuerKeyHash": "k", "serialNumber": "s"}
ACCEPTED = ({"status": "Accepted"}, m.StatusResult("Accepted"))

# command, 1.6 action, 1.6 payload, a station answer, its typed result
CASES: list[tuple[m.Command, str, dict[str, Any], dict[str, Any], m.Result]] = [
    (m.Reset(m.ResetMode.IMMEDIATE), "Reset", {"type": "Hard"}, *ACCEPTED),
    (m.Reset(m.ResetMode.ON_IDLE), "Reset", {"type": "Soft"}, {"status": "Rejected"}, m.StatusResult("Rejected")),
    (m.RemoteStart("TAG", 2, PROFILE), "RemoteStartTransaction", {"idTag": "TAG", "connectorId": 2, "chargingProfile": PROFILE_16}, *ACCEPTED),
    (m.RemoteStart("TAG"), "RemoteStartTransaction", {"idTag": "TAG"}, *ACCEPTED),
    (m.RemoteStop(TransactionRef(42)), "RemoteStopTransaction", {"transactionId": 42}, *ACCEPTED),
    (m.UnlockConnector(1), "UnlockConnector", {"connectorId": 1}, {"status": "UnlockFailed"}, m.StatusResult("UnlockFailed")),
    (m.UnlockConnector(1, 1), "UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}, m.StatusResult("Unlocked")),
    (m.ChangeAvailability(False), "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}, m.StatusResult("Scheduled")),
    (m.ChangeAvailability(True, 3), "ChangeAvailability", {"connectorId": 3, "type": "Operative"}, *ACCEPTED),
    (m.TriggerMessage(m.MessageTrigger.METER_VALUES, 1), "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}, *ACCEPTED),
    (
        m.ExtendedTriggerMessage(m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE),
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
        *ACCEPTED,
    ),
    (m.ClearCache(), "ClearCache", {}, *ACCEPTED),
    (m.DataTransfer("acme", "ping", "1"), "DataTransfer", {"vendorId": "acme", "messageId": "ping", "data": "1"}, {"status": "Accepted", "data": "pong"}, m.DataTransferResult("Accepted", "pong")),
    (
        m.GetConfiguration(("A", "B")),
        "GetConfiguration",
        {"key": ["A", "B"]},
        {"configurationKey": [{"key": "A", "readonly": True}], "unknownKey": ["B"]},
        m.GetConfigurationResult((m.ConfigurationValue("A", None, True),), ("B",)),
    ),
    (m.GetConfiguration(), "GetConfiguration", {}, {}, m.GetConfigurationResult()),
    (m.ChangeConfiguration("HeartbeatInterval", "60"), "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, {"status": "RebootRequired"}, m.StatusResult("RebootRequired")),
    (m.UpdateFirmware("https://fw/1", T, 2, 30), "UpdateFirmware", {"location": "https://fw/1", "retrieveDate": "2030-01-01T00:00:00.000Z", "retries": 2, "retryInterval": 30}, {}, m.EmptyResult()),
    (
        m.SignedUpdateFirmware(5, m.Firmware("https://fw/2", T, "PEM", "SIG", T)),
        "SignedUpdateFirmware",
        {"requestId": 5, "firmware": {"location": "https://fw/2", "retrieveDateTime": "2030-01-01T00:00:00.000Z", "installDateTime": "2030-01-01T00:00:00.000Z", "signingCertificate": "PEM", "signature": "SIG"}},
        *ACCEPTED,
    ),
    (m.GetDiagnostics("ftp://d/", start_time=T), "GetDiagnostics", {"location": "ftp://d/", "startTime": "2030-01-01T00:00:00.000Z"}, {"fileName": "d.zip"}, m.GetDiagnosticsResult("d.zip")),
    (m.GetDiagnostics("ftp://d/"), "GetDiagnostics", {"location": "ftp://d/"}, {}, m.GetDiagnosticsResult()),
    (
        m.GetLog(m.LogType.SECURITY, 9, "https://l/", latest_timestamp=T, retries=1),
        "GetLog",
        {"logType": "SecurityLog", "requestId": 9, "log": {"remoteLocation": "https://l/", "latestTimestamp": "2030-01-01T00:00:00.000Z"}, "retries": 1},
        {"status": "Accepted", "filename": "s.log"},
        m.GetLogResult("Accepted", "s.log"),
    ),
    (m.InstallCertificate(m.CertificateUse.CSMS_ROOT, "PEM"), "InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": "PEM"}, {"status": "Failed"}, m.StatusResult("Failed")),
    (
        m.GetInstalledCertificateIds(m.CertificateUse.MANUFACTURER_ROOT),
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
        {"status": "Accepted", "certificateHashData": [HASH_16]},
        m.GetInstalledCertificateIdsResult("Accepted", (HASH,)),
    ),
    (m.DeleteCertificate(HASH), "DeleteCertificate", {"certificateHashData": HASH_16}, {"status": "NotFound"}, m.StatusResult("NotFound")),
    (m.CertificateSigned("PEM"), "CertificateSigned", {"certificateChain": "PEM"}, *ACCEPTED),
    (m.GetLocalListVersion(), "GetLocalListVersion", {}, {"listVersion": -1}, m.GetLocalListVersionResult(-1)),
    (
        m.SendLocalList(3, m.UpdateType.DIFFERENTIAL, (m.LocalListEntry("A", m.AuthorizationStatus.BLOCKED, T, "P"), m.LocalListEntry("B"))),
        "SendLocalList",
        {
            "listVersion": 3,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "A", "idTagInfo": {"status": "Blocked", "expiryDate": "2030-01-01T00:00:00.000Z", "parentIdTag": "P"}},
                {"idTag": "B"},
            ],
        },
        {"status": "VersionMismatch"},
        m.StatusResult("VersionMismatch"),
    ),
    (m.ReserveNow(11, 1, "TAG", T, "P"), "ReserveNow", {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00.000Z", "idTag": "TAG", "parentIdTag": "P", "reservationId": 11}, {"status": "Occupied"}, m.StatusResult("Occupied")),
    (m.CancelReservation(11), "CancelReservation", {"reservationId": 11}, *ACCEPTED),
    (m.SetChargingProfile(0, PROFILE), "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": PROFILE_16}, *ACCEPTED),
    (m.ClearChargingProfile(), "ClearChargingProfile", {}, {"status": "Unknown"}, m.StatusResult("Unknown")),
    (
        m.ClearChargingProfile(None, 2, m.ChargingProfilePurpose.TX_DEFAULT, 3),
        "ClearChargingProfile",
        {"connectorId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 3},
        *ACCEPTED,
    ),
    (
        m.GetCompositeSchedule(1, 600, m.ChargingRateUnit.AMPERES),
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"},
        {"status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T00:00:00Z", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}},
        m.GetCompositeScheduleResult("Accepted", 1, T, m.ChargingSchedule(m.ChargingRateUnit.AMPERES, (m.ChargingSchedulePeriod(0, 16),))),
    ),
    (m.GetCompositeSchedule(1, 60), "GetCompositeSchedule", {"connectorId": 1, "duration": 60}, {"status": "Rejected"}, m.GetCompositeScheduleResult("Rejected")),
]
PROTOCOL = RpcProtocol(v16.DIALECT, "csms")


# The operations OCPP 1.6 has no counterpart for (tests/test_command_codec_v201.py covers them,
# and that 1.6 refuses each one).
NOT_IN_16 = {
    m.GetVariables, m.SetVariables, m.GetBaseReport, m.GetReport, m.SetVariableMonitoring, m.ClearVariableMonitoring,
    m.SetMonitoringBase, m.SetMonitoringLevel, m.GetMonitoringReport, m.GetChargingProfiles, m.PublishFirmware,
    m.UnpublishFirmware, m.SetNetworkProfile, m.CustomerInformation, m.GetTransactionStatus, m.SetDisplayMessage,
    m.GetDisplayMessages, m.ClearDisplayMessage, m.CostUpdated,
}
RESULTS_NOT_IN_16 = {
    m.RemoteStartResult, m.GetVariablesResult, m.SetVariablesResult, m.SetVariableMonitoringResult,
    m.ClearVariableMonitoringResult, m.GetTransactionStatusResult,
}


def test_every_command_has_a_16_operation_and_a_case_here() -> None:
    from test_v21_codec import CASES as V21_CASES  # 2.1's own operations: no 1.6 counterpart, tested there

    not_in_16 = NOT_IN_16 | {type(case[0]) for case in V21_CASES}
    assert set(c16.OPERATIONS) == set(COMMAND_TYPES) - not_in_16
    assert {type(case[0]) for case in CASES} == set(COMMAND_TYPES) - not_in_16
    assert {type(case[4]) for case in CASES} | {type(case[4]) for case in V21_CASES} == set(RESULT_TYPES) - RESULTS_NOT_IN_16


@pytest.mark.parametrize(("command", "action", "payload", "answer", "result"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_16_encode_and_decode(command: m.Command, action: str, payload: dict, answer: dict, result: m.Result) -> None:
    assert CODEC.encode(command) == (action, payload)
    PROTOCOL.check_call(action, payload)  # what we send passes the official 1.6 schema
    assert CODEC.decode(command, answer) == result
    assert type(result) is type(command).result


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (m.Reset(m.ResetMode.ON_IDLE, evse_id=1), "OCPP 2.0.1"),
        (m.UnlockConnector(1, 2), "one connector"),
        (m.ChangeAvailability(True, 0, 1), "one connector"),
        (m.TriggerMessage(m.MessageTrigger.STATUS_NOTIFICATION, 1, 2), "one connector"),
        (m.TriggerMessage(m.MessageTrigger.TRANSACTION_EVENT), "no TriggerMessage for 'TransactionEvent'"),
        (m.TriggerMessage(m.MessageTrigger.LOG_STATUS_NOTIFICATION), "no TriggerMessage for"),
        (m.ExtendedTriggerMessage(m.MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION), "no ExtendedTriggerMessage for"),
        (m.InstallCertificate(m.CertificateUse.V2G_ROOT, "PEM"), "certificate type 'V2GRootCertificate'"),
        (m.GetInstalledCertificateIds(m.CertificateUse.MO_ROOT), "certificate type"),
        (m.SendLocalList(1, m.UpdateType.FULL, (m.LocalListEntry("T" * 21, m.AuthorizationStatus.ACCEPTED),)), "at most 20"),
    ],
)
def test_what_16_cannot_carry_is_refused_naming_why(command: m.Command, message: str) -> None:
    with pytest.raises(CannotEncode, match=message):
        CODEC.encode(command)


ONLY_201_TRIGGERS = {
    m.MessageTrigger.SIGN_V2G_CERTIFICATE, m.MessageTrigger.SIGN_COMBINED_CERTIFICATE, m.MessageTrigger.PUBLISH_FIRMWARE_STATUS_NOTIFICATION
}
MAPS: list[tuple[type[Enum], dict[Any, str], set[Any]]] = [
    (m.ResetMode, c16.RESET_TYPE, set()),
    (m.MessageTrigger, c16.MESSAGE_TRIGGER, {m.MessageTrigger.LOG_STATUS_NOTIFICATION, m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE, m.MessageTrigger.TRANSACTION_EVENT, *ONLY_201_TRIGGERS}),
    (m.MessageTrigger, c16.EXTENDED_MESSAGE_TRIGGER, {m.MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION, m.MessageTrigger.TRANSACTION_EVENT, *ONLY_201_TRIGGERS}),
    (m.LogType, c16.LOG_TYPE, set()),
    (m.CertificateUse, c16.CERTIFICATE_USE, {m.CertificateUse.V2G_ROOT, m.CertificateUse.MO_ROOT, m.CertificateUse.V2G_CERTIFICATE_CHAIN}),
    (m.HashAlgorithm, c16.HASH_ALGORITHM, set()),
    (m.ChargingProfilePurpose, c16.PROFILE_PURPOSE, set()),
    (m.ChargingProfileKind, c16.PROFILE_KIND, set()),
    (m.RecurrencyKind, c16.RECURRENCY_KIND, set()),
    (m.ChargingRateUnit, c16.RATE_UNIT, set()),
    (m.UpdateType, c16.UPDATE_TYPE, set()),
    (m.AuthorizationStatus, c16.AUTHORIZATION_STATUS, set()),
]


@pytest.mark.parametrize(("enum", "mapping", "not_in_16"), MAPS, ids=[f"{e.__name__}-{i}" for i, (e, _, _) in enumerate(MAPS)])
def test_16_enum_maps_cover_the_domain_and_reverse(enum: type[Enum], mapping: dict[Any, str], not_in_16: set[Any]) -> None:
    assert set(mapping) == set(enum) - not_in_16  # every domain value is mapped, or knowingly absent from 1.6
    reverse = c16._reverse(mapping)
    assert len(reverse) == len(mapping)  # one 1.6 spelling per value: the map reads back both ways
    assert all(reverse[spelling] is value for value, spelling in mapping.items())


def test_16_spellings_that_differ_from_the_domain() -> None:
    assert c16.RESET_TYPE == {m.ResetMode.IMMEDIATE: "Hard", m.ResetMode.ON_IDLE: "Soft"}
    assert c16.PROFILE_PURPOSE[m.ChargingProfilePurpose.CHARGING_STATION_MAX] == "ChargePointMaxProfile"
    assert c16.CERTIFICATE_USE[m.CertificateUse.CSMS_ROOT] == "CentralSystemRootCertificate"
    assert c16.EXTENDED_MESSAGE_TRIGGER[m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE] == "SignChargePointCertificate"
    assert c16.AVAILABILITY_TYPE == {True: "Operative", False: "Inoperative"}


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(data))


@pytest.mark.parametrize("command", [case[0] for case in CASES], ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_envelope_round_trips_through_json(command: m.Command) -> None:
    envelope = CommandEnvelope("CP-1", command, 2.5)
    assert CommandEnvelope.from_json(_through_json(envelope.to_json())) == envelope


OUTCOMES = [
    *(CommandOutcome(result=case[4], action=case[1], request=case[2], response=case[3]) for case in CASES),
    CommandOutcome.failed(CommandErrorKind.OFFLINE, "station 'CP-1' is not connected"),
    CommandOutcome.failed(CommandErrorKind.BUSY, "2 calls waiting", action="Reset", request={"type": "Soft"}),
    CommandOutcome.failed(CommandErrorKind.TIMEOUT, "no answer in 30 s", action="Reset", request={"type": "Soft"}),
    CommandOutcome.failed(CommandErrorKind.CALL_ERROR, "jammed", code="InternalError", details={"motor": 1}, action="UnlockConnector", request={"connectorId": 1}),
    CommandOutcome.failed(CommandErrorKind.INVALID, "OCPP 1.6 resets the whole station"),
    CommandOutcome.failed(CommandErrorKind.UNAVAILABLE, "the bus between nodes (Redis) is unreachable; the command was not sent"),
]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_outcome_round_trips_through_json(outcome: CommandOutcome) -> None:
    assert CommandOutcome.from_json(_through_json(outcome.to_json())) == outcome


def test_an_unknown_type_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        CommandEnvelope.from_json({"station_id": "CP-1", "command": {"type": "Explode", "fields": {}}})


async def test_execute_turns_every_failure_into_a_typed_error() -> None:
    async def answer(action: str, payload: dict, timeout_s: float | None) -> dict:
        return {"status": "Accepted"}

    ok = await execute(CODEC, answer, m.Reset(m.ResetMode.ON_IDLE))
    assert ok == CommandOutcome(result=m.StatusResult("Accepted"), action="Reset", request={"type": "Soft"}, response={"status": "Accepted"})
    from kilowatt.rpc.errors import ErrorKind

    for raised, kind in (
        (StationDisconnected("closed"), CommandErrorKind.OFFLINE),
        (CallQueueFull("full"), CommandErrorKind.BUSY),
        (CallTimeout("slow"), CommandErrorKind.TIMEOUT),
        (CallError("InternalError", "jammed", {}), CommandErrorKind.CALL_ERROR),
        (OcppError(ErrorKind.PROPERTY_CONSTRAINT, "idTag too long"), CommandErrorKind.INVALID),
    ):

        async def fail(action: str, payload: dict, timeout_s: float | None, raised: Exception = raised) -> dict:
            raise raised

        outcome = await execute(CODEC, fail, m.Reset(m.ResetMode.ON_IDLE))
        assert outcome.error is not None and outcome.error.kind is kind and outcome.result is None
        assert (outcome.action, outcome.request) == ("Reset", {"type": "Soft"})
    refused = await execute(CODEC, answer, m.Reset(m.ResetMode.ON_IDLE, evse_id=1))
    assert refused.error is not None and refused.error.kind is CommandErrorKind.INVALID and refused.action is None


async def test_an_answer_whose_values_cannot_be_read_is_a_call_error_not_an_exception() -> None:
    """Schema-valid, but a time outside 1970-2099: the station's fault, reported as such (the API's
    502), never an exception that would end in HTTP 500 with no command record."""

    async def answer(action: str, payload: dict, timeout_s: float | None) -> dict:
        return {"status": "Accepted", "connectorId": 1, "scheduleStart": "2200-01-01T00:00:00Z"}

    outcome = await execute(CODEC, answer, m.GetCompositeSchedule(1, 600))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.CALL_ERROR and outcome.result is None
    assert outcome.error.description.startswith("invalid response:") and "2200-01-01T00:00:00Z" in outcome.error.description
    assert outcome.response == {"status": "Accepted", "connectorId": 1, "scheduleStart": "2200-01-01T00:00:00Z"}


async def test_the_serialising_bus_carries_what_a_bus_between_processes_would() -> None:
    bus = InProcessBus(serialise=True)
    seen: list[m.Command] = []

    async def executor(command: m.Command, timeout_s: float | None = None) -> CommandOutcome:
        seen.append(command)
        return CommandOutcome(result=m.GetConfigurationResult((m.ConfigurationValue("A", "1", False),)), action="GetConfiguration", request={}, response={})

    await bus.attach("CP-1", executor)
    outcome = await bus.call_station(CommandEnvelope("CP-1", m.GetConfiguration(("A",))))
    assert seen == [m.GetConfiguration(("A",))] and outcome.result == m.GetConfigurationResult((m.ConfigurationValue("A", "1", False),))
    offline = await bus.call_station(CommandEnvelope("CP-2", m.ClearCache()))
    assert offline.error == CommandError(CommandErrorKind.OFFLINE, "station 'CP-2' is not connected")
