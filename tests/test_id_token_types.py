"""Id tokens and their OCPP 2.0.1 type, over real sockets and the REST API.

A 2.0.1/2.1 station presents a token with a type (ISO14443, KeyCode, ...): only the registered type
is the registered token; the same value with another type is Unknown and leaks nothing of it. The
answers carry the token's group with its type, its expiry and the personal message the operator set;
a 1.6 station (idTag, no type) matches by value and gets none of 2.0.1's fields. Local lists and
reservations reach a 2.0.1/2.1 station with the registered types.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from charger import TestCharger, now, sent, station
from conftest import RunningCsms
from v201_station import V201Station

MESSAGE = {"format": "UTF8", "language": "en", "content": "Welcome back, Ada"}
EXPIRY = "2031-06-01T00:00:00Z"


@pytest.fixture(params=["ocpp2.0.1", "ocpp2.1"])
def version(request: pytest.FixtureRequest) -> str:
    return request.param


async def register(api: httpx.AsyncClient) -> dict[str, Any]:
    """GROUP-1 (type Local) and CARD-1 (ISO14443, in GROUP-1, with an expiry and a personal message)."""
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "GROUP-1", "type": "Local"})).status_code == 201
    created = await api.post(
        "/api/v1/id-tokens",
        json={"id_token": "CARD-1", "type": "ISO14443", "parent_id_token": "GROUP-1", "expiry_date": EXPIRY, "personal_message": MESSAGE},
    )
    assert created.status_code == 201, created.text
    return created.json()


def started(transaction_id: str, id_token: dict[str, str], evse_id: int = 1) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": now(),
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": transaction_id},
        "evse": {"id": evse_id, "connectorId": 1},
        "idToken": id_token,
    }


ACCEPTED_INFO = {
    "status": "Accepted",
    "cacheExpiryDateTime": "2031-06-01T00:00:00.000Z",
    "groupIdToken": {"idToken": "GROUP-1", "type": "Local"},
    "personalMessage": MESSAGE,
}


async def test_another_type_is_unknown_and_changes_nothing(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    token_before = await register(api)
    await csms.services.stations.create("CS-1")
    mismatched, matching = str(uuid.uuid4()), str(uuid.uuid4())
    async with V201Station.connect(csms.ocpp_url, "CS-1", version) as cs:
        key_code = {"idToken": "CARD-1", "type": "KeyCode"}
        assert (await cs.call("Authorize", {"idToken": key_code}))["idTokenInfo"] == {"status": "Unknown"}
        assert (await cs.call("TransactionEvent", started(mismatched, key_code)))["idTokenInfo"] == {"status": "Unknown"}

        rfid = {"idToken": "CARD-1", "type": "ISO14443"}
        assert (await cs.call("Authorize", {"idToken": rfid}))["idTokenInfo"] == ACCEPTED_INFO
        # The key code's transaction on EVSE 1 is not CARD-1's: CARD-1 starting on EVSE 2 is no ConcurrentTx.
        assert (await cs.call("TransactionEvent", started(matching, rfid, evse_id=2)))["idTokenInfo"] == ACCEPTED_INFO

        # NoAuthorization asks nobody to be authorized: Accepted, without a look-up or anything of CARD-1.
        free = {"idToken": "", "type": "NoAuthorization"}
        assert (await cs.call("Authorize", {"idToken": free}))["idTokenInfo"] == {"status": "Accepted"}

    assert (await api.get("/api/v1/id-tokens/CARD-1")).json() == token_before
    stored = {}
    for transaction_id in (mismatched, matching):
        body = (await api.get(f"/api/v1/stations/CS-1/transactions/{transaction_id}")).json()
        stored[transaction_id] = (body["id_token"], body["id_token_type"], body["id_token_status"])
    assert stored == {mismatched: ("CARD-1", "KeyCode", "Invalid"), matching: ("CARD-1", "ISO14443", "Accepted")}


async def test_a_qrcode_message_goes_to_21_stations_only(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    qr = {"format": "QRCODE", "content": "https://pay.example/ada"}
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "APP-1", "type": "Central", "personal_message": qr})).status_code == 201
    await csms.services.stations.create("CS-1")
    async with V201Station.connect(csms.ocpp_url, "CS-1", version) as cs:
        info = (await cs.call("Authorize", {"idToken": {"idToken": "APP-1", "type": "Central"}}))["idTokenInfo"]
    assert info == ({"status": "Accepted", "personalMessage": qr} if version == "ocpp2.1" else {"status": "Accepted"})


async def test_ocpp16_matches_by_value_without_201_fields(csms: RunningCsms, api: httpx.AsyncClient, charger: TestCharger) -> None:
    await register(api)
    await charger.boot()
    answer = await charger.call("Authorize", {"idTag": "CARD-1"})
    assert answer == {"idTagInfo": {"status": "Accepted", "expiryDate": "2031-06-01T00:00:00.000Z", "parentIdTag": "GROUP-1"}}
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": now()})
    assert start["idTagInfo"] == answer["idTagInfo"]


async def test_local_list_and_reservation_carry_the_registered_types(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    await register(api)
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "KEY-9", "type": "KeyCode"})).status_code == 201
    await csms.services.stations.create("CS-1")
    async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=[version]) as cs:
        cs.responder = station({"SendLocalList": {"status": "Accepted"}, "ReserveNow": {"status": "Accepted"}})
        async with cs.answering():
            full = await api.post("/api/v1/stations/CS-1/local-list", json={"update_type": "Full"})
            assert full.status_code == 200, full.text
            # Only the type of KEY-9 changes: a Differential update sends it again, with its new type.
            assert (await api.patch("/api/v1/id-tokens/KEY-9", json={"type": "MacAddress"})).status_code == 200
            diff = await api.post("/api/v1/stations/CS-1/local-list", json={"update_type": "Differential"})
            assert diff.status_code == 200, diff.text
            expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
            reserved = await api.post("/api/v1/stations/CS-1/reservations", json={"evse_id": 1, "id_token": "CARD-1", "expiry_date": expiry})
            assert reserved.status_code in (200, 201), reserved.text
    group = {"idToken": "GROUP-1", "type": "Local"}
    assert sent(cs, "SendLocalList")[0]["localAuthorizationList"] == [
        {"idToken": {"idToken": "CARD-1", "type": "ISO14443"},
         "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2031-06-01T00:00:00.000Z", "groupIdToken": group}},
        {"idToken": group, "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "KEY-9", "type": "KeyCode"}, "idTokenInfo": {"status": "Accepted"}},
    ]
    assert sent(cs, "SendLocalList")[1]["localAuthorizationList"] == [
        {"idToken": {"idToken": "KEY-9", "type": "MacAddress"}, "idTokenInfo": {"status": "Accepted"}},
    ]
    [reserve] = sent(cs, "ReserveNow")
    assert (reserve["idToken"], reserve["groupIdToken"]) == ({"idToken": "CARD-1", "type": "ISO14443"}, group)
    entries = (await api.get("/api/v1/stations/CS-1/local-list")).json()["entries"]
    assert [(e["id_token"], e["id_token_type"], e["parent_id_token_type"]) for e in entries] == [
        ("CARD-1", "ISO14443", "Local"),
        ("GROUP-1", "Local", None),
        ("KEY-9", "MacAddress", None),
    ]


async def test_personal_message_is_set_changed_and_cleared_through_the_api(api: httpx.AsyncClient) -> None:
    created = await register(api)
    assert created["personal_message"] == MESSAGE
    changed = await api.patch("/api/v1/id-tokens/CARD-1", json={"personal_message": {"format": "ASCII", "content": "Hi"}})
    assert changed.json()["personal_message"] == {"format": "ASCII", "language": None, "content": "Hi"}
    assert (await api.patch("/api/v1/id-tokens/CARD-1", json={"status": "Blocked"})).json()["personal_message"]["content"] == "Hi"
    assert (await api.patch("/api/v1/id-tokens/CARD-1", json={"personal_message": None})).json()["personal_message"] is None
    assert (await api.get("/api/v1/id-tokens/CARD-1")).json()["personal_message"] is None


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ({"format": "UTF8", "content": "x" * 513}, "512"),
        ({"format": "Markdown", "content": "hi"}, "format"),
        ({"format": "UTF8", "content": ""}, "content"),
        ({"format": "UTF8", "language": "en-GB-oxendict", "content": "hi"}, "language"),
        ({"content": "hi"}, "format"),
        ({"format": "UTF8", "content": "hi", "colour": "red"}, "colour"),
        ({"format": "UTF8", "content": "a\x00b"}, "NUL"),
    ],
)
async def test_bad_personal_messages_give_422(api: httpx.AsyncClient, message: dict[str, Any], complaint: str) -> None:
    refused = await api.post("/api/v1/id-tokens", json={"id_token": "CARD-2", "personal_message": message})
    assert refused.status_code == 422 and complaint in refused.text, refused.text
    assert (await api.get("/api/v1/id-tokens/CARD-2")).status_code == 404
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "CARD-2"})).status_code == 201
    assert (await api.patch("/api/v1/id-tokens/CARD-2", json={"personal_message": message})).status_code == 422


async def test_the_type_check_costs_no_query_of_its_own(csms: RunningCsms) -> None:
    """Concurrent decisions share one look-up by value whatever types they come with; the type is
    compared afterwards (a look-up keyed by type would split them)."""
    authorization = csms.services.authorization
    await authorization.create("CARD-1", type="ISO14443")
    await authorization.create("KEY-1", type="KeyCode")
    asked = [("CARD-1", "ISO14443"), ("CARD-1", "KeyCode"), ("KEY-1", "KeyCode"), ("KEY-1", None), ("CARD-1", None)] * 10
    before = authorization._lookups.queries
    results = await asyncio.gather(*(authorization.authorize(token, kind) for token, kind in asked))
    assert authorization._lookups.queries - before == 1
    assert [(r.status, r.known) for r in results[:5]] == [
        ("Accepted", True), ("Invalid", False), ("Accepted", True), ("Accepted", True), ("Accepted", True),
    ]  # fmt: skip
