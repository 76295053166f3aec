"""Limits on what the API reads: an oversized body is refused (413) before anything else, authentication included."""

from __future__ import annotations

import httpx

from conftest import RunningCsms


async def test_oversized_api_body_is_refused_before_authentication(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as client:
        response = await client.post("/api/v1/stations", content=b"x" * (1024 * 1024 + 10), headers={"content-type": "application/json"})
    assert response.status_code == 413
