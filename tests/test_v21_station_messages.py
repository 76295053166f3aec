"""The 12 messages a station sends that OCPP 2.1 adds, by a real 2.1 client over a socket against
the real CSMS (SQLite and PostgreSQL): each answered validly by 2.1's own response schema, its data
visible through the API; bad input answered with the right CALLERROR and nothing stored; the
NotifyPeriodicEventStream SEND never answered, the connection staying up.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from charger import TestCharger, now
from conftest import RunningCsms
from kilowatt.ocpp import v21
from kilowatt.storage.models import Base

HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb", "serialNumber": "01"}
COMPANY = {"name": "ACME BV", "address1": "Main 1", "city": "Utrecht", "country": "NL"}


async def station21(csms: RunningCsms, station_id: str = "CS-21") -> Any:
    await csms.services.stations.create(station_id)
    return TestCharger.connect(csms.ocpp_url, station_id, subprotocols=["ocpp2.1"])


async def call(cp: TestCharger, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A CALL that must succeed; its answer is checked against 2.1's response schema."""
    answer = await cp.call(action, payload)
    v21.DIALECT.schemas.validate_response(action, answer)
    return answer


async def get(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(f"/api/v1/stations/CS-21/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def row_counts(csms: RunningCsms) -> dict[str, int]:
    counts = {}
    async with csms.application.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in ("commands", "device_model_variables", "stations", "station_events"):
                counts[table.name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    return counts


async def no_frame(cp: TestCharger, within_s: float = 0.3) -> None:
    """Nothing arrives (a SEND is never answered)."""
    with pytest.raises(TimeoutError):
        await cp.receive(timeout_s=within_s)


def stream_data(stream_id: int = 7, **fields: Any) -> dict[str, Any]:
    return {"id": stream_id, "pending": 0, "basetime": now(), "data": [{"t": 0, "v": "230.1"}, {"t": 1.5, "v": "229.8"}]} | fields


async def test_every_station_message_is_answered_and_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await station21(csms) as cp:
        await call(cp, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}})

        assert (
            await call(
                cp,
                "NotifySettlement",
                {
                    "transactionId": "TX-9",
                    "pspRef": "psp-1",
                    "status": "Settled",
                    "settlementAmount": 12.34,
                    "settlementTime": "2025-03-01T10:00:00Z",
                    "receiptId": "R-1",
                    "vatNumber": "NL123",
                    "vatCompany": COMPANY,
                },
            )
            == {}
        )
        vat = await call(cp, "VatNumberValidation", {"vatNumber": "NL123", "evseId": 1})
        assert (vat["status"], vat["vatNumber"], vat["evseId"], vat["statusInfo"]["reasonCode"]) == (
            "Rejected",
            "NL123",
            1,
            "NoVatRegistry",
        )

        await call(
            cp,
            "NotifyDERAlarm",
            {
                "controlType": "HVMustTrip",
                "gridEventFault": "OverVoltage",
                "alarmEnded": False,
                "timestamp": "2025-03-01T10:00:00Z",
            },
        )
        await call(cp, "NotifyDERStartStop", {"controlId": "c-1", "started": True, "timestamp": now(), "supersededIds": ["c-0"]})
        curve = {"priority": 1, "yUnit": "PctMaxVar", "curveData": [{"x": 0.9, "y": 30}, {"x": 1.1, "y": -30}]}
        await call(
            cp,
            "ReportDERControl",
            {
                "requestId": 5,
                "tbc": False,
                "curve": [{"id": "c-1", "curveType": "VoltVar", "isDefault": True, "isSuperseded": False, "curve": curve}],
            },
        )

        opened = await call(
            cp,
            "OpenPeriodicEventStream",
            {"constantStreamData": {"id": 7, "variableMonitoringId": 3, "params": {"interval": 60}}},
        )
        assert opened["status"] == "Accepted"
        await cp.send_raw(json.dumps([6, "s-1", "NotifyPeriodicEventStream", stream_data()]))
        await no_frame(cp)

        await call(
            cp,
            "BatterySwap",
            {
                "eventType": "BatteryIn",
                "requestId": 11,
                "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
                "batteryData": [
                    {"evseId": 1, "serialNumber": "B-1", "soC": 12.5, "soH": 97, "productionDate": "2024-01-01T00:00:00Z"}
                ],
            },
        )
        await call(cp, "NotifyPriorityCharging", {"transactionId": "TX-9", "activated": True})
        pulled = await call(cp, "PullDynamicScheduleUpdate", {"chargingProfileId": 44})
        assert pulled["status"] == "Rejected" and pulled["statusInfo"]["reasonCode"] == "UnknownProfile"
        chain = await call(
            cp,
            "GetCertificateChainStatus",
            {"certificateStatusRequests": [{"certificateHashData": HASH, "source": "OCSP", "urls": ["http://ocsp"]}]},
        )
        assert [(c["status"], c["source"], c["certificateHashData"]) for c in chain["certificateStatus"]] == [
            ("Failed", "OCSP", HASH)
        ]

        assert await call(cp, "ClosePeriodicEventStream", {"id": 7}) == {}

    [settlement] = await get(api, "settlements")
    assert (settlement["psp_ref"], settlement["amount"], settlement["station_transaction_id"], settlement["status"]) == (
        "psp-1",
        12.34,
        "TX-9",
        "Settled",
    )
    assert settlement["vat_company"] == {"name": "ACME BV", "address1": "Main 1", "city": "Utrecht", "country": "NL"}
    assert await get(api, "settlements", station_transaction_id="other") == []
    alarm, start_stop = await get(api, "der-notifications")
    assert (alarm["kind"], alarm["control_type"], alarm["grid_event_fault"], alarm["alarm_ended"]) == (
        "alarm",
        "HVMustTrip",
        "OverVoltage",
        False,
    )
    assert (start_stop["kind"], start_stop["control_id"], start_stop["started"], start_stop["superseded_ids"]) == (
        "start_stop",
        "c-1",
        True,
        {"ids": ["c-0"]},
    )
    [report] = await get(api, "der-reports", request_id=5)
    assert report["controls"]["curve"][0]["curve"] == curve
    [stream] = await get(api, "event-streams")
    assert (stream["stream_id"], stream["variable_monitoring_id"], stream["interval_s"]) == (7, 3, 60)
    assert stream["closed_at"] is not None
    [batch] = await get(api, "event-streams/7/data")
    assert batch["values"] == [{"t": 0, "v": "230.1"}, {"t": 1.5, "v": "229.8"}]
    [swap] = await get(api, "battery-swaps")
    assert (swap["event_type"], swap["request_id"], swap["id_token"], swap["batteries"][0]["soc_pct"]) == (
        "BatteryIn",
        11,
        "TOKEN-1",
        12.5,
    )
    [priority] = await get(api, "priority-charging")
    assert (priority["station_transaction_id"], priority["activated"]) == ("TX-9", True)


async def test_a_replayed_settlement_is_stored_once_and_a_later_status_updates_it(
    csms: RunningCsms, api: httpx.AsyncClient
) -> None:
    settlement = {"pspRef": "psp-2", "status": "Failed", "settlementAmount": 5, "settlementTime": now()}
    async with await station21(csms) as cp:
        await call(cp, "NotifySettlement", settlement)
        await call(cp, "NotifySettlement", settlement)
        await call(cp, "NotifySettlement", settlement | {"status": "Settled"})
    [stored] = await get(api, "settlements")
    assert (stored["psp_ref"], stored["status"], stored["amount"]) == ("psp-2", "Settled", 5)


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        (
            "NotifySettlement",
            {"status": "Settled", "settlementAmount": 1, "settlementTime": "2025-01-01T00:00:00Z"},
            "OccurrenceConstraintViolation",
        ),
        (
            "NotifySettlement",
            {"pspRef": "p", "status": "Paid", "settlementAmount": 1, "settlementTime": "2025-01-01T00:00:00Z"},
            "PropertyConstraintViolation",
        ),
        (
            "NotifySettlement",
            {"pspRef": "p", "status": "Settled", "settlementAmount": "1", "settlementTime": "2025-01-01T00:00:00Z"},
            "TypeConstraintViolation",
        ),
        (
            "NotifySettlement",
            {"pspRef": "p", "status": "Settled", "settlementAmount": 1, "settlementTime": "1066-01-01T00:00:00Z"},
            "PropertyConstraintViolation",
        ),
        ("VatNumberValidation", {"vatNumber": "X" * 21}, "PropertyConstraintViolation"),
        ("VatNumberValidation", {"vatNumber": "NL1", "evseId": -1}, "PropertyConstraintViolation"),
        (
            "BatterySwap",
            {
                "eventType": "BatteryIn",
                "requestId": 1,
                "idToken": {"idToken": "T", "type": "Local"},
                "batteryData": [{"evseId": 1, "serialNumber": "B", "soC": 101, "soH": 90}],
            },
            "PropertyConstraintViolation",
        ),
        (
            "BatterySwap",
            {"eventType": "BatteryIn", "requestId": 1, "idToken": {"idToken": "T", "type": "Local"}, "batteryData": []},
            "OccurrenceConstraintViolation",
        ),
        ("NotifyDERAlarm", {"controlType": "Bogus", "timestamp": "2025-01-01T00:00:00Z"}, "PropertyConstraintViolation"),
        (
            "NotifyDERStartStop",
            {"controlId": "c", "started": "yes", "timestamp": "2025-01-01T00:00:00Z"},
            "TypeConstraintViolation",
        ),
        ("ReportDERControl", {"requestId": 2**31}, "PropertyConstraintViolation"),
        (
            "OpenPeriodicEventStream",
            {"constantStreamData": {"id": 1, "variableMonitoringId": 1, "params": {}, "extra": 1}},
            "FormatViolation",
        ),
        ("PullDynamicScheduleUpdate", {"chargingProfileId": 1.5}, "TypeConstraintViolation"),
        ("NotifyPriorityCharging", {"transactionId": "T" * 37, "activated": True}, "PropertyConstraintViolation"),
        ("GetCertificateChainStatus", {"certificateStatusRequests": []}, "OccurrenceConstraintViolation"),
        (
            "NotifyPeriodicEventStream",
            {"id": 1, "pending": 0, "basetime": "2025-01-01T00:00:00Z", "data": [{"t": 0, "v": "1"}]},
            "NotSupported",
        ),
    ],
)
async def test_bad_input_gets_the_right_callerror_and_stores_nothing(
    csms: RunningCsms, action: str, payload: dict[str, Any], code: str
) -> None:
    async with await station21(csms) as cp:
        before = await row_counts(csms)
        answer = await cp.call_frame(action, payload)
        assert answer[0] == 4 and answer[2] == code, answer
        assert await row_counts(csms) == before
        await call(cp, "Heartbeat", {})  # the connection is still up


