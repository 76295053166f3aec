"""Meter values: readings that are not finite numbers are kept as text, and energy is counted across register dips and resets."""

from __future__ import annotations

import httpx

from charger import TestCharger, now
from conftest import ADMIN_TOKEN, RunningCsms
from kilowatt.services.transactions import delivered_wh


async def test_non_finite_meter_values_are_kept_as_text_and_do_not_block_the_stop(csms: RunningCsms, charger: TestCharger) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 100, "timestamp": now()})
    tx = start["transactionId"]
    for value in ("NaN", "Infinity", "1e999"):
        sample = {"timestamp": now(), "sampledValue": [{"value": value}]}
        assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample]}) == {}
    data = [{"timestamp": now(), "sampledValue": [{"value": "NaN", "context": "Transaction.End"}]}]
    assert await charger.call("StopTransaction", {"transactionId": tx, "meterStop": 600, "timestamp": now(), "transactionData": data}) == {}
    view = await csms.services.transactions.get(tx)
    assert view.transaction.energy_wh == 500
    assert [(m.value, m.value_numeric) for m in view.meter_values] == [("NaN", None), ("Infinity", None), ("1e999", None), ("NaN", None)]


def test_a_less_precise_reading_is_not_a_meter_reset() -> None:
    # a kWh register (1234.5 kWh) read against a Wh meterStart: a dip, not a reset
    assert delivered_wh(1_234_567, [1_234_500, 1_240_000], 1_240_100) == 5_533
    assert delivered_wh(100_000, [101_000, 102_000, 0, 1_500], 1_800) == 3_800  # a real reset


async def test_a_register_reading_beyond_any_meter_does_not_block_the_stop(csms: RunningCsms, charger: TestCharger) -> None:
    """``1e300`` is a finite number but no register reading: counted as energy it overflows the
    64-bit columns, and every retry of the StopTransaction would fail. It is stored as sent and
    counts nothing."""
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    started = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 1000, "timestamp": now()})
    stop = {
        "transactionId": started["transactionId"],
        "meterStop": 1500,
        "timestamp": now(),
        "transactionData": [{"timestamp": now(), "sampledValue": [{"value": "1e300", "unit": "kWh"}]}],
    }
    assert (await charger.call_frame("StopTransaction", stop))[0] == 3
    async with httpx.AsyncClient(base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        transaction = (await api.get(f"/api/v1/transactions/{started['transactionId']}")).json()
    assert transaction["energy_wh"] == 500
    assert [v["value"] for v in transaction["meter_values"]] == ["1e300"]


async def test_a_message_sent_again_after_a_lost_answer_is_stored_once(csms: RunningCsms, charger: TestCharger) -> None:
    """A 1.6 MeterValues and a StatusNotification have no id: a charger that did not get the
    CALLRESULT sends the same content again, and it must not count twice. A reading that differs
    in anything (here only the value, or only the context) is a reading of its own; a status
    without a timestamp cannot be told from a later identical report, so it is kept each time."""
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 100, "timestamp": now()})
    tx = start["transactionId"]
    at = now()
    sample = {"timestamp": at, "sampledValue": [{"value": "150"}, {"value": "7.5", "measurand": "Power.Active.Import", "unit": "kW"}]}
    for _ in range(3):
        assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample]}) == {}
    other_value = {"timestamp": at, "sampledValue": [{"value": "151"}]}
    other_context = {"timestamp": at, "sampledValue": [{"value": "150", "context": "Sample.Clock"}]}
    assert await charger.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [other_value, other_context]}) == {}
    view = await csms.services.transactions.get(tx)
    assert sorted((m.value, m.measurand, m.context) for m in view.meter_values) == [
        ("150", "Energy.Active.Import.Register", "Sample.Clock"),
        ("150", "Energy.Active.Import.Register", "Sample.Periodic"),
        ("151", "Energy.Active.Import.Register", "Sample.Periodic"),
        ("7.5", "Power.Active.Import", "Sample.Periodic"),
    ]

    timestamped = {"connectorId": 1, "status": "Charging", "errorCode": "NoError", "timestamp": now()}
    untimed = {"connectorId": 1, "status": "SuspendedEV", "errorCode": "NoError"}
    for payload in (timestamped, timestamped, untimed, untimed):
        assert await charger.call("StatusNotification", payload) == {}
    history = (await csms.services.stations.status_history("CP-1", 50, 0)).items
    assert [h.status for h in history if h.connector_id == 1] == ["SuspendedEV", "SuspendedEV", "Charging"]
