"""Local authorization lists over HTTP against a real connected 1.6 test charger: exact SendLocalList payloads."""

from __future__ import annotations

import httpx
import pytest

from charger import TestCharger, sent, station
from conftest import RunningCsms
from kilowatt.api.auth import Principal, principal


@pytest.fixture
async def booted(csms: RunningCsms, charger: TestCharger) -> TestCharger:
    await charger.boot()
    return charger


async def make_tokens(api: httpx.AsyncClient) -> None:
    for body in (
        {"id_token": "GROUP-1"},
        {"id_token": "TAG-A"},
        {"id_token": "TAG-B", "expiry_date": "2030-01-01T00:00:00Z"},
        {"id_token": "TAG-C", "parent_id_token": "GROUP-1"},
        {"id_token": "TAG-OLD", "expiry_date": "2020-01-01T00:00:00Z"},
    ):
        assert (await api.post("/api/v1/id-tokens", json=body)).status_code == 201


async def test_full_then_differential_sends_exact_payloads_and_stores_what_was_accepted(
    api: httpx.AsyncClient, booted: TestCharger
) -> None:
    await make_tokens(api)
    booted.responder = station({"SendLocalList": {"status": "Accepted"}})
    async with booted.answering():
        full = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full"})
    assert full.status_code == 200, full.text
    body = full.json()
    assert (body["action"], body["status"], body["sent_version"], body["list_version"]) == ("SendLocalList", "Accepted", 1, 1)
    assert (body["entries_sent"], body["removals_sent"], body["entries_stored"]) == (5, 0, 5)
    assert sent(booted, "SendLocalList") == [
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "GROUP-1", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "TAG-A", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "TAG-B", "idTagInfo": {"status": "Accepted", "expiryDate": "2030-01-01T00:00:00.000Z"}},
                {"idTag": "TAG-C", "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP-1"}},
                {"idTag": "TAG-OLD", "idTagInfo": {"status": "Expired", "expiryDate": "2020-01-01T00:00:00.000Z"}},
            ],
        }
    ]

    # The group is blocked (so is its member), TAG-A is deleted, TAG-D is new; TAG-B and TAG-OLD are unchanged.
    assert (await api.patch("/api/v1/id-tokens/GROUP-1", json={"status": "Blocked"})).status_code == 200
    assert (await api.delete("/api/v1/id-tokens/TAG-A")).status_code == 204
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "TAG-D"})).status_code == 201
    async with booted.answering():
        diff = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Differential"})
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert (body["sent_version"], body["list_version"], body["entries_sent"], body["removals_sent"], body["entries_stored"]) == (2, 2, 3, 1, 5)
    assert sent(booted, "SendLocalList")[-1] == {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idTag": "GROUP-1", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "TAG-C", "idTagInfo": {"status": "Blocked", "parentIdTag": "GROUP-1"}},
            {"idTag": "TAG-D", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "TAG-A"},  # removal: no idTagInfo
        ],
    }
    stored = (await api.get("/api/v1/stations/CP-1/local-list")).json()
    assert stored["version"] == 2
    assert [(e["id_token"], e["status"], e["parent_id_token"]) for e in stored["entries"]] == [
        ("GROUP-1", "Blocked", None),
        ("TAG-B", "Accepted", None),
        ("TAG-C", "Blocked", "GROUP-1"),
        ("TAG-D", "Accepted", None),
        ("TAG-OLD", "Expired", None),
    ]
    assert stored["entries"][1]["expiry_date"] == "2030-01-01T00:00:00.000000Z"

    # A differential limited to some tokens removes the others; nothing changed among the kept ones.
    async with booted.answering():
        narrow = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Differential", "id_tokens": ["TAG-B", "TAG-D"]})
    assert narrow.status_code == 200 and narrow.json()["list_version"] == 3
    assert sent(booted, "SendLocalList")[-1] == {
        "listVersion": 3,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "GROUP-1"}, {"idTag": "TAG-C"}, {"idTag": "TAG-OLD"}],
    }
    stored = (await api.get("/api/v1/stations/CP-1/local-list")).json()
    assert (stored["version"], [e["id_token"] for e in stored["entries"]]) == (3, ["TAG-B", "TAG-D"])


