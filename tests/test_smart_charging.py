"""Charging profiles over HTTP against a real connected 1.6 test charger: set, store, replace, clear, composite schedule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from charger import TestCharger, sent, station
from conftest import RunningCsms
from kilowatt.api.auth import Principal, principal


def profile(profile_id: int, stack_level: int = 0, purpose: str = "TxDefaultProfile", limit: float = 16.0, **extra: Any) -> dict[str, Any]:
    return {
        "charging_profile_id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Absolute",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "start_schedule": "2030-01-01T00:00:00Z",
            "charging_schedule_period": [{"start_period": 0, "limit": limit}, {"start_period": 3600, "limit": 8.0, "number_phases": 3}],
        },
        **extra,
    }


@pytest.fixture
async def booted(csms: RunningCsms, charger: TestCharger) -> TestCharger:
    await charger.boot()
    return charger


async def stored(api: httpx.AsyncClient) -> list[tuple[int, int, int, str]]:
    items = (await api.get("/api/v1/stations/CP-1/charging-profiles")).json()["items"]
    return [(p["evse_id"], p["charging_profile_id"], p["stack_level"], p["purpose"]) for p in items]


async def test_set_stores_accepted_profiles_and_replaces_them(api: httpx.AsyncClient, booted: TestCharger) -> None:
    answer = {"status": "Accepted"}
    booted.responder = station({"SetChargingProfile": lambda payload: answer})
    async with booted.answering():
        first = await api.post(
            "/api/v1/stations/CP-1/charging-profiles",
            json={"evse_id": 1, "charging_profile": profile(10, valid_to="2031-01-01T00:00:00+01:00")},
        )
        assert first.status_code == 200, first.text
        assert (first.json()["action"], first.json()["status"], first.json()["stored"], first.json()["replaced"]) == (
            "SetChargingProfile",
            "Accepted",
            True,
            0,
        )
        assert sent(booted, "SetChargingProfile")[-1] == {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 10,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "validTo": "2030-12-31T23:00:00.000Z",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "startSchedule": "2030-01-01T00:00:00.000Z",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 3600, "limit": 8.0, "numberPhases": 3}],
                },
            },
        }
        # Another EVSE, and the station-wide maximum.
        assert (await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": 2, "charging_profile": profile(20)})).status_code == 200
        await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": 0, "charging_profile": profile(30, purpose="ChargingStationMaxProfile")})
        assert await stored(api) == [(0, 30, 0, "ChargingStationMaxProfile"), (1, 10, 0, "TxDefaultProfile"), (2, 20, 0, "TxDefaultProfile")]

        # Same id: replaced (even on another EVSE). Same EVSE, stack level and purpose: replaced too.
        same_id = await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": 1, "charging_profile": profile(20, stack_level=1, limit=10)})
        assert same_id.json()["replaced"] == 1
        same_slot = await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": 1, "charging_profile": profile(11)})
        assert same_slot.json()["replaced"] == 1
        assert await stored(api) == [(0, 30, 0, "ChargingStationMaxProfile"), (1, 11, 0, "TxDefaultProfile"), (1, 20, 1, "TxDefaultProfile")]
        items = (await api.get("/api/v1/stations/CP-1/charging-profiles", params={"evse_id": 1})).json()["items"]
        # stored in the typed command's form, the same for every OCPP version
        assert items[1]["profile"]["charging_schedule"]["periods"][0] == {"start_period_s": 0, "limit": 10.0, "number_phases": None, "setpoint": None, "discharge_limit": None}

        # A profile the station rejects is not stored and replaces nothing.
        answer = {"status": "Rejected"}
        rejected = await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": 1, "charging_profile": profile(11, limit=6)})
        assert rejected.status_code == 200 and (rejected.json()["status"], rejected.json()["stored"]) == ("Rejected", False)
    assert len(await stored(api)) == 3


async def test_clear_with_filters_removes_what_the_station_cleared(api: httpx.AsyncClient, booted: TestCharger) -> None:
    clear_answer = {"status": "Accepted"}
    booted.responder = station({"SetChargingProfile": {"status": "Accepted"}, "ClearChargingProfile": lambda payload: clear_answer})
    async with booted.answering():
        for evse_id, body in (
            (0, profile(1, purpose="ChargingStationMaxProfile")),
            (1, profile(2)),
            (1, profile(3, stack_level=1)),
            (2, profile(4)),
            (2, profile(5, stack_level=2)),
        ):
            assert (await api.post("/api/v1/stations/CP-1/charging-profiles", json={"evse_id": evse_id, "charging_profile": body})).status_code == 200

        # The station answers Unknown: nothing is removed.
        clear_answer = {"status": "Unknown"}
        unknown = await api.delete("/api/v1/stations/CP-1/charging-profiles", params={"charging_profile_id": 2})
        assert unknown.status_code == 200 and (unknown.json()["status"], unknown.json()["cleared"]) == ("Unknown", 0)
        assert len(await stored(api)) == 5

        clear_answer = {"status": "Accepted"}
        # An id names one profile; the other filters are then ignored.
        by_id = await api.delete("/api/v1/stations/CP-1/charging-profiles", params={"charging_profile_id": 2, "evse_id": 2})
        assert by_id.json()["cleared"] == 1
        assert [p[1] for p in await stored(api)] == [1, 3, 4, 5]
        # Criteria combine.
        by_slot = await api.delete("/api/v1/stations/CP-1/charging-profiles", params={"evse_id": 2, "stack_level": 2, "purpose": "TxDefaultProfile"})
        assert by_slot.json()["cleared"] == 1
        assert [p[1] for p in await stored(api)] == [1, 3, 4]
        by_purpose = await api.delete("/api/v1/stations/CP-1/charging-profiles", params={"purpose": "TxDefaultProfile"})
        assert by_purpose.json()["cleared"] == 2
        assert [p[1] for p in await stored(api)] == [1]
        everything = await api.delete("/api/v1/stations/CP-1/charging-profiles")
        assert everything.json()["cleared"] == 1
    assert await stored(api) == []
    assert sent(booted, "ClearChargingProfile") == [
        {"id": 2},
        {"id": 2, "connectorId": 2},
        {"connectorId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2},
        {"chargingProfilePurpose": "TxDefaultProfile"},
        {},
    ]


async def test_composite_schedule_returns_the_station_answer(api: httpx.AsyncClient, booted: TestCharger) -> None:
    schedule = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2030-01-01T00:00:00Z",
        "chargingSchedule": {"duration": 600, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]},
    }
    booted.responder = station({"GetCompositeSchedule": schedule})
    async with booted.answering():
        response = await api.post("/api/v1/stations/CP-1/composite-schedule", json={"evse_id": 1, "duration": 600, "charging_rate_unit": "W"})
    assert response.status_code == 200, response.text
    assert (response.json()["action"], response.json()["status"], response.json()["response"]) == ("GetCompositeSchedule", "Accepted", schedule)
    assert response.json()["result"] == {
        "status": "Accepted",
        "evse_id": 1,
        "schedule_start": "2030-01-01T00:00:00Z",
        "charging_schedule": {
            "charging_rate_unit": "W",
            "periods": [{"start_period_s": 0, "limit": 7400.0, "number_phases": None, "setpoint": None, "discharge_limit": None}],
            "duration_s": 600,
            "start_schedule": None,
            "min_charging_rate": None,
        },
    }
    assert sent(booted, "GetCompositeSchedule") == [{"connectorId": 1, "duration": 600, "chargingRateUnit": "W"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"charging_profile": profile(1)}, "evse_id"),
        ({"evse_id": 1, "charging_profile": {**profile(1), "charging_profile_kind": "Recurring"}}, "recurrency_kind"),
        ({"evse_id": 1, "charging_profile": {**profile(1), "charging_profile_purpose": "Other"}}, "charging_profile_purpose"),
        ({"evse_id": 1, "charging_profile": {**profile(1), "transaction_id": 5}}, "TxProfile"),
        ({"evse_id": 1, "charging_profile": {**profile(1), "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": []}}}, "charging_schedule_period"),
        ({"evse_id": 1, "charging_profile": {**profile(1), "colour": "red"}}, "colour"),
    ],
)
async def test_invalid_profiles_give_422(api: httpx.AsyncClient, booted: TestCharger, body: dict, field: str) -> None:
    response = await api.post("/api/v1/stations/CP-1/charging-profiles", json=body)
    assert response.status_code == 422 and field in response.text, response.text
    assert sent(booted, "SetChargingProfile") == []


async def test_openapi_documents_the_profile(api: httpx.AsyncClient) -> None:
    schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
    assert {"charging_profile_id", "stack_level", "charging_profile_purpose", "charging_schedule"} <= set(schemas["ChargingProfileBody"]["properties"])
    assert "charging_schedule_period" in schemas["ChargingScheduleBody"]["properties"]


async def test_a_viewer_reads_profiles_but_cannot_change_them(csms: RunningCsms, api: httpx.AsyncClient, booted: TestCharger) -> None:
    fastapi_app = csms.application._http.config.app

    async def viewer() -> Principal:
        return Principal("a-viewer", "viewer")

    fastapi_app.dependency_overrides[principal] = viewer
    try:
        assert (await api.get("/api/v1/stations/CP-1/charging-profiles")).status_code == 200
        for method, path, body in (
            ("POST", "/api/v1/stations/CP-1/charging-profiles", {"evse_id": 1, "charging_profile": profile(1)}),
            ("DELETE", "/api/v1/stations/CP-1/charging-profiles", None),
            ("POST", "/api/v1/stations/CP-1/composite-schedule", {"evse_id": 1, "duration": 60}),
        ):
            response = await api.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
    finally:
        fastapi_app.dependency_overrides.clear()
    assert [c for c in booted.received_calls if c[0] != "GetConfiguration"] == []
