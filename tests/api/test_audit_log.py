"""The audit log over real HTTP: every write recorded with its outcome, secrets removed, reads not
recorded, filters and pagination, who may read it, and a failing audit write that breaks nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import ADMIN_TOKEN, RunningCsms
from kilowatt.api.audit import MAX_RECORDED_BODY_BYTES, redact


async def entries(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-log", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def client(csms: RunningCsms, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(base_url=csms.api_url, headers=headers, timeout=10)


async def test_every_write_is_recorded_with_its_outcome(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    viewer_key = (await api.post("/api/v1/api-keys", json={"name": "dash", "role": "viewer"})).json()["key"]
    assert (await api.post("/api/v1/stations", json={"id": "CP-1", "password": "correct-horse-battery"})).status_code == 201
    assert (await api.post("/api/v1/stations", json={"id": "CP-1"})).status_code == 409
    assert (await api.patch("/api/v1/stations/CP-1", json={"registration_status": "Nope"})).status_code == 422
    assert (await api.delete("/api/v1/id-tokens/NOPE")).status_code == 404
    assert (await api.post("/api/v1/no-such-route", json={"a": 1})).status_code == 404
    assert (await api.post("/api/v1/stations", content=b"{not json", headers={"content-type": "application/json"})).status_code == 422
    async with client(csms, viewer_key) as viewer, client(csms, None) as anonymous, client(csms, "wrong") as wrong:
        assert (await viewer.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})).status_code == 403
        assert (await anonymous.delete("/api/v1/stations/CP-1")).status_code == 401
        assert (await wrong.patch("/api/v1/id-tokens/TAG-1?x=1", json={"status": "Blocked"})).status_code == 401
    assert (await api.post("/api/v1/stations/CP-1/reset", json={"mode": "Immediate"})).status_code == 409  # never connected

    recorded = [(e["principal"], e["role"], e["method"], e["path"], e["status_code"], e["body"]) for e in reversed(await entries(api))]
    assert recorded == [
        ("admin-token", "admin", "POST", "/api/v1/api-keys", 201, {"name": "dash", "role": "viewer"}),
        ("admin-token", "admin", "POST", "/api/v1/stations", 201, {"id": "CP-1", "password": "***"}),
        ("admin-token", "admin", "POST", "/api/v1/stations", 409, {"id": "CP-1"}),
        ("admin-token", "admin", "PATCH", "/api/v1/stations/CP-1", 422, {"registration_status": "Nope"}),
        ("admin-token", "admin", "DELETE", "/api/v1/id-tokens/NOPE", 404, None),
        ("admin-token", "admin", "POST", "/api/v1/no-such-route", 404, {"a": 1}),
        ("admin-token", "admin", "POST", "/api/v1/stations", 422, {"not_recorded": "body of 9 bytes is not JSON"}),
        ("dash", "viewer", "POST", "/api/v1/id-tokens", 403, {"id_token": "TAG-1"}),
        ("unauthenticated", "none", "DELETE", "/api/v1/stations/CP-1", 401, None),
        ("unauthenticated", "none", "PATCH", "/api/v1/id-tokens/TAG-1?x=1", 401, {"status": "Blocked"}),
        ("admin-token", "admin", "POST", "/api/v1/stations/CP-1/reset", 409, {"mode": "Immediate"}),
    ]
    newest = (await entries(api))[0]
    assert set(newest) == {"id", "at", "principal", "role", "method", "path", "status_code", "body"}
    assert newest["at"].endswith("Z")


async def test_reads_are_not_recorded_and_cost_no_audit_work(
    csms: RunningCsms, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = (await api.post("/api/v1/api-keys", json={"name": "reader", "role": "operator"})).json()["key"]
    before = len(await entries(api))
    lookups: list[str] = []
    authenticate = csms.services.api_keys.authenticate

    async def counting(token: str) -> Any:
        lookups.append(token)
        return await authenticate(token)

    monkeypatch.setattr(csms.services.api_keys, "authenticate", counting)
    records: list[Any] = []
    record = csms.services.audit.record

    async def counting_record(*args: Any, **kwargs: Any) -> Any:
        records.append(args)
        return await record(*args, **kwargs)

    monkeypatch.setattr(csms.services.audit, "record", counting_record)
    async with client(csms, key) as operator:
        for path in ("/api/v1/stations", "/api/v1/id-tokens", "/api/v1/transactions", "/api/v1/audit-log", "/api/v1/nowhere"):
            await operator.get(path)
        await operator.head("/api/v1/stations")
        await operator.options("/api/v1/stations")
        assert records == [] and len(lookups) == 4  # one key lookup per authenticated GET; nothing for the audit
        lookups.clear()
        assert (await operator.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})).status_code == 201
        assert len(records) == 1 and len(lookups) == 1  # the audit reuses the caller the route resolved
    assert len(await entries(api)) == before + 1


async def test_secrets_are_not_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CP-1")
    created = (await api.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()
    pem = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----"
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/stations", {"id": "CP-2", "password": "s3cret-passw0rd-1"}),
        ("PATCH", "/api/v1/stations/CP-1", {"password": "s3cret-passw0rd-2"}),
        ("PATCH", "/api/v1/stations/CP-1/configuration", {"key": "AuthorizationKey", "value": "s3cret-auth-key-3"}),
        ("PATCH", "/api/v1/stations/CP-1/configuration", {"key": "HeartbeatInterval", "value": "300"}),
        ("POST", "/api/v1/stations/CP-1/certificates", {"certificate_type": "CentralSystemRootCertificate", "certificate": pem}),
        ("POST", "/api/v1/stations/CP-1/certificates/signed", {"certificate_chain": pem}),
    ]
    for method, path, body in writes:
        response = await api.request(method, path, json=body)
        assert response.status_code < 500, (path, response.text)
    stored = await entries(api, path="/api/v1/stations")
    text = str(stored) + (await api.get("/api/v1/audit-log")).text
    for secret in ("s3cret", "BEGIN CERTIFICATE", created["key"]):
        assert secret not in text, secret
    bodies = [e["body"] for e in reversed(stored)]
    assert bodies[:5] == [
        {"id": "CP-2", "password": "***"},
        {"password": "***"},
        {"key": "AuthorizationKey", "value": "***"},
        {"key": "HeartbeatInterval", "value": "300"},
        {"certificate_type": "CentralSystemRootCertificate", "certificate": "***"},
    ]
    # Removing a password is recorded as such: null is not a secret.
    await api.patch("/api/v1/stations/CP-1", json={"password": None})
    assert (await entries(api, limit=1))[0]["body"] == {"password": None}


def test_redaction_rules() -> None:
    assert redact(
        {
            "id_token": "TAG-1",
            "password": "p",
            "Basic_Password": "p",
            "api_key": "k",
            "private_key": "k",
            "client_secret": "s",
            "signing_certificate": "c",
            "token": "t",
            "nested": [{"password": "p", "keep": 1}, {"key": "BasicAuthPassword", "value": "v"}],
            "key": "MeterValueSampleInterval",
            "value": "60",
        }
    ) == {
        "id_token": "TAG-1",
        "password": "***",
        "Basic_Password": "***",
        "api_key": "***",
        "private_key": "***",
        "client_secret": "***",
        "signing_certificate": "***",
        "token": "***",
        "nested": [{"password": "***", "keep": 1}, {"key": "BasicAuthPassword", "value": "***"}],
        "key": "MeterValueSampleInterval",
        "value": "60",
    }
    assert redact([1, "password", None]) == [1, "password", None]


async def test_filters_and_pages(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    ops_key = (await api.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()["key"]
    await api.post("/api/v1/stations", json={"id": "CP-1"})
    await api.post("/api/v1/stations", json={"id": "CP-2"})
    async with client(csms, ops_key) as ops:
        await ops.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})
        await ops.patch("/api/v1/id-tokens/TAG-1", json={"status": "Blocked"})
        await ops.delete("/api/v1/id-tokens/TAG-1")
    await api.delete("/api/v1/stations/CP-2")

    everything = await entries(api)
    assert len(everything) == 7
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)  # newest first

    assert [e["method"] for e in await entries(api, principal="ops")] == ["DELETE", "PATCH", "POST"]
    assert [e["path"] for e in await entries(api, method="DELETE")] == ["/api/v1/stations/CP-2", "/api/v1/id-tokens/TAG-1"]
    assert [e["path"] for e in await entries(api, path="/api/v1/stations/CP-")] == ["/api/v1/stations/CP-2"]
    assert len(await entries(api, path="/api/v1/stations")) == 3
    assert await entries(api, path="/api/v1/stations%") == []  # a prefix, not a pattern
    assert len(await entries(api, principal="admin-token", method="POST")) == 3

    middle = everything[3]["at"]
    since = await entries(api, since=middle)
    until = await entries(api, until=middle)
    assert {e["id"] for e in since} | {e["id"] for e in until} == {e["id"] for e in everything}
    assert not {e["id"] for e in since} & {e["id"] for e in until}
    assert everything[3]["id"] in {e["id"] for e in since}  # since is inclusive, until exclusive
    assert (await api.get("/api/v1/audit-log", params={"since": "2030-01-01T00:00:00"})).status_code == 422  # no zone
    assert (await api.get("/api/v1/audit-log", params={"method": "GET"})).status_code == 422

    page = (await api.get("/api/v1/audit-log", params={"limit": 2, "offset": 2})).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 2, 2)
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything[2:4]]


async def test_operators_and_admins_read_it_viewers_do_not(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    keys = {role: (await api.post("/api/v1/api-keys", json={"name": role, "role": role})).json()["key"] for role in ("viewer", "operator", "admin")}
    for role, key in keys.items():
        async with client(csms, key) as caller:
            response = await caller.get("/api/v1/audit-log")
            assert response.status_code == (403 if role == "viewer" else 200), (role, response.text)


async def test_a_failing_audit_write_does_not_fail_the_request(
    csms: RunningCsms, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit table is gone")

    monkeypatch.setattr(csms.services.audit, "record", broken)
    response = await api.post("/api/v1/stations", json={"id": "CP-1"})
    assert response.status_code == 201, response.text
    assert (await api.post("/api/v1/stations", json={"id": "CP-1"})).status_code == 409
    assert (await csms.services.stations.get("CP-1")).station.id == "CP-1"


async def test_a_server_error_is_recorded_as_500(
    csms: RunningCsms, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(csms.services.authorization, "create", crash)
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})).status_code == 500
    (entry,) = await entries(api)
    assert (entry["method"], entry["path"], entry["status_code"], entry["principal"]) == ("POST", "/api/v1/id-tokens", 500, "admin-token")


async def test_large_bodies_are_noted_not_stored(api: httpx.AsyncClient) -> None:
    big = {"id": "CP-1", "padding": "x" * MAX_RECORDED_BODY_BYTES}
    assert (await api.post("/api/v1/stations", json=big)).status_code == 422
    (entry,) = await entries(api)
    assert entry["status_code"] == 422 and "not_recorded" in entry["body"] and "xxxx" not in str(entry["body"])


async def test_the_admin_token_is_never_recorded(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/stations", json={"id": "CP-1", "password": ADMIN_TOKEN})
    assert ADMIN_TOKEN not in (await api.get("/api/v1/audit-log")).text


async def test_refused_bodies_with_nul_or_scalars_are_recorded_and_readable(api: httpx.AsyncClient) -> None:
    """A request refused for a NUL or for not being an object is still audited, and the log stays
    readable on every backend (PostgreSQL text cannot hold NUL; SQLite's JSON column turns a
    scalar into a number)."""
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "A\u0000B"})).status_code == 422
    assert (await api.post("/api/v1/stations", content=b"7", headers={"content-type": "application/json"})).status_code == 422
    recorded = [(e["path"], e["status_code"], e["body"]) for e in reversed(await entries(api))]
    assert recorded == [
        ("/api/v1/id-tokens", 422, {"id_token": "A\u0000B"}),
        ("/api/v1/stations", 422, {"json": 7}),
    ]


async def test_a_path_with_a_nul_is_recorded(api: httpx.AsyncClient) -> None:
    """``%00`` decodes to NUL, which PostgreSQL cannot store: the entry keeps it escaped instead of
    failing to save (the write is refused either way)."""
    assert (await api.patch("/api/v1/id-tokens/nul%00", json={"status": "Blocked"})).status_code == 422
    assert [(e["method"], e["path"], e["status_code"]) for e in await entries(api)] == [("PATCH", "/api/v1/id-tokens/nul%00", 422)]
