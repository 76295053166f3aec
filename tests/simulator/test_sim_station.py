"""A simulated station against a tiny CSMS on real loopback sockets: what goes over the wire."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sim_csms import FAST, FakeCsms, fake_csms, make_station  # noqa: F401  (fixtures)

from kilowatt.simulator.model import ConnectorStatus
from kilowatt.simulator.station import SimulatedStation

MakeStation = Callable[..., SimulatedStation]


def statuses(csms: FakeCsms, connector_id: int) -> list[str]:
    return [p["status"] for p in csms.of("StatusNotification") if p["connectorId"] == connector_id]


def sampled(meter_values: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {v["measurand"]: v for v in meter_values["meterValue"][0]["sampledValue"]}


async def test_boots_after_pending_then_reports_every_connector_and_heartbeats(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    answers = iter(["Pending", "Accepted"])
    fake_csms.overrides["BootNotification"] = lambda action, payload: {
        "status": next(answers, "Accepted"),
        "currentTime": "2024-01-01T00:00:00Z",
        "interval": 1,
    }
    make_station("CP-BOOT")
    await fake_csms.wait_for(lambda: len(fake_csms.of("BootNotification")) == 2, timeout_s=3)
    await fake_csms.wait_for(lambda: "Heartbeat" in fake_csms.actions(), timeout_s=3)
    actions = fake_csms.actions()
    assert actions[:2] == ["BootNotification", "BootNotification"]  # nothing else while Pending
    boots = [r for r in fake_csms.received if r.action == "BootNotification"]
    assert boots[1].at_s - boots[0].at_s >= 0.9  # retried after the interval the CSMS gave
    heartbeat = next(r for r in fake_csms.received if r.action == "Heartbeat")
    assert 0.9 <= heartbeat.at_s - boots[1].at_s <= 1.5  # at the interval of the accepting answer
    assert [p["connectorId"] for p in fake_csms.of("StatusNotification")] == [0, 1, 2]
    assert all(p["status"] == "Available" and p["errorCode"] == "NoError" for p in fake_csms.of("StatusNotification"))
    boot = fake_csms.of("BootNotification")[0]
    assert boot["chargePointSerialNumber"] == "CP-BOOT" and boot["chargePointVendor"]


async def test_a_driver_session_from_plug_in_to_unplug(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-S", dataclasses.replace(FAST, connectors=1))
    await fake_csms.wait_for(lambda: station.ready and len(fake_csms.of("StatusNotification")) == 2)
    assert station.plug_in(1, "TAG-1", stay_s=0.35) is not None
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Available"] and "StopTransaction" in fake_csms.actions())

    actions = [a for a in fake_csms.actions() if a not in ("BootNotification",)]
    start = actions.index("StartTransaction")
    assert actions[start - 2 : start] == ["StatusNotification", "Authorize"]  # Preparing, then Authorize
    assert statuses(fake_csms, 1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]

    start_payload = fake_csms.of("StartTransaction")[0]
    assert start_payload["connectorId"] == 1 and start_payload["idTag"] == "TAG-1"
    transaction_id = 1001
    meter_values = fake_csms.of("MeterValues")
    assert len(meter_values) >= 2
    energies = []
    for payload in meter_values:
        assert payload["transactionId"] == transaction_id
        values = sampled(payload)
        assert values["Energy.Active.Import.Register"]["unit"] == "Wh"
        assert values["Energy.Active.Import.Register"]["context"] == "Sample.Periodic"
        assert values["Power.Active.Import"]["unit"] == "W"
        assert float(values["Power.Active.Import"]["value"]) > 0
        energies.append(int(values["Energy.Active.Import.Register"]["value"]))
    assert energies == sorted(energies)
    stop = fake_csms.of("StopTransaction")[0]
    assert stop["transactionId"] == transaction_id
    assert stop["meterStop"] >= start_payload["meterStart"]
    assert stop["reason"] in ("Local", "EVDisconnected")
    assert station.stats.sessions_completed == 1
    assert station.stats.energy_wh > 0


async def test_authorize_rejected_means_no_transaction(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    fake_csms.authorize_status = "Invalid"
    station = make_station("CP-R", dataclasses.replace(FAST, connectors=1))
    await fake_csms.wait_for(lambda: station.ready and len(fake_csms.of("StatusNotification")) == 2)
    station.plug_in(1, "BAD")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1) == ["Available", "Preparing", "Available"])
    assert "StartTransaction" not in fake_csms.actions()
    assert station.stats.rejected["Authorize"] == 1


async def test_remote_start_and_remote_stop(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-RS")
    await fake_csms.wait_for(lambda: station.ready and len(fake_csms.of("StatusNotification")) == 3)
    answer = await fake_csms.call("CP-RS", "RemoteStartTransaction", {"idTag": "REMOTE-1", "connectorId": 2})
    assert answer == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 2)[-1:] == ["Charging"])
    assert "Authorize" not in fake_csms.actions()  # AuthorizeRemoteTxRequests is false
    start = fake_csms.of("StartTransaction")[0]
    assert start["connectorId"] == 2 and start["idTag"] == "REMOTE-1"

    busy = await fake_csms.call("CP-RS", "RemoteStartTransaction", {"idTag": "REMOTE-2", "connectorId": 2})
    assert busy == {"status": "Rejected"}
    assert await fake_csms.call("CP-RS", "RemoteStopTransaction", {"transactionId": 999}) == {"status": "Rejected"}
    assert await fake_csms.call("CP-RS", "RemoteStopTransaction", {"transactionId": 1001}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: "StopTransaction" in fake_csms.actions())
    stop = fake_csms.of("StopTransaction")[0]
    assert stop["transactionId"] == 1001 and stop["reason"] == "Remote"
    assert station.stats.messages_received["RemoteStartTransaction"] == 2


async def test_charging_profile_caps_power_until_cleared(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-SC", dataclasses.replace(FAST, connectors=1, max_power_w=22_000))
    await fake_csms.wait_for(lambda: station.ready)
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: len(fake_csms.of("MeterValues")) >= 1)
    uncapped_w = float(sampled(fake_csms.of("MeterValues")[-1])["Power.Active.Import"]["value"])
    assert uncapped_w >= 7_400  # every simulated car takes at least 7.4 kW

    profile = {
        "chargingProfileId": 5,
        "transactionId": 1001,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}]},
    }
    answer = await fake_csms.call("CP-SC", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    assert answer == {"status": "Accepted"}
    seen = len(fake_csms.of("MeterValues"))
    await fake_csms.wait_for(lambda: len(fake_csms.of("MeterValues")) >= seen + 1)
    capped_w = float(sampled(fake_csms.of("MeterValues")[-1])["Power.Active.Import"]["value"])
    assert capped_w == 6 * 230 * 3
    schedule = await fake_csms.call("CP-SC", "GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 6 * 230 * 3

    cleared = await fake_csms.call("CP-SC", "ClearChargingProfile", {"id": 5})
    assert cleared == {"status": "Accepted"}
    assert await fake_csms.call("CP-SC", "ClearChargingProfile", {"id": 5}) == {"status": "Unknown"}
    seen = len(fake_csms.of("MeterValues"))
    await fake_csms.wait_for(lambda: len(fake_csms.of("MeterValues")) >= seen + 1)
    assert float(sampled(fake_csms.of("MeterValues")[-1])["Power.Active.Import"]["value"]) == uncapped_w

    no_tx = {**profile, "chargingProfileId": 6}
    answer = await fake_csms.call("CP-SC", "SetChargingProfile", {"connectorId": 7, "csChargingProfiles": no_tx})
    assert answer == {"status": "Rejected"}


async def test_zero_limit_suspends_charging(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-Z", dataclasses.replace(FAST, connectors=1))
    await fake_csms.wait_for(lambda: station.ready)
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}]},
    }
    assert (await fake_csms.call("CP-Z", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile}))[
        "status"
    ] == "Accepted"
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["SuspendedEVSE"])


async def test_reservation_and_availability(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-RES")
    await fake_csms.wait_for(lambda: station.ready and len(fake_csms.of("StatusNotification")) == 3)
    expiry = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    reserve = {"connectorId": 1, "expiryDate": expiry, "idTag": "TAG-R", "reservationId": 11}
    assert await fake_csms.call("CP-RES", "ReserveNow", reserve) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Reserved"])
    other = {**reserve, "idTag": "TAG-X", "reservationId": 12}
    assert await fake_csms.call("CP-RES", "ReserveNow", other) == {"status": "Occupied"}
    assert await fake_csms.call("CP-RES", "ReserveNow", {**reserve, "connectorId": 0}) == {"status": "Rejected"}
    assert station.plug_in(1, "TAG-X") is None  # reserved for someone else
    assert await fake_csms.call("CP-RES", "CancelReservation", {"reservationId": 99}) == {"status": "Rejected"}
    assert await fake_csms.call("CP-RES", "CancelReservation", {"reservationId": 11}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Available"])

    change = await fake_csms.call("CP-RES", "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert change == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 2)[-1:] == ["Unavailable"])
    assert await fake_csms.call("CP-RES", "ReserveNow", {**reserve, "connectorId": 2}) == {"status": "Unavailable"}
    assert station.plug_in(2) is None
    await fake_csms.call("CP-RES", "ChangeAvailability", {"connectorId": 2, "type": "Operative"})
    await fake_csms.wait_for(lambda: statuses(fake_csms, 2)[-1:] == ["Available"])

    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Charging"])
    change = await fake_csms.call("CP-RES", "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert change == {"status": "Scheduled"}
    assert await fake_csms.call("CP-RES", "RemoteStopTransaction", {"transactionId": 1001}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Unavailable"])


async def test_reserved_connector_takes_its_driver_with_the_reservation_id(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    station = make_station("CP-RES2")
    await fake_csms.wait_for(lambda: station.ready)
    expiry = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    reserve = {"connectorId": 2, "expiryDate": expiry, "idTag": "TAG-R", "reservationId": 21}
    assert await fake_csms.call("CP-RES2", "ReserveNow", reserve) == {"status": "Accepted"}
    session = station.plug_in(None, "TAG-R")
    assert session is not None and session.connector_id == 2
    await fake_csms.wait_for(lambda: "StartTransaction" in fake_csms.actions())
    assert fake_csms.of("StartTransaction")[0]["reservationId"] == 21


async def test_trigger_message_data_transfer_unlock(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-T")
    await fake_csms.wait_for(lambda: station.ready and len(fake_csms.of("StatusNotification")) == 3)
    boots = len(fake_csms.of("BootNotification"))
    for requested in ("Heartbeat", "BootNotification"):
        assert await fake_csms.call("CP-T", "TriggerMessage", {"requestedMessage": requested}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: "Heartbeat" in fake_csms.actions() and len(fake_csms.of("BootNotification")) > boots)
    trigger = {"requestedMessage": "StatusNotification", "connectorId": 2}
    assert await fake_csms.call("CP-T", "TriggerMessage", trigger) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: len(statuses(fake_csms, 2)) == 2)
    assert await fake_csms.call("CP-T", "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}) == {
        "status": "Accepted"
    }
    await fake_csms.wait_for(lambda: len(fake_csms.of("MeterValues")) == 1)
    triggered = fake_csms.of("MeterValues")[0]
    assert sampled(triggered)["Energy.Active.Import.Register"]["context"] == "Trigger"
    assert "transactionId" not in triggered
    assert await fake_csms.call("CP-T", "TriggerMessage", {"requestedMessage": "Heartbeat", "connectorId": 9}) == {
        "status": "Rejected"
    }

    assert await fake_csms.call("CP-T", "DataTransfer", {"vendorId": "acme"}) == {"status": "UnknownVendorId"}
    echo = await fake_csms.call("CP-T", "DataTransfer", {"vendorId": "org.kilowatt.simulator", "data": "hi"})
    assert echo == {"status": "Accepted", "data": "hi"}

    assert await fake_csms.call("CP-T", "UnlockConnector", {"connectorId": 5}) == {"status": "NotSupported"}
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Charging"])
    assert await fake_csms.call("CP-T", "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Available"])
    assert fake_csms.of("StopTransaction")[0]["reason"] == "UnlockCommand"


async def test_reset_ends_sessions_reconnects_and_boots_again(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-RST")
    await fake_csms.wait_for(lambda: station.ready)
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Charging"])
    assert await fake_csms.call("CP-RST", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    await fake_csms.wait_for(lambda: len(fake_csms.of("BootNotification")) == 2 and station.ready)
    assert fake_csms.of("StopTransaction")[0]["reason"] == "SoftReset"
    assert len(fake_csms.paths) == 2  # a second connection
    assert station.stats.errors["disconnected"] == 0  # a reboot is not a network error


async def test_offline_sessions_are_replayed_in_order_with_the_real_transaction_id(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    station = make_station("CP-OFF", dataclasses.replace(FAST, connectors=1, reconnect_min_s=0.02))
    await fake_csms.wait_for(lambda: station.ready)
    station.post(lambda: station.drop_connection(offline_s=0.6))
    await fake_csms.wait_for(lambda: not station.connected)
    received_before = len(fake_csms.received)
    session = station.plug_in(1, "TAG-OFF", stay_s=0.3)
    assert session is not None
    await fake_csms.wait_for(lambda: station.stats.sessions_completed == 1, timeout_s=3)

    replayed = fake_csms.received[received_before:]
    tx_messages = [r for r in replayed if r.action in ("StartTransaction", "MeterValues", "StopTransaction")]
    assert [r.action for r in tx_messages][0] == "StartTransaction"
    assert [r.action for r in tx_messages][-1] == "StopTransaction"
    assert sum(r.action == "MeterValues" for r in tx_messages) >= 2
    assert all(r.payload["transactionId"] == 1001 for r in tx_messages[1:])  # rewritten from the placeholder
    assert "Authorize" not in [r.action for r in replayed]  # started offline (AllowOfflineTxForUnknownId)
    assert session.transaction_id == 1001
    assert station.stats.offline_messages_replayed == len(tx_messages)
    assert station.stats.faults_injected["drop_connection"] == 1
    assert station.stats.errors["disconnected"] == 0  # injected, so not counted as a network error
    assert station.stats.reconnects == 1
    assert statuses(fake_csms, 1)[-1] in ("Finishing", "Available")


async def test_start_transaction_refused_stops_with_deauthorized(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    fake_csms.overrides["StartTransaction"] = lambda a, p: {"transactionId": 77, "idTagInfo": {"status": "Blocked"}}
    station = make_station("CP-DA", dataclasses.replace(FAST, connectors=1, allow_offline_tx=True))
    await fake_csms.wait_for(lambda: station.ready)
    fake_csms.authorize_status = "Accepted"
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: "StopTransaction" in fake_csms.actions())
    stop = fake_csms.of("StopTransaction")[0]
    assert stop == {**stop, "transactionId": 77, "reason": "DeAuthorized"}


async def test_injected_error_faults_the_connector_then_recovers(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP-F", dataclasses.replace(FAST, connectors=1))
    await fake_csms.wait_for(lambda: station.ready)
    station.plug_in(1, "TAG-1")
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Charging"])
    station.post(lambda: station.inject_error("GroundFailure", 0.2, connector_id=1))
    await fake_csms.wait_for(lambda: statuses(fake_csms, 1)[-1:] == ["Available"] and "StopTransaction" in fake_csms.actions())
    faulted = [p for p in fake_csms.of("StatusNotification") if p["status"] == "Faulted"]
    assert faulted and faulted[0]["errorCode"] == "GroundFailure"
    assert fake_csms.of("StopTransaction")[0]["reason"] == "Other"
    station.reset_meter(1)
    assert station.model.connectors[0].meter_wh == 0
    assert station.model.connectors[0].status is ConnectorStatus.AVAILABLE


async def test_url_path_and_basic_auth(fake_csms: FakeCsms, make_station: MakeStation) -> None:
    station = make_station("CP 7/x", password="s3cret")
    await fake_csms.wait_for(lambda: station.ready)
    assert fake_csms.paths == ["/ocpp/CP%207%2Fx"]
    expected = "Basic " + base64.b64encode(b"CP 7/x:s3cret").decode()
    assert fake_csms.auth_headers == [expected]


async def test_reconnects_with_backoff_when_the_csms_is_down(make_station: MakeStation, fake_csms: FakeCsms) -> None:
    await fake_csms.close()
    station = make_station("CP-DOWN", dataclasses.replace(FAST, reconnect_min_s=0.05, reconnect_max_s=0.1))
    import asyncio

    await asyncio.sleep(0.5)
    failures = sum(n for kind, n in station.stats.errors.items() if kind.startswith("connect:"))
    assert 3 <= failures <= 15  # retried, but not in a tight loop
    assert not station.connected


async def test_a_connection_closed_by_the_csms_is_an_error_and_the_station_comes_back(
    fake_csms: FakeCsms, make_station: MakeStation
) -> None:
    station = make_station("CP-CUT")
    await fake_csms.wait_for(lambda: station.ready)
    await fake_csms.connections["CP-CUT"].close()
    await fake_csms.wait_for(lambda: len(fake_csms.paths) == 2 and station.ready)
    assert station.stats.errors["disconnected"] == 1
    assert len(fake_csms.of("BootNotification")) == 1  # a reconnect is not a reboot
