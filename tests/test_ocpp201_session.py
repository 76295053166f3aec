"""Whole OCPP 2.0.1 and 2.1 sessions by a real client over a socket, through the real CSMS.

Every test runs for both versions (2.1's messages are 2.0.1's plus optional fields) and on SQLite
and PostgreSQL (the ``csms`` fixture). The charger is the raw test charger: exact frames in, exact
answers out. Answers are checked against the version's official response schema.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from charger import TestCharger, now
from conftest import RunningCsms
from kilowatt.ocpp import v21, v201
from kilowatt.storage.models import MeterValue

VERSIONS = {"ocpp2.0.1": v201.DIALECT, "ocpp2.1": v21.DIALECT}


@pytest.fixture(params=list(VERSIONS))
def version(request: pytest.FixtureRequest) -> str:
    return request.param


async def connect(csms: RunningCsms, version: str, station_id: str = "CS-1", **create: Any) -> Any:
    await csms.services.stations.create(station_id, **create)
    return TestCharger.connect(csms.ocpp_url, station_id, subprotocols=[version])


async def call(cp: TestCharger, version: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A CALL that must succeed, its answer valid by the version's response schema."""
    answer = await cp.call(action, payload)
    VERSIONS[version].schemas.validate_response(action, answer)
    return answer


def boot_payload(reason: str = "PowerUp") -> dict[str, Any]:
    return {
        "reason": reason,
        "chargingStation": {
            "model": "KW-22",
            "vendorName": "Kilowatt",
            "serialNumber": "S-1",
            "modem": {"iccid": "8931", "imsi": "2620"},
        },
    }


def energy(wh: float, context: str = "Sample.Periodic", at: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"timestamp": at or now(), "sampledValue": [{"value": wh, "context": context, **extra}]}


def event(event_type: str, seq_no: int, transaction_id: str, trigger: str = "Authorized", **fields: Any) -> dict[str, Any]:
    info = {"transactionId": transaction_id, **fields.pop("info", {})}
    return {
        "eventType": event_type,
        "timestamp": fields.pop("timestamp", now()),
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
        **fields,
    }


async def transaction(api: httpx.AsyncClient, station_id: str, station_transaction_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/stations/{station_id}/transactions/{station_transaction_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_boot_heartbeat_status(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    async with await connect(csms, version) as cp:
        booted = await call(cp, version, "BootNotification", boot_payload("FirmwareUpdate"))
        assert booted["status"] == "Accepted" and booted["interval"] > 0
        await call(cp, version, "Heartbeat", {})
        await call(
            cp, version, "StatusNotification", {"timestamp": now(), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}
        )
    station = (await api.get("/api/v1/stations/CS-1")).json()
    assert (station["ocpp_version"], station["vendor"], station["model"], station["iccid"]) == (
        version,
        "Kilowatt",
        "KW-22",
        "8931",
    )
    [connector] = station["connectors"]
    assert (connector["evse_id"], connector["connector_id"], connector["status"], connector["connector_status"]) == (
        1,
        1,
        "Occupied",
        "Occupied",
    )
    events = (await api.get("/api/v1/stations/CS-1/events", params={"kind": "boot"})).json()["items"]
    assert [e["status"] for e in events] == ["FirmwareUpdate"]


async def test_a_pending_station_may_only_boot_and_report(csms: RunningCsms, version: str) -> None:
    async with await connect(csms, version, registration_status="Pending") as cp:
        booted = await call(cp, version, "BootNotification", boot_payload())
        assert booted["status"] == "Pending"
        await call(cp, version, "Heartbeat", {})
        answer = await cp.call_frame("TransactionEvent", event("Started", 0, "T-1"))
        assert answer[0] == 4 and answer[2] == "SecurityError"
    assert (await csms.services.transactions.list()).total == 0


async def test_whole_session(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    await api.post("/api/v1/id-tokens", json={"id_token": "RFID-1"})
    tx = str(uuid.uuid4())
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        assert (await call(cp, version, "Authorize", {"idToken": {"idToken": "RFID-1", "type": "ISO14443"}}))["idTokenInfo"][
            "status"
        ] == "Accepted"
        started = await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Started",
                0,
                tx,
                "Authorized",
                idToken={"idToken": "RFID-1", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
                meterValue=[energy(1000, "Transaction.Begin")],
                info={"chargingState": "EVConnected"},
            ),
        )
        assert started["idTokenInfo"]["status"] == "Accepted"
        await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Updated",
                1,
                tx,
                "ChargingStateChanged",
                numberOfPhasesUsed=3,
                cableMaxCurrent=32,
                meterValue=[energy(1.5, unitOfMeasure={"unit": "kWh"})],
                info={"chargingState": "Charging"},
            ),
        )
        await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Ended",
                2,
                tx,
                "EVCommunicationLost",
                meterValue=[energy(2500, "Transaction.End")],
                info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
            ),
        )
    body = await transaction(api, "CS-1", tx)
    assert (body["evse_id"], body["connector_id"], body["id_token"], body["id_token_type"]) == (1, 1, "RFID-1", "ISO14443")
    assert (body["meter_start_wh"], body["meter_stop_wh"], body["energy_wh"], body["active"]) == (1000, 2500, 1500, False)
    assert (body["start_reason"], body["stop_reason"], body["trigger_reason"]) == (
        "Authorized",
        "EVDisconnected",
        "EVCommunicationLost",
    )
    assert (body["charging_state"], body["number_of_phases_used"], body["cable_max_current_a"]) == ("Idle", 3, 32)
    assert [(e["seq_no"], e["event_type"]) for e in body["events"]] == [(0, "Started"), (1, "Updated"), (2, "Ended")]
    assert body["missing_seq_nos"] == []
    assert [v["value_numeric"] for v in body["meter_values"]] == [1000, 1.5, 2500]
    assert body["meter_values"][1]["unit"] == "kWh"


