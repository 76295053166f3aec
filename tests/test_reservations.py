"""Reservations over HTTP against a real connected 1.6 test charger: ReserveNow, use, cancel, expiry."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from charger import TestCharger, now, sent, station
from conftest import ADMIN_TOKEN, RunningCsms
from kilowatt.api.auth import Principal, principal
from kilowatt.storage.models import Reservation


def in_(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


async def stored_status(csms: RunningCsms, reservation_id: int) -> str:
    """The status in the table (reads through the API show an Accepted reservation past expiry as Expired at once)."""
    async with csms.application.sessions() as session:
        row = await session.get(Reservation, reservation_id)
        assert row is not None
        return row.status


@pytest.fixture
async def booted(csms: RunningCsms, api: httpx.AsyncClient, charger: TestCharger) -> TestCharger:
    await charger.boot()
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "GROUP-1"})).status_code == 201
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "TAG-1", "parent_id_token": "GROUP-1"})).status_code == 201
    return charger


async def test_accepted_reservation_is_used_by_a_start_transaction(api: httpx.AsyncClient, booted: TestCharger) -> None:
    booted.responder = station({"ReserveNow": {"status": "Accepted"}})
    expiry = "2030-06-01T12:00:00+02:00"
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 2, "id_token": "TAG-1", "expiry_date": expiry})
    assert response.status_code == 200, response.text
    body = response.json()
    reservation = body["reservation"]
    assert (body["action"], body["status"]) == ("ReserveNow", "Accepted")
    assert (reservation["status"], reservation["evse_id"], reservation["parent_id_token"]) == ("Accepted", 2, "GROUP-1")
    assert reservation["expiry_date"] == "2030-06-01T10:00:00.000000Z"
    assert sent(booted, "ReserveNow") == [
        {
            "connectorId": 2,
            "expiryDate": "2030-06-01T10:00:00.000Z",
            "idTag": "TAG-1",
            "parentIdTag": "GROUP-1",
            "reservationId": reservation["id"],
        }
    ]

    start = await booted.call(
        "StartTransaction",
        {"connectorId": 2, "idTag": "TAG-1", "meterStart": 100, "timestamp": now(), "reservationId": reservation["id"]},
    )
    assert start["idTagInfo"]["status"] == "Accepted"
    # Consumed before the StartTransaction was answered: no waiting needed.
    used = (await api.get(f"/api/v1/reservations/{reservation['id']}")).json()
    assert (used["status"], used["transaction_id"]) == ("Used", start["transactionId"])
    transaction = (await api.get(f"/api/v1/transactions/{start['transactionId']}")).json()
    assert transaction["reservation_id"] == reservation["id"]

    listed = (await api.get("/api/v1/stations/CP-1/reservations", params={"status": "Used"})).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == reservation["id"]
    assert (await api.get("/api/v1/stations/CP-1/reservations", params={"status": "Accepted"})).json()["total"] == 0
    # A used reservation cannot be cancelled any more.
    gone = await api.delete(f"/api/v1/stations/CP-1/reservations/{reservation['id']}")
    assert gone.status_code == 409 and "Used" in gone.json()["detail"]
    assert sent(booted, "CancelReservation") == []


@pytest.mark.parametrize("status", ["Occupied", "Rejected", "Faulted", "Unavailable"])
async def test_a_refused_reservation_keeps_the_station_answer(api: httpx.AsyncClient, booted: TestCharger, status: str) -> None:
    booted.responder = station({"ReserveNow": {"status": status}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 1, "id_token": "TAG-1", "expiry_date": in_(3600)})
    assert response.status_code == 200, response.text
    reservation = response.json()["reservation"]
    assert response.json()["status"] == status and reservation["status"] == status
    assert (await api.get(f"/api/v1/reservations/{reservation['id']}")).json()["status"] == status
    listed = (await api.get("/api/v1/stations/CP-1/reservations", params={"status": status})).json()
    assert [r["id"] for r in listed["items"]] == [reservation["id"]]


async def test_cancel(api: httpx.AsyncClient, booted: TestCharger) -> None:
    cancel_answer = {"status": "Rejected"}
    booted.responder = station({"ReserveNow": {"status": "Accepted"}, "CancelReservation": lambda payload: cancel_answer})
    async with booted.answering():
        created = (await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 0, "id_token": "TAG-1", "expiry_date": in_(3600)})).json()
        reservation_id = created["reservation"]["id"]
        refused = await api.delete(f"/api/v1/stations/CP-1/reservations/{reservation_id}")
        assert refused.status_code == 200 and refused.json()["status"] == "Rejected"
        assert refused.json()["reservation"]["status"] == "Accepted"
        cancel_answer = {"status": "Accepted"}
        cancelled = await api.delete(f"/api/v1/stations/CP-1/reservations/{reservation_id}")
        assert cancelled.status_code == 200, cancelled.text
        assert (cancelled.json()["action"], cancelled.json()["reservation"]["status"]) == ("CancelReservation", "Cancelled")
        assert (await api.delete(f"/api/v1/stations/CP-1/reservations/{reservation_id}")).status_code == 409
        assert (await api.delete("/api/v1/stations/CP-1/reservations/999")).status_code == 404
        assert (await api.delete(f"/api/v1/stations/CP-2/reservations/{reservation_id}")).status_code == 404
    assert sent(booted, "CancelReservation") == [{"reservationId": reservation_id}] * 2
    assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "Cancelled"


async def test_expiry_by_the_sweeper(make_csms) -> None:
    csms = await make_csms(reservation_sweep_interval_s=0.1)
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger, httpx.AsyncClient(
        base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as api:
        await charger.boot()
        charger.responder = station({"ReserveNow": {"status": "Accepted"}})
        async with charger.answering():
            # 3 s: far enough ahead that a loaded machine still gets the request in before it passes
            response = await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 1, "id_token": "TAG-1", "expiry_date": in_(3)})
        assert response.status_code == 200, response.text
        reservation_id = response.json()["reservation"]["id"]
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "Accepted"
        for _ in range(100):  # stored as Expired by the sweeper, not only shown so
            await asyncio.sleep(0.1)
            if await stored_status(csms, reservation_id) == "Expired":
                break
        assert await stored_status(csms, reservation_id) == "Expired"
        assert await csms.services.reservations.expire_due() == 0
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "Expired"
        listed = (await api.get("/api/v1/stations/CP-1/reservations", params={"status": "Expired"})).json()
        assert [r["id"] for r in listed["items"]] == [reservation_id]


async def test_past_expiry_is_shown_expired_before_the_sweeper_runs(make_csms) -> None:
    csms = await make_csms(reservation_sweep_interval_s=3600)
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger, httpx.AsyncClient(
        base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as api:
        await charger.boot()
        charger.responder = station({"ReserveNow": {"status": "Accepted"}})
        async with charger.answering():
            response = await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 1, "id_token": "TAG-1", "expiry_date": in_(1.5)})
        assert response.status_code == 200, response.text
        reservation_id = response.json()["reservation"]["id"]
        await asyncio.sleep(1.6)
        assert await stored_status(csms, reservation_id) == "Accepted"
        assert (await api.get(f"/api/v1/reservations/{reservation_id}")).json()["status"] == "Expired"
        assert (await api.get("/api/v1/stations/CP-1/reservations", params={"status": "Expired"})).json()["total"] == 1
        assert (await api.get("/api/v1/stations/CP-1/reservations", params={"status": "Accepted"})).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"evse_id": 1, "id_token": "TAG-1", "expiry_date": "2020-01-01T00:00:00Z"}, "in the future"),
        ({"evse_id": 1, "id_token": "TAG-1", "expiry_date": "2030-01-01T00:00:00"}, "time zone"),
        ({"id_token": "TAG-1", "expiry_date": "2030-01-01T00:00:00Z"}, "evse_id"),
        ({"evse_id": 1, "id_token": "NOPE", "expiry_date": "2030-01-01T00:00:00Z"}, "Invalid"),
        ({"evse_id": 1, "id_token": "T" * 21, "expiry_date": "2030-01-01T00:00:00Z"}, "idTag"),
    ],
)
async def test_invalid_reservations_give_422(api: httpx.AsyncClient, booted: TestCharger, body: dict, field: str) -> None:
    if body["id_token"] == "T" * 21:
        assert (await api.post("/api/v1/id-tokens", json={"id_token": body["id_token"]})).status_code == 201
    booted.responder = station({"ReserveNow": {"status": "Accepted"}})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/reservations", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert sent(booted, "ReserveNow") == []


async def test_offline_station_gives_409_and_the_reservation_is_failed(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-OFF")
    await csms.services.authorization.create("TAG-1")
    response = await api.post("/api/v1/stations/CP-OFF/reservations", json={"evse_id": 1, "id_token": "TAG-1", "expiry_date": in_(60)})
    assert response.status_code == 409
    listed = (await api.get("/api/v1/stations/CP-OFF/reservations")).json()
    assert [r["status"] for r in listed["items"]] == ["Failed"]
    assert (await api.get("/api/v1/stations/NOPE/reservations")).status_code == 404
    assert (await api.get("/api/v1/reservations/12345")).status_code == 404


async def test_a_viewer_reads_but_cannot_reserve_or_cancel(csms: RunningCsms, api: httpx.AsyncClient, booted: TestCharger) -> None:
    fastapi_app = csms.application._http.config.app

    async def viewer() -> Principal:
        return Principal("a-viewer", "viewer")

    fastapi_app.dependency_overrides[principal] = viewer
    try:
        assert (await api.get("/api/v1/stations/CP-1/reservations")).status_code == 200
        create = await api.post("/api/v1/stations/CP-1/reservations", json={"evse_id": 1, "id_token": "TAG-1", "expiry_date": in_(60)})
        cancel = await api.delete("/api/v1/stations/CP-1/reservations/1")
        for response in (create, cancel):
            assert response.status_code == 403 and "operator" in response.json()["detail"], response.text
    finally:
        fastapi_app.dependency_overrides.clear()
    assert sent(booted, "ReserveNow") == []


async def test_a_reservation_names_an_evse_not_a_connector(api: httpx.AsyncClient, booted: TestCharger) -> None:
    """A reservation, like a charging profile, holds an EVSE as a whole: a connector_id would be
    silently dropped, so it is refused as an unknown field."""
    await api.post("/api/v1/id-tokens", json={"id_token": "TAG-9"})
    response = await api.post(
        "/api/v1/stations/CP-1/reservations", json={"evse_id": 1, "connector_id": 2, "id_token": "TAG-9", "expiry_date": in_(3600)}
    )
    assert response.status_code == 422 and "connector_id" in response.text
    assert sent(booted, "ReserveNow") == []
