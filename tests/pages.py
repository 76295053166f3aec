"""Every read page of the API, found from its own OpenAPI document, must answer 200.

Used after hostile input: whatever a charger or a caller sent, what was stored must still be
readable by every page that shows it.
"""

from __future__ import annotations

from typing import Any

import httpx

from kilowatt.services.common import MAX_PAGE_SIZE


async def get_every_page(api: httpx.AsyncClient, station_ids: list[str]) -> dict[str, int]:
    """GET every page for ``station_ids`` and every transaction; return the status of each URL
    tried (so a test can assert they are all 200 and say which is not).

    Pages that ask a live station (they document 409 for a station that is not connected) count
    as answering with that 409; pages that need a query parameter are not tried."""
    document = (await api.get("/openapi.json")).json()
    statuses: dict[str, int] = {}
    transactions = await _all(api, "/api/v1/transactions")
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None or any(p.get("required") and p["in"] == "query" for p in operation.get("parameters", [])):
            continue
        for url in _urls(path, station_ids, [str(tx["id"]) for tx in transactions]):
            status = (await api.get(url)).status_code
            statuses[url] = 200 if status == 409 and "409" in operation.get("responses", {}) else status
    return statuses


def _urls(path: str, station_ids: list[str], transaction_ids: list[str]) -> list[str]:
    if "{" not in path:
        return [path]
    if path.count("{") == 1 and "{station_id}" in path:
        return [path.replace("{station_id}", station_id) for station_id in station_ids]
    if path.count("{") == 1 and "{transaction_id}" in path:
        return [path.replace("{transaction_id}", tx) for tx in transaction_ids]
    return []  # a page of one thing by another id: reached through the lists above


async def _all(api: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    answer = await api.get(url, params={"limit": MAX_PAGE_SIZE})
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
    return answer.json()["items"]


def failing(statuses: dict[str, int]) -> dict[str, int]:
    return {url: status for url, status in statuses.items() if status != 200}