@pytest.mark.parametrize("status", ["Failed", "VersionMismatch", "NotSupported"])
async def test_an_update_the_station_does_not_accept_changes_nothing(api: httpx.AsyncClient, booted: TestCharger, status: str) -> None:
    await make_tokens(api)
    booted.responder = station({"SendLocalList": {"status": "Accepted"}})
    async with booted.answering():
        assert (await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full", "id_tokens": ["TAG-A"]})).status_code == 200
    before = (await api.get("/api/v1/stations/CP-1/local-list")).json()
    booted.responder = station({"SendLocalList": {"status": status}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Differential"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["sent_version"], body["list_version"], body["entries_stored"]) == (status, 2, 1, 1)
    if status == "VersionMismatch":
        assert "Full update" in body["note"]
    assert sent(booted, "SendLocalList")[-1]["listVersion"] == 2
    assert (await api.get("/api/v1/stations/CP-1/local-list")).json() == before

    # The next update still counts from the stored (accepted) version.
    booted.responder = station({"SendLocalList": {"status": "Accepted"}})
    async with booted.answering():
        again = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full"})
    assert again.json()["list_version"] == 2 and sent(booted, "SendLocalList")[-1]["listVersion"] == 2


async def test_tokens_too_long_for_16_and_unknown_tokens_give_422(api: httpx.AsyncClient, booted: TestCharger) -> None:
    await make_tokens(api)
    long_token = "T" * 21
    assert (await api.post("/api/v1/id-tokens", json={"id_token": long_token})).status_code == 201
    booted.responder = station({"SendLocalList": {"status": "Accepted"}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full"})
        assert response.status_code == 422, response.text
        assert long_token in response.json()["detail"] and "20" in response.json()["detail"]
        unknown = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full", "id_tokens": ["TAG-A", "NOPE"]})
        assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
        bad_type = await api.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Partial"})
        assert bad_type.status_code == 422
    assert sent(booted, "SendLocalList") == []
    assert (await api.get("/api/v1/stations/CP-1/local-list")).json()["version"] == 0
    records = (await api.get("/api/v1/stations/CP-1/commands", params={"operation": "send_local_list"})).json()["items"]
    assert [r["outcome"] for r in records] == ["invalid"]
    assert (await api.get("/api/v1/stations/NOPE/local-list")).status_code == 404


async def test_version_is_asked_from_the_station(api: httpx.AsyncClient, booted: TestCharger) -> None:
    booted.responder = station({"GetLocalListVersion": {"listVersion": 7}})
    async with booted.answering():
        response = await api.get("/api/v1/stations/CP-1/local-list/version")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["action"], body["response"], body["list_version"], body["stored_version"]) == (
        "GetLocalListVersion",
        {"listVersion": 7},
        7,
        0,
    )
    assert ("GetLocalListVersion", {}) in booted.received_calls


async def test_a_viewer_reads_the_list_but_cannot_send_or_ask(csms: RunningCsms, api: httpx.AsyncClient, booted: TestCharger) -> None:
    fastapi_app = csms.application._http.config.app

    async def viewer() -> Principal:
        return Principal("a-viewer", "viewer")

    fastapi_app.dependency_overrides[principal] = viewer
    try:
        assert (await api.get("/api/v1/stations/CP-1/local-list")).status_code == 200
        for method, path, body in (
            ("POST", "/api/v1/stations/CP-1/local-list", {"update_type": "Full"}),
            ("GET", "/api/v1/stations/CP-1/local-list/version", None),
        ):
            response = await api.request(method, path, json=body)
            assert response.status_code == 403 and "operator" in response.json()["detail"], (path, response.text)
    finally:
        fastapi_app.dependency_overrides.clear()
    assert sent(booted, "SendLocalList") == [] and sent(booted, "GetLocalListVersion") == []


async def test_read_only_api_refuses_to_send(make_csms) -> None:
    csms = await make_csms(admin_token=None)
    await csms.services.stations.create("CP-1")
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        response = await client.post("/api/v1/stations/CP-1/local-list", json={"update_type": "Full"})
        assert response.status_code == 403 and "KILOWATT_ADMIN_TOKEN" in response.json()["detail"]
        assert (await client.get("/api/v1/stations/CP-1/local-list")).json()["version"] == 0
