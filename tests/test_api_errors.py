"""HTTP error answers: clear, 4xx, and never echoing secrets."""

from __future__ import annotations

import httpx


async def test_validation_errors_do_not_echo_the_password(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/stations", json={"id": "CP-1", "password": "short-secret"})
    assert response.status_code == 422
    assert "short-secret" not in response.text
    assert any(error["loc"][-1] == "password" for error in response.json()["detail"])


async def test_command_routes_refuse_impossible_station_ids_with_404(api: httpx.AsyncClient) -> None:
    for station_id in ("bad%00id", "a:b", "x" * 49):
        response = await api.post(f"/api/v1/stations/{station_id}/reset", json={"type": "Soft"})
        assert response.status_code == 404, (station_id, response.text)
