"""Typed commands as OCPP 2.0.1 without a socket: every encoder against the official schema, every
decoder on a schema-valid answer, the enum maps against the schema's enums, and the refusals."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import ocpp
import orjson
import pytest

from kilowatt.commands import COMMAND_TYPES, RESULT_TYPES, CommandEnvelope, CommandErrorKind, CommandOutcome
from kilowatt.commands import model as m
from kilowatt.ocpp import v201
from kilowatt.ocpp.execute import CannotEncode, execute
from kilowatt.ocpp.operations import reverse
from kilowatt.ocpp.v16 import codec as c16
from kilowatt.ocpp.v21 import codec as c21
from kilowatt.ocpp.v201 import codec as c201
from kilowatt.refs import TransactionRef
from kilowatt.rpc.errors import OcppError

CODEC = c201.V201Commands()
SCHEMAS = v201.DIALECT.schemas
T = datetime(2030, 1, 1, tzinfo=timezone.utc)
TS = "2030-01-01T00:00:00.000Z"
TX = TransactionRef(42, "st-tx-1")
PROFILE = m.ChargingProfile(
    7,
    1,
    m.ChargingProfilePurpose.CHARGING_STATION_MAX,
    m.ChargingProfileKind.RECURRING,
    m.ChargingSchedule(m.ChargingRateUnit.WATTS, (m.ChargingSchedulePeriod(0, 7400.0), m.ChargingSchedulePeriod(60, 3700.0, 1)), 3600, T, 100.0),
    recurrency_kind=m.RecurrencyKind.DAILY,
    valid_from=T,
)
PROFILE_201 = {
    "id": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "ChargingStationMaxProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "validFrom": TS,
    "chargingSchedule": [
        {
            "id": 7,
            "chargingRateUnit": "W",
            "duration": 3600,
            "startSchedule": TS,
            "minChargingRate": 100.0,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}, {"startPeriod": 60, "limit": 3700.0, "numberPhases": 1}],
        }
    ],
}
TX_PROFILE = m.ChargingProfile(
    3, 0, m.ChargingProfilePurpose.TX, m.ChargingProfileKind.RELATIVE, m.ChargingSchedule(m.ChargingRateUnit.AMPERES, (m.ChargingSchedulePeriod(0, 16.0),))
)
TX_PROFILE_201 = {
    "id": 3,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [{"id": 3, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}],
}
HASH = m.CertificateHashData(m.HashAlgorithm.SHA384, "n", "k", "s")
HASH_201 = {"hashAlgorithm": "SHA384", "issuerNameHash": "n", "issuerKeyHash": "k", "serialNumber": "s"}
ACCEPTED = ({"status": "Accepted", "statusInfo": {"reasonCode": "OK"}}, m.StatusResult("Accepted"))
METER = m.ComponentRef("EVSE", evse_id=1)
METER_201 = {"name": "EVSE", "evse": {"id": 1}}
HEARTBEAT = (m.ComponentRef("OCPPCommCtrlr"), m.VariableRef("HeartbeatInterval"))
HEARTBEAT_201 = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
NETWORK = m.NetworkProfile(
    m.NetworkOcppVersion.OCPP20,
    m.OcppTransport.JSON,
    "wss://csms.example/ocpp",
    30,
    2,
    m.OcppInterface.WIRELESS0,
    m.Apn("internet", m.ApnAuthentication.PAP, "u", "p", 1234),
    m.Vpn("vpn.example", "v", "pw", "shared", m.VpnType.IKEV2),
)
NETWORK_201 = {
    "ocppVersion": "OCPP20",
    "ocppTransport": "JSON",
    "ocppCsmsUrl": "wss://csms.example/ocpp",
    "messageTimeout": 30,
    "securityProfile": 2,
    "ocppInterface": "Wireless0",
    "apn": {"apn": "internet", "apnAuthentication": "PAP", "apnUserName": "u", "apnPassword": "p", "simPin": 1234},
    "vpn": {"server": "vpn.example", "user": "v", "password": "pw", "key": "shared", "type": "IKEv2"},
}

# command, 2.0.1 action, 2.0.1 payload, a station answer, its typed result
CASES: list[tuple[m.Command, str, dict[str, Any], dict[str, Any], m.Result]] = [
    (m.Reset(m.ResetMode.IMMEDIATE), "Reset", {"type": "Immediate"}, *ACCEPTED),
    (m.Reset(m.ResetMode.ON_IDLE, evse_id=2), "Reset", {"type": "OnIdle", "evseId": 2}, {"status": "Scheduled"}, m.StatusResult("Scheduled")),
    (
        m.RemoteStart("TAG", 2, TX_PROFILE, remote_start_id=77),
        "RequestStartTransaction",
        {"idToken": {"idToken": "TAG", "type": "Central"}, "remoteStartId": 77, "evseId": 2, "chargingProfile": TX_PROFILE_201},
        {"status": "Accepted", "transactionId": "st-9"},
        m.RemoteStartResult("Accepted", 77, "st-9"),
    ),
    (
        m.RemoteStart("TAG", id_token_type=m.IdTokenType.ISO14443, remote_start_id=1),
        "RequestStartTransaction",
        {"idToken": {"idToken": "TAG", "type": "ISO14443"}, "remoteStartId": 1},
        {"status": "Rejected"},
        m.RemoteStartResult("Rejected", 1),
    ),
    (m.RemoteStop(TX), "RequestStopTransaction", {"transactionId": "st-tx-1"}, *ACCEPTED),
    (m.UnlockConnector(1, 2), "UnlockConnector", {"evseId": 1, "connectorId": 2}, {"status": "UnknownConnector"}, m.StatusResult("UnknownConnector")),
    (m.ChangeAvailability(False), "ChangeAvailability", {"operationalStatus": "Inoperative"}, {"status": "Scheduled"}, m.StatusResult("Scheduled")),
    (m.ChangeAvailability(True, 0), "ChangeAvailability", {"operationalStatus": "Operative"}, *ACCEPTED),
    (m.ChangeAvailability(True, 3, 1), "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 3, "connectorId": 1}}, *ACCEPTED),
    (
        m.TriggerMessage(m.MessageTrigger.TRANSACTION_EVENT, 1),
        "TriggerMessage",
        {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
        {"status": "NotImplemented"},
        m.StatusResult("NotImplemented"),
    ),
    (
        m.TriggerMessage(m.MessageTrigger.STATUS_NOTIFICATION, 1, 2),
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 2}},
        *ACCEPTED,
    ),
    (
        m.ExtendedTriggerMessage(m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE),
        "TriggerMessage",
        {"requestedMessage": "SignChargingStationCertificate"},
        *ACCEPTED,
    ),
    (m.ClearCache(), "ClearCache", {}, *ACCEPTED),
    (m.DataTransfer("acme", "ping", "1"), "DataTransfer", {"vendorId": "acme", "messageId": "ping", "data": "1"}, {"status": "Accepted", "data": "pong"}, m.DataTransferResult("Accepted", "pong")),
    (m.DataTransfer("acme"), "DataTransfer", {"vendorId": "acme"}, {"status": "Accepted", "data": {"a": [1, 2]}}, m.DataTransferResult("Accepted", '{"a":[1,2]}')),
    (
        m.SignedUpdateFirmware(5, m.Firmware("https://fw/2", T, "PEM", "SIG", T), 2, 30),
        "UpdateFirmware",
        {
            "requestId": 5,
            "firmware": {"location": "https://fw/2", "retrieveDateTime": TS, "installDateTime": TS, "signingCertificate": "PEM", "signature": "SIG"},
            "retries": 2,
            "retryInterval": 30,
        },
        {"status": "InvalidCertificate"},
        m.StatusResult("InvalidCertificate"),
    ),
    (
        m.GetLog(m.LogType.DIAGNOSTICS, 9, "https://l/", oldest_timestamp=T, retries=1),
        "GetLog",
        {"logType": "DiagnosticsLog", "requestId": 9, "log": {"remoteLocation": "https://l/", "oldestTimestamp": TS}, "retries": 1},
        {"status": "Accepted", "filename": "d.log"},
        m.GetLogResult("Accepted", "d.log"),
    ),
    (m.InstallCertificate(m.CertificateUse.V2G_ROOT, "PEM"), "InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": "PEM"}, {"status": "Failed"}, m.StatusResult("Failed")),
    (m.InstallCertificate(m.CertificateUse.CSMS_ROOT, "PEM"), "InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": "PEM"}, *ACCEPTED),
    (
        m.GetInstalledCertificateIds(m.CertificateUse.V2G_CERTIFICATE_CHAIN),
        "GetInstalledCertificateIds",
        {"certificateType": ["V2GCertificateChain"]},
        {
            "status": "Accepted",
            "certificateHashDataChain": [{"certificateType": "V2GCertificateChain", "certificateHashData": HASH_201, "childCertificateHashData": [HASH_201]}],
        },
        m.GetInstalledCertificateIdsResult("Accepted", (HASH,)),
    ),
    (m.GetInstalledCertificateIds(m.CertificateUse.MO_ROOT), "GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]}, {"status": "NotFound"}, m.GetInstalledCertificateIdsResult("NotFound")),
    (m.DeleteCertificate(HASH), "DeleteCertificate", {"certificateHashData": HASH_201}, {"status": "NotFound"}, m.StatusResult("NotFound")),
    (m.CertificateSigned("PEM"), "CertificateSigned", {"certificateChain": "PEM"}, *ACCEPTED),
    (m.GetLocalListVersion(), "GetLocalListVersion", {}, {"versionNumber": 0}, m.GetLocalListVersionResult(0)),
    (
        m.SendLocalList(
            3,
            m.UpdateType.DIFFERENTIAL,
            (m.LocalListEntry("A", m.AuthorizationStatus.BLOCKED, T, "P", m.IdTokenType.KEY_CODE), m.LocalListEntry("B")),
        ),
        "SendLocalList",
        {
            "versionNumber": 3,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "A", "type": "KeyCode"},
                    "idTokenInfo": {"status": "Blocked", "cacheExpiryDateTime": TS, "groupIdToken": {"idToken": "P", "type": "ISO14443"}},
                },
                {"idToken": {"idToken": "B", "type": "ISO14443"}},
            ],
        },
        {"status": "VersionMismatch"},
        m.StatusResult("VersionMismatch"),
    ),
    (m.SendLocalList(1, m.UpdateType.FULL), "SendLocalList", {"versionNumber": 1, "updateType": "Full"}, *ACCEPTED),
    (
        m.ReserveNow(11, 1, "T" * 36, T, "P"),
        "ReserveNow",
        {"id": 11, "expiryDateTime": TS, "idToken": {"idToken": "T" * 36, "type": "ISO14443"}, "evseId": 1, "groupIdToken": {"idToken": "P", "type": "ISO14443"}},
        {"status": "Occupied"},
        m.StatusResult("Occupied"),
    ),
    (m.ReserveNow(12, 0, "TAG", T), "ReserveNow", {"id": 12, "expiryDateTime": TS, "idToken": {"idToken": "TAG", "type": "ISO14443"}}, *ACCEPTED),
    (m.CancelReservation(11), "CancelReservation", {"reservationId": 11}, *ACCEPTED),
    (m.SetChargingProfile(0, PROFILE), "SetChargingProfile", {"evseId": 0, "chargingProfile": PROFILE_201}, *ACCEPTED),
    (m.ClearChargingProfile(), "ClearChargingProfile", {}, {"status": "Unknown"}, m.StatusResult("Unknown")),
    (m.ClearChargingProfile(5), "ClearChargingProfile", {"chargingProfileId": 5}, *ACCEPTED),
    (
        m.ClearChargingProfile(None, 2, m.ChargingProfilePurpose.TX_DEFAULT, 3),
        "ClearChargingProfile",
        {"chargingProfileCriteria": {"evseId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 3}},
        *ACCEPTED,
    ),
    (
        m.GetCompositeSchedule(1, 600, m.ChargingRateUnit.AMPERES),
        "GetCompositeSchedule",
        {"evseId": 1, "duration": 600, "chargingRateUnit": "A"},
        {
            "status": "Accepted",
            "schedule": {"evseId": 1, "duration": 600, "scheduleStart": "2030-01-01T00:00:00Z", "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]},
        },
        m.GetCompositeScheduleResult("Accepted", 1, T, m.ChargingSchedule(m.ChargingRateUnit.AMPERES, (m.ChargingSchedulePeriod(0, 16),), 600)),
    ),
    (m.GetCompositeSchedule(1, 60), "GetCompositeSchedule", {"evseId": 1, "duration": 60}, {"status": "Rejected"}, m.GetCompositeScheduleResult("Rejected")),
    (
        m.GetVariables((m.VariableRequest(*HEARTBEAT), m.VariableRequest(METER, m.VariableRef("Power", "L1"), m.AttributeType.MAX_SET))),
        "GetVariables",
        {
            "getVariableData": [
                HEARTBEAT_201,
                {"component": METER_201, "variable": {"name": "Power", "instance": "L1"}, "attributeType": "MaxSet"},
            ]
        },
        {
            "getVariableResult": [
                {**HEARTBEAT_201, "attributeStatus": "Accepted", "attributeValue": "300"},
                {
                    "component": METER_201,
                    "variable": {"name": "Power", "instance": "L1"},
                    "attributeType": "MaxSet",
                    "attributeStatus": "UnknownVariable",
                    "attributeStatusInfo": {"reasonCode": "NoSuchVar"},
                },
            ]
        },
        m.GetVariablesResult(
            (
                m.VariableReading(*HEARTBEAT, "Accepted", None, "300"),
                m.VariableReading(METER, m.VariableRef("Power", "L1"), "UnknownVariable", m.AttributeType.MAX_SET, None, "NoSuchVar"),
            )
        ),
    ),
    (
        m.SetVariables((m.VariableSetting(*HEARTBEAT, "60"), m.VariableSetting(METER, m.VariableRef("Power"), "11000", m.AttributeType.TARGET))),
        "SetVariables",
        {
            "setVariableData": [
                {**HEARTBEAT_201, "attributeValue": "60"},
                {"component": METER_201, "variable": {"name": "Power"}, "attributeValue": "11000", "attributeType": "Target"},
            ]
        },
        {
            "setVariableResult": [
                {**HEARTBEAT_201, "attributeStatus": "Accepted"},
                {"component": METER_201, "variable": {"name": "Power"}, "attributeType": "Target", "attributeStatus": "RebootRequired"},
            ]
        },
        m.SetVariablesResult(
            (m.VariableChange(*HEARTBEAT, "Accepted"), m.VariableChange(METER, m.VariableRef("Power"), "RebootRequired", m.AttributeType.TARGET))
        ),
    ),
    (m.GetBaseReport(1, m.ReportBase.FULL_INVENTORY), "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, {"status": "EmptyResultSet"}, m.StatusResult("EmptyResultSet")),
    (m.GetReport(2), "GetReport", {"requestId": 2}, *ACCEPTED),
    (
        m.GetReport(3, (m.ComponentCriterion.PROBLEM, m.ComponentCriterion.ENABLED), (m.ComponentVariable(m.ComponentRef("Connector", None, 1, 1)), m.ComponentVariable(*HEARTBEAT))),
        "GetReport",
        {
            "requestId": 3,
            "componentCriteria": ["Problem", "Enabled"],
            "componentVariable": [{"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}}, HEARTBEAT_201],
        },
        {"status": "NotSupported"},
        m.StatusResult("NotSupported"),
    ),
    (
        m.SetVariableMonitoring((m.MonitorSetting(METER, m.VariableRef("Power"), m.MonitorType.UPPER_THRESHOLD, 22000.0, 4, 9, True),)),
        "SetVariableMonitoring",
        {
            "setMonitoringData": [
                {"value": 22000.0, "type": "UpperThreshold", "severity": 4, "component": METER_201, "variable": {"name": "Power"}, "id": 9, "transaction": True}
            ]
        },
        {"setMonitoringResult": [{"id": 9, "status": "Accepted", "type": "UpperThreshold", "severity": 4, "component": METER_201, "variable": {"name": "Power"}}]},
        m.SetVariableMonitoringResult((m.MonitorOutcome(METER, m.VariableRef("Power"), m.MonitorType.UPPER_THRESHOLD, 4, "Accepted", 9),)),
    ),
    (
        m.ClearVariableMonitoring((9, 10)),
        "ClearVariableMonitoring",
        {"id": [9, 10]},
        {"clearMonitoringResult": [{"id": 9, "status": "Accepted"}, {"id": 10, "status": "NotFound"}]},
        m.ClearVariableMonitoringResult((m.ClearedMonitor(9, "Accepted"), m.ClearedMonitor(10, "NotFound"))),
    ),
    (m.SetMonitoringBase(m.MonitoringBase.HARD_WIRED_ONLY), "SetMonitoringBase", {"monitoringBase": "HardWiredOnly"}, *ACCEPTED),
    (m.SetMonitoringLevel(4), "SetMonitoringLevel", {"severity": 4}, {"status": "Rejected"}, m.StatusResult("Rejected")),
    (m.GetMonitoringReport(4), "GetMonitoringReport", {"requestId": 4}, *ACCEPTED),
    (
        m.GetMonitoringReport(5, (m.MonitoringCriterion.DELTA,), (m.ComponentVariable(METER, m.VariableRef("Power")),)),
        "GetMonitoringReport",
        {"requestId": 5, "monitoringCriteria": ["DeltaMonitoring"], "componentVariable": [{"component": METER_201, "variable": {"name": "Power"}}]},
        *ACCEPTED,
    ),
    (m.GetChargingProfiles(6), "GetChargingProfiles", {"requestId": 6, "chargingProfile": {}}, {"status": "NoProfiles"}, m.StatusResult("NoProfiles")),
    (
        m.GetChargingProfiles(7, m.ChargingProfileCriteria(m.ChargingProfilePurpose.TX, 1, (3, 4), (m.ChargingLimitSource.CSO,)), 0),
        "GetChargingProfiles",
        {"requestId": 7, "evseId": 0, "chargingProfile": {"chargingProfilePurpose": "TxProfile", "stackLevel": 1, "chargingProfileId": [3, 4], "chargingLimitSource": ["CSO"]}},
        *ACCEPTED,
    ),
    (
        m.PublishFirmware("https://fw/3", "0123456789abcdef0123456789abcdef", 8, 1, 60),
        "PublishFirmware",
        {"location": "https://fw/3", "checksum": "0123456789abcdef0123456789abcdef", "requestId": 8, "retries": 1, "retryInterval": 60},
        *ACCEPTED,
    ),
    (m.UnpublishFirmware("0123456789abcdef0123456789abcdef"), "UnpublishFirmware", {"checksum": "0123456789abcdef0123456789abcdef"}, {"status": "NoFirmware"}, m.StatusResult("NoFirmware")),
    (m.SetNetworkProfile(1, NETWORK), "SetNetworkProfile", {"configurationSlot": 1, "connectionData": NETWORK_201}, {"status": "Failed"}, m.StatusResult("Failed")),
    (
        m.SetNetworkProfile(2, m.NetworkProfile(m.NetworkOcppVersion.OCPP20, m.OcppTransport.JSON, "wss://c/", 30, 3, m.OcppInterface.WIRED0)),
        "SetNetworkProfile",
        {"configurationSlot": 2, "connectionData": {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://c/", "messageTimeout": 30, "securityProfile": 3, "ocppInterface": "Wired0"}},
        *ACCEPTED,
    ),
    (m.CustomerInformation(10, True, False, customer_identifier="cust-1"), "CustomerInformation", {"requestId": 10, "report": True, "clear": False, "customerIdentifier": "cust-1"}, *ACCEPTED),
    (
        m.CustomerInformation(11, False, True, id_token="TAG", id_token_type=m.IdTokenType.EMAID),
        "CustomerInformation",
        {"requestId": 11, "report": False, "clear": True, "idToken": {"idToken": "TAG", "type": "eMAID"}},
        {"status": "Invalid"},
        m.StatusResult("Invalid"),
    ),
    (m.CustomerInformation(12, True, True, customer_certificate=HASH), "CustomerInformation", {"requestId": 12, "report": True, "clear": True, "customerCertificate": HASH_201}, *ACCEPTED),
    (m.GetTransactionStatus(TX), "GetTransactionStatus", {"transactionId": "st-tx-1"}, {"ongoingIndicator": True, "messagesInQueue": False}, m.GetTransactionStatusResult(False, True)),
    (m.GetTransactionStatus(), "GetTransactionStatus", {}, {"messagesInQueue": True}, m.GetTransactionStatusResult(True)),
    (
        m.SetDisplayMessage(m.DisplayMessage(1, m.MessagePriority.IN_FRONT, "Hello", m.MessageFormat.ASCII, "en", m.MessageState.CHARGING, T, T, TX, m.ComponentRef("Display", "front"))),
        "SetDisplayMessage",
        {
            "message": {
                "id": 1,
                "priority": "InFront",
                "message": {"format": "ASCII", "content": "Hello", "language": "en"},
                "state": "Charging",
                "startDateTime": TS,
                "endDateTime": TS,
                "transactionId": "st-tx-1",
                "display": {"name": "Display", "instance": "front"},
            }
        },
        {"status": "NotSupportedPriority"},
        m.StatusResult("NotSupportedPriority"),
    ),
    (m.SetDisplayMessage(m.DisplayMessage(2, m.MessagePriority.NORMAL_CYCLE, "Hi")), "SetDisplayMessage", {"message": {"id": 2, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Hi"}}}, *ACCEPTED),
    (m.GetDisplayMessages(13), "GetDisplayMessages", {"requestId": 13}, {"status": "Unknown"}, m.StatusResult("Unknown")),
    (
        m.GetDisplayMessages(14, (1, 2), m.MessagePriority.ALWAYS_FRONT, m.MessageState.IDLE),
        "GetDisplayMessages",
        {"requestId": 14, "id": [1, 2], "priority": "AlwaysFront", "state": "Idle"},
        *ACCEPTED,
    ),
    (m.ClearDisplayMessage(1), "ClearDisplayMessage", {"id": 1}, *ACCEPTED),
    (m.CostUpdated(TX, 12.34), "CostUpdated", {"totalCost": 12.34, "transactionId": "st-tx-1"}, {}, m.EmptyResult()),
]

# Commands 2.0.1 has no operation for: refused naming what to use instead.
NOT_IN_201: list[tuple[m.Command, str]] = [
    (m.GetConfiguration(("HeartbeatInterval",)), "variables"),
    (m.ChangeConfiguration("HeartbeatInterval", "60"), "variables"),
    (m.UpdateFirmware("https://fw/1", T), "firmware/signed"),
    (m.GetDiagnostics("ftp://d/"), "GetLog"),
]
V201_ONLY = {type(case[0]) for case in CASES} - set(c16.OPERATIONS)


@pytest.mark.parametrize("case", CASES[:3], ids=lambda c: type(c[0]).__name__)
def test_21_sends_the_201_operations_as_201_does(case: tuple) -> None:
    """2.1 reuses these encoders (its messages are 2.0.1's plus optional fields)."""
    command, action, payload, answer, result = case
    assert c21.V21Commands().encode(command) == (action, payload)
    assert c21.V21Commands().decode(command, answer) == result


def test_every_command_has_a_201_operation_and_a_case_here() -> None:
    from test_v21_codec import CASES as V21_CASES  # 2.1's own operations: no 2.0.1 counterpart, tested there

    v21_only = set(c21.OPERATIONS_ADDED)
    assert v21_only == {type(case[0]) for case in V21_CASES}
    assert set(c201.OPERATIONS) == set(COMMAND_TYPES) - v21_only
    assert {type(case[0]) for case in CASES} | {type(c) for c, _ in NOT_IN_201} == set(COMMAND_TYPES) - v21_only
    results = {type(case[4]) for case in CASES} | {m.GetConfigurationResult, m.GetDiagnosticsResult}
    assert results | {type(case[4]) for case in V21_CASES} == set(RESULT_TYPES)
    # every 2.0.1 CSMS action is sent by some command (ClearCache ... UpdateFirmware)
    assert {operation.action for operation in c201.OPERATIONS.values()} == v201.DIALECT.csms_actions


@pytest.mark.parametrize(("command", "action", "payload", "answer", "result"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_201_encode_and_decode(command: m.Command, action: str, payload: dict, answer: dict, result: m.Result) -> None:
    assert CODEC.encode(command) == (action, payload)
    SCHEMAS.validate_request(action, payload)  # what we send passes the official 2.0.1 schema
    SCHEMAS.validate_response(action, answer)  # and the answer decoded is one a station may send
    decoded = CODEC.decode(command, answer)
    assert decoded == result
    assert isinstance(decoded, type(command).result)


@pytest.mark.parametrize(("command", "instead"), NOT_IN_201, ids=[type(c).__name__ for c, _ in NOT_IN_201])
def test_16_only_commands_are_refused_naming_what_to_use(command: m.Command, instead: str) -> None:
    with pytest.raises(CannotEncode, match="OCPP 2.0.1 has no") as refused:
        CODEC.encode(command)
    assert instead in str(refused.value)


@pytest.mark.parametrize("kind", sorted(V201_ONLY, key=lambda k: k.__name__), ids=lambda k: k.__name__)
def test_16_refuses_the_201_only_commands(kind: type[m.Command]) -> None:
    command = next(case[0] for case in CASES if type(case[0]) is kind)
    with pytest.raises(CannotEncode, match=f"OCPP 1.6 has no operation {kind.__name__}"):
        c16.V16Commands().encode(command)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (m.RemoteStop(TransactionRef(42)), "transaction 42 has none"),
        (m.CostUpdated(TransactionRef(42), 1.0), "transaction 42 has none"),
        (m.GetTransactionStatus(TransactionRef(42)), "transaction 42 has none"),
        (m.SetDisplayMessage(m.DisplayMessage(1, m.MessagePriority.IN_FRONT, "x", transaction=TransactionRef(1))), "has none"),
        (m.UnlockConnector(1), "evse_id .* and connector_id"),
        (m.UnlockConnector(0, 1), "evse_id .* and connector_id"),
        (m.ChangeAvailability(True, 0, 1), "needs the evse_id"),
        (m.TriggerMessage(m.MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION), "no TriggerMessage for 'DiagnosticsStatusNotification'"),
        (m.InstallCertificate(m.CertificateUse.V2G_CERTIFICATE_CHAIN, "PEM"), "certificate type to install"),
        (m.SetChargingProfile(1, dataclasses.replace(TX_PROFILE, transaction_id=5)), "transaction 5 has none"),
        (m.GetVariables(()), "at least one"),
        (m.SetVariables(()), "at least one"),
        (m.SetVariableMonitoring(()), "at least one"),
        (m.ClearVariableMonitoring(()), "at least one"),
        (m.CustomerInformation(1, True, False), "exactly one"),
        (m.CustomerInformation(1, True, False, customer_identifier="c", id_token="t"), "exactly one"),
    ],
)
def test_what_201_cannot_carry_is_refused_naming_why(command: m.Command, message: str) -> None:
    with pytest.raises(CannotEncode, match=message):
        CODEC.encode(command)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (m.RemoteStart("T" * 37, remote_start_id=1), "idToken"),
        (m.DataTransfer("v" * 256), "vendorId"),
        (m.SetVariables((m.VariableSetting(m.ComponentRef("C" * 51), m.VariableRef("V"), "1"),)), "name"),
        (m.SetVariables((m.VariableSetting(*HEARTBEAT, "x" * 1001),)), "attributeValue"),
        (m.UnpublishFirmware("c" * 33), "checksum"),
        (m.Reset(m.ResetMode.ON_IDLE, evse_id=5000), "evseId"),
    ],
)
def test_the_schema_refuses_what_the_encoder_lets_through(command: m.Command, field: str) -> None:
    """Lengths and bounds are the schema's business: the endpoint validates every CALL before it
    queues, so these end as ``invalid`` (422), never on the wire."""
    action, payload = CODEC.encode(command)
    with pytest.raises(OcppError) as refused:
        SCHEMAS.validate_request(action, payload)
    assert field in str(refused.value.description) + str(refused.value.details)