async def test_offline_queue_replayed_out_of_order_and_twice(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    tx = str(uuid.uuid4())
    t0, t1, t2 = "2026-11-30T10:00:00Z", "2026-11-30T10:30:00Z", "2026-11-30T11:00:00Z"
    queued = [
        event(
            "Started",
            0,
            tx,
            "CablePluggedIn",
            timestamp=t0,
            offline=True,
            evse={"id": 2, "connectorId": 1},
            meterValue=[energy(100, "Transaction.Begin", t0)],
            info={"chargingState": "Charging"},
        ),
        event(
            "Updated",
            1,
            tx,
            "MeterValuePeriodic",
            timestamp=t1,
            offline=True,
            meterValue=[energy(600, at=t1)],
            info={"chargingState": "SuspendedEV"},
        ),
        event(
            "Ended",
            2,
            tx,
            "EVDeparted",
            timestamp=t2,
            offline=True,
            meterValue=[energy(900, "Transaction.End", t2)],
            info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
        ),
    ]
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        for payload in (queued[2], queued[0], queued[1], queued[2], queued[0]):  # out of order, and twice
            await call(cp, version, "TransactionEvent", payload)
    body = await transaction(api, "CS-1", tx)
    assert (body["started_at"], body["stopped_at"]) == ("2026-11-30T10:00:00.000000Z", "2026-11-30T11:00:00.000000Z")
    assert (body["evse_id"], body["meter_start_wh"], body["meter_stop_wh"], body["energy_wh"]) == (2, 100, 900, 800)
    assert (body["offline"], body["charging_state"], body["trigger_reason"]) == (True, "Idle", "EVDeparted")
    assert [e["seq_no"] for e in body["events"]] == [0, 1, 2]
    assert len(body["meter_values"]) == 3  # replays stored nothing


async def test_running_session_updates_replayed_and_changed(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    """Updates of a running session take the path that reads nothing back: a replay of one of
    them, a token arriving mid-session and a change of EVSE still land right."""
    tx = str(uuid.uuid4())
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Started", 0, tx, "CablePluggedIn", evse={"id": 1, "connectorId": 1}, meterValue=[energy(10, "Transaction.Begin")]
            ),
        )
        update = event("Updated", 1, tx, "MeterValuePeriodic", meterValue=[energy(20)], info={"chargingState": "Charging"})
        await call(cp, version, "TransactionEvent", update)
        await call(cp, version, "TransactionEvent", update)  # replayed: answered, not stored again
        await call(cp, version, "TransactionEvent", event("Updated", 2, tx, "MeterValuePeriodic", meterValue=[energy(30)]))
        authorized = await call(
            cp,
            version,
            "TransactionEvent",
            event("Updated", 3, tx, "Authorized", idToken={"idToken": "LATE-1", "type": "KeyCode"}),
        )
        assert authorized["idTokenInfo"]["status"] == "Unknown"  # not registered (stored as Invalid, 1.6's word)
        await call(
            cp,
            version,
            "TransactionEvent",
            event("Updated", 4, tx, "ChargingStateChanged", info={"chargingState": "SuspendedEV"}, numberOfPhasesUsed=1),
        )
        await call(
            cp, version, "TransactionEvent", event("Ended", 5, tx, "EVDeparted", meterValue=[energy(40, "Transaction.End")])
        )
    body = await transaction(api, "CS-1", tx)
    assert [e["seq_no"] for e in body["events"]] == [0, 1, 2, 3, 4, 5]
    assert [v["value_numeric"] for v in body["meter_values"]] == [10, 20, 30, 40]
    assert (body["id_token"], body["id_token_type"], body["id_token_status"]) == ("LATE-1", "KeyCode", "Invalid")
    assert (body["charging_state"], body["number_of_phases_used"], body["trigger_reason"]) == ("SuspendedEV", 1, "EVDeparted")
    assert (body["energy_wh"], body["active"]) == (30, False)


