"""API keys over real HTTP: shown once, stored hashed, working with their role, revoked at once —
and every route of the API checked against the role it needs, for every kind of caller."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select, update

from conftest import ADMIN_TOKEN, CsmsFactory, RunningCsms
from kilowatt.api.auth import NO_TOKEN_CONFIGURED
from kilowatt.services.transactions import TransactionStarted
from kilowatt.storage.models import ApiKey


async def create_key(api: httpx.AsyncClient, name: str, role: str) -> dict[str, Any]:
    response = await api.post("/api/v1/api-keys", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


def client(csms: RunningCsms, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(base_url=csms.api_url, headers=headers, timeout=10)


async def stored_keys(csms: RunningCsms) -> list[ApiKey]:
    async with csms.application.sessions() as session:
        return list((await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars())


async def test_a_key_is_shown_once_and_only_its_hash_is_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/api-keys", json={"name": "billing", "role": "viewer"})
    assert response.status_code == 201, response.text
    created = response.json()
    key = created["key"]
    assert set(created) == {"id", "name", "role", "prefix", "key", "created_at", "created_by", "last_used_at", "revoked_at"}
    assert (created["name"], created["role"], created["created_by"]) == ("billing", "viewer", "admin-token")
    assert created["created_at"].endswith("Z") and created["last_used_at"] is None and created["revoked_at"] is None
    assert response.headers["location"] == f"/api/v1/api-keys/{created['id']}"
    assert key.startswith("kw_") and len(key) >= 3 + 43  # 32 random bytes, url-safe base64
    assert key.startswith(created["prefix"]) and len(created["prefix"]) < 16

    # Stored: the SHA-256 and the prefix, never the key.
    (row,) = await stored_keys(csms)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(getattr(row, column)) for column in ApiKey.__table__.columns.keys()}

    # Never shown again, neither the key nor its hash.
    listed = await api.get("/api/v1/api-keys")
    one = await api.get(f"/api/v1/api-keys/{created['id']}")
    for answer in (listed, one):
        assert answer.status_code == 200
        assert key not in answer.text and row.key_hash not in answer.text and '"key"' not in answer.text
    assert listed.json()["total"] == 1
    assert {k: v for k, v in one.json().items()} == {k: v for k, v in created.items() if k != "key"}
    spec = (await api.get("/openapi.json")).json()["components"]["schemas"]
    assert not {"key", "key_hash"} & set(spec["ApiKeyOut"]["properties"])

    # The key works, as what it is.
    async with client(csms, key) as viewer:
        assert (await viewer.get("/api/v1/stations")).status_code == 200
    used = (await api.get(f"/api/v1/api-keys/{created['id']}")).json()
    assert used["last_used_at"] is not None


async def test_keys_work_with_their_role(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    keys = {role: (await create_key(api, f"{role}-key", role))["key"] for role in ("viewer", "operator", "admin")}
    async with client(csms, keys["viewer"]) as viewer, client(csms, keys["operator"]) as operator, client(
        csms, keys["admin"]
    ) as admin:
        assert (await viewer.get("/api/v1/id-tokens")).status_code == 200
        refused = await viewer.post("/api/v1/id-tokens", json={"id_token": "TAG-V"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "this needs the operator role; 'viewer-key' has 'viewer'"}

        assert (await operator.post("/api/v1/id-tokens", json={"id_token": "TAG-O"})).status_code == 201
        refused = await operator.post("/api/v1/stations", json={"id": "CP-O"})
        assert refused.status_code == 403
        assert refused.json() == {"detail": "this needs the admin role; 'operator-key' has 'operator'"}
        assert (await operator.post("/api/v1/api-keys", json={"name": "mine", "role": "admin"})).status_code == 403
        assert (await operator.get("/api/v1/api-keys")).status_code == 403

        assert (await admin.post("/api/v1/stations", json={"id": "CP-A"})).status_code == 201
        made = await admin.post("/api/v1/api-keys", json={"name": "made-by-key", "role": "operator"})
        assert made.status_code == 201 and made.json()["created_by"] == "admin-key"
    assert [s.station.id for s in (await csms.services.stations.list()).items] == ["CP-A"]


async def test_a_revoked_key_is_refused_at_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    created = await create_key(api, "leaked", "operator")
    async with client(csms, created["key"]) as holder:
        assert (await holder.get("/api/v1/stations")).status_code == 200
        revoked = await api.delete(f"/api/v1/api-keys/{created['id']}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None and "key" not in revoked.json()
        for method, path in (("GET", "/api/v1/stations"), ("POST", "/api/v1/id-tokens")):
            response = await holder.request(method, path, json={"id_token": "TAG-X"} if method == "POST" else None)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json() == {"detail": "invalid bearer token"}
            assert response.headers["www-authenticate"] == "Bearer"
    again = await api.delete(f"/api/v1/api-keys/{created['id']}")
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert (await api.delete("/api/v1/api-keys/999999")).status_code == 404

    assert [k["name"] for k in (await api.get("/api/v1/api-keys", params={"revoked": "true"})).json()["items"]] == ["leaked"]
    assert (await api.get("/api/v1/api-keys", params={"revoked": "false"})).json()["items"] == []
    # A revoked key's name is free again; the old key stays dead.
    replacement = await create_key(api, "leaked", "operator")
    async with client(csms, created["key"]) as old, client(csms, replacement["key"]) as new:
        assert (await old.get("/api/v1/stations")).status_code == 401
        assert (await new.get("/api/v1/stations")).status_code == 200


async def test_wrong_keys_are_refused(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    key = (await create_key(api, "real", "admin"))["key"]
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")  # same prefix, so the row is found; the hash differs
    for wrong in (flipped, key + "x", key[:-1], "kw_", "kw_" + "A" * 43, key.upper(), "not-a-key"):
        async with client(csms, wrong) as caller:
            response = await caller.get("/api/v1/stations")
            assert response.status_code == 401, (wrong, response.text)
            assert response.json() == {"detail": "invalid bearer token"}
    async with httpx.AsyncClient(base_url=csms.api_url) as caller:
        assert (await caller.get("/api/v1/stations", headers={"Authorization": f"Basic {key}"})).status_code == 401


async def test_creating_keys_checks_name_and_role(api: httpx.AsyncClient) -> None:
    await create_key(api, "ci", "viewer")
    duplicate = await api.post("/api/v1/api-keys", json={"name": "ci", "role": "admin"})
    assert duplicate.status_code == 409 and "ci" in duplicate.json()["detail"]
    for body in (
        {"name": "x", "role": "root"},
        {"name": "", "role": "viewer"},
        {"name": "x" * 65, "role": "viewer"},
        {"name": "tab\there", "role": "viewer"},
        {"name": "x"},
        {"name": "x", "role": "viewer", "key": "kw_chosen"},
    ):
        response = await api.post("/api/v1/api-keys", json=body)
        assert response.status_code == 422, (body, response.text)
    for reserved in ("admin-token", "anonymous", "Unauthenticated"):
        response = await api.post("/api/v1/api-keys", json={"name": reserved, "role": "viewer"})
        assert response.status_code == 422 and "reserved" in response.json()["detail"], response.text


async def test_last_used_at_is_written_at_most_once_a_minute(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    created = await create_key(api, "busy", "viewer")
    service = csms.services.api_keys
    assert (await service.authenticate(created["key"])) is not None
    (first,) = await stored_keys(csms)
    assert first.last_used_at is not None
    for _ in range(3):
        await service.authenticate(created["key"])
    (same,) = await stored_keys(csms)
    assert same.last_used_at == first.last_used_at

    long_ago = datetime.now(timezone.utc) - timedelta(minutes=2)
    async with csms.application.sessions.begin() as session:
        await session.execute(update(ApiKey).values(last_used_at=long_ago))
    await service.authenticate(created["key"])
    (later,) = await stored_keys(csms)
    assert later.last_used_at > long_ago + timedelta(minutes=1)


async def test_without_an_admin_token_keys_are_not_consulted(make_csms: CsmsFactory) -> None:
    """Authentication starts with the admin token: without it the API is read-only for everyone."""
    csms = await make_csms(admin_token=None)
    key = (await csms.services.api_keys.create("left-over", "admin", created_by="admin-token")).key
    async with client(csms, key) as caller:
        assert (await caller.get("/api/v1/stations")).status_code == 200
        response = await caller.post("/api/v1/stations", json={"id": "CP-1"})
        assert response.status_code == 403 and response.json() == {"detail": NO_TOKEN_CONFIGURED}
        assert (await caller.post("/api/v1/api-keys", json={"name": "n", "role": "admin"})).status_code == 403
    assert (await csms.services.stations.list()).total == 0


# --- the role matrix: every route in the OpenAPI document, for every kind of caller ---------------

# Writes to the station registry itself (credentials, registration) are for admins; every other
# write (commands, id tokens, reservations, profiles, lists...) is for operators.
STATION_REGISTRY = {"/api/v1/stations", "/api/v1/stations/{station_id}"}
RANK = {"viewer": 0, "operator": 1, "admin": 2}


def required_role(method: str, path: str) -> str:
    if path.startswith("/api/v1/api-keys"):
        return "admin"
    if path.startswith("/api/v1/audit-log"):
        return "operator"
    if method == "GET":
        return "viewer"
    return "admin" if path in STATION_REGISTRY else "operator"


def _sample(schema: dict[str, Any]) -> Any:
    """A valid value of a simple parameter schema."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _sample(option)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    return {"integer": 1, "number": 1, "boolean": "false"}.get(schema.get("type", "string"), "x")