# --- enum maps ----------------------------------------------------------------------------------

_SCHEMA_DIR = Path(ocpp.__file__).parent / "v201" / "schemas"


def _schema_enum(schema: str, definition: str) -> set[str]:
    data = json.loads((_SCHEMA_DIR / f"{schema}.json").read_text())
    return set(data["definitions"][definition]["enum"])


MAPS: list[tuple[type[Enum], dict[Any, str], set[Any], tuple[str, str]]] = [
    (m.ResetMode, c201.RESET_TYPE, set(), ("ResetRequest", "ResetEnumType")),
    (m.MessageTrigger, c201.MESSAGE_TRIGGER, {m.MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION}, ("TriggerMessageRequest", "MessageTriggerEnumType")),
    (m.LogType, c201.LOG_TYPE, set(), ("GetLogRequest", "LogEnumType")),
    (m.CertificateUse, c201.INSTALL_CERTIFICATE_USE, {m.CertificateUse.V2G_CERTIFICATE_CHAIN}, ("InstallCertificateRequest", "InstallCertificateUseEnumType")),
    (m.CertificateUse, c201.CERTIFICATE_ID_USE, set(), ("GetInstalledCertificateIdsRequest", "GetCertificateIdUseEnumType")),
    (m.HashAlgorithm, c201.HASH_ALGORITHM, set(), ("DeleteCertificateRequest", "HashAlgorithmEnumType")),
    (m.ChargingProfilePurpose, c201.PROFILE_PURPOSE, set(), ("SetChargingProfileRequest", "ChargingProfilePurposeEnumType")),
    (m.ChargingProfileKind, c201.PROFILE_KIND, set(), ("SetChargingProfileRequest", "ChargingProfileKindEnumType")),
    (m.RecurrencyKind, c201.RECURRENCY_KIND, set(), ("SetChargingProfileRequest", "RecurrencyKindEnumType")),
    (m.ChargingRateUnit, c201.RATE_UNIT, set(), ("SetChargingProfileRequest", "ChargingRateUnitEnumType")),
    (m.UpdateType, c201.UPDATE_TYPE, set(), ("SendLocalListRequest", "UpdateEnumType")),
    (m.AuthorizationStatus, c201.AUTHORIZATION_STATUS, set(), ("SendLocalListRequest", "AuthorizationStatusEnumType")),
    (m.IdTokenType, c201.ID_TOKEN_TYPE, set(), ("RequestStartTransactionRequest", "IdTokenEnumType")),
    (m.AttributeType, c201.ATTRIBUTE_TYPE, set(), ("GetVariablesRequest", "AttributeEnumType")),
    (m.ReportBase, c201.REPORT_BASE, set(), ("GetBaseReportRequest", "ReportBaseEnumType")),
    (m.ComponentCriterion, c201.COMPONENT_CRITERION, set(), ("GetReportRequest", "ComponentCriterionEnumType")),
    (m.MonitorType, c201.MONITOR_TYPE, set(), ("SetVariableMonitoringRequest", "MonitorEnumType")),
    (m.MonitoringBase, c201.MONITORING_BASE, set(), ("SetMonitoringBaseRequest", "MonitoringBaseEnumType")),
    (m.MonitoringCriterion, c201.MONITORING_CRITERION, set(), ("GetMonitoringReportRequest", "MonitoringCriterionEnumType")),
    (m.ChargingLimitSource, c201.CHARGING_LIMIT_SOURCE, set(), ("GetChargingProfilesRequest", "ChargingLimitSourceEnumType")),
    (m.MessagePriority, c201.MESSAGE_PRIORITY, set(), ("SetDisplayMessageRequest", "MessagePriorityEnumType")),
    (m.MessageState, c201.MESSAGE_STATE, set(), ("SetDisplayMessageRequest", "MessageStateEnumType")),
    (m.MessageFormat, c201.MESSAGE_FORMAT, set(), ("SetDisplayMessageRequest", "MessageFormatEnumType")),
    (m.OcppInterface, c201.OCPP_INTERFACE, set(), ("SetNetworkProfileRequest", "OCPPInterfaceEnumType")),
    (m.OcppTransport, c201.OCPP_TRANSPORT, set(), ("SetNetworkProfileRequest", "OCPPTransportEnumType")),
    (m.NetworkOcppVersion, c201.NETWORK_OCPP_VERSION, set(), ("SetNetworkProfileRequest", "OCPPVersionEnumType")),
    (m.ApnAuthentication, c201.APN_AUTHENTICATION, set(), ("SetNetworkProfileRequest", "APNAuthenticationEnumType")),
    (m.VpnType, c201.VPN_TYPE, set(), ("SetNetworkProfileRequest", "VPNEnumType")),
]