async def test_ended_without_started_is_a_complete_transaction_with_its_gap(
    csms: RunningCsms, api: httpx.AsyncClient, version: str
) -> None:
    tx = str(uuid.uuid4())
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Ended",
                3,
                tx,
                "StopAuthorized",
                evse={"id": 1},
                idToken={"idToken": "UNKNOWN-9", "type": "ISO14443"},
                meterValue=[energy(5000, "Transaction.Begin"), energy(7000, "Transaction.End")],
                info={"stoppedReason": "Local"},
            ),
        )
    body = await transaction(api, "CS-1", tx)
    assert (body["active"], body["evse_id"], body["energy_wh"], body["stop_reason"]) == (False, 1, 2000, "Local")
    assert body["missing_seq_nos"] == [0, 1, 2]
    listed = (await api.get("/api/v1/transactions", params={"station_id": "CS-1"})).json()["items"]
    assert [t["station_transaction_id"] for t in listed] == [tx]


async def test_a_huge_seq_no_lists_the_first_thousand_missing(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    """The highest seqNo a station may send leaves 2**31 - 1 gaps: the detail lists the first 1000, at once."""
    tx = str(uuid.uuid4())
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(cp, version, "TransactionEvent", event("Started", 0, tx, "Authorized", evse={"id": 1}))
        await call(cp, version, "TransactionEvent", event("Updated", 2**31 - 1, tx, "MeterValuePeriodic"))
    body = await transaction(api, "CS-1", tx)
    assert body["missing_seq_nos"] == list(range(1, 1001))
    assert [e["seq_no"] for e in body["events"]] == [0, 2**31 - 1]


async def test_the_connector_shows_the_newest_events_charging_state(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    """The connector's charging state follows the transaction's newest event by seqNo: an event that
    names no EVSE still sets it (on the transaction's EVSE), a late older one does not overwrite it."""
    tx = str(uuid.uuid4())

    async def charging_state() -> str | None:
        [connector] = (await api.get("/api/v1/stations/CS-1")).json()["connectors"]
        return connector["charging_state"]

    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        status = {"timestamp": now(), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}
        await call(cp, version, "StatusNotification", status)
        started = event("Started", 0, tx, "CablePluggedIn", evse={"id": 1, "connectorId": 1}, info={"chargingState": "EVConnected"})
        await call(cp, version, "TransactionEvent", started)
        assert await charging_state() == "EVConnected"
        await call(cp, version, "TransactionEvent", event("Updated", 2, tx, "ChargingStateChanged", info={"chargingState": "Charging"}))
        assert await charging_state() == "Charging"  # no evse in the event: the transaction's
        late = event("Updated", 1, tx, "ChargingStateChanged", evse={"id": 1, "connectorId": 1}, info={"chargingState": "SuspendedEV"})
        await call(cp, version, "TransactionEvent", late)
        assert await charging_state() == "Charging"  # seqNo 1 is older than 2
        await call(cp, version, "TransactionEvent", event("Updated", 3, tx, "ChargingStateChanged", info={"chargingState": "SuspendedEVSE"}))
        assert await charging_state() == "SuspendedEVSE"


async def test_remote_start_id_links_the_transaction(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    tx = str(uuid.uuid4())
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(
            cp,
            version,
            "TransactionEvent",
            event(
                "Started",
                0,
                tx,
                "RemoteStart",
                evse={"id": 1, "connectorId": 1},
                idToken={"idToken": "APP-7", "type": "Central"},
                info={"remoteStartId": 4242, "chargingState": "EVConnected"},
            ),
        )
    found = (await api.get("/api/v1/transactions", params={"remote_start_id": 4242})).json()["items"]
    assert [t["station_transaction_id"] for t in found] == [tx]
    assert found[0]["remote_start_id"] == 4242


async def test_meter_values_keep_every_field(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    signed = {"signedMeterData": "QUJD", "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF", "publicKey": "UEs="}
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(
            cp,
            version,
            "MeterValues",
            {
                "evseId": 0,
                "meterValue": [
                    {
                        "timestamp": now(),
                        "sampledValue": [
                            {
                                "value": 12.5,
                                "measurand": "Power.Active.Import",
                                "phase": "L1",
                                "location": "Inlet",
                                "context": "Trigger",
                                "unitOfMeasure": {"unit": "W", "multiplier": 3},
                                "signedMeterValue": signed,
                            }
                        ],
                    }
                ],
            },
        )
    async with csms.application.sessions() as session:  # no API lists samples outside transactions yet
        [row] = (await session.execute(select(MeterValue).where(MeterValue.station_id == "CS-1"))).scalars().all()
    assert (row.evse_id, row.measurand, row.phase, row.location, row.context, row.unit) == (
        0,
        "Power.Active.Import",
        "L1",
        "Inlet",
        "Trigger",
        "W",
    )
    assert (row.value, row.unit_multiplier, row.value_numeric, row.signed_meter_value) == ("12.5", 3, 12500.0, signed)


async def test_device_model_report_in_several_parts(csms: RunningCsms, api: httpx.AsyncClient, version: str) -> None:
    def variable(component: dict[str, Any], name: str, value: str, **attribute: Any) -> dict[str, Any]:
        return {
            "component": component,
            "variable": {"name": name},
            "variableAttribute": [{"type": "Actual", "value": value, **attribute}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": True, "unit": "s"},
        }

    generated = now()
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await call(
            cp,
            version,
            "NotifyReport",
            {
                "requestId": 7,
                "generatedAt": generated,
                "tbc": True,
                "seqNo": 0,
                "reportData": [variable({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "300", mutability="ReadWrite")],
            },
        )
        await call(
            cp,
            version,
            "NotifyReport",
            {
                "requestId": 7,
                "generatedAt": generated,
                "seqNo": 1,
                "reportData": [
                    variable({"name": "EVSE", "evse": {"id": 1}}, "Power", "22000", mutability="ReadOnly", constant=True),
                    variable({"name": "SecurityCtrlr"}, "BasicAuthPassword", "s3cr3t-passw0rd!", mutability="WriteOnly"),
                ],
            },
        )
        # a later report updates what an earlier one said
        await call(
            cp,
            version,
            "NotifyReport",
            {
                "requestId": 8,
                "generatedAt": now(),
                "seqNo": 0,
                "reportData": [variable({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "600", mutability="ReadWrite")],
            },
        )
        # a replayed part is answered and stores nothing, not even its older value
        await call(
            cp,
            version,
            "NotifyReport",
            {
                "requestId": 7,
                "generatedAt": generated,
                "tbc": True,
                "seqNo": 0,
                "reportData": [variable({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "300", mutability="ReadWrite")],
            },
        )
    reports = (await api.get("/api/v1/stations/CS-1/reports", params={"kind": "device_model"})).json()["items"]
    assert sorted((r["request_id"], r["part_count"], r["complete"]) for r in reports) == [(7, 2, True), (8, 1, True)]
    model = (await api.get("/api/v1/stations/CS-1/device-model")).json()["variables"]
    values = {(v["component"], v["evse_id"], v["variable"]): v["value"] for v in model}
    assert values == {
        ("OCPPCommCtrlr", 0, "HeartbeatInterval"): "600",
        ("EVSE", 1, "Power"): "22000",
        ("SecurityCtrlr", 0, "BasicAuthPassword"): "***",
    }


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('[2, "e1", "Heartbeat", {"extra": 1}]', "FormatViolation"),  # a property the schema does not allow
        ('[2, "e2", "Heartbeat", []]', "FormatViolation"),  # payload not an object
        (
            '[2, "e3", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "evseId": 1, "connectorId": 1}]',
            "OccurrenceConstraintViolation",
        ),
        (
            '[2, "e4", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": "1", "connectorId": 1}]',
            "TypeConstraintViolation",
        ),
        (
            '[2, "e5", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Charging", "evseId": 1, "connectorId": 1}]',
            "PropertyConstraintViolation",
        ),
        (
            '[2, "e6", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 99999999999, "connectorId": 1}]',
            "PropertyConstraintViolation",
        ),
        ('[2, "e7", "Heartbeat\\u0000", {}]', "PropertyConstraintViolation"),  # NUL, refused before the action is read
        ('[2, "e8", "FlyToTheMoon", {}]', "NotImplemented"),
        ('[2, "e9", "Reset", {"type": "Immediate"}]', "NotSupported"),  # a CSMS→station action
        ('[2, "e10", "Heartbeat"]', "RpcFrameworkError"),
        ('[9, "e11", "Heartbeat", {}]', "MessageTypeNotSupported"),
        ('[2, "e12", "DataTransfer", {"vendorId": "a\\u0000b"}]', "PropertyConstraintViolation"),
    ],
)
async def test_every_error_code(csms: RunningCsms, version: str, frame: str, code: str) -> None:
    async with await connect(csms, version) as cp:
        await call(cp, version, "BootNotification", boot_payload())
        await cp.send_raw(frame)
        answer = await cp.receive()
        assert answer[0] == 4 and answer[2] == code, answer
        assert answer[1] == json.loads(frame)[1]
        assert (await cp.call("Heartbeat", {}))["currentTime"]  # the connection stays up


@pytest.mark.parametrize("frame", ["not json", '[2, 17, "Heartbeat", {}]', '[2, "' + "x" * 37 + '", "Heartbeat", {}]'])
async def test_an_unreadable_message_id_is_answered_as_minus_one(csms: RunningCsms, version: str, frame: str) -> None:
    async with await connect(csms, version) as cp:
        await cp.send_raw(frame)
        answer = await cp.receive()
        assert answer[:3] == [4, "-1", "RpcFrameworkError"], answer


async def test_a_pinned_station_is_admitted_only_with_its_version(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.stations.create("CS-1")
    response = await api.patch("/api/v1/stations/CS-1", json={"ocpp_version": "ocpp1.6"})
    assert response.status_code == 200 and response.json()["pinned_ocpp_version"] == "ocpp1.6"
    async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]) as cp:
        assert cp.socket.subprotocol == "ocpp1.6"
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=["ocpp2.0.1"]):
            pass
    assert refused.value.response.status_code == 400
    assert b"pinned to ocpp1.6" in refused.value.response.body
    assert (await api.patch("/api/v1/stations/CS-1", json={"ocpp_version": "ocpp3"})).status_code == 422
    assert (await api.patch("/api/v1/stations/CS-1", json={"ocpp_version": None})).json()["pinned_ocpp_version"] is None
    async with TestCharger.connect(csms.ocpp_url, "CS-1", subprotocols=["ocpp1.6", "ocpp2.0.1"]) as cp:
        assert cp.socket.subprotocol == "ocpp2.0.1"


async def test_ocpp21_id_tokens_of_255_characters_are_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """2.1 allows idToken up to 255 characters (2.0.1: 36) and type as free text: a session with
    one is stored whole, on PostgreSQL as on SQLite (migration 0010); the token is unknown."""
    token = "T" * 255
    tx = str(uuid.uuid4())
    async with await connect(csms, "ocpp2.1") as cp:
        await call(cp, "ocpp2.1", "BootNotification", boot_payload())
        authorized = await call(cp, "ocpp2.1", "Authorize", {"idToken": {"idToken": token, "type": "DirectPayment"}})
        assert authorized["idTokenInfo"]["status"] == "Unknown"
        for seq_no, event_type in enumerate(("Started", "Ended")):
            await call(
                cp,
                "ocpp2.1",
                "TransactionEvent",
                event(
                    event_type,
                    seq_no,
                    tx,
                    "Authorized",
                    evse={"id": 1, "connectorId": 1},
                    idToken={"idToken": token, "type": "DirectPayment"},
                ),
            )
    body = await transaction(api, "CS-1", tx)
    assert (body["id_token"], body["id_token_type"], body["stop_id_token"], body["active"]) == (
        token,
        "DirectPayment",
        token,
        False,
    )
