"""``/api/v1/transactions``: a whole OCPP 1.6 session driven by a test charger, then read through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.services.transactions import TransactionEnded, TransactionStarted

T0 = datetime(2030, 5, 1, 10, 0, tzinfo=timezone.utc)

TRANSACTION_FIELDS = {
    "id", "station_id", "evse_id", "connector_id", "station_transaction_id", "id_token", "id_token_status",
    "reservation_id", "meter_start_wh", "meter_stop_wh", "energy_wh", "started_at", "stopped_at", "start_reason", "stop_reason",
    "stop_id_token", "active", "charging_state", "trigger_reason", "remote_start_id", "number_of_phases_used",
    "cable_max_current_a", "id_token_type", "offline",
}  # fmt: skip
# What a 1.6 transaction says of the fields only 2.0.1 fills.
NOT_IN_16 = {
    "charging_state": None, "trigger_reason": None, "remote_start_id": None, "number_of_phases_used": None,
    "cable_max_current_a": None, "id_token_type": None, "offline": False,
}  # fmt: skip


def at(minutes: float, offset_hours: int = 0) -> str:
    """T0 + minutes as the station would send it, in a zone of its choosing."""
    zone = timezone(timedelta(hours=offset_hours))
    return (T0 + timedelta(minutes=minutes)).astimezone(zone).isoformat(timespec="milliseconds")


def utc(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat(timespec="microseconds").replace("+00:00", "Z")


async def test_a_whole_session(api: httpx.AsyncClient, charger: TestCharger) -> None:
    assert (await api.post("/api/v1/id-tokens", json={"id_token": "TAG-1"})).status_code == 201
    boot = await charger.boot(vendor="Acme", model="Volt 22")
    assert boot["status"] == "Accepted"
    await charger.status(1, "Available")
    station = (await api.get("/api/v1/stations/CP-1")).json()
    assert (station["vendor"], station["model"], station["connected"]) == ("Acme", "Volt 22", True)
    assert [(c["evse_id"], c["connector_id"], c["status"]) for c in station["connectors"]] == [(1, 1, "Available")]

    assert (await charger.call("Authorize", {"idTag": "TAG-1"}))["idTagInfo"]["status"] == "Accepted"
    started = await charger.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": at(0, offset_hours=2), "reservationId": 7},
    )
    assert started["idTagInfo"]["status"] == "Accepted"
    tx_id = started["transactionId"]
    await charger.status(1, "Charging")
    assert (await api.get("/api/v1/stations/CP-1")).json()["connectors"][0]["status"] == "Charging"

    # Active, no meter sample yet: energy is unknown, not zero.
    active = (await api.get("/api/v1/transactions", params={"active": "true"})).json()
    assert active["total"] == 1 and active["items"][0]["id"] == tx_id
    assert active["items"][0]["energy_wh"] is None and active["items"][0]["active"] is True
    assert (await api.get(f"/api/v1/transactions/{tx_id}")).json()["meter_values"] == []

    await charger.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                {
                    "timestamp": at(1),
                    "sampledValue": [
                        {"value": "1.25", "unit": "kWh", "measurand": "Energy.Active.Import.Register"},
                        {"value": "7000", "unit": "W", "measurand": "Power.Active.Import"},
                    ],
                }
            ],
        },
    )
    listed = (await api.get("/api/v1/transactions", params={"active": "true"})).json()["items"][0]
    assert listed["energy_wh"] == 250  # 1.25 kWh - 1000 Wh
    await charger.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                {
                    "timestamp": at(2, offset_hours=-5),
                    "sampledValue": [
                        {"value": "1600"},  # every optional field left to its 1.6 default
                        {"value": "999999", "unit": "Wh", "phase": "L1", "measurand": "Energy.Active.Import.Register"},
                        {"value": "80", "unit": "Percent", "measurand": "SoC", "location": "EV", "context": "Sample.Clock"},
                    ],
                }
            ],
        },
    )
    detail = (await api.get(f"/api/v1/transactions/{tx_id}")).json()
    assert detail["energy_wh"] == 600 and detail["active"] is True and detail["stopped_at"] is None
    assert len(detail["meter_values"]) == 5
    listed = (await api.get("/api/v1/transactions", params={"station_id": "CP-1"})).json()["items"][0]
    assert listed["energy_wh"] == 600  # the list agrees with the detail: per-phase values are not the total

    stopped = await charger.call(
        "StopTransaction",
        {
            "transactionId": tx_id,
            "idTag": "TAG-1",
            "meterStop": 1800,
            "timestamp": at(3),
            "reason": "EVDisconnected",
            "transactionData": [
                {"timestamp": at(3), "sampledValue": [{"value": "AbC==", "format": "SignedData", "context": "Transaction.End"}]}
            ],
        },
    )
    assert stopped["idTagInfo"]["status"] == "Accepted"
    await charger.status(1, "Finishing")

    assert (await api.get("/api/v1/transactions", params={"active": "true"})).json() == {
        "items": [], "total": 0, "limit": 50, "offset": 0,
    }  # fmt: skip
    finished = (await api.get("/api/v1/transactions", params={"active": "false"})).json()
    assert finished["total"] == 1
    summary = finished["items"][0]
    assert set(summary) == TRANSACTION_FIELDS  # no meter values in lists
    assert summary == {
        "id": tx_id,
        "station_id": "CP-1",
        "evse_id": 1,
        "connector_id": 1,
        "station_transaction_id": None,
        "id_token": "TAG-1",
        "id_token_status": "Accepted",
        "reservation_id": 7,
        "meter_start_wh": 1000,
        "meter_stop_wh": 1800,
        "energy_wh": 800,
        "started_at": utc(0),
        "stopped_at": utc(3),
        "start_reason": None,
        "stop_reason": "EVDisconnected",
        "stop_id_token": "TAG-1",
        "active": False,
        **NOT_IN_16,
    }

    detail = (await api.get(f"/api/v1/transactions/{tx_id}")).json()
    assert (detail.pop("events"), detail.pop("missing_seq_nos")) == ([], [])  # 2.0.1 TransactionEvents only
    assert {k: v for k, v in detail.items() if k != "meter_values"} == summary
    for sample in detail["meter_values"]:  # 2.0.1 fields
        assert (sample.pop("unit_multiplier"), sample.pop("signed_meter_value")) == (None, None)
    energy = "Energy.Active.Import.Register"
    assert detail["meter_values"] == [
        {"timestamp": utc(1), "value": "1.25", "value_numeric": 1.25, "measurand": energy, "context": "Sample.Periodic",
         "unit": "kWh", "phase": None, "location": "Outlet", "format": "Raw", "source": "MeterValues"},
        {"timestamp": utc(1), "value": "7000", "value_numeric": 7000.0, "measurand": "Power.Active.Import",
         "context": "Sample.Periodic", "unit": "W", "phase": None, "location": "Outlet", "format": "Raw",
         "source": "MeterValues"},
        {"timestamp": utc(2), "value": "1600", "value_numeric": 1600.0, "measurand": energy, "context": "Sample.Periodic",
         "unit": "Wh", "phase": None, "location": "Outlet", "format": "Raw", "source": "MeterValues"},
        {"timestamp": utc(2), "value": "999999", "value_numeric": 999999.0, "measurand": energy,
         "context": "Sample.Periodic", "unit": "Wh", "phase": "L1", "location": "Outlet", "format": "Raw",
         "source": "MeterValues"},
        {"timestamp": utc(2), "value": "80", "value_numeric": 80.0, "measurand": "SoC", "context": "Sample.Clock",
         "unit": "Percent", "phase": None, "location": "EV", "format": "Raw", "source": "MeterValues"},
        {"timestamp": utc(3), "value": "AbC==", "value_numeric": None, "measurand": energy, "context": "Transaction.End",
         "unit": "Wh", "phase": None, "location": "Outlet", "format": "SignedData", "source": "StopTransaction"},
    ]  # fmt: skip

    station = (await api.get("/api/v1/stations/CP-1")).json()
    assert station["connected"] is True and station["connectors"][0]["status"] == "Finishing"


async def start(csms: RunningCsms, station_id: str, id_token: str, minute: int, evse_id: int = 1) -> int:
    result = await csms.services.transactions.apply(
        TransactionStarted(station_id, evse_id, 1, T0 + timedelta(minutes=minute), id_token, meter_start_wh=100 * minute)
    )
    assert result.ref is not None
    return result.ref.id


async def test_list_filters_and_paginates_newest_first(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    for token in ("A", "B"):
        await api.post("/api/v1/id-tokens", json={"id_token": token})
    ids = [
        await start(csms, "CP-1", "A", 0),
        await start(csms, "CP-2", "B", 1),
        await start(csms, "CP-1", "B", 2, evse_id=2),
        await start(csms, "CP-2", "A", 3, evse_id=2),
        await start(csms, "CP-1", "A", 4, evse_id=3),
    ]
    await csms.services.transactions.apply(TransactionEnded("CP-1", T0 + timedelta(minutes=1), ids[0], meter_stop_wh=50))
    await csms.services.transactions.apply(TransactionEnded("CP-2", T0 + timedelta(minutes=2), ids[1], meter_stop_wh=150))
    newest_first = list(reversed(ids))

    async def listed(**params: object) -> tuple[list[int], int]:
        response = await api.get("/api/v1/transactions", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["limit"] == params.get("limit", 50) and body["offset"] == params.get("offset", 0)
        assert all("meter_values" not in item for item in body["items"])
        return [item["id"] for item in body["items"]], body["total"]

    assert await listed() == (newest_first, 5)
    assert await listed(limit=2) == (newest_first[:2], 5)
    assert await listed(limit=2, offset=4) == (newest_first[4:], 5)
    assert await listed(offset=5) == ([], 5)
    assert await listed(station_id="CP-1") == ([ids[4], ids[2], ids[0]], 3)
    assert await listed(id_token="A") == ([ids[4], ids[3], ids[0]], 3)
    assert await listed(station_id="CP-2", id_token="A") == ([ids[3]], 1)
    assert await listed(active="true") == ([ids[4], ids[3], ids[2]], 3)
    assert await listed(active="false") == ([ids[1], ids[0]], 2)
    assert await listed(active="false", station_id="CP-2") == ([ids[1]], 1)
    assert await listed(active="true", id_token="B", limit=1) == ([ids[2]], 1)
    assert await listed(station_id="CP-9") == ([], 0)

    stopped = (await api.get(f"/api/v1/transactions/{ids[0]}")).json()
    assert stopped["energy_wh"] == 50 and stopped["active"] is False  # stop - start, with start 0

    for params, field in (
        ({"active": "sometimes"}, "active"),
        ({"station_id": "a/b"}, "station_id"),
        ({"id_token": "x" * 37}, "id_token"),
        ({"limit": 0}, "limit"),
        ({"offset": -3}, "offset"),
    ):
        response = await api.get("/api/v1/transactions", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", field]


async def test_unknown_transactions_are_404_and_impossible_ids_422(api: httpx.AsyncClient) -> None:
    for tx_id in ("1", str(2**63 - 1)):
        response = await api.get(f"/api/v1/transactions/{tx_id}")
        assert response.status_code == 404, (tx_id, response.text)
        assert response.json() == {"detail": f"transaction {int(tx_id)} not found"}
    for tx_id in ("0", "-1", str(2**63), "99999999999999999999999"):
        response = await api.get(f"/api/v1/transactions/{tx_id}")
        assert response.status_code == 422, (tx_id, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "transaction_id"]
    not_a_number = await api.get("/api/v1/transactions/abc")
    assert not_a_number.status_code == 422 and not_a_number.json()["detail"][0]["loc"] == ["path", "transaction_id"]
