"""Firmware and diagnostics tracking: requests sent through the API, notifications from a real 1.6 test charger."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from charger import TestCharger, now, station
from conftest import RunningCsms


@pytest.fixture
async def booted(csms: RunningCsms, charger: TestCharger) -> TestCharger:
    await charger.boot()
    charger.responder = station(
        {
            "UpdateFirmware": {},
            "SignedUpdateFirmware": {"status": "Accepted"},
            "GetDiagnostics": {"fileName": "diag.zip"},
            "GetLog": {"status": "Accepted", "filename": "security.log"},
        }
    )
    return charger


async def send(api: httpx.AsyncClient, charger: TestCharger, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with charger.answering():
        response = await api.post(f"/api/v1/stations/CP-1/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def statuses(request: dict[str, Any]) -> list[str]:
    return [n["status"] for n in request["notifications"]]


async def test_firmware_notifications_are_attributed_to_the_request(api: httpx.AsyncClient, booted: TestCharger) -> None:
    await booted.call("FirmwareStatusNotification", {"status": "Idle"})  # before any request
    first = await send(api, booted, "firmware", {"location": "https://fw.example/1.bin", "retrieve_date": "2030-01-01T00:00:00Z"})
    await booted.call("FirmwareStatusNotification", {"status": "Downloading"})
    await booted.call("FirmwareStatusNotification", {"status": "Downloaded"})
    await booted.call("FirmwareStatusNotification", {"status": "Installing"})
    await booted.call("FirmwareStatusNotification", {"status": "Installed"})

    signed = await send(
        api,
        booted,
        "firmware/signed",
        {
            "request_id": 5,
            "firmware": {"location": "https://fw.example/2.bin", "retrieve_date_time": "2030-01-01T00:00:00Z", "signing_certificate": "PEM", "signature": "SIG"},
        },
    )
    await booted.call("SignedFirmwareStatusNotification", {"status": "Downloading", "requestId": 5})
    second = await send(api, booted, "firmware", {"location": "https://fw.example/3.bin", "retrieve_date": "2030-01-01T00:00:00Z"})
    await booted.call("FirmwareStatusNotification", {"status": "DownloadFailed"})
    # Arrives after the later plain request, but its requestId says whose it is.
    await booted.call("SignedFirmwareStatusNotification", {"status": "SignatureVerified", "requestId": 5})

    response = await api.get("/api/v1/stations/CP-1/firmware")
    assert response.status_code == 200, response.text
    tracking = response.json()
    requests = tracking["requests"]
    assert [r["command"]["id"] for r in requests] == [second["command_id"], signed["command_id"], first["command_id"]]
    assert [r["command"]["action"] for r in requests] == ["UpdateFirmware", "SignedUpdateFirmware", "UpdateFirmware"]
    assert statuses(requests[2]) == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert requests[2]["latest_status"] == "Installed" and requests[2]["sent"] is True
    assert (requests[1]["request_id"], statuses(requests[1])) == (5, ["Downloading", "SignatureVerified"])
    assert statuses(requests[0]) == ["DownloadFailed"]
    assert [e["status"] for e in tracking["unattributed"]] == []  # the Idle came before the oldest listed request: not fetched
    assert (await api.get("/api/v1/stations/CP-1")).json()["firmware_status"] == "SignatureVerified"

    limited = (await api.get("/api/v1/stations/CP-1/firmware", params={"limit": 1})).json()
    assert [r["command"]["id"] for r in limited["requests"]] == [second["command_id"]]
    # With only the latest request listed, the signed notifications after it have no owner listed.
    assert statuses(limited["requests"][0]) == ["DownloadFailed"]
    assert [e["status"] for e in limited["unattributed"]] == ["SignatureVerified"]


async def test_a_refused_request_gets_no_notifications(api: httpx.AsyncClient, booted: TestCharger) -> None:
    first = await send(api, booted, "firmware", {"location": "https://fw.example/1.bin", "retrieve_date": "2030-01-01T00:00:00Z"})
    booted.responder = station({"SignedUpdateFirmware": {"status": "InvalidCertificate"}})
    refused = await send(
        api,
        booted,
        "firmware/signed",
        {
            "request_id": 6,
            "firmware": {"location": "https://fw.example/2.bin", "retrieve_date_time": "2030-01-01T00:00:00Z", "signing_certificate": "PEM", "signature": "SIG"},
        },
    )
    await booted.call("FirmwareStatusNotification", {"status": "Installed"})
    requests = (await api.get("/api/v1/stations/CP-1/firmware")).json()["requests"]
    assert [(r["command"]["id"], r["sent"], statuses(r)) for r in requests] == [
        (refused["command_id"], False, []),
        (first["command_id"], True, ["Installed"]),
    ]


async def test_diagnostics_and_logs(api: httpx.AsyncClient, booted: TestCharger) -> None:
    diagnostics = await send(api, booted, "diagnostics", {"location": "ftp://diag.example/"})
    assert diagnostics["response"] == {"fileName": "diag.zip"}
    await booted.call("DiagnosticsStatusNotification", {"status": "Uploading"})
    log = await send(api, booted, "logs", {"log_type": "SecurityLog", "request_id": 9, "log": {"remote_location": "https://logs.example/"}})
    await booted.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    await booted.call("LogStatusNotification", {"status": "Uploading", "requestId": 9})
    await booted.call("LogStatusNotification", {"status": "Uploaded", "requestId": 9})

    response = await api.get("/api/v1/stations/CP-1/diagnostics")
    assert response.status_code == 200, response.text
    requests = response.json()["requests"]
    assert [(r["command"]["action"], r["request_id"]) for r in requests] == [("GetLog", 9), ("GetDiagnostics", None)]
    assert [(n["kind"], n["status"], n["request_id"]) for n in requests[0]["notifications"]] == [
        ("log", "Uploading", 9),
        ("log", "Uploaded", 9),
    ]
    # A diagnostics status answers a GetDiagnostics, even when it arrives after a later GetLog.
    assert [(n["kind"], n["status"]) for n in requests[1]["notifications"]] == [("diagnostics", "Uploading"), ("diagnostics", "Uploaded")]
    assert response.json()["unattributed"] == []
    assert (await api.get("/api/v1/stations/CP-1/firmware")).json()["requests"] == []
    assert (await api.get("/api/v1/stations/NOPE/diagnostics")).status_code == 404


async def test_viewers_may_read_tracking(make_csms) -> None:
    csms = await make_csms(admin_token=None)
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger, httpx.AsyncClient(base_url=csms.api_url) as client:
        await charger.boot()
        await charger.call("FirmwareStatusNotification", {"status": "Idle"})
        response = await client.get("/api/v1/stations/CP-1/firmware")
        assert response.status_code == 200 and response.json()["requests"] == []
        assert [e["status"] for e in response.json()["unattributed"]] == ["Idle"]
        refused = await client.post("/api/v1/stations/CP-1/firmware", json={"location": "x", "retrieve_date": now()})
        assert refused.status_code == 403
