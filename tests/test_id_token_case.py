"""Id tokens are case insensitive (OCPP 1.6 IdToken, 2.0.1/2.1 IdTokenType.idToken).

A charger may send "abcd1234" for the card registered as "ABCD1234": it is that card, for
Authorize, StartTransaction, TransactionEvent, ConcurrentTx and blocking, over real websockets on
SQLite and PostgreSQL. The registry holds one token per spelling-ignoring-case (the API answers 409
for a second one and finds a token named in any case), and stores and shows tokens as registered,
transactions keep the token as the station sent it. Migration 0016 refuses to merge two registered
tokens that differ only in case.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from charger import TestCharger, now, sent, station
from conftest import RunningCsms
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from v201_station import V201Station


async def create(api: httpx.AsyncClient, id_token: str, **fields: Any) -> dict[str, Any]:
    answer = await api.post("/api/v1/id-tokens", json={"id_token": id_token, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_the_registry_holds_one_token_whatever_its_case(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    registered = await create(api, "ABCD1234")

    duplicate = await api.post("/api/v1/id-tokens", json={"id_token": "abcd1234"})
    assert duplicate.status_code == 409, duplicate.text
    assert "'abcd1234' already exists as 'ABCD1234'" in duplicate.text

    found = await api.get("/api/v1/id-tokens/abCD1234")
    assert found.status_code == 200, found.text
    assert found.json() == registered  # shown as registered

    # A group named in any case is that group; the member stores the group as registered.
    member = await create(api, "card-2", parent_id_token="abcd1234")
    assert member["parent_id_token"] == "ABCD1234"
    group = await api.get("/api/v1/id-tokens", params={"parent_id_token": "AbCd1234"})
    assert [token["id_token"] for token in group.json()["items"]] == ["card-2"]
    own_parent = await api.patch("/api/v1/id-tokens/CARD-2", json={"parent_id_token": "card-2"})
    assert own_parent.status_code == 422, own_parent.text

    patched = await api.patch("/api/v1/id-tokens/abcd1234", json={"status": "Blocked"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["id_token"], patched.json()["status"]) == ("ABCD1234", "Blocked")

    assert (await api.delete("/api/v1/id-tokens/CARD-2")).status_code == 204
    assert (await api.get("/api/v1/id-tokens/card-2")).status_code == 404
    assert (await api.delete("/api/v1/id-tokens/card-2")).status_code == 404


async def test_ocpp16_any_case_is_the_card_and_concurrent_across_case(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await create(api, "GROUP-1")
    await create(api, "ABCD1234", parent_id_token="GROUP-1")
    await create(api, "LOST-1", status="Blocked")
    accepted = {"idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP-1"}}
    for station_id in ("CP-1", "CP-2"):
        await csms.services.stations.create(station_id)
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as cp1, TestCharger.connect(csms.ocpp_url, "CP-2") as cp2:
        await cp1.boot()
        await cp2.boot()
        assert await cp1.call("Authorize", {"idTag": "abcd1234"}) == accepted
        start = await cp1.call("StartTransaction", {"connectorId": 1, "idTag": "abcd1234", "meterStart": 0, "timestamp": now()})
        assert start["idTagInfo"] == accepted["idTagInfo"]
        # The same card in another case, on another station, while its transaction runs.
        other = await cp2.call("StartTransaction", {"connectorId": 1, "idTag": "AbCd1234", "meterStart": 0, "timestamp": now()})
        assert other["idTagInfo"]["status"] == "ConcurrentTx"
        # A blocked card is blocked in any case.
        assert (await cp1.call("Authorize", {"idTag": "lost-1"}))["idTagInfo"] == {"status": "Blocked"}
        # So is a member of a blocked group named in another case.
        assert (await api.patch("/api/v1/id-tokens/group-1", json={"status": "Blocked"})).status_code == 200
        assert (await cp1.call("Authorize", {"idTag": "Abcd1234"}))["idTagInfo"]["status"] == "Blocked"
    body = (await api.get(f"/api/v1/transactions/{start['transactionId']}")).json()
    assert (body["id_token"], body["id_token_status"]) == ("abcd1234", "Accepted")  # as the station sent it


@pytest.mark.parametrize("version", ["ocpp2.0.1", "ocpp2.1"])
async def test_ocpp201_any_case_is_the_card_and_concurrent_across_case(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    await create(api, "ABCD1234", type="ISO14443")
    await create(api, "Lost-2", type="ISO14443", status="Blocked")
    await csms.services.stations.create("CS-1")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    async with V201Station.connect(csms.ocpp_url, "CS-1", version) as cs:
        lower = {"idToken": "abcd1234", "type": "ISO14443"}
        assert (await cs.call("Authorize", {"idToken": lower}))["idTokenInfo"] == {"status": "Accepted"}
        # The type is still checked: the value in any case with another type is another token.
        key_code = {"idToken": "abcd1234", "type": "KeyCode"}
        assert (await cs.call("Authorize", {"idToken": key_code}))["idTokenInfo"] == {"status": "Unknown"}
        assert (await cs.call("TransactionEvent", started(first, lower, evse_id=1)))["idTokenInfo"] == {"status": "Accepted"}
        upper = {"idToken": "ABCD1234", "type": "ISO14443"}
        assert (await cs.call("TransactionEvent", started(second, upper, evse_id=2)))["idTokenInfo"] == {"status": "ConcurrentTx"}
        blocked = {"idToken": "LOST-2", "type": "ISO14443"}
        assert (await cs.call("Authorize", {"idToken": blocked}))["idTokenInfo"] == {"status": "Blocked"}
    body = (await api.get(f"/api/v1/stations/CS-1/transactions/{first}")).json()
    assert (body["id_token"], body["id_token_status"]) == ("abcd1234", "Accepted")


def started(transaction_id: str, id_token: dict[str, str], evse_id: int) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": now(),
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": transaction_id},
        "evse": {"id": evse_id, "connectorId": 1},
        "idToken": id_token,
    }


_TOKEN_ROW = (
    "INSERT INTO id_tokens (id_token, type, status, created_at, updated_at) "
    "VALUES (:id_token, 'ISO14443', 'Accepted', '2026-11-01 09:00:00', '2026-11-01 09:00:00')"
)


async def test_migration_0016_refuses_tokens_that_differ_only_in_case(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0015")
        async with engine.begin() as connection:
            for id_token in ("abc-1", "ABC-1", "Other"):
                await connection.execute(text(_TOKEN_ROW), {"id_token": id_token})
            for evse_id, stopped_at in ((1, "NULL"), (2, "'2026-11-01 11:00:00'")):  # an open and an ended transaction
                await connection.execute(
                    text(
                        "INSERT INTO transactions (station_id, evse_id, connector_id, id_token, started_at, stopped_at, "
                        f"offline, created_at, updated_at) VALUES ('CP-1', {evse_id}, 1, 'Abc-1', '2026-11-01 10:00:00', "
                        f"{stopped_at}, false, '2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                    )
                )
        with pytest.raises(Exception, match=r"differ only in case: 'ABC-1' and 'abc-1'\. Delete all but one"):
            await upgrade(engine)
        async with engine.begin() as connection:  # nothing merged: the operator decides
            await connection.execute(text("DELETE FROM id_tokens WHERE id_token = 'abc-1'"))
        await upgrade(engine)
        async with engine.connect() as connection:
            keys = (await connection.execute(text("SELECT id_token, key FROM id_tokens ORDER BY id_token"))).all()
            transactions = (
                await connection.execute(text("SELECT stopped_at IS NULL, id_token_key FROM transactions ORDER BY id"))
            ).all()
        assert [tuple(row) for row in keys] == [("ABC-1", "abc-1"), ("Other", "other")]
        # ConcurrentTx asks about open transactions only: those get their key.
        assert [tuple(row) for row in transactions] == [(True, "abc-1"), (False, None)]
    finally:
        await engine.dispose()


async def test_a_local_list_names_tokens_in_any_case_and_sends_them_as_registered(
    csms: RunningCsms, api: httpx.AsyncClient
) -> None:
    await create(api, "ABCD1234")
    await csms.services.stations.create("CS-1")
    async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=["ocpp2.0.1"]) as cs:
        cs.responder = station({"SendLocalList": {"status": "Accepted"}})
        async with cs.answering():
            full = await api.post("/api/v1/stations/CS-1/local-list", json={"update_type": "Full", "id_tokens": ["abcd1234"]})
            assert full.status_code == 200, full.text
            unknown = await api.post("/api/v1/stations/CS-1/local-list", json={"update_type": "Full", "id_tokens": ["nobody"]})
            assert unknown.status_code == 422, unknown.text
    [entry] = sent(cs, "SendLocalList")[0]["localAuthorizationList"]
    assert entry["idToken"] == {"idToken": "ABCD1234", "type": "ISO14443"}