@pytest.mark.parametrize(("enum", "mapping", "not_in_201", "schema"), MAPS, ids=[f"{e.__name__}-{i}" for i, (e, *_) in enumerate(MAPS)])
def test_201_enum_maps_cover_the_domain_reverse_and_match_the_schema(
    enum: type[Enum], mapping: dict[Any, str], not_in_201: set[Any], schema: tuple[str, str]
) -> None:
    assert set(mapping) == set(enum) - not_in_201  # every domain value is mapped, or knowingly absent from 2.0.1
    back = reverse(mapping)
    assert len(back) == len(mapping) and all(back[spelling] is value for value, spelling in mapping.items())
    assert set(mapping.values()) <= _schema_enum(*schema)  # only spellings the schema knows


# --- the bus carries every new command and result ------------------------------------------------


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(data))


@pytest.mark.parametrize("case", CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_envelope_and_outcome_round_trip_through_json(case: tuple) -> None:
    command, action, payload, answer, result = case
    envelope = CommandEnvelope("CP-1", command, 2.5)
    assert CommandEnvelope.from_json(_through_json(envelope.to_json())) == envelope
    outcome = CommandOutcome(result=result, action=action, request=payload, response=answer)
    assert CommandOutcome.from_json(_through_json(outcome.to_json())) == outcome


def test_a_remote_start_gets_a_fresh_remote_start_id() -> None:
    ids = {m.RemoteStart("TAG").remote_start_id for _ in range(50)}
    assert len(ids) == 50 and all(1 <= i <= 2**31 - 1 for i in ids)


async def test_execute_decodes_a_remote_start_with_its_id_and_refuses_before_sending() -> None:
    sent: list[tuple[str, dict]] = []

    async def answer(action: str, payload: dict, timeout_s: float | None) -> dict:
        sent.append((action, payload))
        return {"status": "Accepted"}

    outcome = await execute(CODEC, answer, m.RemoteStart("TAG", 1, remote_start_id=5))
    assert outcome.result == m.RemoteStartResult("Accepted", 5)
    refused = await execute(CODEC, answer, m.RemoteStop(TransactionRef(7)))
    assert refused.error is not None and refused.error.kind is CommandErrorKind.INVALID and refused.action is None
    assert [a for a, _ in sent] == ["RequestStartTransaction"]


async def test_a_201_answer_whose_time_cannot_be_read_is_a_call_error() -> None:
    async def answer(action: str, payload: dict, timeout_s: float | None) -> dict:
        return {"status": "Accepted", "schedule": {"evseId": 1, "duration": 1, "scheduleStart": "1969-12-31T23:59:59Z", "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}}

    outcome = await execute(CODEC, answer, m.GetCompositeSchedule(1, 1))
    assert outcome.error is not None and outcome.error.kind is CommandErrorKind.CALL_ERROR
