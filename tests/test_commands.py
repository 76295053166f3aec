"""Remote operations over HTTP against a real connected test charger: the HTTP answer is the station's answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.services.redaction import redact


@pytest.fixture
async def booted(csms: RunningCsms, charger: TestCharger) -> TestCharger:
    await charger.boot()
    return charger


def answers(table: dict[str, Any]):
    async def responder(action: str, payload: dict) -> Any:
        answer = table.get(action, ("NotImplemented", action))
        return answer(payload) if callable(answer) else answer

    return responder


PROFILE = {"charging_profile_id": 7, "stack_level": 0, "charging_profile_purpose": "TxProfile", "charging_profile_kind": "Relative", "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}}
PROFILE_16 = {"chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}
ACCEPTED = {"status": "Accepted"}

COMMANDS = [
    # (path, body, expected 1.6 action, expected 1.6 payload, station answer, typed result in the HTTP answer)
    ("reset", {"mode": "Immediate"}, "Reset", {"type": "Hard"}, ACCEPTED, ACCEPTED),
    ("reset", {"mode": "OnIdle"}, "Reset", {"type": "Soft"}, {"status": "Rejected"}, {"status": "Rejected"}),
    ("remote-start", {"id_token": "TAG-1", "evse_id": 2}, "RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 2}, ACCEPTED, ACCEPTED),
    ("remote-start", {"id_token": "TAG-1", "evse_id": 1, "charging_profile": PROFILE},
     "RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1, "chargingProfile": PROFILE_16}, {"status": "Rejected"}, {"status": "Rejected"}),
    ("remote-stop", {"transaction_id": 42}, "RemoteStopTransaction", {"transactionId": 42}, ACCEPTED, ACCEPTED),
    ("unlock", {"evse_id": 1}, "UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}, {"status": "Unlocked"}),
    ("availability", {"operative": False}, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, {"status": "Scheduled"}, {"status": "Scheduled"}),
    ("availability", {"evse_id": 2, "operative": True}, "ChangeAvailability", {"connectorId": 2, "type": "Operative"}, ACCEPTED, ACCEPTED),
    ("trigger", {"requested_message": "StatusNotification", "evse_id": 1}, "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}, ACCEPTED, ACCEPTED),
    ("extended-trigger", {"requested_message": "SignChargingStationCertificate"}, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}, ACCEPTED, ACCEPTED),
    ("clear-cache", None, "ClearCache", {}, ACCEPTED, ACCEPTED),
    ("data-transfer", {"vendor_id": "com.acme", "message_id": "ping", "data": "1"}, "DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": "1"}, {"status": "Accepted", "data": "pong"}, {"status": "Accepted", "data": "pong"}),
    ("firmware", {"location": "https://fw.example/1.bin", "retrieve_date": "2026-12-01T00:00:00Z", "retries": 3}, "UpdateFirmware", {"location": "https://fw.example/1.bin", "retrieveDate": "2026-12-01T00:00:00.000Z", "retries": 3}, {}, {"status": None}),
    ("firmware/signed", {"request_id": 5, "firmware": {"location": "https://fw.example/2.bin", "retrieve_date_time": "2026-12-01T00:00:00Z", "signing_certificate": "PEM", "signature": "SIG"}}, "SignedUpdateFirmware", {"requestId": 5, "firmware": {"location": "https://fw.example/2.bin", "retrieveDateTime": "2026-12-01T00:00:00.000Z", "signingCertificate": "PEM", "signature": "SIG"}}, ACCEPTED, ACCEPTED),
    ("diagnostics", {"location": "ftp://diag.example/"}, "GetDiagnostics", {"location": "ftp://diag.example/"}, {"fileName": "diag-1.zip"}, {"file_name": "diag-1.zip", "status": None}),
    ("logs", {"log_type": "SecurityLog", "request_id": 9, "log": {"remote_location": "https://logs.example/"}}, "GetLog", {"logType": "SecurityLog", "requestId": 9, "log": {"remoteLocation": "https://logs.example/"}}, {"status": "Accepted", "filename": "sec.log"}, {"status": "Accepted", "file_name": "sec.log"}),
    ("certificates", {"certificate_type": "CSMSRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"}, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"}, ACCEPTED, ACCEPTED),
    ("certificates/delete", {"certificate_hash_data": {"hash_algorithm": "SHA256", "issuer_name_hash": "a", "issuer_key_hash": "b", "serial_number": "c"}}, "DeleteCertificate", {"certificateHashData": {"hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "c"}}, {"status": "NotFound"}, {"status": "NotFound"}),
    ("certificates/signed", {"certificate_chain": "-----BEGIN CERTIFICATE-----"}, "CertificateSigned", {"certificateChain": "-----BEGIN CERTIFICATE-----"}, {"status": "Rejected"}, {"status": "Rejected"}),
    ("get-configuration", {"keys": ["HeartbeatInterval", "Nope"]}, "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]},
     {"configurationKey": [{"key": "HeartbeatInterval", "value": "300", "readonly": False}], "unknownKey": ["Nope"]},
     {"values": [{"key": "HeartbeatInterval", "value": "300", "readonly": False}], "unknown_keys": ["Nope"], "status": None}),
]


@pytest.mark.parametrize(("path", "body", "action", "payload", "answer", "result"), COMMANDS, ids=[f"{c[0]}-{i}" for i, c in enumerate(COMMANDS)])
async def test_command_sends_the_16_call_and_returns_the_typed_result(
    api: httpx.AsyncClient, booted: TestCharger, path: str, body: Any, action: str, payload: dict, answer: dict, result: dict
) -> None:
    booted.responder = answers({"GetConfiguration": {"configurationKey": []}, action: answer})
    async with booted.answering():
        response = await api.post(f"/api/v1/stations/CP-1/{path}", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    # the typed result, the same shape for every OCPP version; the station's payload only as `response`
    assert (got["action"], got["result"], got["response"], got["status"]) == (action, result, answer, answer.get("status"))
    assert set(got) == {"command_id", "station_id", "operation", "action", "status", "result", "response", "duration_ms"}
    assert (action, payload) in booted.received_calls
    commands = (await api.get("/api/v1/stations/CP-1/commands")).json()
    latest = next(item for item in commands["items"] if item["action"] == action)
    # the log keeps what was sent, with credentials and key material hidden (as the audit log does)
    assert (latest["action"], latest["request"], latest["response"], latest["outcome"]) == (action, redact(payload), answer, "answered")
    assert latest["requested_by"] == "admin-token" and latest["duration_ms"] >= 0


async def test_installed_certificates_are_read_from_the_station(api: httpx.AsyncClient, booted: TestCharger) -> None:
    booted.responder = answers({"GetInstalledCertificateIds": {"status": "NotFound"}, "GetConfiguration": {"configurationKey": []}})
    async with booted.answering():
        response = await api.get("/api/v1/stations/CP-1/certificates", params={"certificate_type": "ManufacturerRootCertificate"})
    assert response.status_code == 200 and response.json()["response"] == {"status": "NotFound"}
    assert response.json()["result"] == {"status": "NotFound", "certificate_hash_data": []}
    assert ("GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"}) in booted.received_calls


async def test_offline_station_gives_409_and_unknown_404(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-OFF")
    response = await api.post("/api/v1/stations/CP-OFF/reset", json={"mode": "OnIdle"})
    assert response.status_code == 409 and "CP-OFF" in response.json()["detail"]
    response = await api.post("/api/v1/stations/NOPE/reset", json={"mode": "OnIdle"})
    assert response.status_code == 404
    records = (await api.get("/api/v1/stations/CP-OFF/commands")).json()["items"]
    assert [r["outcome"] for r in records] == ["offline"]


async def test_station_that_went_away_gives_409(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-2")
    async with TestCharger.connect(csms.ocpp_url, "CP-2") as charger:
        await charger.boot()
    await asyncio.sleep(0.1)
    response = await api.post("/api/v1/stations/CP-2/reset", json={"mode": "OnIdle"})
    assert response.status_code == 409


async def test_callerror_gives_502_with_the_station_code(api: httpx.AsyncClient, booted: TestCharger) -> None:
    booted.responder = answers({"Reset": ("InternalError", "relay stuck"), "GetConfiguration": {"configurationKey": []}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
    assert response.status_code == 502
    body = response.json()
    assert (body["error_code"], body["error_description"]) == ("InternalError", "relay stuck")


async def test_schema_breaking_answer_gives_502(api: httpx.AsyncClient, booted: TestCharger) -> None:
    booted.responder = answers({"Reset": {"status": "Whatever"}, "GetConfiguration": {"configurationKey": []}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
    assert response.status_code == 502 and response.json()["error_code"] == "PropertyConstraintViolation"


async def test_timeout_gives_504(make_csms) -> None:
    csms = await make_csms(call_timeout_s=0.3)
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger, httpx.AsyncClient(
        base_url=csms.api_url, headers={"Authorization": "Bearer test-admin-token"}
    ) as api:
        await charger.boot()

        async def slow(action: str, payload: dict) -> Any:
            await asyncio.sleep(1)
            return {"status": "Accepted"}

        charger.responder = slow
        async with charger.answering():
            response = await api.post("/api/v1/stations/CP-1/reset", json={"mode": "OnIdle"})
        assert response.status_code == 504 and "did not answer" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("reset", {"mode": "Warm"}, "mode"),
        ("reset", {"type": "Soft"}, "mode"),  # the 1.6 spelling is not the API's
        ("reset", {}, "mode"),
        ("reset", {"mode": "OnIdle", "evse_id": 1}, "OCPP 2.0.1"),  # 1.6 resets the whole station
        ("remote-stop", {"transaction_id": "x"}, "transaction_id"),
        ("unlock", {}, "evse_id"),
        ("unlock", {"connector_id": 1}, "evse_id"),  # a connector alone is no longer the 1.6 connectorId
        ("unlock", {"evse_id": 1, "connector_id": 2}, "one connector"),  # a 1.6 EVSE has one connector
        ("reset", {"mode": "OnIdle", "extra": 1}, "extra"),
        ("trigger", {"requested_message": "Coffee"}, "requested_message"),
        ("trigger", {"requested_message": "TransactionEvent"}, "OCPP 1.6 has no TriggerMessage"),
        ("certificates", {"certificate_type": "V2GRootCertificate", "certificate": "PEM"}, "OCPP 1.6 has no certificate type"),
        ("remote-start", {"id_token": "A-TOKEN-LONGER-THAN-20"}, "idTag"),
    ],
)
async def test_invalid_body_gives_422_naming_the_field(api: httpx.AsyncClient, booted: TestCharger, path: str, body: dict, field: str) -> None:
    response = await api.post(f"/api/v1/stations/CP-1/{path}", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert not [c for c in booted.received_calls if c[0] != "GetConfiguration"]


async def test_concurrent_commands_queue_in_order_one_call_at_a_time(make_csms) -> None:
    csms = await make_csms(call_queue_size=3)
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger, httpx.AsyncClient(
        base_url=csms.api_url, headers={"Authorization": "Bearer test-admin-token"}
    ) as api:
        await charger.boot()
        in_flight = 0
        most = 0

        async def responder(action: str, payload: dict) -> Any:
            nonlocal in_flight, most
            if action == "GetConfiguration":
                return {"configurationKey": []}
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.3)
            in_flight -= 1
            return {"status": "Accepted"}

        charger.responder = responder
        async with charger.answering():
            await asyncio.sleep(0.2)  # let the post-boot GetConfiguration finish
            ids = [1, 2, 3]
            results = []
            endpoint = csms.application.gateway.connections["CP-1"].endpoint
            for queued, transaction_id in enumerate(ids, 1):
                results.append(asyncio.create_task(api.post("/api/v1/stations/CP-1/remote-stop", json={"transaction_id": transaction_id})))
                async with asyncio.timeout(10):
                    while endpoint.calls_waiting < queued:  # fix the order in which they are queued
                        assert not results[-1].done(), f"answered before it was queued: {(await results[-1]).text}"
                        await asyncio.sleep(0.01)
            overflow = [asyncio.create_task(api.post("/api/v1/stations/CP-1/clear-cache")) for _ in range(3)]
            responses = await asyncio.gather(*results, *overflow)
        assert [r.status_code for r in responses[:3]] == [200, 200, 200]
        assert 429 in [r.status_code for r in responses[3:]]
        stops = [p["transactionId"] for a, p in charger.received_calls if a == "RemoteStopTransaction"]
        assert stops == ids
        assert most == 1


async def test_configuration_is_fetched_after_boot_and_changed(api: httpx.AsyncClient, charger: TestCharger) -> None:
    config = {"HeartbeatInterval": ("300", False), "ChargePointModel": ("X", True)}

    async def responder(action: str, payload: dict) -> Any:
        if action == "GetConfiguration":
            return {"configurationKey": [{"key": k, "value": v, "readonly": r} for k, (v, r) in config.items()]}
        if action == "ChangeConfiguration":
            key = payload["key"]
            if key not in config:
                return {"status": "NotSupported"}
            if config[key][1]:
                return {"status": "Rejected"}
            config[key] = (payload["value"], False)
            return {"status": "Accepted"}
        return ("NotImplemented", action)

    charger.responder = responder
    await charger.boot()
    async with charger.answering():
        for _ in range(50):
            stored = (await api.get("/api/v1/stations/CP-1/configuration")).json()
            if stored["keys"]:
                break
            await asyncio.sleep(0.05)
        assert {k["key"]: (k["value"], k["readonly"]) for k in stored["keys"]} == {"HeartbeatInterval": ("300", False), "ChargePointModel": ("X", True)}

        ok = await api.patch("/api/v1/stations/CP-1/configuration", json={"key": "HeartbeatInterval", "value": "60"})
        assert ok.status_code == 200 and ok.json()["status"] == "Accepted"
        rejected = await api.patch("/api/v1/stations/CP-1/configuration", json={"key": "ChargePointModel", "value": "Y"})
        assert rejected.json()["status"] == "Rejected"
        unknown = await api.patch("/api/v1/stations/CP-1/configuration", json={"key": "Nope", "value": "1"})
        assert unknown.json()["status"] == "NotSupported"
    stored = {k["key"]: k["value"] for k in (await api.get("/api/v1/stations/CP-1/configuration")).json()["keys"]}
    assert stored == {"HeartbeatInterval": "60", "ChargePointModel": "X"}
    # the same keys are variables of one component of the device model
    model = (await api.get("/api/v1/stations/CP-1/device-model")).json()["variables"]
    assert [(v["component"], v["variable"], v["attribute_type"], v["value"], v["mutability"]) for v in model] == [
        ("OCPP16Configuration", "ChargePointModel", "Actual", "X", "ReadOnly"),
        ("OCPP16Configuration", "HeartbeatInterval", "Actual", "60", "ReadWrite"),
    ]
    only = await api.get("/api/v1/stations/CP-1/device-model", params={"component": "SecurityCtrlr"})
    assert only.status_code == 200 and only.json()["variables"] == []
