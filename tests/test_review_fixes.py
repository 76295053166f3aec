"""Edge cases found in review: inputs the schema allows but naive code mishandles, and secrets."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select

from charger import TestCharger, now
from conftest import ADMIN_TOKEN, RunningCsms
from kilowatt.services.transactions import delivered_wh
from kilowatt.storage.models import DataTransferRecord, MeterValue


@pytest.mark.parametrize("timestamp", ["2026-03-01t10:00:00z", "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5+01:00"])
async def test_rfc3339_timestamps_python_cannot_parse_are_still_stored(csms: RunningCsms, charger: TestCharger, timestamp: str) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": timestamp})
    stop = await charger.call_frame("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 10, "timestamp": timestamp})
    assert stop[0] == 3
    assert (await csms.services.transactions.get(start["transactionId"])).transaction.energy_wh == 10


async def test_non_finite_meter_values_are_kept_as_text_and_do_not_block_the_stop(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 100, "timestamp": now()})
    tx = start["transactionId"]
    for value in ("NaN", "Infinity", "1e999"):
        sample = {"timestamp": now(), "sampledValue": [{"value": value}]}
        assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample]}) == {}
    data = [{"timestamp": now(), "sampledValue": [{"value": "NaN", "context": "Transaction.End"}]}]
    assert await charger.call("StopTransaction", {"transactionId": tx, "meterStop": 600, "timestamp": now(), "transactionData": data}) == {}
    view = await csms.services.transactions.get(tx)
    assert view.transaction.energy_wh == 500
    assert [(m.value, m.value_numeric) for m in view.meter_values] == [("NaN", None), ("Infinity", None), ("1e999", None), ("NaN", None)]


def test_a_less_precise_reading_is_not_a_meter_reset() -> None:
    # a kWh register (1234.5 kWh) read against a Wh meterStart: a dip, not a reset
    assert delivered_wh(1_234_567, [1_234_500, 1_240_000], 1_240_100) == 5_533
    assert delivered_wh(100_000, [101_000, 102_000, 0, 1_500], 1_800) == 3_800  # a real reset


async def test_group_id_too_long_for_16_is_left_out_not_answered_with_an_error(csms: RunningCsms, charger: TestCharger) -> None:
    group = "G" * 30
    await csms.services.authorization.create(group)
    await csms.services.authorization.create("TAG-1", parent_id_token=group)
    await charger.boot()
    assert (await charger.call("Authorize", {"idTag": "TAG-1"}))["idTagInfo"] == {"status": "Accepted"}


async def test_an_unknown_stop_does_not_disturb_the_writes_batched_with_it(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-1")
    ids = [f"CP-{i}" for i in range(6)]
    for station_id in ids:
        await csms.services.stations.create(station_id)

    async def session(station_id: str, bad: bool) -> list:
        async with TestCharger.connect(csms.ocpp_url, station_id) as cp:
            await cp.boot()
            if bad:
                return await cp.call_frame("StopTransaction", {"transactionId": 987654, "meterStop": 1, "timestamp": now()})
            mv = {"connectorId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [{"value": "5"}]}]}
            return await cp.call_frame("MeterValues", mv)

    answers = await asyncio.gather(*(session(s, i % 2 == 0) for i, s in enumerate(ids)))
    assert [a[0] for a in answers] == [4, 3, 4, 3, 4, 3]
    assert {a[2] for a in answers if a[0] == 4} == {"PropertyConstraintViolation"}
    async with csms.application.sessions() as s:
        assert len((await s.execute(select(MeterValue))).scalars().all()) == 3


async def test_authorization_key_change_needs_admin_is_never_stored_in_clear_and_becomes_the_station_password(
    csms: RunningCsms, api: httpx.AsyncClient, charger: TestCharger
) -> None:
    new_key = "0123456789abcdef-new"

    async def responder(action: str, payload: dict):
        if action == "ChangeConfiguration":
            return {"status": "Accepted"}
        return {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": "old-secret-old-secret"}]}

    charger.responder = responder
    await charger.boot()
    operator = (await api.post("/api/v1/api-keys", json={"name": "ops", "role": "operator"})).json()["key"]
    async with charger.answering():
        await asyncio.sleep(0.2)
        refused = await api.patch(
            "/api/v1/stations/CP-1/configuration",
            json={"key": "AuthorizationKey", "value": new_key},
            headers={"Authorization": f"Bearer {operator}"},
        )
        assert refused.status_code == 403
        too_short = await api.patch("/api/v1/stations/CP-1/configuration", json={"key": "AuthorizationKey", "value": "short"})
        assert too_short.status_code == 422
        ok = await api.patch("/api/v1/stations/CP-1/configuration", json={"key": "AuthorizationKey", "value": new_key})
        assert ok.status_code == 200 and ok.json()["status"] == "Accepted"
    for path in ("/api/v1/stations/CP-1/commands", "/api/v1/stations/CP-1/configuration", "/api/v1/audit-log"):
        text = (await api.get(path)).text
        assert new_key not in text and "old-secret-old-secret" not in text, path
    station = (await api.get("/api/v1/stations/CP-1")).json()
    assert station["has_password"] is True
    await charger.socket.close()
    await asyncio.sleep(0.1)
    base = csms.ocpp_url.replace("ws://", f"ws://CP-1:{new_key}@")
    async with TestCharger.connect(base, "CP-1") as again:
        assert "currentTime" in await again.call("Heartbeat", {})


async def test_oversized_api_body_is_refused_before_authentication(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        response = await client.post("/api/v1/stations", content=b"x" * (1024 * 1024 + 10), headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_outbound_data_transfer_is_recorded(csms: RunningCsms, api: httpx.AsyncClient, charger: TestCharger) -> None:
    await charger.boot()

    async def responder(action: str, payload: dict):
        return {"status": "Accepted", "data": "pong"} if action == "DataTransfer" else {"configurationKey": []}

    charger.responder = responder
    async with charger.answering():
        response = await api.post("/api/v1/stations/CP-1/data-transfer", json={"vendor_id": "com.acme", "data": "ping"})
    assert response.status_code == 200
    async with csms.application.sessions() as s:
        rows = (await s.execute(select(DataTransferRecord))).scalars().all()
    assert [(r.direction, r.vendor_id, r.data, r.status, r.response_data) for r in rows] == [("outbound", "com.acme", "ping", "Accepted", "pong")]
    assert json.loads(response.text)["response"] == {"status": "Accepted", "data": "pong"}
