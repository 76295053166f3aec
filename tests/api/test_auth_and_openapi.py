"""Who may call what, and what /openapi.json promises."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx

from conftest import ADMIN_TOKEN, CsmsFactory, RunningCsms
from kilowatt.services.transactions import TransactionStarted

# Every API route, with a request that would succeed for an admin once "CP-1", "TAG-1" and
# transaction 1 exist — so a refusal can only come from authentication.
READS = [
    ("GET", "/api/v1/stations"),
    ("GET", "/api/v1/stations/CP-1"),
    ("GET", "/api/v1/stations/CP-1/status-history"),
    ("GET", "/api/v1/stations/CP-1/events"),
    ("GET", "/api/v1/id-tokens"),
    ("GET", "/api/v1/id-tokens/TAG-1"),
    ("GET", "/api/v1/transactions"),
    ("GET", "/api/v1/transactions/1"),
]
WRITES = [
    ("POST", "/api/v1/stations", {"id": "CP-2"}),
    ("PATCH", "/api/v1/stations/CP-1", {"registration_status": "Pending"}),
    ("DELETE", "/api/v1/stations/CP-1", None),
    ("POST", "/api/v1/id-tokens", {"id_token": "TAG-2"}),
    ("PATCH", "/api/v1/id-tokens/TAG-1", {"status": "Blocked"}),
    ("DELETE", "/api/v1/id-tokens/TAG-1", None),
]


def template(path: str) -> str:
    """The OpenAPI path of a concrete one."""
    return (
        path.replace("/CP-1", "/{station_id}").replace("/TAG-1", "/{id_token}").replace("/transactions/1", "/transactions/{transaction_id}")
    )


OPERATIONS = {(method, template(path)) for method, path in READS} | {(method, template(path)) for method, path, _ in WRITES}


async def seed(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    started = await csms.services.transactions.apply(
        TransactionStarted("CP-1", 1, 1, datetime(2030, 1, 1, tzinfo=timezone.utc), "TAG-1", meter_start_wh=0)
    )
    assert started.ref is not None and started.ref.id == 1


async def test_a_token_is_required_and_checked(csms: RunningCsms) -> None:
    await seed(csms)
    async with httpx.AsyncClient(base_url=csms.api_url) as anonymous:
        for method, path in READS:
            response = await anonymous.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json() == {"detail": "missing bearer token"}
            assert response.headers["www-authenticate"] == "Bearer"
        for method, path, body in WRITES:
            response = await anonymous.request(method, path, json=body)
            assert response.status_code == 401, (method, path, response.text)
        for header in ("Bearer wrong-token", f"Bearer {ADMIN_TOKEN}x", f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN):
            response = await anonymous.get("/api/v1/stations", headers={"Authorization": header})
            assert response.status_code == 401, (header, response.text)
            assert response.json()["detail"] in ("invalid bearer token", "missing bearer token")
        wrong = await anonymous.post("/api/v1/stations", json={"id": "CP-X"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "invalid bearer token"}
    assert (await csms.services.stations.list()).total == 1  # nothing was written

    async with httpx.AsyncClient(base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
        for method, path in READS:
            assert (await admin.request(method, path)).status_code == 200, (method, path)
        for method, path, body in WRITES:
            response = await admin.request(method, path, json=body)
            assert response.status_code in (200, 201, 204), (method, path, response.text)


async def test_without_an_admin_token_the_api_is_read_only(make_csms: CsmsFactory) -> None:
    csms = await make_csms(admin_token=None)
    await seed(csms)
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        for method, path in READS:
            response = await client.request(method, path)
            assert response.status_code == 200, (method, path, response.text)
        for headers in ({}, {"Authorization": "Bearer anything"}):
            for method, path, body in WRITES:
                response = await client.request(method, path, json=body, headers=headers)
                assert response.status_code == 403, (method, path, response.text)
                assert "set KILOWATT_ADMIN_TOKEN" in response.json()["detail"], response.text
    assert [s.station.id for s in (await csms.services.stations.list()).items] == ["CP-1"]
    assert (await csms.services.authorization.get("TAG-1")).status == "Accepted"


async def test_openapi_documents_every_route(api: httpx.AsyncClient) -> None:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert OPERATIONS <= documented, OPERATIONS - documented
    schemas = spec["components"]["schemas"]
    for method, path in OPERATIONS:
        operation = spec["paths"][path][method.lower()]
        assert operation.get("summary") and operation.get("description"), (method, path)
        success = next(code for code in operation["responses"] if code.startswith("2"))
        if success == "204":
            assert "content" not in operation["responses"]["204"], (method, path)
        else:
            ref = operation["responses"][success]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1] in schemas, (method, path, ref)
        if path != "/api/v1/stations" and path != "/api/v1/id-tokens" and path != "/api/v1/transactions":
            assert "404" in operation["responses"], (method, path)
        assert "401" in operation["responses"], (method, path)
        if method != "GET":
            assert "403" in operation["responses"], (method, path)

    assert "password_hash" not in response.text
    station = schemas["StationOut"]["properties"]
    assert {"has_password", "connectors", "last_seen"} <= set(station) and "password" not in station
    assert schemas["ConnectorOut"]["properties"]["status_at"]["anyOf"][0] == {
        "type": "string",
        "format": "date-time",
        "examples": ["2030-05-01T10:00:00.000000Z"],
    }
    assert set(schemas["TransactionPage"]["properties"]) == {"items", "total", "limit", "offset"}
    assert "meter_values" in schemas["TransactionDetailOut"]["properties"]
    assert "meter_values" not in schemas["TransactionOut"]["properties"]
    limit = next(p for p in spec["paths"]["/api/v1/stations"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"], limit["schema"]["default"]) == (1, 500, 50)

    docs = await api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_roles_operators_manage_id_tokens_admins_manage_stations(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """With real API keys; tests/api/test_api_keys.py checks every route the same way."""
    await seed(csms)
    for role in ("viewer", "operator"):
        created = await api.post("/api/v1/api-keys", json={"name": f"a-{role}", "role": role})
        assert created.status_code == 201, created.text
        async with httpx.AsyncClient(
            base_url=csms.api_url, headers={"Authorization": f"Bearer {created.json()['key']}"}
        ) as caller:
            for method, path in READS:
                assert (await caller.request(method, path)).status_code == 200, (role, method, path)
            for method, path, body in WRITES:
                response = await caller.request(method, path, json=body)
                allowed = role == "operator" and "/id-tokens" in path
                if allowed:
                    assert response.status_code in (200, 201, 204), (role, method, path, response.text)
                else:
                    assert response.status_code == 403, (role, method, path, response.text)
                    needed = "operator" if "/id-tokens" in path else "admin"
                    assert response.json()["detail"] == f"this needs the {needed} role; 'a-{role}' has '{role}'"
    assert [s.station.id for s in (await csms.services.stations.list()).items] == ["CP-1"]