def concrete_request(method: str, path: str, operation: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
    """A request an admin could send: known rows in the path (nonexistent ones for DELETE, so nothing
    the matrix needs disappears), required query parameters filled in, ``{}`` as a body."""
    known = {"station_id": "CP-1", "id_token": "TAG-1", "transaction_id": 1}
    missing = {"station_id": "CP-NONE", "id_token": "TAG-NONE"}
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        name, schema = parameter["name"], parameter.get("schema", {})
        if parameter["in"] == "path":
            if method == "DELETE":
                value = missing.get(name, 999_999 if _sample(schema) == 1 else "none")
            else:
                value = known.get(name, _sample(schema))
            path = path.replace("{" + name + "}", str(value)).replace("{" + name + ":path}", str(value))
        elif parameter["in"] == "query" and parameter.get("required"):
            query[name] = _sample(schema)
    return path, query, ({} if "requestBody" in operation else None)


def calls_the_station(response: httpx.Response) -> bool:
    """A 409 from the command layer: the route tried to send an OCPP call to the (never connected) station."""
    return response.status_code == 409 and "command_id" in response.json()


async def test_every_route_enforces_its_role(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """Built from /openapi.json, so a route added later is checked without touching this test.

    A GET needs no more than viewer unless it sends a call to the station (the command layer answers
    409 for a station that never connected, which proves it got past authentication)."""
    await csms.services.stations.create("CP-1")
    await csms.services.authorization.create("TAG-1")
    await csms.services.transactions.apply(
        TransactionStarted("CP-1", 1, 1, datetime(2030, 1, 1, tzinfo=timezone.utc), "TAG-1", meter_start_wh=0)
    )
    keys = {role: (await create_key(api, f"{role}-key", role))["key"] for role in RANK}
    spec = (await api.get("/openapi.json")).json()
    operations = [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    seen = {(method, path) for method, path, _ in operations}
    assert {
        ("POST", "/api/v1/stations"),
        ("DELETE", "/api/v1/id-tokens/{id_token}"),
        ("POST", "/api/v1/stations/{station_id}/reset"),
        ("POST", "/api/v1/api-keys"),
        ("DELETE", "/api/v1/api-keys/{key_id}"),
        ("GET", "/api/v1/audit-log"),
    } <= seen

    callers = {
        "anonymous": client(csms, None),
        "wrong key": client(csms, keys["admin"][:-2] + "xx"),
        "admin token": client(csms, ADMIN_TOKEN),
        **{role: client(csms, key) for role, key in keys.items()},
    }
    checked: list[tuple[str, str, str, int]] = []
    station_queries: set[str] = set()
    try:
        for method, template, operation in operations:
            path, query, body = concrete_request(method, template, operation)
            role_needed = required_role(method, template)
            answers = {}
            for name, caller in callers.items():
                answers[name] = await caller.request(method, path, params=query, json=body)
                checked.append((name, method, template, answers[name].status_code))
            if method == "GET" and calls_the_station(answers["admin"]):
                role_needed = "operator"
                station_queries.add(template)
            where = (method, template, path)
            for name in ("anonymous", "wrong key"):
                assert answers[name].status_code == 401, (name, *where, answers[name].text)
            for name in ("admin token", "admin"):
                assert answers[name].status_code not in (401, 403), (name, *where, answers[name].text)
                assert answers[name].status_code < 500, (name, *where, answers[name].text)
            for role in ("viewer", "operator"):
                answer = answers[role]
                if RANK[role] < RANK[role_needed]:
                    assert answer.status_code == 403, (role, *where, answer.text)
                    assert answer.json() == {"detail": f"this needs the {role_needed} role; '{role}-key' has '{role}'"}
                else:
                    assert answer.status_code not in (401, 403), (role, *where, answer.text)
                    assert answer.status_code < 500, (role, *where, answer.text)
    finally:
        for caller in callers.values():
            await caller.aclose()
    assert len({(m, p) for _, m, p, _ in checked}) == len(operations) >= 30
    assert "/api/v1/stations/{station_id}/certificates" in station_queries  # GetInstalledCertificateIds
    # Nothing an admin sent in the matrix removed what it relies on.
    assert (await api.get("/api/v1/stations/CP-1")).status_code == 200
