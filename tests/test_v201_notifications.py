"""OCPP 2.0.1 station messages outside the core, end to end: a real 2.0.1 client over a socket, the
real CSMS on SQLite and PostgreSQL, answers checked against the official schemas, and what was
stored read back through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import RunningCsms
from kilowatt.storage.models import Reservation
from v201_station import V201Station

STATION = "CS-201"
T0 = "2030-05-01T10:00:00.000Z"


@pytest.fixture
async def station(csms: RunningCsms) -> AsyncIterator[V201Station]:
    """Station CS-201, registered Accepted, connected over OCPP 2.0.1."""
    await csms.services.stations.create(STATION)
    async with V201Station.connect(csms.ocpp_url, STATION) as connected:
        yield connected


async def items(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/stations/{STATION}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def event(event_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "timestamp": T0,
        "trigger": "Alerting",
        "actualValue": "87.5",
        "eventNotificationType": "CustomMonitor",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Temperature", "instance": "Cable"},
        **overrides,
    }


def monitor_data(component: str, monitor_ids: list[int]) -> dict[str, Any]:
    return {
        "component": {"name": component},
        "variable": {"name": "Temperature"},
        "variableMonitoring": [
            {"id": monitor_id, "transaction": False, "value": 80.5, "type": "UpperThreshold", "severity": 4}
            for monitor_id in monitor_ids
        ],
    }


SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    "startSchedule": T0,
    "duration": 3600,
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0, "numberPhases": 3}, {"startPeriod": 1800, "limit": 7400}],
}


def profile(profile_id: int, stack_level: int = 0) -> dict[str, Any]:
    return {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": T0,
        "chargingSchedule": [SCHEDULE],
    }


# --- security, ISO 15118, firmware, logs: station events --------------------------------------------


async def test_security_event_and_certificate_requests_are_stored(station: V201Station, api: httpx.AsyncClient) -> None:
    assert (
        await station.call("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": T0, "techInfo": "v2.1.0"}) == {}
    )
    answer = await station.call(
        "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----x", "certificateType": "V2GCertificate"}
    )
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NotConfigured"
    answer = await station.call(
        "Get15118EVCertificate",
        {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install", "exiRequest": "QUJD"},
    )
    assert answer["status"] == "Failed" and answer["statusInfo"]["reasonCode"] == "NotConfigured"
    ocsp = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 64,
        "issuerKeyHash": "b" * 64,
        "serialNumber": "0123",
        "responderURL": "http://ocsp.example.test",
    }
    answer = await station.call("GetCertificateStatus", {"ocspRequestData": ocsp})
    assert answer["status"] == "Failed" and "statusInfo" in answer

    events = {e["kind"]: e for e in await items(api, "events")}
    assert events["security"]["status"] == "FirmwareUpdated"
    assert events["security"]["details"] == {"timestamp": T0, "tech_info": "v2.1.0"}
    assert events["sign_certificate"]["status"] == "Rejected"
    assert events["sign_certificate"]["details"] == {
        "csr": "-----BEGIN CERTIFICATE REQUEST-----x",
        "certificate_type": "V2GCertificate",
    }
    assert events["ev_certificate"]["status"] == "Failed"
    assert events["ev_certificate"]["details"] == {
        "iso15118_schema_version": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exi_request": "QUJD",
    }
    assert events["certificate_status"]["details"]["serial_number"] == "0123"
    assert events["certificate_status"]["details"]["responder_url"] == "http://ocsp.example.test"


async def test_firmware_publish_and_log_notifications(station: V201Station, api: httpx.AsyncClient) -> None:
    assert await station.call("FirmwareStatusNotification", {"status": "Downloading", "requestId": 7}) == {}
    assert await station.call("FirmwareStatusNotification", {"status": "Installed", "requestId": 7}) == {}
    locations = ["https://lc.example.test/fw.bin", "ftp://lc.example.test/fw.bin"]
    assert (
        await station.call("PublishFirmwareStatusNotification", {"status": "Published", "location": locations, "requestId": 3})
        == {}
    )
    assert await station.call("LogStatusNotification", {"status": "Uploaded", "requestId": 11}) == {}

    station_view = (await api.get(f"/api/v1/stations/{STATION}")).json()
    assert station_view["firmware_status"] == "Installed"
    firmware = await items(api, "events", kind="firmware")
    assert [(e["status"], e["request_id"], e["details"]) for e in firmware] == [
        ("Installed", 7, {"signed": True}),
        ("Downloading", 7, {"signed": True}),
    ]
    [published] = await items(api, "events", kind="publish_firmware")
    assert (published["status"], published["request_id"], published["details"]) == ("Published", 3, {"location": locations})
    [log] = await items(api, "events", kind="log")
    assert (log["status"], log["request_id"]) == ("Uploaded", 11)


# --- monitoring -------------------------------------------------------------------------------------


async def test_notify_event_parts_are_shown_and_stored_once(station: V201Station, api: httpx.AsyncClient) -> None:
    first = {
        "generatedAt": T0,
        "seqNo": 0,
        "tbc": True,
        "eventData": [
            event(1, techCode="T1", techInfo="cable hot", transactionId="tx-9", variableMonitoringId=12),
            event(
                2, trigger="Delta", actualValue="Occupied", cause=1, cleared=True, eventNotificationType="HardWiredNotification"
            ),
        ],
    }
    assert await station.call("NotifyEvent", first) == {}
    assert len(await items(api, "monitoring-events")) == 2  # shown at once: events are alerts
    assert (
        await station.call(
            "NotifyEvent", {"generatedAt": T0, "seqNo": 1, "eventData": [event(3, timestamp="2030-05-01T10:05:00Z")]}
        )
        == {}
    )
    assert await station.call("NotifyEvent", first) == {}  # a replay is answered ...

    stored = await items(api, "monitoring-events")
    assert [e["event_id"] for e in stored] == [3, 2, 1]  # ... and stored once; newest first
    one = stored[2]
    assert one["timestamp"] == "2030-05-01T10:00:00.000000Z"
    assert (one["component"], one["evse_id"], one["connector_id"], one["variable"], one["variable_instance"]) == (
        "EVSE",
        1,
        None,
        "Temperature",
        "Cable",
    )
    assert (one["tech_code"], one["tech_info"], one["station_transaction_id"], one["variable_monitoring_id"]) == (
        "T1",
        "cable hot",
        "tx-9",
        12,
    )
    assert (one["seq_no"], one["tbc"], one["trigger"], one["actual_value"]) == (0, True, "Alerting", "87.5")
    assert (stored[1]["cause"], stored[1]["cleared"], stored[0]["seq_no"], stored[0]["tbc"]) == (1, True, 1, False)
    assert [e["event_id"] for e in await items(api, "monitoring-events", component="EVSE")] == [3, 2, 1]
    assert await items(api, "monitoring-events", component="Connector") == []


async def test_monitoring_report_is_shown_once_whole(station: V201Station, api: httpx.AsyncClient) -> None:
    part = {"requestId": 5, "generatedAt": T0}
    assert (
        await station.call("NotifyMonitoringReport", {**part, "seqNo": 0, "tbc": True, "monitor": [monitor_data("EVSE", [1, 2])]})
        == {}
    )
    # The last part before the middle one: still not whole.
    assert await station.call("NotifyMonitoringReport", {**part, "seqNo": 2, "monitor": [monitor_data("Connector", [4])]}) == {}

    assert (await api.get(f"/api/v1/stations/{STATION}/monitors", params={"request_id": 5})).status_code == 409
    incomplete = await api.get(f"/api/v1/stations/{STATION}/monitors")  # no complete report yet: nothing to show
    assert (incomplete.status_code, incomplete.json()["items"], incomplete.json()["total"]) == (200, [], 0)
    assert (await api.get(f"/api/v1/stations/{STATION}/monitors", params={"request_id": 6})).status_code == 404
    [report] = await items(api, "reports", kind="monitoring")
    assert (report["request_id"], report["part_count"], report["final_seq_no"], report["complete"]) == (5, 2, 2, False)

    assert (
        await station.call("NotifyMonitoringReport", {**part, "seqNo": 1, "tbc": True, "monitor": [monitor_data("EVSE", [3])]})
        == {}
    )
    assert (
        await station.call("NotifyMonitoringReport", {**part, "seqNo": 0, "tbc": True, "monitor": [monitor_data("EVSE", [1, 2])]})
        == {}
    )

    monitors = await items(api, "monitors")
    assert [(m["component"], m["monitor_id"]) for m in monitors] == [("Connector", 4), ("EVSE", 1), ("EVSE", 2), ("EVSE", 3)]
    assert monitors[1] | {} == {
        "request_id": 5,
        "monitor_id": 1,
        "component": "EVSE",
        "component_instance": None,
        "evse_id": None,
        "connector_id": None,
        "variable": "Temperature",
        "variable_instance": None,
        "type": "UpperThreshold",
        "value": 80.5,
        "severity": 4,
        "transaction": False,
        "event_notification_type": None,  # 2.0.1 does not say
    }
    assert len(await items(api, "monitors", request_id=5)) == 4
    [report] = await items(api, "reports")
    assert (report["part_count"], report["complete"]) == (3, True) and report["completed_at"] is not None
    assert (await api.get(f"/api/v1/stations/{STATION}/monitors", params={"request_id": 6})).status_code == 404


# --- customer information, display messages, reported charging profiles -------------------------------


async def test_customer_information_is_joined_once_whole(station: V201Station, api: httpx.AsyncClient) -> None:
    part = {"requestId": 9, "generatedAt": T0}
    assert await station.call("NotifyCustomerInformation", {**part, "seqNo": 0, "tbc": True, "data": "token AB12: "}) == {}
    [report] = await items(api, "customer-information")
    assert (report["request_id"], report["complete"], report["parts_received"], report["data"]) == (9, False, 1, None)
    assert await station.call("NotifyCustomerInformation", {**part, "seqNo": 0, "tbc": True, "data": "token AB12: "}) == {}
    assert await station.call("NotifyCustomerInformation", {**part, "seqNo": 1, "data": "3 sessions"}) == {}
    [report] = await items(api, "customer-information")
    assert (report["complete"], report["parts_received"], report["data"]) == (True, 2, "token AB12: 3 sessions")


async def test_display_messages_report_without_seq_no(station: V201Station, api: httpx.AsyncClient) -> None:
    first = {
        "requestId": 4,
        "tbc": True,
        "messageInfo": [
            {
                "id": 2,
                "priority": "InFront",
                "state": "Charging",
                "startDateTime": T0,
                "transactionId": "tx-1",
                "display": {"name": "Display", "instance": "front", "evse": {"id": 1, "connectorId": 1}},
                "message": {"format": "UTF8", "language": "nl", "content": "Welkom"},
            }
        ],
    }
    assert await station.call("NotifyDisplayMessages", first) == {}
    assert await station.call("NotifyDisplayMessages", first) == {}  # replayed: parts have no seqNo, the content is the key
    assert (await api.get(f"/api/v1/stations/{STATION}/display-messages", params={"request_id": 4})).status_code == 409
    last = {
        "requestId": 4,
        "messageInfo": [{"id": 1, "priority": "NormalCycle", "message": {"format": "ASCII", "content": "Hello"}}],
    }
    assert await station.call("NotifyDisplayMessages", last) == {}

    messages = await items(api, "display-messages")
    assert [(m["message_id"], m["content"], m["seq_no"]) for m in messages] == [(1, "Hello", 1), (2, "Welkom", 0)]
    welkom = messages[1]
    assert (welkom["state"], welkom["start_at"], welkom["station_transaction_id"], welkom["language"]) == (
        "Charging",
        "2030-05-01T10:00:00.000000Z",
        "tx-1",
        "nl",
    )
    assert (
        welkom["display_component"],
        welkom["display_component_instance"],
        welkom["display_evse_id"],
        welkom["display_connector_id"],
    ) == (
        "Display",
        "front",
        1,
        1,
    )
    [report] = await items(api, "reports", kind="display_messages")
    assert (report["part_count"], report["complete"]) == (2, True)

    # A station with no messages answers with an empty, final report: it is whole and empty.
    assert await station.call("NotifyDisplayMessages", {"requestId": 8}) == {}
    assert await items(api, "display-messages", request_id=8) == []


async def test_reported_charging_profiles(station: V201Station, api: httpx.AsyncClient) -> None:
    base = {"requestId": 21, "chargingLimitSource": "CSO"}
    assert (
        await station.call(
            "ReportChargingProfiles", {**base, "evseId": 1, "tbc": True, "chargingProfile": [profile(10, 1), profile(11, 0)]}
        )
        == {}
    )
    assert await items(api, "reports/charging-profiles") == []  # not whole yet: nothing shown
    assert (
        await station.call(
            "ReportChargingProfiles",
            {"requestId": 21, "chargingLimitSource": "EMS", "evseId": 0, "chargingProfile": [profile(30)]},
        )
        == {}
    )

    profiles = await items(api, "reports/charging-profiles")
    assert [(p["evse_id"], p["charging_limit_source"], p["stack_level"], p["charging_profile_id"]) for p in profiles] == [
        (0, "EMS", 0, 30),
        (1, "CSO", 0, 11),
        (1, "CSO", 1, 10),
    ]
    stored = profiles[2]["profile"]
    assert stored["purpose"] == "TxDefaultProfile" and stored["kind"] == "Absolute"
    assert stored["valid_from"] == "2030-05-01T10:00:00.000Z"
    assert stored["schedules"] == [
        {
            "schedule_id": 1,
            "charging_rate_unit": "W",
            "periods": [
                {"start_period_s": 0, "limit": 11000.0, "number_phases": 3, "phase_to_use": None, "setpoint": None, "discharge_limit": None},
                {"start_period_s": 1800, "limit": 7400, "number_phases": None, "phase_to_use": None, "setpoint": None, "discharge_limit": None},
            ],
            "start_schedule": "2030-05-01T10:00:00.000Z",
            "duration_s": 3600,
            "min_charging_rate": None,
            "sales_tariff": None,
        }
    ]


# --- smart charging notifications ---------------------------------------------------------------------


async def test_charging_limits_and_ev_charging_needs(station: V201Station, api: httpx.AsyncClient) -> None:
    assert (
        await station.call(
            "NotifyChargingLimit",
            {"evseId": 1, "chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True}, "chargingSchedule": [SCHEDULE]},
        )
        == {}
    )
    assert await station.call("ClearedChargingLimit", {"chargingLimitSource": "SO", "evseId": 1}) == {}
    limits = await items(api, "charging-limits")
    assert [(x["cleared"], x["charging_limit_source"], x["evse_id"]) for x in limits] == [(True, "SO", 1), (False, "SO", 1)]
    assert limits[1]["is_grid_critical"] is True
    assert limits[1]["charging_schedules"][0]["periods"][0] == {
        "start_period_s": 0,
        "limit": 11000.0,
        "number_phases": 3,
        "phase_to_use": None,
        "setpoint": None,
        "discharge_limit": None,
    }
    assert limits[0]["charging_schedules"] is None

    needs = {
        "evseId": 2,
        "maxScheduleTuples": 24,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "departureTime": "2030-05-01T18:00:00+02:00",
            "dcChargingParameters": {"evMaxCurrent": 200, "evMaxVoltage": 800, "energyAmount": 40000, "stateOfCharge": 35},
        },
    }
    assert await station.call("NotifyEVChargingNeeds", needs) == {"status": "Accepted"}
    [stored] = await items(api, "ev-charging-needs")
    assert (stored["evse_id"], stored["requested_energy_transfer"], stored["departure_time"], stored["max_schedule_tuples"]) == (
        2,
        "DC",
        "2030-05-01T16:00:00.000000Z",
        24,
    )
    assert stored["dc_charging_parameters"] == {
        "ev_max_current_a": 200,
        "ev_max_voltage_v": 800,
        "energy_amount_wh": 40000,
        "ev_max_power_w": None,
        "state_of_charge_percent": 35,
        "ev_energy_capacity_wh": None,
        "full_soc_percent": None,
        "bulk_soc_percent": None,
    }
    assert stored["ac_charging_parameters"] is None and stored["status"] == "Accepted"

    assert await station.call("NotifyEVChargingSchedule", {"timeBase": T0, "evseId": 2, "chargingSchedule": SCHEDULE}) == {
        "status": "Accepted"
    }
    [schedule] = await items(api, "ev-charging-schedules")
    assert schedule["time_base"] == "2030-05-01T10:00:00.000000Z" and schedule["charging_schedule"]["duration_s"] == 3600


# --- reservations ---------------------------------------------------------------------------------


async def _reservation(csms: RunningCsms, station_id: str, status: str = "Accepted") -> int:
    """A reservation as ReserveNow would have left it (the 2.0.1 ReserveNow encoder is another branch's)."""
    async with csms.application.sessions.begin() as session:
        reservation = Reservation(
            station_id=station_id,
            evse_id=1,
            id_token="TOKEN-1",
            expiry_date=datetime.now(UTC) + timedelta(hours=1),
            status=status,
        )
        session.add(reservation)
    return reservation.id


async def test_reservation_status_update(csms: RunningCsms, station: V201Station, api: httpx.AsyncClient) -> None:
    removed, expired, used = [await _reservation(csms, STATION) for _ in range(3)]
    await csms.services.stations.create("OTHER")
    others = await _reservation(csms, "OTHER")
    async with csms.application.sessions.begin() as session:
        (await session.get(Reservation, used)).status = "Used"

    assert await station.call("ReservationStatusUpdate", {"reservationId": removed, "reservationUpdateStatus": "Removed"}) == {}
    assert await station.call("ReservationStatusUpdate", {"reservationId": expired, "reservationUpdateStatus": "Expired"}) == {}
    assert await station.call("ReservationStatusUpdate", {"reservationId": expired, "reservationUpdateStatus": "Expired"}) == {}
    # Answered, and nothing changes: a used reservation, another station's, one never made.
    assert await station.call("ReservationStatusUpdate", {"reservationId": used, "reservationUpdateStatus": "Removed"}) == {}
    assert await station.call("ReservationStatusUpdate", {"reservationId": others, "reservationUpdateStatus": "Removed"}) == {}
    assert await station.call("ReservationStatusUpdate", {"reservationId": 987654, "reservationUpdateStatus": "Expired"}) == {}

    async def status(reservation_id: int) -> str:
        response = await api.get(f"/api/v1/reservations/{reservation_id}")
        assert response.status_code == 200, response.text
        return response.json()["status"]

    assert [await status(r) for r in (removed, expired, used, others)] == ["Removed", "Expired", "Used", "Accepted"]
    listed = (await api.get(f"/api/v1/stations/{STATION}/reservations", params={"status": "Removed"})).json()["items"]
    assert [r["id"] for r in listed] == [removed]


# --- bad input: the right CALLERROR, nothing stored, the connection kept --------------------------------


async def test_bad_input_is_refused_and_stores_nothing(station: V201Station, api: httpx.AsyncClient) -> None:
    refused: list[tuple[str, dict[str, Any], str]] = [
        ("NotifyEvent", {"generatedAt": T0, "seqNo": "0", "eventData": [event(1)]}, "TypeConstraintViolation"),
        (
            "NotifyEvent",
            {"generatedAt": T0, "seqNo": 0, "eventData": [{k: v for k, v in event(1).items() if k != "trigger"}]},
            "OccurrenceConstraintViolation",
        ),
        (
            "NotifyEvent",
            {"generatedAt": T0, "seqNo": 0, "eventData": [event(1, timestamp="1969-12-31T23:59:59Z")]},
            "PropertyConstraintViolation",
        ),
        (
            "NotifyEvent",
            {"generatedAt": T0, "seqNo": 0, "eventData": [event(1), event(2, actualValue="a\u0000b")]},
            "PropertyConstraintViolation",
        ),
        ("NotifyEvent", {"generatedAt": T0, "seqNo": 0, "eventData": [event(2**40)]}, "PropertyConstraintViolation"),
        (
            "NotifyEvent",
            {"generatedAt": T0, "seqNo": 0, "eventData": [event(1, actualValue="x" * 2501)]},
            "PropertyConstraintViolation",
        ),
        ("NotifyMonitoringReport", {"requestId": 2**31, "seqNo": 0, "generatedAt": T0}, "PropertyConstraintViolation"),
        ("NotifyMonitoringReport", {"requestId": 1, "seqNo": -1, "generatedAt": T0}, "PropertyConstraintViolation"),
        ("NotifyMonitoringReport", {"requestId": 1, "seqNo": 0, "generatedAt": "yesterday"}, "PropertyConstraintViolation"),
        ("NotifyCustomerInformation", {"requestId": 1, "seqNo": 0, "generatedAt": T0, "data": 5}, "TypeConstraintViolation"),
        (
            "NotifyDisplayMessages",
            {"requestId": 1, "messageInfo": [{"id": 1, "priority": "Loud", "message": {"format": "ASCII", "content": "x"}}]},
            "PropertyConstraintViolation",
        ),
        (
            "NotifyDisplayMessages",
            {
                "requestId": 1,
                "messageInfo": [
                    {
                        "id": 1,
                        "priority": "InFront",
                        "endDateTime": "2100-01-01T00:00:00Z",
                        "message": {"format": "ASCII", "content": "x"},
                    }
                ],
            },
            "PropertyConstraintViolation",
        ),
        (
            "ReportChargingProfiles",
            {
                "requestId": 1,
                "chargingLimitSource": "CSO",
                "evseId": 1,
                "chargingProfile": [{**profile(1), "validTo": "0001-01-01T00:00:00Z"}],
            },
            "PropertyConstraintViolation",
        ),
        (
            "ReportChargingProfiles",
            {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": []},
            "OccurrenceConstraintViolation",
        ),
        ("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "Grid"}}, "PropertyConstraintViolation"),
        (
            "NotifyEVChargingNeeds",
            {"evseId": 0, "chargingNeeds": {"requestedEnergyTransfer": "DC"}},
            "PropertyConstraintViolation",
        ),
        (
            "NotifyEVChargingSchedule",
            {"timeBase": T0, "evseId": 1, "chargingSchedule": {**SCHEDULE, "startSchedule": "2999-01-01T00:00:00Z"}},
            "PropertyConstraintViolation",
        ),
        ("ReservationStatusUpdate", {"reservationId": 1, "reservationUpdateStatus": "Gone"}, "PropertyConstraintViolation"),
        ("ReservationStatusUpdate", {"reservationId": 1.5, "reservationUpdateStatus": "Expired"}, "TypeConstraintViolation"),
        ("SecurityEventNotification", {"type": "x" * 51, "timestamp": T0}, "PropertyConstraintViolation"),
        ("SignCertificate", {"csr": "c", "certificateType": "Other"}, "PropertyConstraintViolation"),
        ("FirmwareStatusNotification", {"status": "Downloading", "requestId": 1, "extra": 1}, "FormatViolation"),
        ("Get15118EVCertificate", {"iso15118SchemaVersion": "v", "action": "Install"}, "OccurrenceConstraintViolation"),
    ]
    for action, payload, code in refused:
        got, description = await station.error(action, payload)
        assert got == code, f"{action} {payload}: {got} {description}"

    for path in (
        "monitoring-events",
        "reports",
        "customer-information",
        "charging-limits",
        "ev-charging-needs",
        "ev-charging-schedules",
        "events",
    ):
        assert await items(api, path) == [], path
    # The connection is still up and still answered.
    assert await station.call("NotifyEvent", {"generatedAt": T0, "seqNo": 0, "eventData": [event(1)]}) == {}
    assert len(await items(api, "monitoring-events")) == 1


async def test_largest_values_are_stored(station: V201Station, api: httpx.AsyncClient) -> None:
    """The schemas' longest strings and the 32-bit extremes fit the columns on both databases."""
    big = event(2**31 - 1, actualValue="v" * 2500, techInfo="i" * 500, techCode="c" * 50, cause=-(2**31), transactionId="t" * 36)
    big["component"] = {"name": "n" * 50, "instance": "i" * 50, "evse": {"id": 1000, "connectorId": 1000}}
    big["variable"] = {"name": "v" * 50, "instance": "w" * 50}
    assert await station.call("NotifyEvent", {"generatedAt": T0, "seqNo": 2**31 - 1, "eventData": [big]}) == {}
    [stored] = await items(api, "monitoring-events")
    assert (stored["event_id"], len(stored["actual_value"]), stored["cause"]) == (2**31 - 1, 2500, -(2**31))
    huge = {
        **monitor_data("EVSE", [2**31 - 1]),
        "variableMonitoring": [{"id": -(2**31), "transaction": True, "value": 1.7e308, "type": "Delta", "severity": 2**31 - 1}],
    }
    assert (
        await station.call("NotifyMonitoringReport", {"requestId": -(2**31), "seqNo": 0, "generatedAt": T0, "monitor": [huge]})
        == {}
    )
    [monitor] = await items(api, "monitors")
    assert (monitor["monitor_id"], monitor["value"], monitor["request_id"]) == (-(2**31), 1.7e308, -(2**31))
    assert (
        await station.call(
            "NotifyCustomerInformation", {"requestId": 2**31 - 1, "seqNo": 0, "generatedAt": T0, "data": "d" * 512}
        )
        == {}
    )
    [report] = await items(api, "customer-information")
    assert len(report["data"]) == 512


# --- registration and versions --------------------------------------------------------------------


async def test_not_accepted_station_may_only_send_monitoring_reports(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CS-PENDING", registration_status="Pending")
    async with V201Station.connect(csms.ocpp_url, "CS-PENDING") as pending:
        code, _ = await pending.error("SecurityEventNotification", {"type": "X", "timestamp": T0})
        assert code == "SecurityError"
        # B02: while Pending the CSMS may query the station, which answers with reports.
        assert await pending.call("NotifyMonitoringReport", {"requestId": 1, "seqNo": 0, "generatedAt": T0}) == {}
    assert (await api.get("/api/v1/stations/CS-PENDING/events")).json()["items"] == []
    [report] = (await api.get("/api/v1/stations/CS-PENDING/reports")).json()["items"]
    assert report["complete"] is True


async def test_same_handlers_answer_ocpp21(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create(STATION)
    reservation = await _reservation(csms, STATION)
    async with V201Station.connect(csms.ocpp_url, STATION, "ocpp2.1") as station21:
        assert (
            await station21.call(
                "ReservationStatusUpdate", {"reservationId": reservation, "reservationUpdateStatus": "NoTransaction"}
            )
            == {}
        )
        # 2.1 names the source of a limit with any short word.
        assert await station21.call("ClearedChargingLimit", {"chargingLimitSource": "Local", "evseId": 0}) == {}
        answer = await station21.call(
            "Get15118EVCertificate",
            {"iso15118SchemaVersion": "urn:iso:std:iso:15118:-20:AC", "action": "Update", "exiRequest": "QQ=="},
        )
        assert answer["status"] == "Failed"
        assert await station21.call(
            "NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"}}
        ) == {"status": "Accepted"}
    assert (await api.get(f"/api/v1/reservations/{reservation}")).json()["status"] == "NoTransaction"
    [limit] = await items(api, "charging-limits")
    assert (limit["charging_limit_source"], limit["evse_id"], limit["cleared"]) == ("Local", 0, True)


async def test_unknown_station_routes_answer_404(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    for path in (
        "reports",
        "monitoring-events",
        "monitors",
        "display-messages",
        "charging-limits",
        "ev-charging-needs",
        "ev-charging-schedules",
        "reports/charging-profiles",
        "customer-information",
    ):
        response = await api.get(f"/api/v1/stations/NOPE/{path}")
        assert response.status_code == 404, (path, response.text)
    await csms.services.stations.create(STATION)
    response = await api.get(f"/api/v1/stations/{STATION}/reports", params={"kind": "bogus"})
    assert response.status_code == 422
