"""DataTransfer sent by the CSMS through the API: the station's answer is returned and recorded."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.storage.models import DataTransferRecord


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
