"""HTTP error answers: clear, 4xx, never echoing secrets — and never a 500, whatever the input.

Each test here was written against a defect an outside test found (issue 11): on the code before
the fix it failed with a 500 or a wrong answer.
"""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from conftest import ADMIN_TOKEN, RunningCsms

HUGE = 38006054545146668646400  # over 64 bits


async def test_validation_errors_do_not_echo_the_password(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/stations", json={"id": "CP-1", "password": "short-secret"})
    assert response.status_code == 422
    assert "short-secret" not in response.text
    assert any(error["loc"][-1] == "password" for error in response.json()["detail"])


async def test_command_routes_refuse_impossible_station_ids_with_422(api: httpx.AsyncClient) -> None:
    for station_id in ("bad%00id", "a:b", "x" * 49, "%F0%9F%98%80", "CP-1%20"):
        response = await api.post(f"/api/v1/stations/{station_id}/reset", json={"mode": "OnIdle"})
        assert response.status_code == 422, (station_id, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "station_id"]


@pytest.mark.parametrize("body", [b"7", b'"text"', b"[1, 2]", b"null", b"true"])
async def test_an_unauthenticated_non_object_body_keeps_the_audit_log_readable(
    csms: RunningCsms, api: httpx.AsyncClient, body: bytes
) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as anonymous:
        refused = await anonymous.post("/api/v1/stations", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 401
    log = await api.get("/api/v1/audit-log")
    assert log.status_code == 200, log.text
    entry = log.json()["items"][0]
    assert entry["principal"] == "unauthenticated" and entry["status_code"] == 401
    assert entry["body"] == {"json": orjson.loads(body)}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/stations", {"id": "😀"}),
        ("/api/v1/stations", {"id": "CP-1 "}),
        ("/api/v1/id-tokens", {"id_token": "😀 "}),
        ("/api/v1/id-tokens", {"id_token": " TAG"}),
        ("/api/v1/id-tokens", {"id_token": "TAG\u0000"}),
        ("/api/v1/id-tokens", {"id_token": "TAG\u0085"}),
    ],
)
async def test_ids_a_header_or_a_station_could_not_carry_are_refused_before_saving(
    api: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == 422, response.text
    assert (await api.get(path)).json()["total"] == 0


async def test_location_is_percent_encoded(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/id-tokens", json={"id_token": "Ä/😀 ?"})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/id-tokens/%C3%84%2F%F0%9F%98%80%20%3F"
    assert (await api.get(created.headers["location"])).json()["id_token"] == "Ä/😀 ?"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/stations/CP-1/remote-stop", {"json": {"transaction_id": HUGE}}),
        ("POST", "/api/v1/stations/CP-1/remote-stop", {"json": {"transaction_id": 2**31}}),
        ("POST", "/api/v1/stations/CP-1/unlock", {"json": {"evse_id": 2**64}}),
        ("GET", "/api/v1/stations/CP-1/charging-profiles", {"params": {"evse_id": 2**63}}),
        ("DELETE", "/api/v1/stations/CP-1/charging-profiles", {"params": {"charging_profile_id": HUGE}}),
        ("GET", "/api/v1/reservations/99999999999999999999", {}),
        ("GET", "/api/v1/api-keys/99999999999999999999", {}),
        ("GET", "/api/v1/stations", {"params": {"offset": HUGE}}),
    ],
)
async def test_integers_beyond_their_type_are_422(api: httpx.AsyncClient, method: str, path: str, kwargs: dict) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-1"})
    response = await api.request(method, path, **kwargs)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/stations/CP-1/remote-stop", {"transaction_id": "5"}),  # a string is not a number
        ("/api/v1/stations/CP-1/remote-stop", {"transaction_id": 5.5}),
        ("/api/v1/stations/CP-1/remote-start", {"id_token": "T", "evse_id": True}),
        ("/api/v1/stations/CP-1/data-transfer", {"vendor_id": "v" * 256}),
        ("/api/v1/stations/CP-1/data-transfer", {"vendor_id": "acme\u0000"}),
        ("/api/v1/stations/CP-1/configuration", {"key": "K\u0000", "value": "1"}),
        ("/api/v1/stations/CP-1/firmware", {"location": "ftp://x", "retrieve_date": 0}),
        ("/api/v1/stations/CP-1/firmware", {"location": "ftp://x", "retrieve_date": "2030-01-01"}),
    ],
)
async def test_wrong_types_nul_and_overlong_strings_are_422(api: httpx.AsyncClient, path: str, body: dict) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-1"})
    method = "PATCH" if path.endswith("/configuration") else "POST"
    response = await api.request(method, path, json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("value", ["0.5", "0", "1700000000", "2030-01-01", "2030-01-01T00:00:00", "tomorrow"])
async def test_dates_are_rfc3339_strings_only(api: httpx.AsyncClient, value: str) -> None:
    response = await api.get("/api/v1/audit-log", params={"until": value})
    assert response.status_code == 422, (value, response.text)
    assert response.json()["detail"][0]["loc"] == ["query", "until"]
    assert (await api.get("/api/v1/audit-log", params={"until": "2030-01-01T00:00:00+02:00"})).status_code == 200


async def test_a_validation_error_has_the_documented_shape(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/stations/CP-1/remote-stop", json={"transaction_id": "x"})
    assert response.status_code == 422
    spec = (await api.get("/openapi.json")).json()
    documented = spec["paths"]["/api/v1/stations/{station_id}/remote-stop"]["post"]["responses"]["422"]
    assert documented["content"]["application/json"]["schema"]["$ref"].endswith("/CommandError")
    detail = spec["components"]["schemas"]["ErrorOut"]["properties"]["detail"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/ValidationIssue"}} in detail["anyOf"]
    assert set(response.json()["detail"][0]) == {"type", "loc", "msg"}


async def test_every_route_documents_its_errors(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "422"} <= codes, (method, path, codes)
            if method != "get":
                assert {"403", "413"} <= codes, (method, path, codes)
            for code in codes - {"200", "201", "204"}:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema["$ref"].rsplit("/", 1)[-1] in ("ErrorOut", "CommandError"), (method, path, code)


async def test_ids_rules_are_in_the_schema(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    station_id = spec["components"]["schemas"]["StationCreate"]["properties"]["id"]
    assert (station_id["maxLength"], station_id["pattern"]) == (48, r"^[A-Za-z0-9*_=+|@.\-]+$")
    token = spec["components"]["schemas"]["IdTokenCreate"]["properties"]["id_token"]
    assert token["maxLength"] == 36 and re.fullmatch(token["pattern"].strip("^$"), "04A2 B3") is not None
    parameter = next(p for p in spec["paths"]["/api/v1/stations/{station_id}"]["get"]["parameters"] if p["name"] == "station_id")
    assert parameter["schema"]["pattern"] == station_id["pattern"]


async def test_405_names_the_allowed_methods(api: httpx.AsyncClient) -> None:
    response = await api.put("/api/v1/stations/CP-1", json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}
    collection = await api.delete("/api/v1/stations")
    assert collection.status_code == 405 and set(collection.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_docs_load_their_assets_from_this_server(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert assets, page.text
        for asset in assets:
            assert asset.startswith("/"), f"/docs loads {asset} from elsewhere"
            assert (await client.get(asset)).status_code == 200, asset
        assert "://" not in page.text.replace(csms.api_url, "")
        assert (await client.get("/openapi.json", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).status_code == 200
