"""Timestamps from stations: every RFC 3339 form the schema allows is stored, including the ones Python's parser refuses."""

from __future__ import annotations

import pytest

from charger import TestCharger
from conftest import RunningCsms


@pytest.mark.parametrize("timestamp", ["2026-03-01t10:00:00z", "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5+01:00"])
async def test_rfc3339_timestamps_python_cannot_parse_are_still_stored(csms: RunningCsms, charger: TestCharger, timestamp: str) -> None:
    await csms.services.authorization.create("TAG-1")
    await charger.boot()
    start = await charger.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": timestamp})
    stop = await charger.call_frame("StopTransaction", {"transactionId": start["transactionId"], "meterStop": 10, "timestamp": timestamp})
    assert stop[0] == 3
    assert (await csms.services.transactions.get(start["transactionId"])).transaction.energy_wh == 10
