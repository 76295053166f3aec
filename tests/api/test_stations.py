"""``/api/v1/stations`` over real HTTP, against a running CSMS on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx

from charger import TestCharger, now
from conftest import RunningCsms

PASSWORD = "0123456789abcdef0123"  # 20 characters

STATION_FIELDS = {
    "id", "vendor", "model", "serial_number", "charge_box_serial_number", "firmware_version", "iccid", "imsi",
    "meter_type", "meter_serial_number", "ocpp_version", "pinned_ocpp_version", "registration_status", "connected", "last_seen",
    "last_boot_at", "last_heartbeat_at", "firmware_status", "diagnostics_status", "has_password", "connectors",
}  # fmt: skip


def assert_no_secret(response: httpx.Response) -> None:
    text = response.text
    assert "password_hash" not in text and "sha256$" not in text and PASSWORD not in text


async def test_create_get_update_delete(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/stations", json={"id": "CP-7", "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/stations/CP-7"
    body = created.json()
    assert STATION_FIELDS <= set(body)
    assert body["id"] == "CP-7" and body["has_password"] is True
    assert body["registration_status"] == "Accepted" and body["connected"] is False and body["connectors"] == []
    assert body["created_at"].endswith("Z")
    assert_no_secret(created)

    got = await api.get("/api/v1/stations/CP-7")
    assert got.status_code == 200 and got.json() == body
    assert_no_secret(got)
    listed = await api.get("/api/v1/stations")
    assert listed.json()["items"] == [body]
    assert_no_secret(listed)

    # Only the fields sent change; null removes the password.
    patched = await api.patch("/api/v1/stations/CP-7", json={"registration_status": "Rejected"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["registration_status"] == "Rejected" and patched.json()["has_password"] is True
    patched = await api.patch("/api/v1/stations/CP-7", json={"password": None})
    assert patched.json()["has_password"] is False and patched.json()["registration_status"] == "Rejected"
    patched = await api.patch("/api/v1/stations/CP-7", json={"password": "p" * 40})
    assert patched.json()["has_password"] is True
    assert_no_secret(patched)

    deleted = await api.delete("/api/v1/stations/CP-7")
    assert deleted.status_code == 204 and deleted.content == b""
    missing = await api.get("/api/v1/stations/CP-7")
    assert missing.status_code == 404 and missing.json() == {"detail": "station 'CP-7' not found"}
    for method in ("PATCH", "DELETE"):
        again = await api.request(method, "/api/v1/stations/CP-7", json={} if method == "PATCH" else None)
        assert again.status_code == 404, (method, again.text)
        assert "CP-7" in again.json()["detail"]


async def test_pending_station_is_accepted_by_an_operator(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/stations", json={"id": "CP-P", "registration_status": "Pending"})
    assert created.json()["registration_status"] == "Pending"
    async with TestCharger.connect(csms.ocpp_url, "CP-P") as charger:
        assert (await charger.boot())["status"] == "Pending"
        patched = await api.patch("/api/v1/stations/CP-P", json={"registration_status": "Accepted"})
        assert patched.status_code == 200 and patched.json()["registration_status"] == "Accepted"
        assert (await charger.boot())["status"] == "Accepted"


async def test_a_password_set_through_the_api_is_enforced(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-S", "password": PASSWORD})
    authenticated = csms.ocpp_url.replace("ws://", f"ws://CP-S:{PASSWORD}@")
    async with TestCharger.connect(authenticated, "CP-S") as charger:
        assert (await charger.boot())["status"] == "Accepted"


async def test_duplicate_is_409(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/v1/stations", json={"id": "CP-1"})).status_code == 201
    again = await api.post("/api/v1/stations", json={"id": "CP-1", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json() == {"detail": "station 'CP-1' already exists"}
    assert (await api.get("/api/v1/stations/CP-1")).json()["has_password"] is False  # unchanged


INVALID_CREATES = [
    ({}, "id"),
    ({"id": ""}, "id"),
    ({"id": "x" * 49}, "id"),
    ({"id": "a/b"}, "id"),
    ({"id": "tab\there"}, "id"),
    ({"id": "nul\x00"}, "id"),
    ({"id": "😀"}, "id"),  # not Latin-1: the Location header could not carry it (was 500, with the station saved)
    ({"id": "CP-1 "}, "id"),  # trailing space
    ({"id": "CP 1"}, "id"),
    ({"id": "CPä"}, "id"),
    ({"id": ["CP-1"]}, "id"),
    ({"id": 42}, "id"),
    ({"id": "CP-2", "password": "p" * 15}, "password"),
    ({"id": "CP-2", "password": "p" * 41}, "password"),
    ({"id": "CP-2", "registration_status": "Maybe"}, "registration_status"),
    ({"id": "CP-2", "registration_status": None}, "registration_status"),
    ({"id": "CP-2", "colour": "red"}, "colour"),
]


async def test_invalid_create_is_422_naming_the_field(api: httpx.AsyncClient) -> None:
    for body, field in INVALID_CREATES:
        response = await api.post("/api/v1/stations", json=body)
        assert response.status_code == 422, (body, response.text)
        assert any(error["loc"][-1] == field for error in response.json()["detail"]), (body, response.text)
    not_json = await api.post("/api/v1/stations", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    assert (await api.get("/api/v1/stations")).json()["total"] == 0


async def test_longest_and_unusual_ids_round_trip(api: httpx.AsyncClient) -> None:
    for station_id in ("x" * 48, "CP*1=+|@._-"):
        created = await api.post("/api/v1/stations", json={"id": station_id})
        assert created.status_code == 201, created.text
        path = "/api/v1/stations/" + quote(station_id, safe="")
        got = await api.get(path)
        assert got.status_code == 200 and got.json()["id"] == station_id, (path, got.text)


async def test_colon_in_station_id_is_refused(api: httpx.AsyncClient) -> None:
    # ':' would end the HTTP Basic user name, so such a station could never log in with a password
    response = await api.post("/api/v1/stations", json={"id": "CP:1"})
    assert response.status_code == 422 and "':'" in response.text


async def test_invalid_patch_is_422(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-1", "password": PASSWORD})
    for body, field in (
        ({"password": "short"}, "password"),
        ({"registration_status": None}, "registration_status"),
        ({"registration_status": "accepted"}, "registration_status"),
        ({"id": "CP-2"}, "id"),
    ):
        response = await api.patch("/api/v1/stations/CP-1", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field
    got = (await api.get("/api/v1/stations/CP-1")).json()
    assert got["has_password"] is True and got["registration_status"] == "Accepted"


async def test_ids_that_cannot_exist_are_422_not_500(api: httpx.AsyncClient) -> None:
    for path in ("x" * 49, "nul%00", "tab%09", "%F0%9F%98%80", "CP-1%20", "a:b"):
        for method in ("GET", "PATCH", "DELETE"):
            response = await api.request(method, f"/api/v1/stations/{path}", json={} if method == "PATCH" else None)
            assert response.status_code == 422, (method, path, response.text)
            assert response.json()["detail"][0]["loc"] == ["path", "station_id"]
        for sub in ("status-history", "events", "commands", "configuration", "reservations", "charging-profiles"):
            assert (await api.get(f"/api/v1/stations/{path}/{sub}")).status_code == 422, (path, sub)


async def test_list_paginates_and_filters_connected(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    ids = [f"CP-{n:02d}" for n in range(7)]
    for station_id in reversed(ids):
        assert (await api.post("/api/v1/stations", json={"id": station_id})).status_code == 201

    first = (await api.get("/api/v1/stations", params={"limit": 3})).json()
    assert first["total"] == 7 and first["limit"] == 3 and first["offset"] == 0
    assert [s["id"] for s in first["items"]] == ids[:3]
    last = (await api.get("/api/v1/stations", params={"limit": 3, "offset": 6})).json()
    assert last["total"] == 7 and last["offset"] == 6 and [s["id"] for s in last["items"]] == ids[6:]
    beyond = (await api.get("/api/v1/stations", params={"offset": 100})).json()
    assert beyond == {"items": [], "total": 7, "limit": 50, "offset": 100}

    async with TestCharger.connect(csms.ocpp_url, "CP-03") as charger:
        await charger.boot()
        online = (await api.get("/api/v1/stations", params={"connected": "true"})).json()
        assert [s["id"] for s in online["items"]] == ["CP-03"] and online["total"] == 1
        offline = (await api.get("/api/v1/stations", params={"connected": "false", "limit": 2})).json()
        assert offline["total"] == 6 and [s["id"] for s in offline["items"]] == ["CP-00", "CP-01"]


BAD_PAGES = [
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": 10**20}, "offset"),
    ({"connected": "maybe"}, "connected"),
]


async def test_bad_pagination_is_422(api: httpx.AsyncClient) -> None:
    for params, field in BAD_PAGES:
        response = await api.get("/api/v1/stations", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", field], (params, response.text)


async def test_limit_500_is_allowed(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/stations", params={"limit": 500})
    assert response.status_code == 200 and response.json()["limit"] == 500


async def test_boot_status_history_and_events(api: httpx.AsyncClient, charger: TestCharger) -> None:
    await charger.call(
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Volt 22",
            "chargePointSerialNumber": "SN-1",
            "chargeBoxSerialNumber": "CB-1",
            "firmwareVersion": "1.2.3",
            "iccid": "8931",
            "imsi": "2040",
            "meterType": "DC-Meter",
            "meterSerialNumber": "M-1",
        },
    )
    await charger.call("Heartbeat", {})
    await charger.status(0, "Available")
    await charger.status(1, "Available")
    await charger.call(
        "StatusNotification",
        {
            "connectorId": 1,
            "status": "Faulted",
            "errorCode": "GroundFailure",
            "info": "RCD tripped",
            "vendorId": "com.acme",
            "vendorErrorCode": "E42",
            "timestamp": "2030-01-02T03:04:05+01:00",
        },
    )
    await charger.call("FirmwareStatusNotification", {"status": "Downloading"})
    await charger.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    await charger.call("FirmwareStatusNotification", {"status": "Installed"})

    station = (await api.get("/api/v1/stations/CP-1")).json()
    assert {k: station[k] for k in STATION_FIELDS - {"connectors", "last_seen", "last_boot_at", "last_heartbeat_at"}} == {
        "id": "CP-1",
        "vendor": "Acme",
        "model": "Volt 22",
        "serial_number": "SN-1",
        "charge_box_serial_number": "CB-1",
        "firmware_version": "1.2.3",
        "iccid": "8931",
        "imsi": "2040",
        "meter_type": "DC-Meter",
        "meter_serial_number": "M-1",
        "ocpp_version": "ocpp1.6",
        "pinned_ocpp_version": None,
        "registration_status": "Accepted",
        "connected": True,
        "firmware_status": "Installed",
        "diagnostics_status": "Uploaded",
        "has_password": False,
    }
    for key in ("last_seen", "last_boot_at", "last_heartbeat_at"):
        assert station[key].endswith("Z"), (key, station[key])
    assert station["connectors"] == [
        {
            "evse_id": 0,
            "connector_id": 0,
            "status": "Available",
            "connector_status": "Available",
            "charging_state": None,
            "error_code": "NoError",
            "info": None,
            "vendor_id": None,
            "vendor_error_code": None,
            "status_at": station["connectors"][0]["status_at"],
        },
        {
            "evse_id": 1,
            "connector_id": 1,
            "status": "Faulted",
            "connector_status": "Faulted",
            "charging_state": None,
            "error_code": "GroundFailure",
            "info": "RCD tripped",
            "vendor_id": "com.acme",
            "vendor_error_code": "E42",
            "status_at": "2030-01-02T02:04:05.000000Z",  # the station's time, in UTC
        },
    ]
    assert station["connectors"][0]["status_at"].endswith("Z")

    history = (await api.get("/api/v1/stations/CP-1/status-history", params={"limit": 2})).json()
    assert history["total"] == 3 and history["limit"] == 2
    assert [(h["evse_id"], h["status"]) for h in history["items"]] == [(1, "Faulted"), (1, "Available")]  # newest first
    assert history["items"][0]["timestamp"] == "2030-01-02T02:04:05.000000Z" and history["items"][0]["received_at"].endswith("Z")
    assert history["items"][0]["vendor_error_code"] == "E42"
    oldest = (await api.get("/api/v1/stations/CP-1/status-history", params={"offset": 2})).json()
    assert [(h["evse_id"], h["status"]) for h in oldest["items"]] == [(0, "Available")]

    events = (await api.get("/api/v1/stations/CP-1/events")).json()
    assert events["total"] == 3
    assert [(e["kind"], e["status"]) for e in events["items"]] == [
        ("firmware", "Installed"),
        ("diagnostics", "Uploaded"),
        ("firmware", "Downloading"),
    ]
    firmware = (await api.get("/api/v1/stations/CP-1/events", params={"kind": "firmware", "limit": 1})).json()
    assert firmware["total"] == 2 and [e["status"] for e in firmware["items"]] == ["Installed"]
    assert set(firmware["items"][0]) == {"id", "kind", "status", "request_id", "details", "received_at"}
    none = (await api.get("/api/v1/stations/CP-1/events", params={"kind": "security"})).json()
    assert none["total"] == 0 and none["items"] == []
    assert (await api.get("/api/v1/stations/CP-1/events", params={"kind": "a\x00"})).status_code == 422


async def test_connected_follows_the_socket(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-1"})
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        await charger.call("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError", "timestamp": now()})
        assert (await api.get("/api/v1/stations/CP-1")).json()["connected"] is True
    # The gateway records the disconnection as the socket closes; give it a moment.
    for _ in range(50):
        station = (await api.get("/api/v1/stations/CP-1")).json()
        if not station["connected"]:
            break
        await asyncio.sleep(0.02)
    assert station["connected"] is False and station["last_seen"].endswith("Z")
