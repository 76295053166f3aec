"""A FullInventory report the CSMS asked for replaces the stored device model; nothing else deletes.

A real OCPP 2.0.1 / 2.1 station (raw test charger over a socket) answers the operator's
GetBaseReport and sends its NotifyReport parts; the stored device model is read back through
``GET /api/v1/stations/{id}/variables``. Runs on SQLite and PostgreSQL (the ``csms`` fixture).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from charger import TestCharger, now, sent, station
from conftest import RunningCsms
from kilowatt.ocpp import v21, v201

VERSIONS = {"ocpp2.0.1": v201.DIALECT, "ocpp2.1": v21.DIALECT}
STATION = "CS-FI"


@pytest.fixture(params=list(VERSIONS))
async def cs(request: pytest.FixtureRequest, csms: RunningCsms) -> AsyncIterator[TestCharger]:
    """The station, connected (not booted: no GetBaseReport of its own), answering GetBaseReport by requestId."""
    await csms.services.stations.create(STATION)
    async with TestCharger.connect(csms.ocpp_url, STATION, subprotocols=[request.param]) as charger:
        charger.responder = station(
            {"GetBaseReport": lambda p: {"status": "Rejected" if p["requestId"] == 66 else "Accepted"}, "GetReport": {"status": "Accepted"}}
        )
        yield charger


def item(component: str, variable: str, value: str, *more: tuple[str, str]) -> dict[str, Any]:
    """One ReportData: ``variable`` of ``component`` with its Actual value (and any (type, value) given)."""
    attributes = [{"type": "Actual", "value": value}, *({"type": t, "value": v} for t, v in more)]
    return {"component": {"name": component}, "variable": {"name": variable}, "variableAttribute": attributes}


A = item("OCPPCommCtrlr", "HeartbeatInterval", "300")
B = item("EVSE", "Power", "22000", ("MaxSet", "11000"))  # two attributes: both rows go
C = item("AuthCtrlr", "Enabled", "true")


async def part(cs: TestCharger, request_id: int, seq_no: int, tbc: bool, *data: dict[str, Any]) -> None:
    payload = {"requestId": request_id, "generatedAt": now(), "seqNo": seq_no, "tbc": tbc, "reportData": list(data)}
    assert await cs.call("NotifyReport", payload) == {}


async def ask(api: httpx.AsyncClient, cs: TestCharger, path: str, body: dict[str, Any]) -> None:
    async with cs.answering():
        response = await api.post(f"/api/v1/stations/{STATION}/{path}", json=body)
    assert response.status_code == 200, response.text


async def stored(api: httpx.AsyncClient) -> set[tuple[str, str, str]]:
    response = await api.get(f"/api/v1/stations/{STATION}/variables")
    assert response.status_code == 200, response.text
    return {(v["component"], v["variable"], v["attribute_type"]) for v in response.json()["variables"]}


ABC = {
    ("OCPPCommCtrlr", "HeartbeatInterval", "Actual"),
    ("EVSE", "Power", "Actual"),
    ("EVSE", "Power", "MaxSet"),
    ("AuthCtrlr", "Enabled", "Actual"),
}
AC = ABC - {("EVSE", "Power", "Actual"), ("EVSE", "Power", "MaxSet")}


async def test_a_complete_full_inventory_replaces_the_device_model(api: httpx.AsyncClient, cs: TestCharger) -> None:
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 11})
    await part(cs, 11, 0, True, A)
    await part(cs, 11, 1, False, B, C)
    assert await stored(api) == ABC

    # The next FullInventory lacks B; its parts come out of order: nothing goes until every part is in.
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 12})
    await part(cs, 12, 1, False, C)
    assert await stored(api) == ABC
    await part(cs, 12, 0, True, A)
    assert await stored(api) == AC
    reports = (await api.get(f"/api/v1/stations/{STATION}/reports", params={"kind": "device_model"})).json()["items"]
    assert [(r["request_id"], r["part_count"], r["complete"]) for r in reports] == [(12, 2, True), (11, 2, True)]

    # A replayed part of the finished report changes nothing.
    await part(cs, 12, 0, True, A)
    assert await stored(api) == AC


async def test_only_a_whole_full_inventory_the_csms_asked_for_deletes(
    csms: RunningCsms, api: httpx.AsyncClient, cs: TestCharger
) -> None:
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 21})
    await part(cs, 21, 0, False, A, B, C)
    assert await stored(api) == ABC

    # Partial reports add and update, never delete.
    await ask(api, cs, "reports/base", {"report_base": "SummaryInventory", "request_id": 22})
    await part(cs, 22, 0, False, A)
    await ask(api, cs, "reports/base", {"report_base": "ConfigurationInventory", "request_id": 23})
    await part(cs, 23, 0, False, C)
    await ask(api, cs, "reports", {"request_id": 24, "component_variables": [{"component": "OCPPCommCtrlr"}]})
    await part(cs, 24, 0, False, A)
    assert await stored(api) == ABC

    # A report no request of the CSMS asked for (a requestId it never sent) deletes nothing.
    await part(cs, 25, 0, False, A)
    assert await stored(api) == ABC

    # A FullInventory abandoned halfway (its last part never comes) deletes nothing...
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 26})
    await part(cs, 26, 0, True, A)
    await part(cs, 26, 2, False, C)  # part 1 is lost
    assert await stored(api) == ABC

    # ... nor does one the station refused, even if parts with its requestId come anyway.
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 66})
    reports = (await api.get(f"/api/v1/stations/{STATION}/reports", params={"kind": "device_model"})).json()["items"]
    assert 66 not in [r["request_id"] for r in reports]  # the noted request went with the refusal
    await part(cs, 66, 0, False, A)
    assert await stored(api) == ABC
    assert [c["requestId"] for c in sent(cs, "GetBaseReport")] == [21, 22, 23, 26, 66]

    # The next complete FullInventory still replaces: B was in neither A nor C.
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 27})
    await part(cs, 27, 0, False, A, C)
    assert await stored(api) == AC


async def test_the_full_inventory_requested_after_boot_replaces_too(
    csms: RunningCsms, api: httpx.AsyncClient, cs: TestCharger
) -> None:
    """The GetBaseReport the CSMS sends by itself after an accepted boot is noted like the operator's."""
    await part(cs, 31, 0, False, A, B, C)  # unsolicited: stored, deletes nothing
    boot = {"reason": "PowerUp", "chargingStation": {"model": "KW-22", "vendorName": "Kilowatt"}}
    assert (await cs.call("BootNotification", boot))["status"] == "Accepted"
    frame = await cs.socket.recv()  # the CSMS's GetBaseReport
    call = json.loads(frame)
    assert call[2] == "GetBaseReport" and call[3]["reportBase"] == "FullInventory"
    await cs.socket.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    request_id = call[3]["requestId"]
    await part(cs, request_id, 0, False, A)
    assert await stored(api) == {("OCPPCommCtrlr", "HeartbeatInterval", "Actual")}


async def test_bad_report_requests_get_4xx_and_note_nothing(api: httpx.AsyncClient, cs: TestCharger) -> None:
    assert (await api.post("/api/v1/stations/NOPE/reports/base", json={"report_base": "FullInventory"})).status_code == 404
    bad = await api.post(f"/api/v1/stations/{STATION}/reports/base", json={"report_base": "Everything"})
    assert bad.status_code == 422
    await ask(api, cs, "reports/base", {"report_base": "FullInventory", "request_id": 41})
    again = await api.post(f"/api/v1/stations/{STATION}/reports/base", json={"report_base": "FullInventory", "request_id": 41})
    assert again.status_code == 409, again.text
    assert [c["requestId"] for c in sent(cs, "GetBaseReport")] == [41]
