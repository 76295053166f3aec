"""A simulated 2.0.1 station against the tiny CSMS on real loopback sockets: frames and behaviour.

The tiny CSMS validates every frame against the official 2.0.1 schemas (the project's RPC core), so
a frame the simulator got wrong would be a CALLERROR here and an ``invalid_request`` error there;
each test ends by asserting the station counted no errors.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sim_csms import FAST, FakeCsms, Received, fake_csms, make_station  # noqa: F401  (fixtures)

from kilowatt.rpc.errors import CallError
from kilowatt.simulator.station import SimulatedStation

MakeStation = Callable[..., SimulatedStation]
V201 = "ocpp2.0.1"


def events(csms: FakeCsms, station_id: str | None = None) -> list[dict[str, Any]]:
    return [r.payload for r in csms.received if r.action == "TransactionEvent" and station_id in (None, r.station_id)]


def connector_statuses(csms: FakeCsms, evse_id: int) -> list[str]:
    return [p["connectorStatus"] for p in csms.of("StatusNotification") if p["evseId"] == evse_id]


def sampled(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["measurand"]: v for v in event["meterValue"][0]["sampledValue"]}


def no_errors(station: SimulatedStation) -> None:
    assert sum(station.stats.errors.values()) == 0, dict(station.stats.errors)


async def ready(csms: FakeCsms, station: SimulatedStation, evses: int = 2) -> None:
    await csms.wait_for(lambda: station.ready and len(csms.of("StatusNotification")) >= evses)


async def test_pending_boot_answers_the_csms_then_boots_and_reports_each_evse(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    answers = iter(["Pending", "Rejected", "Accepted"])
    fake_csms.overrides["BootNotification"] = lambda action, payload: {
        "status": next(answers, "Accepted"),
        "currentTime": "2024-01-01T00:00:00Z",
        "interval": 1,
    }
    station = make_station("CP-201-BOOT", protocol=V201)
    await fake_csms.wait_for(lambda: len(fake_csms.of("BootNotification")) == 1)
    assert fake_csms.subprotocols["CP-201-BOOT"] == V201
    # while Pending the CSMS may query and configure the station, and it answers
    answer = await fake_csms.call(
        "CP-201-BOOT",
        "GetVariables",
        {"getVariableData": [{"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"}}]},
    )
    assert answer["getVariableResult"][0] == {
        "attributeStatus": "Accepted",
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "Identity"},
        "attributeValue": "CP-201-BOOT",
    }
    changed = await fake_csms.call(
        "CP-201-BOOT",
        "SetVariables",
        {
            "setVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "7"}
            ]
        },
    )
    assert changed["setVariableResult"][0]["attributeStatus"] == "Accepted"
    await fake_csms.wait_for(lambda: station.ready, timeout_s=5)
    await fake_csms.wait_for(lambda: len(fake_csms.of("StatusNotification")) == 2)

    boots = [r for r in fake_csms.received if r.action == "BootNotification"]
    assert len(boots) == 3  # Pending, Rejected, Accepted: each retried after the interval given
    assert all(later.at_s - earlier.at_s >= 0.9 for earlier, later in zip(boots, boots[1:], strict=False))
    assert [r.action for r in fake_csms.received[:3]] == ["BootNotification"] * 3  # nothing else before Accepted
    boot = boots[0].payload
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"]["serialNumber"] == "CP-201-BOOT" and boot["chargingStation"]["vendorName"]
    # one StatusNotification per EVSE's connector; 2.0.1 has no station-wide one
    assert sorted((p["evseId"], p["connectorId"], p["connectorStatus"]) for p in fake_csms.of("StatusNotification")) == [
        (1, 1, "Available"),
        (2, 1, "Available"),
    ]
    assert station.stats.rejected["BootNotification:Pending"] == 1
    assert station.stats.rejected["BootNotification:Rejected"] == 1
    no_errors(station)


async def test_a_driver_session_is_one_stream_of_transaction_events(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-S", dataclasses.replace(FAST, connectors=1, id_token_type="ISO15693"), protocol=V201)
    await ready(fake_csms, station, evses=1)
    session = station.plug_in(1, "TAG-201", stay_s=0.4)
    assert session is not None
    await fake_csms.wait_for(
        lambda: station.stats.sessions_completed == 1 and connector_statuses(fake_csms, 1)[-1:] == ["Available"]
    )

    actions = [a for a in fake_csms.actions() if a != "BootNotification"]
    assert actions.index("Authorize") < actions.index("TransactionEvent")
    assert fake_csms.of("Authorize")[0] == {"idToken": {"idToken": "TAG-201", "type": "ISO15693"}}
    assert connector_statuses(fake_csms, 1) == ["Available", "Occupied", "Available"]  # Charging is a charging state

    stream = events(fake_csms)
    assert [e["seqNo"] for e in stream] == list(range(len(stream)))
    assert [e["eventType"] for e in stream][0] == "Started" and stream[-1]["eventType"] == "Ended"
    assert all(e["eventType"] == "Updated" for e in stream[1:-1]) and len(stream) >= 4
    transaction_id = stream[0]["transactionInfo"]["transactionId"]
    assert str(uuid.UUID(transaction_id)) == transaction_id == session.transaction_id
    assert all(e["transactionInfo"]["transactionId"] == transaction_id for e in stream)
    assert not any(e.get("offline") for e in stream)

    started = stream[0]
    assert started["triggerReason"] == "Authorized"
    assert started["idToken"] == {"idToken": "TAG-201", "type": "ISO15693"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    begin = sampled(started)["Energy.Active.Import.Register"]
    assert begin["value"] == session.meter_start_wh and begin["context"] == "Transaction.Begin"
    assert begin["location"] == "Outlet" and begin["unitOfMeasure"]["unit"] == "Wh"
    changes = [e for e in stream if e["triggerReason"] == "ChargingStateChanged"]
    assert changes and changes[0]["transactionInfo"]["chargingState"] == "Charging"
    periodic = [e for e in stream if e["triggerReason"] == "MeterValuePeriodic"]
    assert len(periodic) >= 2
    registers = [sampled(e)["Energy.Active.Import.Register"]["value"] for e in periodic]
    assert registers == sorted(registers)
    assert all(sampled(e)["Power.Active.Import"]["context"] == "Sample.Periodic" for e in periodic)
    assert any(sampled(e)["Power.Active.Import"]["value"] > 0 for e in periodic)

    ended = stream[-1]
    assert ended["triggerReason"] in ("StopAuthorized", "EVDeparted")
    assert ended["transactionInfo"]["stoppedReason"] in ("Local", "EVDisconnected")
    end = sampled(ended)["Energy.Active.Import.Register"]
    assert end["context"] == "Transaction.End" and end["value"] == session.meter_stop_wh >= session.meter_start_wh
    no_errors(station)


async def test_events_queued_offline_are_replayed_in_order_with_seq_no_and_offline_flag(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    station = make_station("CP-201-OFF", dataclasses.replace(FAST, connectors=2, reconnect_min_s=0.02), protocol=V201)
    await ready(fake_csms, station)
    running = station.plug_in(1, "TAG-A", stay_s=30)
    assert running is not None
    await fake_csms.wait_for(lambda: len(events(fake_csms)) >= 3)
    online_count = len(events(fake_csms))

    station.post(lambda: station.drop_connection(offline_s=0.7))
    await fake_csms.wait_for(lambda: not station.connected)
    offline_session = station.plug_in(2, "TAG-B", stay_s=0.25)  # a whole session while offline
    assert offline_session is not None
    await asyncio.sleep(0.35)
    station.post(lambda: station.end_session(running, station_stop_reason()))
    await fake_csms.wait_for(lambda: station.stats.sessions_completed == 2, timeout_s=5)

    by_transaction: dict[str, list[dict[str, Any]]] = {}
    for event in events(fake_csms):
        by_transaction.setdefault(event["transactionInfo"]["transactionId"], []).append(event)
    assert set(by_transaction) == {running.transaction_id, offline_session.transaction_id}
    for stream in by_transaction.values():
        assert [e["seqNo"] for e in stream] == list(range(len(stream)))  # replayed in order, no gap, no duplicate
        assert stream[0]["eventType"] == "Started" and stream[-1]["eventType"] == "Ended"
    first = by_transaction[running.transaction_id]
    assert not any(e.get("offline") for e in first[:online_count])
    assert all(e.get("offline") is True for e in first[online_count:])  # happened while offline
    assert first[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    second = by_transaction[offline_session.transaction_id]
    assert all(e.get("offline") is True for e in second)
    assert fake_csms.actions().count("Authorize") == 1  # TAG-B started offline (OfflineTxForUnknownIdEnabled)
    assert station.stats.offline_messages_replayed == len(events(fake_csms)) - online_count
    assert station.stats.reconnects == 1
    no_errors(station)


def station_stop_reason() -> Any:
    from kilowatt.simulator.model import StopReason

    return StopReason.REMOTE


async def test_remote_start_links_remote_start_id_and_remote_stop_ends_it(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-RS", protocol=V201)
    await ready(fake_csms, station)
    request = {"remoteStartId": 4242, "evseId": 2, "idToken": {"idToken": "APP-USER-1", "type": "Central"}}
    assert await fake_csms.call("CP-201-RS", "RequestStartTransaction", request) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: len(events(fake_csms)) >= 1)
    started = events(fake_csms)[0]
    assert started["eventType"] == "Started" and started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 4242
    assert started["idToken"] == {"idToken": "APP-USER-1", "type": "Central"}
    assert started["evse"]["id"] == 2
    assert "Authorize" not in fake_csms.actions()  # AuthCtrlr.AuthorizeRemoteStart is false

    busy = {"remoteStartId": 4243, "evseId": 2, "idToken": {"idToken": "APP-USER-2", "type": "Central"}}
    assert await fake_csms.call("CP-201-RS", "RequestStartTransaction", busy) == {"status": "Rejected"}
    unknown_evse = {"remoteStartId": 4244, "evseId": 9, "idToken": {"idToken": "APP-USER-2", "type": "Central"}}
    assert await fake_csms.call("CP-201-RS", "RequestStartTransaction", unknown_evse) == {"status": "Rejected"}
    assert await fake_csms.call("CP-201-RS", "RequestStopTransaction", {"transactionId": "no-such-tx"}) == {"status": "Rejected"}
    transaction_id = started["transactionInfo"]["transactionId"]
    status = await fake_csms.call("CP-201-RS", "GetTransactionStatus", {"transactionId": transaction_id})
    assert status["ongoingIndicator"] is True
    assert await fake_csms.call("CP-201-RS", "RequestStopTransaction", {"transactionId": transaction_id}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: events(fake_csms)[-1]["eventType"] == "Ended")
    ended = events(fake_csms)[-1]
    assert ended["triggerReason"] == "RemoteStop" and ended["transactionInfo"]["stoppedReason"] == "Remote"
    # The Ended event stays queued until its CALLRESULT is back; the CSMS saw it a moment before that.
    await fake_csms.wait_for(lambda: not station.queue)
    status = await fake_csms.call("CP-201-RS", "GetTransactionStatus", {"transactionId": transaction_id})
    assert status == {"ongoingIndicator": False, "messagesInQueue": False}

    # with AuthorizeRemoteStart the station asks the CSMS first
    await fake_csms.call(
        "CP-201-RS",
        "SetVariables",
        {
            "setVariableData": [
                {"component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}, "attributeValue": "TRUE"}
            ]
        },
    )
    request = {"remoteStartId": 4245, "evseId": 1, "idToken": {"idToken": "APP-USER-3", "type": "eMAID"}}
    assert (await fake_csms.call("CP-201-RS", "RequestStartTransaction", request))["status"] == "Accepted"
    await fake_csms.wait_for(lambda: events(fake_csms)[-1]["transactionInfo"].get("remoteStartId") == 4245)
    assert fake_csms.of("Authorize")[-1] == {"idToken": {"idToken": "APP-USER-3", "type": "eMAID"}}
    no_errors(station)


async def test_get_variables_answers_every_status(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-GV", protocol=V201)
    await ready(fake_csms, station)

    def item(component: dict[str, Any], variable: str, attribute: str | None = None, **kw: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"component": component, "variable": {"name": variable, **kw}}
        if attribute is not None:
            entry["attributeType"] = attribute
        return entry

    asked = [
        item({"name": "OCPPCommCtrlr"}, "HeartbeatInterval"),
        item({"name": "ocppcommctrlr"}, "MessageAttempts", instance="TransactionEvent"),
        item({"name": "EVSE", "evse": {"id": 2}}, "Power", "MaxSet"),
        item({"name": "EVSE", "evse": {"id": 2}}, "Power", "MinSet"),
        item({"name": "Connector", "evse": {"id": 1, "connectorId": 1}}, "ConnectorType"),
        item({"name": "EVSE", "evse": {"id": 9}}, "Power"),
        item({"name": "FluxCapacitor"}, "Enabled"),
        item({"name": "OCPPCommCtrlr"}, "WarpFactor"),
        item({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", "MaxSet"),
        item({"name": "SecurityCtrlr"}, "BasicAuthPassword"),
    ]
    answer = await fake_csms.call("CP-201-GV", "GetVariables", {"getVariableData": asked})
    results = answer["getVariableResult"]
    assert [r["attributeStatus"] for r in results] == [
        "Accepted",
        "Accepted",
        "Accepted",
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",  # write-only
    ]
    assert [r.get("attributeValue") for r in results[:5]] == ["60", "3", "22000.0", "4140.0", "cType2"]
    assert all("attributeValue" not in r for r in results[5:])
    assert results[2]["attributeType"] == "MaxSet" and results[2]["component"] == {"name": "EVSE", "evse": {"id": 2}}

    with pytest.raises(CallError) as refused:  # more than DeviceDataCtrlr.ItemsPerMessage
        await fake_csms.call("CP-201-GV", "GetVariables", {"getVariableData": asked * 6})
    assert refused.value.code == "OccurrenceConstraintViolation"
    assert station.ready  # bad requests are answered, the connection stays up
    no_errors(station)


async def test_set_variables_validates_stores_and_acts(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-SV", dataclasses.replace(FAST, connectors=1), protocol=V201)
    await ready(fake_csms, station, evses=1)

    def item(component: str, variable: str, value: str, **kw: Any) -> dict[str, Any]:
        return {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value, **kw}

    asked = [
        item("OCPPCommCtrlr", "HeartbeatInterval", "1"),
        item("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,SoC,Voltage"),
        item("OCPPCommCtrlr", "HeartbeatInterval", "soon"),
        item("OCPPCommCtrlr", "HeartbeatInterval", "99999999999"),
        item("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,Flux"),
        item("SecurityCtrlr", "Identity", "someone-else"),
        item("ChargingStation", "Power", "1000", attributeType="MaxSet"),
        item("ChargingStation", "Power", "1000", attributeType="Target"),
        item("Warp", "Enabled", "true"),
        item("AuthCtrlr", "Warp", "true"),
        item("SecurityCtrlr", "BasicAuthPassword", "short"),
        item("SecurityCtrlr", "BasicAuthPassword", "a-long-enough-password-1"),
    ]
    answer = await fake_csms.call("CP-201-SV", "SetVariables", {"setVariableData": asked})
    results = answer["setVariableResult"]
    assert [r["attributeStatus"] for r in results] == [
        "Accepted",
        "Accepted",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",  # read-only
        "Rejected",  # MaxSet is read-only
        "NotSupportedAttributeType",
        "UnknownComponent",
        "UnknownVariable",
        "Rejected",  # 16 characters at least
        "Accepted",
    ]
    assert results[2]["attributeStatusInfo"]["reasonCode"] == "InvalidValue"
    assert station.password == "a-long-enough-password-1"  # used from the next connection on

    read = await fake_csms.call(
        "CP-201-SV",
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedMeasurands"}},
            ]
        },
    )
    assert [r["attributeValue"] for r in read["getVariableResult"]] == ["1", "Energy.Active.Import.Register,SoC,Voltage"]
    heartbeats = len(fake_csms.of("Heartbeat"))
    await fake_csms.wait_for(lambda: len(fake_csms.of("Heartbeat")) >= heartbeats + 1, timeout_s=3)  # the new interval acts
    station.plug_in(1, "TAG-M", stay_s=30)
    await fake_csms.wait_for(lambda: any(e["triggerReason"] == "MeterValuePeriodic" for e in events(fake_csms)))
    periodic = next(e for e in events(fake_csms) if e["triggerReason"] == "MeterValuePeriodic")
    assert set(sampled(periodic)) == {"Energy.Active.Import.Register", "SoC", "Voltage"}
    assert sampled(periodic)["SoC"]["location"] == "EV" and sampled(periodic)["SoC"]["unitOfMeasure"]["unit"] == "Percent"
    no_errors(station)


async def test_base_reports_come_in_notify_report_parts(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-REP", protocol=V201)
    await ready(fake_csms, station)
    answer = await fake_csms.call("CP-201-REP", "GetBaseReport", {"requestId": 17, "reportBase": "FullInventory"})
    assert answer == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: any(not p["tbc"] for p in fake_csms.of("NotifyReport")))
    parts = fake_csms.of("NotifyReport")
    assert len(parts) >= 3
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))
    assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
    assert {p["requestId"] for p in parts} == {17} and len({p["generatedAt"] for p in parts}) == 1
    entries = [entry for p in parts for entry in p["reportData"]]
    components = {(e["component"]["name"], (e["component"].get("evse") or {}).get("id")) for e in entries}
    assert {("ChargingStation", None), ("EVSE", 1), ("EVSE", 2), ("Connector", 1), ("Connector", 2)} <= components
    assert {"SecurityCtrlr", "OCPPCommCtrlr", "TxCtrlr", "SampledDataCtrlr", "AuthCtrlr"} <= {c for c, _ in components}

    def entry(component: str, variable: str, evse_id: int | None = None) -> dict[str, Any]:
        return next(
            e
            for e in entries
            if e["component"]["name"] == component
            and e["variable"]["name"] == variable
            and (e["component"].get("evse") or {}).get("id") == evse_id
        )

    power = entry("EVSE", "Power", 1)
    assert [a["type"] for a in power["variableAttribute"]] == ["Actual", "Target", "MinSet", "MaxSet"]
    assert power["variableCharacteristics"]["unit"] == "W" and power["variableCharacteristics"]["dataType"] == "decimal"
    assert entry("Connector", "ConnectorType", 2)["component"]["evse"] == {"id": 2, "connectorId": 1}
    heartbeat = entry("OCPPCommCtrlr", "HeartbeatInterval")
    assert heartbeat["variableAttribute"] == [
        {"type": "Actual", "mutability": "ReadWrite", "persistent": True, "constant": False, "value": "60"}
    ]
    assert heartbeat["variableCharacteristics"] == {
        "dataType": "integer",
        "supportsMonitoring": False,
        "unit": "s",
        "minLimit": 0,
        "maxLimit": 86400,
    }
    password = entry("SecurityCtrlr", "BasicAuthPassword")
    assert "value" not in password["variableAttribute"][0]  # write-only: reported, never shown
    assert entry("TxCtrlr", "TxStartPoint")["variableCharacteristics"]["valuesList"].startswith("ParkingBayOccupancy")

    fake_csms.received.clear()
    answer = await fake_csms.call("CP-201-REP", "GetBaseReport", {"requestId": 18, "reportBase": "ConfigurationInventory"})
    assert answer == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: any(not p["tbc"] for p in fake_csms.of("NotifyReport")))
    configuration = [e for p in fake_csms.of("NotifyReport") for e in p["reportData"]]
    assert configuration and len(configuration) < len(entries)
    assert all(any(a["mutability"] != "ReadOnly" for a in e["variableAttribute"]) for e in configuration)

    fake_csms.received.clear()
    wanted = {
        "requestId": 19,
        "componentVariable": [
            {"component": {"name": "EVSE"}},
            {"component": {"name": "ChargingStation"}, "variable": {"name": "Model"}},
        ],
    }
    assert await fake_csms.call("CP-201-REP", "GetReport", wanted) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: any(not p["tbc"] for p in fake_csms.of("NotifyReport")))
    chosen = [e for p in fake_csms.of("NotifyReport") for e in p["reportData"]]
    assert {e["component"]["name"] for e in chosen} == {"EVSE", "ChargingStation"}
    assert len(chosen) == 2 * 5 + 1
    nothing = {"requestId": 20, "componentVariable": [{"component": {"name": "FluxCapacitor"}}]}
    assert await fake_csms.call("CP-201-REP", "GetReport", nothing) == {"status": "EmptyResultSet"}
    no_errors(station)


async def test_charging_profile_caps_power_and_bad_profiles_are_rejected(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-SC", dataclasses.replace(FAST, connectors=2, max_power_w=22_000), protocol=V201)
    await ready(fake_csms, station)

    def profile(purpose: str, limit_w: float, **kw: Any) -> dict[str, Any]:
        return {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}]}
            ],
            **kw,
        }

    no_tx = await fake_csms.call("CP-201-SC", "SetChargingProfile", {"evseId": 1, "chargingProfile": profile("TxProfile", 3_700)})
    assert no_tx["status"] == "Rejected"
    station_max_on_evse = {"evseId": 1, "chargingProfile": profile("ChargingStationMaxProfile", 3_700)}
    assert (await fake_csms.call("CP-201-SC", "SetChargingProfile", station_max_on_evse))["status"] == "Rejected"
    unknown_evse = {"evseId": 5, "chargingProfile": profile("TxDefaultProfile", 3_700)}
    assert (await fake_csms.call("CP-201-SC", "SetChargingProfile", unknown_evse))["status"] == "Rejected"

    session = station.plug_in(1, "TAG-SC")
    assert session is not None
    await fake_csms.wait_for(lambda: any(e["triggerReason"] == "MeterValuePeriodic" for e in events(fake_csms)))
    uncapped = [
        sampled(e)["Power.Active.Import"]["value"] for e in events(fake_csms) if e["triggerReason"] == "MeterValuePeriodic"
    ]
    assert max(uncapped) > 3_700
    wrong_tx = {"evseId": 1, "chargingProfile": profile("TxProfile", 3_700, transactionId="not-this-one")}
    assert (await fake_csms.call("CP-201-SC", "SetChargingProfile", wrong_tx))["status"] == "Rejected"
    tx = {"evseId": 1, "chargingProfile": profile("TxProfile", 3_700, transactionId=session.transaction_id)}
    assert await fake_csms.call("CP-201-SC", "SetChargingProfile", tx) == {"status": "Accepted"}
    seen = len(events(fake_csms))
    await fake_csms.wait_for(lambda: sum(e["triggerReason"] == "MeterValuePeriodic" for e in events(fake_csms)[seen:]) >= 2)
    capped = [
        sampled(e)["Power.Active.Import"]["value"] for e in events(fake_csms)[seen:] if e["triggerReason"] == "MeterValuePeriodic"
    ]
    assert all(value <= 3_700 for value in capped)
    composite = await fake_csms.call("CP-201-SC", "GetCompositeSchedule", {"duration": 60, "evseId": 1})
    assert composite["schedule"]["chargingSchedulePeriod"][0]["limit"] == 3_700
    assert await fake_csms.call("CP-201-SC", "ClearChargingProfile", {"chargingProfileId": 7}) == {"status": "Accepted"}
    assert await fake_csms.call("CP-201-SC", "ClearChargingProfile", {"chargingProfileId": 7}) == {"status": "Unknown"}
    no_errors(station)


async def test_reset_trigger_availability_and_unlock(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-OPS", protocol=V201)
    await ready(fake_csms, station)
    sid = "CP-201-OPS"
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "BootNotification"}) == {"status": "Rejected"}
    before = len(fake_csms.of("StatusNotification"))
    trigger = {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}}
    assert await fake_csms.call(sid, "TriggerMessage", trigger) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: len(fake_csms.of("StatusNotification")) == before + 1)
    assert fake_csms.of("StatusNotification")[-1]["evseId"] == 2
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "TransactionEvent"}) == {"status": "Rejected"}
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: len(fake_csms.of("MeterValues")) == 1)
    assert fake_csms.of("MeterValues")[0]["evseId"] == 1
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "SignV2GCertificate"}) == {"status": "NotImplemented"}
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "Heartbeat", "evse": {"id": 7}}) == {
        "status": "Rejected"
    }

    inoperative = {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    assert await fake_csms.call(sid, "ChangeAvailability", inoperative) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: connector_statuses(fake_csms, 2)[-1:] == ["Unavailable"])

    session = station.plug_in(1, "TAG-OPS", stay_s=30)
    assert session is not None
    await fake_csms.wait_for(lambda: len(events(fake_csms)) >= 1)
    assert await fake_csms.call(sid, "UnlockConnector", {"evseId": 1, "connectorId": 1}) == {
        "status": "OngoingAuthorizedTransaction"
    }
    assert await fake_csms.call(sid, "UnlockConnector", {"evseId": 3, "connectorId": 1}) == {"status": "UnknownConnector"}
    assert await fake_csms.call(sid, "TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: events(fake_csms)[-1]["triggerReason"] == "Trigger")
    assert sampled(events(fake_csms)[-1])["Energy.Active.Import.Register"]["context"] == "Trigger"

    assert await fake_csms.call(sid, "Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}  # a transaction runs
    assert await fake_csms.call(sid, "Reset", {"type": "Immediate", "evseId": 1}) == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "EVSEResetUnsupported"},
    }
    boots = len(fake_csms.of("BootNotification"))
    assert await fake_csms.call(sid, "RequestStopTransaction", {"transactionId": session.transaction_id}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: len(fake_csms.of("BootNotification")) == boots + 1, timeout_s=5)  # reset once idle
    assert fake_csms.of("BootNotification")[-1]["reason"] == "RemoteReset"
    assert events(fake_csms)[-1]["eventType"] == "Ended"
    no_errors(station)


async def test_immediate_reset_ends_the_transaction_and_reboots(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-201-RST", protocol=V201)
    await ready(fake_csms, station)
    station.plug_in(1, "TAG-R", stay_s=30)
    await fake_csms.wait_for(lambda: len(events(fake_csms)) >= 1)
    assert await fake_csms.call("CP-201-RST", "Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: len(fake_csms.of("BootNotification")) == 2, timeout_s=5)
    ended = events(fake_csms)[-1]
    assert ended["eventType"] == "Ended" and ended["triggerReason"] == "ResetCommand"
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert fake_csms.of("BootNotification")[-1]["reason"] == "RemoteReset"
    assert len(fake_csms.paths) == 2
    no_errors(station)


async def test_ocpp21_station_speaks_the_same_messages_under_21_schemas(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-21", dataclasses.replace(FAST, connectors=1), protocol="ocpp2.1")
    await ready(fake_csms, station, evses=1)
    assert fake_csms.subprotocols["CP-21"] == "ocpp2.1"
    assert station.adapter.subprotocol == "ocpp2.1" and station.adapter.dialect.subprotocol == "ocpp2.1"
    request = {"remoteStartId": 21, "evseId": 1, "idToken": {"idToken": "APP-21", "type": "Central"}}
    assert await fake_csms.call("CP-21", "RequestStartTransaction", request) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: any(e["triggerReason"] == "MeterValuePeriodic" for e in events(fake_csms)))
    assert events(fake_csms)[0]["transactionInfo"]["remoteStartId"] == 21
    assert await fake_csms.call("CP-21", "GetBaseReport", {"requestId": 1, "reportBase": "SummaryInventory"}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: any(not p["tbc"] for p in fake_csms.of("NotifyReport")))
    assert {r.subprotocol for r in fake_csms.received} == {"ocpp2.1"}
    # a 2.1-only command the simulator does not do is refused as a charger without the feature would
    with pytest.raises(CallError) as refused:
        await fake_csms.call("CP-21", "GetTariffs", {"evseId": 1})
    assert refused.value.code == "NotSupported"
    no_errors(station)


def test_received_records_the_version() -> None:
    assert Received("X", "Heartbeat", {}).subprotocol == "ocpp1.6"


@pytest.mark.parametrize("protocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_a_fault_and_its_clearing_are_notify_events(fake_csms: FakeCsms, make_station: MakeStation, protocol: str) -> None:
    """A connector fault is reported as a 2.0.1 charger does: StatusNotification Faulted, then a
    NotifyEvent (EVSE Problem true with the error code, and the connector's AvailabilityState Faulted
    caused by it); when the fault clears, Problem false ``cleared`` and the state it is back in. The
    tiny CSMS validates each frame against the version's schemas (the station counts no errors)."""
    station = make_station("CP-EV", dataclasses.replace(FAST, connectors=2), protocol=protocol)
    await ready(fake_csms, station)
    assert fake_csms.of("NotifyEvent") == []  # nothing to report while all is well
    station.post(lambda: station.inject_error("GroundFailure", 0.3, connector_id=2))
    await fake_csms.wait_for(lambda: len(fake_csms.of("NotifyEvent")) == 2)
    actions = [a for a in fake_csms.actions("CP-EV") if a in ("StatusNotification", "NotifyEvent")]
    assert actions[-4:] == ["StatusNotification", "NotifyEvent", "StatusNotification", "NotifyEvent"]
    assert connector_statuses(fake_csms, 2)[-2:] == ["Faulted", "Available"]

    fault, cleared = fake_csms.of("NotifyEvent")
    assert (fault["seqNo"], cleared["seqNo"]) == (0, 0)
    problem, state = fault["eventData"]
    assert problem["component"] == {"name": "EVSE", "evse": {"id": 2}} and problem["variable"] == {"name": "Problem"}
    assert (problem["actualValue"], problem["techCode"], problem["trigger"], problem["eventNotificationType"]) == (
        "true", "GroundFailure", "Delta", "HardWiredNotification"
    )
    assert "cleared" not in problem
    assert state["component"] == {"name": "Connector", "evse": {"id": 2, "connectorId": 1}}
    assert (state["variable"], state["actualValue"], state["cause"]) == ({"name": "AvailabilityState"}, "Faulted", problem["eventId"])
    problem_cleared, state_after = cleared["eventData"]
    assert (problem_cleared["actualValue"], problem_cleared["cleared"], problem_cleared["component"]) == ("false", True, problem["component"])
    assert state_after["actualValue"] == "Available" and state_after["cause"] == problem_cleared["eventId"]
    event_ids = [e["eventId"] for message in fake_csms.of("NotifyEvent") for e in message["eventData"]]
    assert len(set(event_ids)) == 4  # every event its own id
    assert {r.subprotocol for r in fake_csms.received} == {protocol}
    no_errors(station)