async def test_a_send_is_never_answered_and_bad_ones_are_dropped(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await station21(csms) as cp:
        await call(
            cp, "OpenPeriodicEventStream", {"constantStreamData": {"id": 1, "variableMonitoringId": 2, "params": {"values": 10}}}
        )
        before = await row_counts(csms)
        for bad in (
            [6, "s-1", "NotifyPeriodicEventStream", {"id": 1}],  # required fields missing
            [6, "s-2", "NotifyPeriodicEventStream", stream_data(1, pending=-1)],  # out of bounds
            [6, "s-3", "NotifyPeriodicEventStream", stream_data(99)],  # a stream never opened
            [6, "s-4", "Heartbeat", {}],  # not a SEND
            [6, "s-5", "NotifyPeriodicEventStream", []],  # not an object
        ):
            await cp.send_raw(json.dumps(bad))
        await no_frame(cp)
        assert await row_counts(csms) == before
        await cp.send_raw(json.dumps([6, "s-6", "NotifyPeriodicEventStream", stream_data(1)]))
        await no_frame(cp)
        answer = await call(cp, "Heartbeat", {})  # the next frame is the heartbeat's answer
        assert "currentTime" in answer
    [batch] = await get(api, "event-streams/1/data")
    assert batch["pending"] == 0 and len(batch["values"]) == 2


async def test_a_send_before_the_station_is_accepted_is_dropped(csms: RunningCsms) -> None:
    await csms.services.stations.create("CS-P", registration_status="Pending")
    async with TestCharger.connect(csms.ocpp_url, "CS-P", subprotocols=["ocpp2.1"]) as cp:
        before = await row_counts(csms)
        await cp.send_raw(json.dumps([6, "s-1", "NotifyPeriodicEventStream", stream_data(1)]))
        await no_frame(cp)
        assert await row_counts(csms) == before
        answer = await cp.call_frame("Heartbeat", {})
        assert answer[0] == 3


async def test_types_5_and_6_stay_unknown_on_201(csms: RunningCsms) -> None:
    await csms.services.stations.create("CS-201")
    async with TestCharger.connect(csms.ocpp_url, "CS-201", subprotocols=["ocpp2.0.1"]) as cp:
        await cp.send_raw(json.dumps([6, "s-1", "NotifyPeriodicEventStream", stream_data(1)]))
        answer = await cp.receive()
        assert answer[:3] == [4, "s-1", "MessageTypeNotSupported"]
        await cp.send_raw(json.dumps([5, "r-1", "FormatViolation", "x", {}]))
        answer = await cp.receive()
        assert answer[:3] == [4, "r-1", "MessageTypeNotSupported"]


async def test_a_callresulterror_from_the_station_is_taken_quietly(csms: RunningCsms) -> None:
    async with await station21(csms) as cp:
        await cp.send_raw(json.dumps([5, "our-answer", "FormatViolation", "could not process", {}]))
        await no_frame(cp)
        await call(cp, "Heartbeat", {})


async def test_pull_dynamic_schedule_update_answers_what_the_station_accepted(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await station21(csms) as cp:
        cp.responder = _answers({"UpdateDynamicSchedule": {"status": "Accepted"}})
        async with cp.answering():
            response = await api.post(
                "/api/v1/stations/CS-21/dynamic-schedule",
                json={"charging_profile_id": 44, "update": {"limit": 16.0, "limit_l2": 15.5, "discharge_limit": -3}},
            )
            assert response.status_code == 200, response.text
        pulled = await call(cp, "PullDynamicScheduleUpdate", {"chargingProfileId": 44})
        assert pulled == {"status": "Accepted", "scheduleUpdate": {"limit": 16.0, "limit_L2": 15.5, "dischargeLimit": -3}}
        assert (await call(cp, "PullDynamicScheduleUpdate", {"chargingProfileId": 45}))["status"] == "Rejected"


def _answers(answers: dict[str, Any]) -> Any:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        return answers.get(action, ("NotImplemented", action))

    return responder


V2X_SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    # 2.1 makes a period's limit optional: a V2X period may give only a setpoint (negative: discharge).
    "chargingSchedulePeriod": [
        {"startPeriod": 0, "setpoint": -5000.0, "dischargeLimit": -7000.0},
        {"startPeriod": 600, "limit": 11000.0},
    ],
}


async def test_schedule_periods_without_a_limit_are_read(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """2.1 periods that carry a setpoint and no limit are stored as sent (2.0.1 required the limit)."""
    async with await station21(csms) as cp:
        await call(cp, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}})
        assert await call(cp, "NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"}, "evseId": 1, "chargingSchedule": [V2X_SCHEDULE]}) == {}
        profile = {"id": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": [V2X_SCHEDULE | {"startSchedule": now()}]}
        assert await call(cp, "ReportChargingProfiles", {"requestId": 3, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": [profile]}) == {}
    [limit] = (await get(api, "charging-limits"))["items"]
    assert [(p["limit"], p["setpoint"], p["discharge_limit"]) for p in limit["charging_schedules"][0]["periods"]] == [
        (None, -5000.0, -7000.0),
        (11000.0, None, None),
    ]
    [reported] = (await get(api, "reports/charging-profiles"))["items"]
    assert reported["charging_profile_id"] == 5
    assert [p["setpoint"] for p in reported["profile"]["schedules"][0]["periods"]] == [-5000.0, None]


async def test_a_composite_schedule_without_limits_is_answered(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    schedule = {
        "evseId": 1,
        "duration": 900,
        "scheduleStart": "2030-01-01T00:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "setpoint": -3000.0}],
    }
    async with await station21(csms) as cp:
        await call(cp, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}})

        async def responder(action: str, payload: dict[str, Any]) -> Any:
            return {"status": "Accepted", "schedule": schedule} if action == "GetCompositeSchedule" else ("NotImplemented", action)

        cp.responder = responder
        async with cp.answering():
            response = await api.post("/api/v1/stations/CS-21/composite-schedule", json={"evse_id": 1, "duration": 900, "charging_rate_unit": "W"})
    assert response.status_code == 200, response.text
    [period] = response.json()["result"]["charging_schedule"]["periods"]
    assert (period["limit"], period["setpoint"], period["discharge_limit"]) == (None, -3000.0, None)


async def test_a_monitors_event_notification_type_is_kept(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """2.1 requires each reported monitor's eventNotificationType (which ones the operator may clear);
    it is stored and shown, and a 2.1 report without it is refused and stores nothing."""
    monitor = {"id": 3, "transaction": False, "value": 80.0, "type": "UpperThreshold", "severity": 4}
    data = {"component": {"name": "EVSE"}, "variable": {"name": "Temperature"}}
    report = {"requestId": 4, "seqNo": 0, "generatedAt": now()}
    async with await station21(csms) as cp:
        await call(cp, "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}})
        missing = await cp.call_frame("NotifyMonitoringReport", report | {"monitor": [data | {"variableMonitoring": [monitor]}]})
        assert missing[:3] == [4, missing[1], "OccurrenceConstraintViolation"], missing
        typed = monitor | {"eventNotificationType": "PreconfiguredMonitor"}
        assert await call(cp, "NotifyMonitoringReport", report | {"monitor": [data | {"variableMonitoring": [typed]}]}) == {}
    [shown] = (await get(api, "monitors"))["items"]
    assert (shown["monitor_id"], shown["event_notification_type"]) == (3, "PreconfiguredMonitor")
    [stored] = (await get(api, "reports", kind="monitoring"))["items"]
    assert stored["part_count"] == 1
