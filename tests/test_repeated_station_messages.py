"""A charger that got no CALLRESULT sends the same CALL again: messages without an id of their own
(DER notifications and reports, BatterySwap, SecurityEventNotification) are recognised by their
content (storage/repeats.py) and stored once, answered alike, announced once; a genuinely different
message (a later timestamp, another request) is its own row. Real stations over a socket (1.6,
2.0.1, 2.1), the real CSMS on SQLite and PostgreSQL, what was stored read back through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.bus.base import Event

STATION = "CS-REPEAT"
T0, T1 = "2030-05-01T10:00:00.000Z", "2030-05-01T10:05:00.000Z"


async def twice(cp: TestCharger, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Send ``payload`` twice, as a charger whose first CALLRESULT was lost; both answers the same."""
    first, again = await cp.call(action, payload), await cp.call(action, payload)
    assert again == first
    return first


async def rows(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(f"/api/v1/stations/{STATION}/{path}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


async def station21(csms: RunningCsms, version: str = "ocpp2.1") -> Any:
    await csms.services.stations.create(STATION)
    return TestCharger.connect(csms.ocpp_url, STATION, subprotocols=[version])


async def test_der_alarms_and_start_stops_sent_again_are_stored_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    alarm = {"controlType": "HVMustTrip", "gridEventFault": "OverVoltage", "alarmEnded": False, "timestamp": T0}
    start = {"controlId": "c-1", "started": True, "timestamp": T0, "supersededIds": ["c-0"]}
    async with await station21(csms) as cp:
        assert await twice(cp, "NotifyDERAlarm", alarm) == {}
        assert await twice(cp, "NotifyDERStartStop", start) == {}
        # The same alarm later, and the control stopping: new events, each its own row.
        await cp.call("NotifyDERAlarm", alarm | {"timestamp": T1})
        await cp.call("NotifyDERStartStop", start | {"started": False, "timestamp": T1})
    stored = await rows(api, "der-notifications")
    assert [(n["kind"], n["started"], n["timestamp"][:16]) for n in stored] == [
        ("alarm", None, "2030-05-01T10:00"),
        ("start_stop", True, "2030-05-01T10:00"),
        ("alarm", None, "2030-05-01T10:05"),
        ("start_stop", False, "2030-05-01T10:05"),
    ]


async def test_a_der_report_part_sent_again_is_stored_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    curve = {"priority": 1, "yUnit": "PctMaxVar", "curveData": [{"x": 0.9, "y": 30}, {"x": 1.1, "y": -30}]}
    controls = [{"id": "c-1", "curveType": "VoltVar", "isDefault": True, "isSuperseded": False, "curve": curve}]
    part = {"requestId": 5, "tbc": False, "curve": controls}
    async with await station21(csms) as cp:
        assert await twice(cp, "ReportDERControl", part) == {}
        await cp.call("ReportDERControl", part | {"requestId": 6})  # the answer to another GetDERControl
    assert len(await rows(api, "der-reports", request_id=5)) == 1
    assert [r["request_id"] for r in await rows(api, "der-reports")] == [5, 6]


async def test_a_battery_swap_sent_again_is_stored_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    battery = {"evseId": 1, "serialNumber": "B-1", "soC": 12.5, "soH": 97, "productionDate": "2024-01-01T00:00:00Z"}
    swap_in = {
        "eventType": "BatteryIn",
        "requestId": 11,
        "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
        "batteryData": [battery],
    }
    swap_out = swap_in | {"eventType": "BatteryOut", "batteryData": [battery | {"serialNumber": "B-2", "soC": 98}]}
    async with await station21(csms) as cp:
        assert await twice(cp, "BatterySwap", swap_in) == {}
        await cp.call("BatterySwap", swap_out)  # the same swap's other half: its own row
        await cp.call("BatterySwap", swap_in | {"requestId": 12})  # another swap
    stored = await rows(api, "battery-swaps")
    assert [(s["event_type"], s["request_id"], s["batteries"][0]["serial_number"]) for s in stored] == [
        ("BatteryIn", 11, "B-1"),
        ("BatteryOut", 11, "B-2"),
        ("BatteryIn", 12, "B-1"),
    ]


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
async def test_a_security_event_sent_again_is_stored_and_announced_once(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    announced: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type == "station.security":
            announced.append(event)

    csms.application.bus.subscribe(listener)
    event = {"type": "TamperDetectionActivated", "timestamp": T0, "techInfo": "door"}
    async with await station21(csms, version) as cp:
        assert await twice(cp, "SecurityEventNotification", event) == {}
        await cp.call("SecurityEventNotification", event | {"timestamp": T1})  # tampered with again, later
        await cp.call("SecurityEventNotification", event | {"techInfo": "lid"})  # another part, same moment
    stored = await rows(api, "events", kind="security")
    assert sorted((e["details"]["timestamp"], e["details"]["tech_info"]) for e in stored) == [
        (T0, "door"),
        (T0, "lid"),
        (T1, "door"),
    ]
    assert len(announced) == 3


async def test_a_repeat_with_a_bad_timestamp_is_refused_like_the_first(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """Bad input stays a CALLERROR however often it is sent, and stores nothing."""
    alarm = {"controlType": "HVMustTrip", "timestamp": "1066-01-01T00:00:00Z"}
    async with await station21(csms) as cp:
        for _ in range(2):
            answer = await cp.call_frame("NotifyDERAlarm", alarm)
            assert answer[0] == 4 and answer[2] == "PropertyConstraintViolation", answer
    assert await rows(api, "der-notifications") == []


SCHEDULE = {"id": 1, "chargingRateUnit": "W", "duration": 3600, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}


@pytest.mark.parametrize("version", ["ocpp2.0.1", "ocpp2.1"])
async def test_an_ev_charging_schedule_sent_again_is_stored_and_announced_once(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    announced: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type == "ev.charging_schedule":
            announced.append(event)

    csms.application.bus.subscribe(listener)
    chosen = {"timeBase": T0, "evseId": 1, "chargingSchedule": SCHEDULE}
    async with await station21(csms, version) as cp:
        assert await twice(cp, "NotifyEVChargingSchedule", chosen) == {"status": "Accepted"}
        await cp.call("NotifyEVChargingSchedule", chosen | {"timeBase": T1})  # renegotiated later
        lower = SCHEDULE | {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}]}
        await cp.call("NotifyEVChargingSchedule", chosen | {"chargingSchedule": lower})  # another schedule
    stored = await rows(api, "ev-charging-schedules")
    assert sorted((s["time_base"][:16], s["charging_schedule"]["periods"][0]["limit"]) for s in stored) == [
        ("2030-05-01T10:00", 7000.0),
        ("2030-05-01T10:00", 11000.0),
        ("2030-05-01T10:05", 11000.0),
    ]
    assert len(announced) == 3


NEEDS = {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": {"evMaxCurrent": 100, "evMaxVoltage": 400}}}


async def test_2_1_ev_charging_needs_sent_again_are_stored_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """2.1's needs carry a timestamp: the same needs at the same time are a repeat; later, new."""
    async with await station21(csms) as cp:
        assert await twice(cp, "NotifyEVChargingNeeds", NEEDS | {"timestamp": T0}) == {"status": "Accepted"}
        await cp.call("NotifyEVChargingNeeds", NEEDS | {"timestamp": T1})
    assert len(await rows(api, "ev-charging-needs")) == 2


async def test_2_0_1_ev_charging_needs_have_no_time_so_each_is_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """Without a timestamp the same needs again cannot be told from a new negotiation: both kept."""
    async with await station21(csms, "ocpp2.0.1") as cp:
        assert await twice(cp, "NotifyEVChargingNeeds", NEEDS) == {"status": "Accepted"}
    assert len(await rows(api, "ev-charging-needs")) == 2


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_status_notification_sent_again_is_announced_once_and_does_not_undo_a_newer_status(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    announced: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type == "connector.status":
            announced.append(event)

    csms.application.bus.subscribe(listener)

    def status(word: str, at: str) -> dict[str, Any]:
        if version == "ocpp1.6":
            return {"connectorId": 1, "status": word, "errorCode": "NoError", "timestamp": at}
        return {"evseId": 1, "connectorId": 1, "connectorStatus": word, "timestamp": at}

    async with await station21(csms, version) as cp:
        assert await twice(cp, "StatusNotification", status("Available", T0)) == {}
        await cp.call("StatusNotification", status("Unavailable", T1))
        await cp.call("StatusNotification", status("Available", T0))  # a late repeat of the first
    assert [e.data["status"] for e in announced] == ["Available", "Unavailable"]
    [connector] = (await api.get(f"/api/v1/stations/{STATION}")).json()["connectors"]
    assert connector["status"] == "Unavailable"


async def test_priority_charging_switched_on_again_is_stored_once(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """No id, no timestamp: a switch repeating the transaction's latest one is the message sent again."""
    async with await station21(csms) as cp:
        assert await twice(cp, "NotifyPriorityCharging", {"transactionId": "TX-1", "activated": True}) == {}
        await cp.call("NotifyPriorityCharging", {"transactionId": "TX-2", "activated": True})  # another transaction
        await twice(cp, "NotifyPriorityCharging", {"transactionId": "TX-1", "activated": False})
        await cp.call("NotifyPriorityCharging", {"transactionId": "TX-1", "activated": True})  # on again: a switch
    stored = await rows(api, "priority-charging")
    assert [(p["station_transaction_id"], p["activated"]) for p in stored] == [
        ("TX-1", True),
        ("TX-2", True),
        ("TX-1", False),
        ("TX-1", True),
    ]


@pytest.mark.parametrize("version", ["ocpp2.0.1", "ocpp2.1"])
async def test_a_charging_limit_sent_again_is_stored_and_announced_once(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    announced: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type.startswith("charging_limit."):
            announced.append(event)

    csms.application.bus.subscribe(listener)
    limit = {"evseId": 1, "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True}, "chargingSchedule": [SCHEDULE]}
    lower = SCHEDULE | {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}]}
    async with await station21(csms, version) as cp:
        assert await twice(cp, "NotifyChargingLimit", limit) == {}
        await cp.call("NotifyChargingLimit", limit | {"evseId": 2})  # another EVSE
        await cp.call("NotifyChargingLimit", limit | {"chargingSchedule": [lower]})  # a changed limit
        await twice(cp, "ClearedChargingLimit", {"evseId": 1, "chargingLimitSource": "EMS"})
        await cp.call("NotifyChargingLimit", limit)  # set again after its release
    stored = await rows(api, "charging-limits")
    assert len(stored) == 5
    assert [e.type for e in announced] == ["charging_limit.set"] * 3 + ["charging_limit.cleared", "charging_limit.set"]


@pytest.mark.parametrize("version", ["ocpp2.0.1", "ocpp2.1"])
async def test_firmware_progress_sent_again_is_stored_and_announced_once(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    """A status with a requestId that repeats the latest one of its kind is no progress: the
    message sent again. A status going back and forth (paused, resumed) is each its own row."""
    announced: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type == "station.firmware":
            announced.append(event)

    csms.application.bus.subscribe(listener)
    async with await station21(csms, version) as cp:
        assert await twice(cp, "FirmwareStatusNotification", {"status": "Downloading", "requestId": 7}) == {}
        await cp.call("FirmwareStatusNotification", {"status": "DownloadPaused", "requestId": 7})
        await cp.call("FirmwareStatusNotification", {"status": "Downloading", "requestId": 7})  # resumed
        await twice(cp, "FirmwareStatusNotification", {"status": "DownloadFailed", "requestId": 7})
        await cp.call("FirmwareStatusNotification", {"status": "DownloadFailed", "requestId": 8})  # the next update
        await twice(cp, "LogStatusNotification", {"status": "Uploaded", "requestId": 3})
    firmware = await rows(api, "events", kind="firmware")
    assert [(e["status"], e["request_id"]) for e in reversed(firmware)] == [
        ("Downloading", 7),
        ("DownloadPaused", 7),
        ("Downloading", 7),
        ("DownloadFailed", 7),
        ("DownloadFailed", 8),
    ]
    assert [e.data["status"] for e in announced] == ["Downloading", "DownloadPaused", "Downloading", "DownloadFailed", "DownloadFailed"]
    assert len(await rows(api, "events", kind="log")) == 1


async def test_1_6_statuses_without_a_request_id_are_each_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """1.6's FirmwareStatusNotification has no requestId: the same status again may be the next
    update's (two downloads failing alike), so it cannot be told from a repeat and is kept."""
    async with await station21(csms, "ocpp1.6") as cp:
        await twice(cp, "FirmwareStatusNotification", {"status": "DownloadFailed"})
    assert len(await rows(api, "events", kind="firmware")) == 2
