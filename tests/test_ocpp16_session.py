"""OCPP 1.6 charging sessions over a real socket, checked against what was stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from charger import TestCharger, now
from conftest import RunningCsms


def meter_value(wh: int, power_w: float | None = None, context: str = "Sample.Periodic") -> dict:
    sampled = [{"value": str(wh), "context": context, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    if power_w is not None:
        sampled.append({"value": str(power_w), "context": context, "measurand": "Power.Active.Import", "unit": "W", "phase": "L1", "location": "Outlet", "format": "Raw"})
    return {"timestamp": now(), "sampledValue": sampled}


async def test_full_session_is_stored(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    boot = await charger.call(
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Fast-50",
            "chargePointSerialNumber": "SN-1",
            "chargeBoxSerialNumber": "BOX-1",
            "firmwareVersion": "1.2.3",
            "iccid": "8931",
            "imsi": "2620",
            "meterType": "EM-1",
            "meterSerialNumber": "MSN-1",
        },
    )
    assert boot["status"] == "Accepted"
    assert boot["interval"] == csms.application.settings.heartbeat_interval_s
    datetime.fromisoformat(boot["currentTime"])
    assert "currentTime" in await charger.call("Heartbeat", {})
    assert await charger.status(0, "Available") == {}
    assert await charger.status(1, "Available") == {}
    assert (await charger.call("Authorize", {"idTag": "TAG-1"}))["idTagInfo"]["status"] == "Accepted"
    await charger.status(1, "Preparing")
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": now()})
    assert start["idTagInfo"]["status"] == "Accepted"
    transaction_id = start["transactionId"]
    assert isinstance(transaction_id, int)
    await charger.status(1, "Charging")
    for wh, w in ((2000, 7200.0), (3500, 7100.5), (5000, 3000.0)):
        assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [meter_value(wh, w)]}) == {}
    stop = await charger.call(
        "StopTransaction",
        {
            "transactionId": transaction_id,
            "meterStop": 6000,
            "timestamp": now(),
            "reason": "EVDisconnected",
            "idTag": "TAG-1",
            "transactionData": [meter_value(6000, context="Transaction.End")],
        },
    )
    assert stop == {"idTagInfo": {"status": "Accepted"}}
    await charger.status(1, "Finishing")

    view = await csms.services.stations.get("CP-1")
    station = view.station
    assert (station.vendor, station.model, station.serial_number, station.charge_box_serial_number) == ("Acme", "Fast-50", "SN-1", "BOX-1")
    assert (station.firmware_version, station.iccid, station.imsi, station.meter_type, station.meter_serial_number) == ("1.2.3", "8931", "2620", "EM-1", "MSN-1")
    assert station.connected and station.ocpp_version == "ocpp1.6" and station.last_heartbeat_at is not None
    assert [(c.evse_id, c.connector_id, c.status, c.error_code) for c in view.connectors] == [(0, 0, "Available", "NoError"), (1, 1, "Finishing", "NoError")]
    history = await csms.services.stations.status_history("CP-1")
    assert [h.status for h in reversed(history.items)] == ["Available", "Available", "Preparing", "Charging", "Finishing"]

    tx = await csms.services.transactions.get(transaction_id)
    t = tx.transaction
    assert (t.station_id, t.evse_id, t.connector_id, t.id_token) == ("CP-1", 1, 1, "TAG-1")
    assert (t.meter_start_wh, t.meter_stop_wh, t.stop_reason, t.stop_id_token) == (1000, 6000, "EVDisconnected", "TAG-1")
    assert t.started_at.tzinfo is not None and t.stopped_at is not None and t.stopped_at >= t.started_at
    energy = [m for m in tx.meter_values if m.measurand == "Energy.Active.Import.Register"]
    assert [m.value_numeric for m in energy] == [2000, 3500, 5000, 6000]
    assert [m.source for m in energy] == ["MeterValues"] * 3 + ["StopTransaction"]
    assert energy[-1].context == "Transaction.End"
    power = [m for m in tx.meter_values if m.measurand == "Power.Active.Import"]
    assert [(m.value, m.unit, m.phase, m.location, m.format) for m in power][1] == ("7100.5", "W", "L1", "Outlet", "Raw")


async def test_replayed_start_gets_the_same_transaction_id(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = {"connectorId": 2, "idTag": "TAG-1", "meterStart": 0, "timestamp": "2026-01-01T10:00:00.000Z"}
    first = await charger.call("StartTransaction", start)
    again = await charger.call("StartTransaction", start)
    assert again == first
    page = await csms.services.transactions.list(station_id="CP-1")
    assert page.total == 1
    # a different start is a different transaction
    other = await charger.call("StartTransaction", {**start, "timestamp": "2026-01-01T11:00:00Z", "connectorId": 1})
    assert other["transactionId"] != first["transactionId"]


async def test_authorization_statuses(csms: RunningCsms, charger: TestCharger) -> None:
    auth = csms.services.authorization
    past = datetime.now(timezone.utc) - timedelta(days=1)
    future = datetime.now(timezone.utc) + timedelta(days=30)
    await auth.create("GROUP-A")
    await auth.create("GROUP-B", status="Blocked")
    await auth.create("OK", expiry_date=future, parent_id_token="GROUP-A")
    await auth.create("OLD", expiry_date=past)
    await auth.create("BLOCKED", status="Blocked")
    await auth.create("IN-BLOCKED-GROUP", parent_id_token="GROUP-B")
    await charger.boot()

    async def status(tag: str) -> dict:
        return (await charger.call("Authorize", {"idTag": tag}))["idTagInfo"]

    ok = await status("OK")
    assert ok["status"] == "Accepted" and ok["parentIdTag"] == "GROUP-A"
    assert datetime.fromisoformat(ok["expiryDate"]) == future.replace(microsecond=future.microsecond // 1000 * 1000)
    assert (await status("OLD"))["status"] == "Expired"
    assert (await status("BLOCKED"))["status"] == "Blocked"
    assert (await status("IN-BLOCKED-GROUP"))["status"] == "Blocked"
    assert (await status("NOBODY")) == {"status": "Invalid"}

    # one session per token: a second start elsewhere while the first is active is ConcurrentTx
    first = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "OK", "meterStart": 0, "timestamp": now()})
    assert first["idTagInfo"]["status"] == "Accepted"
    second = await charger.call("StartTransaction", {"connectorId": 2, "idTag": "OK", "meterStart": 0, "timestamp": now()})
    assert second["idTagInfo"]["status"] == "ConcurrentTx"
    # Authorize itself never answers ConcurrentTx (1.6: only relevant for StartTransaction)
    assert (await status("OK"))["status"] == "Accepted"
    # the stored start keeps the answer it was given
    stored = await csms.services.transactions.get(second["transactionId"])
    assert stored.transaction.id_token_status == "ConcurrentTx"


async def test_stop_of_unknown_transaction_is_refused_and_changes_nothing(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 10, "timestamp": now()})
    answer = await charger.call_frame("StopTransaction", {"transactionId": 999999, "meterStop": 20, "timestamp": now()})
    assert answer[0] == 4 and answer[2] == "PropertyConstraintViolation"
    assert "999999" in answer[3]
    tx = (await csms.services.transactions.get(start["transactionId"])).transaction
    assert tx.stopped_at is None and tx.meter_stop_wh is None


async def test_stop_of_another_stations_transaction_is_refused(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await csms.services.stations.create("CP-2")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 10, "timestamp": now()})
    async with TestCharger.connect(csms.ocpp_url, "CP-2") as other:
        await other.boot()
        answer = await other.call_frame("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 99, "timestamp": now()})
        assert answer[2] == "PropertyConstraintViolation"
    tx = (await csms.services.transactions.get(start["transactionId"])).transaction
    assert tx.stopped_at is None


async def test_replayed_stop_changes_nothing(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 10, "timestamp": now()})
    stop = {"transactionId": start["transactionId"], "meterStop": 500, "timestamp": now(), "reason": "Local"}
    assert await charger.call("StopTransaction", stop) == {}
    assert await charger.call("StopTransaction", {**stop, "meterStop": 900}) == {}
    tx = (await csms.services.transactions.get(start["transactionId"])).transaction
    assert tx.meter_stop_wh == 500


async def test_meter_values_for_unknown_transaction_are_kept_unlinked(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": 4242, "meterValue": [meter_value(100)]}) == {}
    assert await charger.call("MeterValues", {"connectorId": 0, "meterValue": [meter_value(7)]}) == {}
    async with csms.application.sessions() as session:
        from sqlalchemy import select

        from kilowatt.storage.models import MeterValue

        rows = (await session.execute(select(MeterValue).order_by(MeterValue.id))).scalars().all()
    assert [(r.transaction_id, r.evse_id, r.value) for r in rows] == [(None, 1, "100"), (None, 0, "7")]


async def test_data_transfer(make_csms) -> None:
    csms = await make_csms(data_transfer_vendors=["com.acme"])
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        await charger.boot()
        assert await charger.call("DataTransfer", {"vendorId": "org.unknown", "data": "x"}) == {"status": "UnknownVendorId"}
        assert await charger.call("DataTransfer", {"vendorId": "com.acme", "messageId": "hello", "data": "{\"a\":1}"}) == {"status": "Accepted"}
    from sqlalchemy import select

    from kilowatt.storage.models import DataTransferRecord

    async with csms.application.sessions() as session:
        rows = (await session.execute(select(DataTransferRecord).order_by(DataTransferRecord.id))).scalars().all()
    assert [(r.vendor_id, r.message_id, r.data, r.status, r.direction) for r in rows] == [
        ("org.unknown", None, "x", "UnknownVendorId", "inbound"),
        ("com.acme", "hello", '{"a":1}', "Accepted", "inbound"),
    ]


async def test_firmware_diagnostics_and_security_notifications(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    assert await charger.call("FirmwareStatusNotification", {"status": "Downloading"}) == {}
    assert await charger.call("FirmwareStatusNotification", {"status": "Installed"}) == {}
    assert await charger.call("DiagnosticsStatusNotification", {"status": "Uploaded"}) == {}
    assert await charger.call("SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": now()}) == {}
    assert await charger.call("LogStatusNotification", {"status": "Uploading", "requestId": 7}) == {}
    station = (await csms.services.stations.get("CP-1")).station
    assert (station.firmware_status, station.diagnostics_status) == ("Installed", "Uploaded")
    events = await csms.services.stations.events("CP-1")
    assert [(e.kind, e.status, e.request_id) for e in reversed(events.items)] == [
        ("firmware", "Downloading", None),
        ("firmware", "Installed", None),
        ("diagnostics", "Uploaded", None),
        ("security", "FirmwareUpdated", None),
        ("log", "Uploading", 7),
    ]


async def test_pending_policy_admits_unknown_stations_for_an_operator_to_accept(make_csms) -> None:
    csms = await make_csms(unknown_stations="pending")
    async with TestCharger.connect(csms.ocpp_url, "NEW-1") as charger:
        boot = await charger.boot()
        assert boot["status"] == "Pending"
        assert boot["interval"] == csms.application.settings.boot_retry_interval_s
        answer = await charger.call_frame("Authorize", {"idTag": "X"})
        assert answer[0] == 4 and answer[2] == "SecurityError"
        await csms.services.stations.update("NEW-1", registration_status="Accepted")
        assert (await charger.boot())["status"] == "Accepted"
        assert (await charger.call("Authorize", {"idTag": "X"}))["idTagInfo"]["status"] == "Invalid"


async def test_accept_policy_registers_unknown_stations(make_csms) -> None:
    csms = await make_csms(unknown_stations="accept")
    async with TestCharger.connect(csms.ocpp_url, "NEW-2") as charger:
        assert (await charger.boot())["status"] == "Accepted"
    assert (await csms.services.stations.get("NEW-2")).station.vendor == "Kilowatt"


async def test_rejected_station_is_told_so(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-R", registration_status="Rejected")
    async with TestCharger.connect(csms.ocpp_url, "CP-R") as charger:
        assert (await charger.boot())["status"] == "Rejected"
        assert (await charger.call_frame("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": now()}))[2] == "SecurityError"
    assert (await csms.services.transactions.list()).total == 0


async def test_meter_reset_mid_session_does_not_lose_or_invent_energy(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 100000, "timestamp": now()})
    transaction_id = start["transactionId"]
    # 100000 -> 102000 (2000 Wh), meter resets to 0, then 0 -> 1500 (1500 Wh), stop at 1800 (300 Wh)
    for wh in (101000, 102000, 0, 1500):
        await charger.call("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [meter_value(wh)]})
    # transactionData repeats every reading (some chargers do): must not be counted twice
    repeated = [{"timestamp": mv["timestamp"], "sampledValue": mv["sampledValue"]} for mv in [meter_value(1800, context="Transaction.End")]]
    await charger.call("StopTransaction", {"transactionId": transaction_id, "meterStop": 1800, "timestamp": now(), "transactionData": repeated})
    tx = (await csms.services.transactions.get(transaction_id)).transaction
    assert tx.energy_wh == 3800
    plain = await charger.call("StartTransaction", {"connectorId": 2, "idTag": "TAG-1", "meterStart": 500, "timestamp": now()})
    samples = [meter_value(600), meter_value(700)]
    for sample in samples:
        await charger.call("MeterValues", {"connectorId": 2, "transactionId": plain["transactionId"], "meterValue": [sample]})
    data = [*samples, meter_value(900, context="Transaction.End")]  # the same readings again, as some chargers send
    await charger.call("StopTransaction", {"transactionId": plain["transactionId"], "meterStop": 900, "timestamp": now(), "transactionData": data})
    assert (await csms.services.transactions.get(plain["transactionId"])).transaction.energy_wh == 400


async def test_readings_with_the_same_timestamp_keep_their_arrival_order(csms: RunningCsms, charger: TestCharger) -> None:
    """A meter reset reported in the same millisecond as the reading before it still comes after it."""
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 100000, "timestamp": now()})
    transaction_id = start["transactionId"]
    same = now()
    for wh in (102000, 0):  # 2000 Wh, then the meter resets, both stamped with the same time
        sampled = [{"value": str(wh), "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
        await charger.call("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{"timestamp": same, "sampledValue": sampled}]})
    await charger.call("StopTransaction", {"transactionId": transaction_id, "meterStop": 1500, "timestamp": now()})
    assert (await csms.services.transactions.get(transaction_id)).transaction.energy_wh == 3500
