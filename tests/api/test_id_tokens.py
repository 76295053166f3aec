"""``/api/v1/id-tokens`` over real HTTP, and what stations are told about the tokens it manages."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from charger import TestCharger

TOKEN_FIELDS = {"id_token", "status", "type", "expiry_date", "parent_id_token", "personal_message", "created_at", "updated_at"}


async def test_create_get_update_delete(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/id-tokens", json={"id_token": "04A2B3C4"})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/id-tokens/04A2B3C4"
    body = created.json()
    assert set(body) == TOKEN_FIELDS
    assert (body["id_token"], body["status"], body["type"], body["expiry_date"], body["parent_id_token"]) == (
        "04A2B3C4", "Accepted", "ISO14443", None, None,
    )  # fmt: skip
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert (await api.get("/api/v1/id-tokens/04A2B3C4")).json() == body

    # Only the fields sent change.
    patched = await api.patch("/api/v1/id-tokens/04A2B3C4", json={"status": "Blocked"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "Blocked" and patched.json()["type"] == "ISO14443"
    patched = await api.patch(
        "/api/v1/id-tokens/04A2B3C4", json={"type": "KeyCode", "expiry_date": "2031-06-01T12:00:00-04:00"}
    )
    assert patched.json()["status"] == "Blocked" and patched.json()["type"] == "KeyCode"
    assert patched.json()["expiry_date"] == "2031-06-01T16:00:00.000000Z"  # stored and shown in UTC
    cleared = await api.patch("/api/v1/id-tokens/04A2B3C4", json={"expiry_date": None})
    assert cleared.json()["expiry_date"] is None and cleared.json()["type"] == "KeyCode"
    assert (await api.get("/api/v1/id-tokens/04A2B3C4")).json() == cleared.json()

    deleted = await api.delete("/api/v1/id-tokens/04A2B3C4")
    assert deleted.status_code == 204 and deleted.content == b""
    missing = await api.get("/api/v1/id-tokens/04A2B3C4")
    assert missing.status_code == 404 and missing.json() == {"detail": "id token '04A2B3C4' not found"}
    assert (await api.patch("/api/v1/id-tokens/04A2B3C4", json={"status": "Accepted"})).status_code == 404
    assert (await api.delete("/api/v1/id-tokens/04A2B3C4")).status_code == 404


async def test_all_fields_on_create_and_groups(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "FLEET", "type": "Central"})).status_code == 201
    member = await api.post(
        "/api/v1/id-tokens",
        json={
            "id_token": "x" * 36,
            "status": "Expired",
            "type": "eMAID",
            "expiry_date": "2030-01-01T00:00:00.250+01:00",
            "parent_id_token": "FLEET",
        },
    )
    assert member.status_code == 201, member.text
    assert member.json() | {"created_at": None, "updated_at": None} == {
        "id_token": "x" * 36,
        "status": "Expired",
        "type": "eMAID",
        "expiry_date": "2029-12-31T23:00:00.250000Z",
        "parent_id_token": "FLEET",
        "personal_message": None,
        "created_at": None,
        "updated_at": None,
    }
    left = await api.patch(f"/api/v1/id-tokens/{'x' * 36}", json={"parent_id_token": None})
    assert left.status_code == 200 and left.json()["parent_id_token"] is None


async def test_parent_must_exist_and_not_be_itself(api: httpx.AsyncClient) -> None:
    missing_parent = await api.post("/api/v1/id-tokens", json={"id_token": "A", "parent_id_token": "NOPE"})
    assert missing_parent.status_code == 422
    assert missing_parent.json() == {"detail": "parent id token 'NOPE' does not exist; create it first"}
    assert (await api.get("/api/v1/id-tokens")).json()["total"] == 0
    await api.post("/api/v1/id-tokens", json={"id_token": "A"})
    itself = await api.patch("/api/v1/id-tokens/A", json={"parent_id_token": "A"})
    assert itself.status_code == 422 and "own parent" in itself.json()["detail"]


async def test_duplicate_is_409(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})).status_code == 201
    again = await api.post("/api/v1/id-tokens", json={"id_token": "TAG-1", "status": "Blocked"})
    assert again.status_code == 409 and again.json() == {"detail": "id token 'TAG-1' already exists"}
    assert (await api.get("/api/v1/id-tokens/TAG-1")).json()["status"] == "Accepted"


INVALID_CREATES = [
    ({}, "id_token"),
    ({"id_token": ""}, "id_token"),
    ({"id_token": "x" * 37}, "id_token"),
    ({"id_token": "line\nbreak"}, "id_token"),
    ({"id_token": "nul\x00"}, "id_token"),
    ({"id_token": "T", "status": "Maybe"}, "status"),
    ({"id_token": "T", "status": None}, "status"),
    ({"id_token": "T", "type": "Barcode"}, "type"),
    ({"id_token": "T", "expiry_date": "2030-01-01T00:00:00"}, "expiry_date"),  # naive: which zone?
    ({"id_token": "T", "expiry_date": "next tuesday"}, "expiry_date"),
    ({"id_token": "T", "expiry_date": "9999-12-31T23:00:00-05:00"}, "expiry_date"),  # past year 9999 in UTC
    ({"id_token": "T", "parent_id_token": "y" * 37}, "parent_id_token"),
    ({"id_token": "T", "group": "G"}, "group"),
]


async def test_invalid_bodies_are_422_naming_the_field(api: httpx.AsyncClient) -> None:
    for body, field in INVALID_CREATES:
        response = await api.post("/api/v1/id-tokens", json=body)
        assert response.status_code == 422, (body, response.text)
        assert any(error["loc"][-1] == field for error in response.json()["detail"]), (body, response.text)
    await api.post("/api/v1/id-tokens", json={"id_token": "T"})
    for body, field in (
        ({"status": None}, "status"),
        ({"type": None}, "type"),
        ({"expiry_date": "2030-01-01 10:00"}, "expiry_date"),
        ({"id_token": "U"}, "id_token"),
    ):
        response = await api.patch("/api/v1/id-tokens/T", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field, (body, response.text)
    assert (await api.get("/api/v1/id-tokens")).json()["total"] == 1


async def test_unusual_and_impossible_ids_in_the_path(api: httpx.AsyncClient) -> None:
    for token in ("A/B C?#%", "eMAID/NL-TNM-C12345678-X", "ä"):
        assert (await api.post("/api/v1/id-tokens", json={"id_token": token})).status_code == 201
        path = "/api/v1/id-tokens/" + quote(token, safe="")
        got = await api.get(path)
        assert got.status_code == 200 and got.json()["id_token"] == token, (token, got.text)
        assert (await api.patch(path, json={"status": "Blocked"})).json()["status"] == "Blocked"
        assert (await api.delete(path)).status_code == 204
    # A NUL, 37 characters or a trailing space cannot exist: 422 naming the path parameter, never 500.
    for path in ("nul%00", "x" * 37, "TAG%20", "%09TAG"):
        for method in ("GET", "DELETE"):
            response = await api.request(method, f"/api/v1/id-tokens/{path}")
            assert response.status_code == 422, (method, path, response.text)
            assert response.json()["detail"][0]["loc"] == ["path", "id_token"]


async def test_list_paginates_and_filters(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/id-tokens", json={"id_token": "G1"})
    await api.post("/api/v1/id-tokens", json={"id_token": "G2"})
    for n in range(5):
        status = "Blocked" if n % 2 else "Accepted"
        response = await api.post("/api/v1/id-tokens", json={"id_token": f"T{n}", "status": status, "parent_id_token": "G1"})
        assert response.status_code == 201, response.text
    await api.post("/api/v1/id-tokens", json={"id_token": "T9", "parent_id_token": "G2", "status": "Blocked"})

    everything = (await api.get("/api/v1/id-tokens")).json()
    assert everything["total"] == 8 and everything["limit"] == 50 and everything["offset"] == 0
    assert [t["id_token"] for t in everything["items"]] == ["G1", "G2", "T0", "T1", "T2", "T3", "T4", "T9"]
    page = (await api.get("/api/v1/id-tokens", params={"limit": 3, "offset": 3})).json()
    assert page["total"] == 8 and page["limit"] == 3 and page["offset"] == 3
    assert [t["id_token"] for t in page["items"]] == ["T1", "T2", "T3"]

    group = (await api.get("/api/v1/id-tokens", params={"parent_id_token": "G1"})).json()
    assert group["total"] == 5 and {t["parent_id_token"] for t in group["items"]} == {"G1"}
    blocked = (await api.get("/api/v1/id-tokens", params={"status": "Blocked"})).json()
    assert [t["id_token"] for t in blocked["items"]] == ["T1", "T3", "T9"] and blocked["total"] == 3
    both = (await api.get("/api/v1/id-tokens", params={"status": "Blocked", "parent_id_token": "G1", "limit": 1})).json()
    assert both["total"] == 2 and [t["id_token"] for t in both["items"]] == ["T1"]
    nobody = (await api.get("/api/v1/id-tokens", params={"parent_id_token": "G3"})).json()
    assert nobody == {"items": [], "total": 0, "limit": 50, "offset": 0}

    for params in ({"status": "blocked"}, {"parent_id_token": "x" * 37}, {"limit": 1000}):
        response = await api.get("/api/v1/id-tokens", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


async def test_stations_are_told_what_the_api_set(api: httpx.AsyncClient, charger: TestCharger) -> None:
    """The API's writes are what Authorize answers: status, expiry and the group's blocking."""
    await charger.boot()
    await api.post("/api/v1/id-tokens", json={"id_token": "GROUP"})
    await api.post(
        "/api/v1/id-tokens",
        json={"id_token": "CARD", "parent_id_token": "GROUP", "expiry_date": "2099-01-01T00:00:00+00:00"},
    )
    info = (await charger.call("Authorize", {"idTag": "CARD"}))["idTagInfo"]
    assert info["status"] == "Accepted" and info["parentIdTag"] == "GROUP"
    assert info["expiryDate"].startswith("2099-01-01T00:00:00")
    await api.patch("/api/v1/id-tokens/GROUP", json={"status": "Blocked"})
    assert (await charger.call("Authorize", {"idTag": "CARD"}))["idTagInfo"]["status"] == "Blocked"
    await api.patch("/api/v1/id-tokens/CARD", json={"parent_id_token": None, "expiry_date": "2001-01-01T00:00:00Z"})
    assert (await charger.call("Authorize", {"idTag": "CARD"}))["idTagInfo"]["status"] == "Expired"
    await api.delete("/api/v1/id-tokens/CARD")
    assert (await charger.call("Authorize", {"idTag": "CARD"}))["idTagInfo"]["status"] == "Invalid"
