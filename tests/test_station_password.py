"""A station's password (1.6 AuthorizationKey): set through the API by an admin only, never shown or stored in clear, and used at the next connect."""

from __future__ import annotations

import asyncio

import httpx

from charger import TestCharger
from conftest import RunningCsms


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
