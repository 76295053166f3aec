"""Remote operations against a real OCPP 2.0.1 station over a socket: the operator calls the API, a
raw 2.0.1 client (``ocpp2.0.1`` subprotocol, OCPP-J by hand) answers, the HTTP reply carries its
typed answer and the command is recorded. Stations need not boot to be sent commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from charger import TestCharger, sent, station
from conftest import RunningCsms
from kilowatt.ocpp import v201
from kilowatt.services.transactions import SeqNoKey, TransactionStarted

ACCEPTED = {"status": "Accepted"}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


@pytest.fixture
async def cs201(csms: RunningCsms) -> AsyncIterator[TestCharger]:
    """Station ``CS-1`` connected over OCPP 2.0.1 (not booted), answering nothing until a test says how."""
    await csms.services.stations.create("CS-1")
    async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=["ocpp2.0.1"]) as cs:
        assert cs.socket.subprotocol == "ocpp2.0.1"
        yield cs


async def _transaction(csms: RunningCsms, station_id: str = "CS-1", station_transaction_id: str = "tx-abc") -> int:
    """A transaction the station reported in 2.0.1 (started by its own id), as the TransactionEvent handler stores it."""
    started = TransactionStarted(
        station_id,
        1,
        1,
        datetime.now(timezone.utc),
        "TAG-1",
        station_transaction_id=station_transaction_id,
        key=SeqNoKey(station_id, station_transaction_id, 0),
    )
    outcome = await csms.services.transactions.apply(started)
    assert outcome.ref is not None
    return outcome.ref.id


# (method, path, body, 2.0.1 action, 2.0.1 payload the station receives, station answer, typed result in the reply)
COMMANDS: list[tuple[str, str, Any, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("POST", "reset", {"mode": "OnIdle", "evse_id": 1}, "Reset", {"type": "OnIdle", "evseId": 1}, {"status": "Scheduled"}, {"status": "Scheduled"}),
    ("POST", "unlock", {"evse_id": 1, "connector_id": 1}, "UnlockConnector", {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}, {"status": "Unlocked"}),
    ("POST", "availability", {"evse_id": 2, "connector_id": 1, "operative": False}, "ChangeAvailability",
     {"operationalStatus": "Inoperative", "evse": {"id": 2, "connectorId": 1}}, ACCEPTED, ACCEPTED),
    ("POST", "availability", {"operative": True}, "ChangeAvailability", {"operationalStatus": "Operative"}, ACCEPTED, ACCEPTED),
    ("POST", "trigger", {"requested_message": "TransactionEvent", "evse_id": 1}, "TriggerMessage",
     {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}, {"status": "NotImplemented"}, {"status": "NotImplemented"}),
    ("POST", "clear-cache", None, "ClearCache", {}, {"status": "Rejected", "statusInfo": {"reasonCode": "Disabled"}}, {"status": "Rejected"}),
    ("POST", "data-transfer", {"vendor_id": "com.acme", "data": "x"}, "DataTransfer", {"vendorId": "com.acme", "data": "x"},
     {"status": "Accepted", "data": {"k": 1}}, {"status": "Accepted", "data": '{"k":1}'}),
    ("POST", "firmware/signed", {"request_id": 5, "firmware": {"location": "https://fw.example/2.bin", "retrieve_date_time": "2030-12-01T00:00:00Z", "signing_certificate": "PEM", "signature": "SIG"}},
     "UpdateFirmware", {"requestId": 5, "firmware": {"location": "https://fw.example/2.bin", "retrieveDateTime": "2030-12-01T00:00:00.000Z", "signingCertificate": "PEM", "signature": "SIG"}},
     {"status": "AcceptedCanceled"}, {"status": "AcceptedCanceled"}),
    ("POST", "logs", {"log_type": "DiagnosticsLog", "request_id": 9, "log": {"remote_location": "https://logs.example/"}}, "GetLog",
     {"logType": "DiagnosticsLog", "requestId": 9, "log": {"remoteLocation": "https://logs.example/"}}, {"status": "Accepted", "filename": "d.log"}, {"status": "Accepted", "file_name": "d.log"}),
    ("POST", "certificates", {"certificate_type": "V2GRootCertificate", "certificate": "PEM"}, "InstallCertificate",
     {"certificateType": "V2GRootCertificate", "certificate": "PEM"}, ACCEPTED, ACCEPTED),
    ("POST", "certificates/signed", {"certificate_chain": "PEM"}, "CertificateSigned", {"certificateChain": "PEM"}, ACCEPTED, ACCEPTED),
    ("POST", "reports/base", {"report_base": "SummaryInventory", "request_id": 3}, "GetBaseReport", {"requestId": 3, "reportBase": "SummaryInventory"}, ACCEPTED, ACCEPTED),
    ("POST", "reports", {"request_id": 4, "component_criteria": ["Problem"], "component_variables": [{"component": "EVSE", "evse_id": 1}]}, "GetReport",
     {"requestId": 4, "componentCriteria": ["Problem"], "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 1}}}]}, {"status": "EmptyResultSet"}, {"status": "EmptyResultSet"}),
    ("POST", "monitoring", {"monitors": [{"component": "EVSE", "evse_id": 1, "variable": "Power", "type": "UpperThreshold", "value": 22000, "severity": 4}]},
     "SetVariableMonitoring",  # the schema's default (transaction: false) is written in by the validator
     {"setMonitoringData": [{"value": 22000.0, "type": "UpperThreshold", "severity": 4, "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}, "transaction": False}]},
     {"setMonitoringResult": [{"id": 12, "status": "Accepted", "type": "UpperThreshold", "severity": 4, "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}]},
     {"status": None, "monitors": [{"component": {"name": "EVSE", "instance": None, "evse_id": 1, "connector_id": None}, "variable": {"name": "Power", "instance": None},
                                    "kind": "UpperThreshold", "severity": 4, "status": "Accepted", "monitor_id": 12}]}),
    ("POST", "monitoring/clear", {"ids": [12, 13]}, "ClearVariableMonitoring", {"id": [12, 13]},
     {"clearMonitoringResult": [{"id": 12, "status": "Accepted"}, {"id": 13, "status": "NotFound"}]},
     {"status": None, "monitors": [{"monitor_id": 12, "status": "Accepted"}, {"monitor_id": 13, "status": "NotFound"}]}),
    ("POST", "monitoring/base", {"monitoring_base": "FactoryDefault"}, "SetMonitoringBase", {"monitoringBase": "FactoryDefault"}, ACCEPTED, ACCEPTED),
    ("POST", "monitoring/level", {"severity": 9}, "SetMonitoringLevel", {"severity": 9}, {"status": "Rejected"}, {"status": "Rejected"}),
    ("POST", "monitoring/report", {"request_id": 5, "monitoring_criteria": ["DeltaMonitoring"]}, "GetMonitoringReport", {"requestId": 5, "monitoringCriteria": ["DeltaMonitoring"]}, ACCEPTED, ACCEPTED),
    ("POST", "reports/charging-profiles", {"request_id": 6, "evse_id": 1, "charging_profile_purpose": "TxDefaultProfile"}, "GetChargingProfiles",
     {"requestId": 6, "evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}, {"status": "NoProfiles"}, {"status": "NoProfiles"}),
    ("POST", "firmware/publish", {"location": "https://fw.example/3.bin", "checksum": "0123456789abcdef0123456789abcdef", "request_id": 7}, "PublishFirmware",
     {"location": "https://fw.example/3.bin", "checksum": "0123456789abcdef0123456789abcdef", "requestId": 7}, ACCEPTED, ACCEPTED),
    ("POST", "firmware/unpublish", {"checksum": "0123456789abcdef0123456789abcdef"}, "UnpublishFirmware", {"checksum": "0123456789abcdef0123456789abcdef"}, {"status": "Unpublished"}, {"status": "Unpublished"}),
    ("POST", "network-profile", {"configuration_slot": 1, "connection_data": {"ocpp_version": "OCPP20", "ocpp_transport": "JSON", "ocpp_csms_url": "wss://csms.example/ocpp", "message_timeout": 30, "security_profile": 2, "ocpp_interface": "Wired0", "vpn": {"server": "vpn.example", "user": "u", "password": "vpn-secret", "key": "shared-key", "type": "IPSec"}}},
     "SetNetworkProfile", {"configurationSlot": 1, "connectionData": {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.example/ocpp", "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0",
                                                                       "vpn": {"server": "vpn.example", "user": "u", "password": "vpn-secret", "key": "shared-key", "type": "IPSec"}}},
     ACCEPTED, ACCEPTED),
    ("POST", "customer-information", {"request_id": 8, "report": True, "clear": False, "id_token": "TAG-1"}, "CustomerInformation",
     {"requestId": 8, "report": True, "clear": False, "idToken": {"idToken": "TAG-1", "type": "ISO14443"}}, ACCEPTED, ACCEPTED),
    ("POST", "transaction-status", {}, "GetTransactionStatus", {}, {"messagesInQueue": False}, {"status": None, "messages_in_queue": False, "ongoing": None}),
    ("POST", "display-messages", {"id": 1, "priority": "InFront", "message": {"content": "Welcome"}}, "SetDisplayMessage",
     {"message": {"id": 1, "priority": "InFront", "message": {"format": "UTF8", "content": "Welcome"}}}, {"status": "NotSupportedPriority"}, {"status": "NotSupportedPriority"}),
    ("POST", "display-messages/report", {"request_id": 10, "priority": "InFront"}, "GetDisplayMessages", {"requestId": 10, "priority": "InFront"}, {"status": "Unknown"}, {"status": "Unknown"}),
    ("POST", "display-messages/clear", {"id": 1}, "ClearDisplayMessage", {"id": 1}, ACCEPTED, ACCEPTED),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "payload", "answer", "result"), COMMANDS, ids=[f"{c[1]}-{i}" for i, c in enumerate(COMMANDS)]
)
async def test_command_reaches_a_201_station_and_returns_its_typed_answer(
    api: httpx.AsyncClient, cs201: TestCharger, method: str, path: str, body: Any, action: str, payload: dict, answer: dict, result: dict
) -> None:
    cs201.responder = station({action: answer})
    async with cs201.answering():
        response = await api.request(method, f"/api/v1/stations/CS-1/{path}", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["action"], got["result"], got["response"], got["status"]) == (action, result, answer, answer.get("status"))
    assert cs201.received_calls == [(action, payload)]
    v201.DIALECT.schemas.validate_request(action, payload)
    if "request_id" in got:  # operations answered later by messages of their own name the requestId sent
        assert got["request_id"] == body["request_id"] == payload["requestId"]
    records = (await api.get("/api/v1/stations/CS-1/commands")).json()["items"]
    assert [(r["action"], r["outcome"], r["response"]) for r in records] == [(action, "answered", answer)]
    if action == "SetNetworkProfile":  # credentials never reach the command log
        vpn = records[0]["request"]["connectionData"]["vpn"]
        assert (vpn["password"], vpn["key"], vpn["server"]) == ("***", "***", "vpn.example")


async def test_a_report_without_request_id_gets_one_and_the_reply_names_it(api: httpx.AsyncClient, cs201: TestCharger) -> None:
    cs201.responder = station({"GetBaseReport": ACCEPTED})
    async with cs201.answering():
        response = await api.post("/api/v1/stations/CS-1/reports/base", json={"report_base": "FullInventory"})
    assert response.status_code == 200, response.text
    request_id = response.json()["request_id"]
    assert 1 <= request_id <= 2**31 - 1
    assert sent(cs201, "GetBaseReport") == [{"requestId": request_id, "reportBase": "FullInventory"}]


async def test_a_request_id_that_tagged_a_report_is_refused_for_the_next_request(
    api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    """A second GetMonitoringReport with the first one's requestId would have its parts taken for
    replays of the first and never stored: it is refused (409) and not sent; another kind may reuse it."""
    cs201.responder = station({"GetMonitoringReport": ACCEPTED, "GetChargingProfiles": ACCEPTED})
    async with cs201.answering():
        first = await api.post("/api/v1/stations/CS-1/monitoring/report", json={"request_id": 9})
        assert first.status_code == 200, first.text
    part = {"requestId": 9, "seqNo": 0, "generatedAt": "2030-01-01T00:00:00Z"}
    assert await cs201.call("NotifyMonitoringReport", part) == {}
    async with cs201.answering():
        again = await api.post("/api/v1/stations/CS-1/monitoring/report", json={"request_id": 9})
        assert again.status_code == 409, again.text
        assert "requestId 9 already tagged a monitoring report" in again.json()["detail"]
        other_kind = await api.post("/api/v1/stations/CS-1/reports/charging-profiles", json={"request_id": 9})
        assert other_kind.status_code == 200, other_kind.text
    assert [c["requestId"] for c in sent(cs201, "GetMonitoringReport")] == [9]


async def test_remote_start_carries_a_remote_start_id_in_the_call_the_reply_and_the_record(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    await api.post("/api/v1/id-tokens", json={"id_token": "KEY-1", "type": "KeyCode"})
    cs201.responder = station({"RequestStartTransaction": {"status": "Accepted"}})
    async with cs201.answering():
        first = await api.post("/api/v1/stations/CS-1/remote-start", json={"id_token": "KEY-1", "evse_id": 1})
        second = await api.post("/api/v1/stations/CS-1/remote-start", json={"id_token": "UNKNOWN-1"})
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    calls = sent(cs201, "RequestStartTransaction")
    ids = [call["remoteStartId"] for call in calls]
    assert len(set(ids)) == 2
    # the registered token goes with its own type, an unknown one as Central (the CSMS vouches for it)
    assert [call["idToken"] for call in calls] == [{"idToken": "KEY-1", "type": "KeyCode"}, {"idToken": "UNKNOWN-1", "type": "Central"}]
    assert calls[0]["evseId"] == 1 and "evseId" not in calls[1]
    assert first.json()["result"] == {"status": "Accepted", "remote_start_id": ids[0], "station_transaction_id": None}
    records = (await api.get("/api/v1/stations/CS-1/commands", params={"operation": "remote_start"})).json()["items"]
    assert sorted(r["request"]["remoteStartId"] for r in records) == sorted(ids)


async def test_remote_start_answered_with_a_running_transaction_names_it(api: httpx.AsyncClient, cs201: TestCharger) -> None:
    cs201.responder = station({"RequestStartTransaction": {"status": "Accepted", "transactionId": "already-1"}})
    async with cs201.answering():
        response = await api.post(
            "/api/v1/stations/CS-1/remote-start", json={"id_token": "TAG-9", "id_token_type": "eMAID", "evse_id": 2}
        )
    assert response.json()["result"]["station_transaction_id"] == "already-1"
    assert sent(cs201, "RequestStartTransaction")[0]["idToken"] == {"idToken": "TAG-9", "type": "eMAID"}


async def test_remote_stop_and_transaction_commands_send_the_stations_own_transaction_id(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    transaction_id = await _transaction(csms)
    cs201.responder = station(
        {
            "RequestStopTransaction": ACCEPTED,
            "GetTransactionStatus": {"ongoingIndicator": True, "messagesInQueue": True},
            "CostUpdated": {},
            "SetDisplayMessage": ACCEPTED,
        }
    )
    async with cs201.answering():
        stop = await api.post("/api/v1/stations/CS-1/remote-stop", json={"transaction_id": transaction_id})
        status = await api.post("/api/v1/stations/CS-1/transaction-status", json={"transaction_id": transaction_id})
        cost = await api.post("/api/v1/stations/CS-1/cost-update", json={"transaction_id": transaction_id, "total_cost": 4.2})
        message = await api.post(
            "/api/v1/stations/CS-1/display-messages",
            json={"id": 2, "priority": "AlwaysFront", "message": {"content": "4.20 EUR"}, "transaction_id": transaction_id},
        )
    assert [r.status_code for r in (stop, status, cost, message)] == [200, 200, 200, 200], [r.text for r in (stop, status, cost, message)]
    assert sent(cs201, "RequestStopTransaction") == [{"transactionId": "tx-abc"}]
    assert sent(cs201, "GetTransactionStatus") == [{"transactionId": "tx-abc"}]
    assert status.json()["result"] == {"status": None, "messages_in_queue": True, "ongoing": True}
    assert sent(cs201, "CostUpdated") == [{"totalCost": 4.2, "transactionId": "tx-abc"}]
    assert cost.json()["result"] == {"status": None}
    assert sent(cs201, "SetDisplayMessage")[0]["message"]["transactionId"] == "tx-abc"


async def test_a_tx_profile_names_the_transaction_by_the_stations_own_id(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    transaction_id = await _transaction(csms)
    cs201.responder = station({"SetChargingProfile": ACCEPTED})
    profile = {
        "charging_profile_id": 12, "transaction_id": transaction_id, "stack_level": 0, "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {"charging_rate_unit": "W", "charging_schedule_period": [{"start_period": 0, "limit": 3700}]},
    }  # fmt: skip
    async with cs201.answering():
        response = await api.post("/api/v1/stations/CS-1/charging-profiles", json={"evse_id": 1, "charging_profile": profile})
        unknown = await api.post(
            "/api/v1/stations/CS-1/charging-profiles", json={"evse_id": 1, "charging_profile": {**profile, "transaction_id": 999}}
        )
    assert response.status_code == 200 and response.json()["stored"] is True, response.text
    [payload] = sent(cs201, "SetChargingProfile")
    assert (payload["evseId"], payload["chargingProfile"]["transactionId"]) == (1, "tx-abc")
    assert unknown.status_code == 422 and "transaction 999 has none" in unknown.json()["detail"]


async def test_a_transaction_the_station_cannot_know_is_refused_before_sending(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    await csms.services.stations.create("CS-2")
    elsewhere = await _transaction(csms, "CS-2", "tx-other")
    async with cs201.answering():
        unknown = await api.post("/api/v1/stations/CS-1/remote-stop", json={"transaction_id": 999})
        other = await api.post("/api/v1/stations/CS-1/remote-stop", json={"transaction_id": elsewhere})
        cost = await api.post("/api/v1/stations/CS-1/cost-update", json={"transaction_id": 999, "total_cost": 1})
    assert unknown.status_code == 422 and "transaction 999 has none" in unknown.json()["detail"]
    assert other.status_code == 422 and "CS-2" in other.json()["detail"]
    assert cost.status_code == 422
    assert cs201.received_calls == []
    outcomes = [r["outcome"] for r in (await api.get("/api/v1/stations/CS-1/commands")).json()["items"]]
    assert outcomes == ["invalid", "invalid"]  # the one on another station never became a command


async def test_get_and_set_variables_through_the_station_update_the_stored_device_model(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    values = {("OCPPCommCtrlr", "HeartbeatInterval"): "300"}

    async def responder(action: str, payload: dict) -> Any:
        if action == "GetVariables":
            results = []
            for item in payload["getVariableData"]:
                key = (item["component"]["name"], item["variable"]["name"])
                found = key in values
                results.append(
                    {
                        "component": item["component"],
                        "variable": item["variable"],
                        "attributeStatus": "Accepted" if found else "UnknownVariable",
                        **({"attributeValue": values[key]} if found else {}),
                    }
                )
            return {"getVariableResult": results}
        if action == "SetVariables":
            results = []
            for item in payload["setVariableData"]:
                key = (item["component"]["name"], item["variable"]["name"])
                if key == ("OCPPCommCtrlr", "HeartbeatInterval"):
                    values[key] = item["attributeValue"]
                    status = "Accepted"
                elif key == ("SecurityCtrlr", "BasicAuthPassword"):
                    status = "Accepted"
                elif key[0] == "EVSE":
                    status = "RebootRequired"
                else:
                    status = "Rejected"
                echo = {k: item[k] for k in ("component", "variable", "attributeType") if k in item}
                results.append({**echo, "attributeStatus": status})
            return {"setVariableResult": results}
        return ("NotImplemented", action)

    cs201.responder = responder
    async with cs201.answering():
        empty = await api.get("/api/v1/stations/CS-1/variables")
        assert empty.status_code == 200 and empty.json() == {"station_id": "CS-1", "variables": []}
        read = await api.post(
            "/api/v1/stations/CS-1/variables/get",
            json={"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}, {"component": "Nope", "variable": "X"}]},
        )
        assert read.status_code == 200, read.text
        assert [(r["attribute_status"], r["value"]) for r in read.json()["result"]["readings"]] == [("Accepted", "300"), ("UnknownVariable", None)]
        changed = await api.patch(
            "/api/v1/stations/CS-1/variables",
            json={
                "variables": [
                    {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"},
                    {"component": "EVSE", "evse_id": 1, "variable": "Power", "attribute_type": "MaxSet", "value": "11000"},
                    {"component": "ChargingStation", "variable": "Model", "value": "X"},
                    {"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": "a-new-password-123"},
                ]
            },
        )
    assert changed.status_code == 200, changed.text
    assert [c["attribute_status"] for c in changed.json()["result"]["changes"]] == ["Accepted", "RebootRequired", "Rejected", "Accepted"]
    assert sent(cs201, "SetVariables")[0]["setVariableData"][1] == {
        "attributeValue": "11000",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "attributeType": "MaxSet",
    }
    stored = (await api.get("/api/v1/stations/CS-1/variables")).json()["variables"]
    assert [(v["component"], v["evse_id"], v["variable"], v["attribute_type"], v["value"]) for v in stored] == [
        ("EVSE", 1, "Power", "MaxSet", "11000"),
        ("OCPPCommCtrlr", 0, "HeartbeatInterval", "Actual", "60"),
        ("SecurityCtrlr", 0, "BasicAuthPassword", "Actual", "***"),  # a credential is never stored in clear
    ]
    only = (await api.get("/api/v1/stations/CS-1/variables", params={"component": "EVSE", "evse_id": 1})).json()["variables"]
    assert [v["variable"] for v in only] == ["Power"]
    assert (await api.get("/api/v1/stations/CS-1/variables", params={"variable": "Nope"})).json()["variables"] == []
    # the station logs in with the password it took from now on
    assert (await api.get("/api/v1/stations/CS-1")).json()["has_password"] is True
    # the command log hides it too
    record = (await api.get("/api/v1/stations/CS-1/commands", params={"operation": "set_variables"})).json()["items"][0]
    assert record["request"]["setVariableData"][3]["attributeValue"] == "***"
    assert record["request"]["setVariableData"][0]["attributeValue"] == "60"


async def test_a_password_set_in_another_spelling_is_the_one_the_station_logs_in_with(
    api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    """2.0.1 names are case-insensitive: a BasicAuthPassword the station took, however spelled, is
    its password from now on (else it would be locked out at its next connection)."""

    async def responder(action: str, payload: dict[str, Any]) -> Any:
        [item] = payload["setVariableData"]
        return {"setVariableResult": [{k: item[k] for k in ("component", "variable")} | {"attributeStatus": "Accepted"}]}

    cs201.responder = responder
    async with cs201.answering():
        changed = await api.patch(
            "/api/v1/stations/CS-1/variables",
            json={"variables": [{"component": "securityctrlr", "variable": "BASICAUTHPASSWORD", "value": "a-new-password-123"}]},
        )
    assert changed.status_code == 200, changed.text
    assert (await api.get("/api/v1/stations/CS-1")).json()["has_password"] is True


async def test_setting_a_credential_needs_admin_and_a_valid_password(csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger) -> None:
    key = (await api.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()["key"]
    async with httpx.AsyncClient(base_url=csms.api_url, headers={"Authorization": f"Bearer {key}"}) as operator:
        secret = await operator.patch(
            "/api/v1/stations/CS-1/variables",
            json={"variables": [{"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": "a-new-password-123"}]},
        )
        network = await operator.post(
            "/api/v1/stations/CS-1/network-profile",
            json={"configuration_slot": 1, "connection_data": {"ocpp_version": "OCPP20", "ocpp_transport": "JSON", "ocpp_csms_url": "wss://x/", "message_timeout": 30, "security_profile": 1, "ocpp_interface": "Wired0"}},
        )
    assert secret.status_code == 403 and network.status_code == 403
    short = await api.patch(
        "/api/v1/stations/CS-1/variables", json={"variables": [{"component": "SecurityCtrlr", "variable": "BasicAuthPassword", "value": "short"}]}
    )
    assert short.status_code == 422 and "BasicAuthPassword" in short.text
    assert cs201.received_calls == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "variables", {"variables": []}, "variables"),
        ("PATCH", "variables", {"variables": [{"component": "C", "variable": "V"}]}, "value"),
        ("PATCH", "variables", {"variables": [{"component": "C", "variable": "V", "value": "x" * 1001}]}, "value"),
        ("PATCH", "variables", {"variables": [{"component": "C" * 51, "variable": "V", "value": "1"}]}, "component"),
        ("PATCH", "variables", {"variables": [{"component": "C", "variable": "V", "value": "1", "attribute_type": "Max"}]}, "attribute_type"),
        ("PATCH", "variables", {"variables": [{"component": "C", "variable": "V", "value": "1", "evse_id": 2**40}]}, "evse_id"),
        ("PATCH", "variables", {"variables": [{"component": "C", "variable": "V", "value": "1", "colour": "red"}]}, "colour"),
        ("POST", "variables/get", {"variables": [{"component": "C", "variable": "V"}] * 101}, "variables"),
        ("POST", "reports/base", {"report_base": "Everything"}, "report_base"),
        ("POST", "reports/base", {"report_base": "FullInventory", "request_id": 2**31}, "request_id"),
        ("POST", "monitoring", {"monitors": [{"component": "C", "variable": "V", "type": "Delta", "value": 1, "severity": 10}]}, "severity"),
        ("POST", "monitoring/clear", {"ids": []}, "ids"),
        ("POST", "monitoring/level", {"severity": "9"}, "severity"),
        ("POST", "customer-information", {"report": True, "clear": False}, "exactly one"),
        ("POST", "customer-information", {"report": True, "clear": False, "customer_identifier": "a", "id_token": "b"}, "exactly one"),
        ("POST", "firmware/unpublish", {"checksum": "c" * 33}, "checksum"),
        ("POST", "display-messages", {"id": 1, "priority": "InFront", "message": {"content": ""}}, "content"),
        ("POST", "cost-update", {"transaction_id": 1, "total_cost": "1"}, "total_cost"),
        ("POST", "transaction-status", {"transaction_id": 0}, "transaction_id"),
        ("POST", "remote-start", {"id_token": "T", "id_token_type": "Magic"}, "id_token_type"),
        ("POST", "unlock", {"evse_id": 1}, "connector_id"),  # 2.0.1 unlocks a connector, not an EVSE
        ("POST", "trigger", {"requested_message": "DiagnosticsStatusNotification"}, "OCPP 2.0.1 has no TriggerMessage"),
        ("POST", "get-configuration", None, "variables"),  # 1.6 keys: a 2.0.1 station has a device model
        ("PATCH", "configuration", {"key": "HeartbeatInterval", "value": "60"}, "variables"),
        ("POST", "firmware", {"location": "https://fw/1", "retrieve_date": "2030-01-01T00:00:00Z"}, "firmware/signed"),
        ("POST", "diagnostics", {"location": "ftp://d/"}, "logs"),
        ("POST", "certificates", {"certificate_type": "V2GCertificateChain", "certificate": "PEM"}, "certificate type to install"),
    ],
)
async def test_bad_or_uncarriable_requests_give_422_and_send_nothing(
    api: httpx.AsyncClient, cs201: TestCharger, method: str, path: str, body: Any, field: str
) -> None:
    async with cs201.answering():
        response = await api.request(method, f"/api/v1/stations/CS-1/{path}", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert cs201.received_calls == []


async def test_a_schema_breaking_answer_is_a_502_naming_the_violation(api: httpx.AsyncClient, cs201: TestCharger) -> None:
    cs201.responder = station({"GetVariables": {"getVariableResult": [{"attributeStatus": "Maybe"}]}, "Reset": {"status": "Sure"}})
    async with cs201.answering():
        variables = await api.post("/api/v1/stations/CS-1/variables/get", json={"variables": [{"component": "C", "variable": "V"}]})
        reset = await api.post("/api/v1/stations/CS-1/reset", json={"mode": "Immediate"})
    for response in (variables, reset):
        assert response.status_code == 502, response.text
        assert response.json()["error_code"] in ("OccurrenceConstraintViolation", "PropertyConstraintViolation")
    outcomes = [r["outcome"] for r in (await api.get("/api/v1/stations/CS-1/commands")).json()["items"]]
    assert outcomes == ["call_error", "call_error"]
    assert (await api.get("/api/v1/stations/CS-1/variables")).json()["variables"] == []  # nothing stored from it


async def test_a_callerror_is_a_502_with_the_stations_code(api: httpx.AsyncClient, cs201: TestCharger) -> None:
    cs201.responder = station({"SetMonitoringLevel": ("NotSupported", "no monitoring here")})
    async with cs201.answering():
        response = await api.post("/api/v1/stations/CS-1/monitoring/level", json={"severity": 3})
    assert response.status_code == 502
    assert (response.json()["error_code"], response.json()["error_description"]) == ("NotSupported", "no monitoring here")


async def test_offline_and_unknown_stations(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CS-OFF")
    offline = await api.patch("/api/v1/stations/CS-OFF/variables", json={"variables": [{"component": "C", "variable": "V", "value": "1"}]})
    assert offline.status_code == 409 and "CS-OFF" in offline.json()["detail"]
    assert (await api.post("/api/v1/stations/NOPE/reports/base", json={"report_base": "FullInventory"})).status_code == 404
    assert (await api.get("/api/v1/stations/NOPE/variables")).status_code == 404
    assert [r["outcome"] for r in (await api.get("/api/v1/stations/CS-OFF/commands")).json()["items"]] == ["offline"]


async def test_a_16_station_refuses_the_201_operations_with_422(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-16")
    async with TestCharger.connect(csms.ocpp_url, "CP-16") as charger, charger.answering():
        variables = await api.patch("/api/v1/stations/CP-16/variables", json={"variables": [{"component": "C", "variable": "V", "value": "1"}]})
        report = await api.post("/api/v1/stations/CP-16/reports/base", json={"report_base": "FullInventory"})
        started = await api.post("/api/v1/stations/CP-16/remote-start", json={"id_token": "TAG-1"})
    assert variables.status_code == 422 and "OCPP 1.6 has no operation SetVariables" in variables.text
    assert report.status_code == 422
    assert started.status_code == 502  # the test charger answers NotImplemented, but it got the 1.6 call
    assert [a for a, _ in charger.received_calls] == ["RemoteStartTransaction"]
    assert "remoteStartId" not in charger.received_calls[0][1]


async def test_a_201_station_that_reconnects_over_16_gets_16_payloads(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CS-X")
    async with TestCharger.connect(csms.ocpp_url, "CS-X", subprotocols=["ocpp2.0.1"]) as cs:
        cs.responder = station({"Reset": ACCEPTED})
        async with cs.answering():
            assert (await api.post("/api/v1/stations/CS-X/reset", json={"mode": "Immediate"})).status_code == 200
        assert cs.received_calls == [("Reset", {"type": "Immediate"})]
    await asyncio.sleep(0.1)
    async with TestCharger.connect(csms.ocpp_url, "CS-X") as cp:
        cp.responder = station({"Reset": ACCEPTED})
        async with cp.answering():
            assert (await api.post("/api/v1/stations/CS-X/reset", json={"mode": "Immediate"})).status_code == 200
        assert cp.received_calls == [("Reset", {"type": "Hard"})]


async def test_certificate_signed_names_the_type_the_operator_gives_or_the_station_asked_for(
    csms: RunningCsms, api: httpx.AsyncClient, cs201: TestCharger
) -> None:
    """CertificateSigned carries certificateType: the operator's; without one, the type of the station's
    last SignCertificate; a type 2.0.1 does not have is a 422 and nothing is sent."""
    cs201.responder = station({"CertificateSigned": ACCEPTED})
    chain = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    async with cs201.answering():
        explicit = await api.post(
            "/api/v1/stations/CS-1/certificates/signed", json={"certificate_chain": chain, "certificate_type": "ChargingStationCertificate"}
        )
        assert explicit.status_code == 200, explicit.text
    signing = {"csr": "-----BEGIN CERTIFICATE REQUEST-----x", "certificateType": "V2GCertificate"}
    assert (await cs201.call("SignCertificate", signing))["status"] == "Rejected"  # no CA configured: the CSR is kept
    async with cs201.answering():
        asked = await api.post("/api/v1/stations/CS-1/certificates/signed", json={"certificate_chain": chain})
        assert asked.status_code == 200, asked.text
        bad = await api.post("/api/v1/stations/CS-1/certificates/signed", json={"certificate_chain": chain, "certificate_type": "Other"})
        assert bad.status_code == 422, bad.text
    # A SignCertificate without a type (a certificate for every use) is answered without one.
    assert (await cs201.call("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----y"}))["status"] == "Rejected"
    async with cs201.answering():
        untyped = await api.post("/api/v1/stations/CS-1/certificates/signed", json={"certificate_chain": chain})
        assert untyped.status_code == 200, untyped.text
    assert sent(cs201, "CertificateSigned") == [
        {"certificateChain": chain, "certificateType": "ChargingStationCertificate"},
        {"certificateChain": chain, "certificateType": "V2GCertificate"},
        {"certificateChain": chain},
    ]
    for payload in sent(cs201, "CertificateSigned"):
        v201.DIALECT.schemas.validate_request("CertificateSigned", payload)
    records = (await api.get("/api/v1/stations/CS-1/commands", params={"operation": "certificate_signed"})).json()["items"]
    assert [r["request"].get("certificateType") for r in records] == [None, "V2GCertificate", "ChargingStationCertificate"]


async def test_a_16_station_is_sent_no_certificate_type_and_refuses_v2g_with_422(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-16")
    chain = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    async with TestCharger.connect(csms.ocpp_url, "CP-16") as charger:
        charger.responder = station({"CertificateSigned": ACCEPTED})
        async with charger.answering():
            v2g = await api.post("/api/v1/stations/CP-16/certificates/signed", json={"certificate_chain": chain, "certificate_type": "V2GCertificate"})
            own = await api.post(
                "/api/v1/stations/CP-16/certificates/signed", json={"certificate_chain": chain, "certificate_type": "ChargingStationCertificate"}
            )
    assert v2g.status_code == 422 and "V2GCertificate" in v2g.text
    assert own.status_code == 200, own.text
    assert charger.received_calls == [("CertificateSigned", {"certificateChain": chain})]
