"""Hostile and absurd charger input: refused with the right 1.6 CALLERROR, never InternalError,
nothing stored from it, and every page still readable afterwards (docs/ocpp16.md, "Bounds").

Each case was a defect found by an outside test: the value was stored (or failed in the database)
and from then on pages answered 500, or one station's bad value failed another station's message.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from charger import TestCharger, now
from conftest import RunningCsms
from kilowatt.storage.models import Base
from pages import failing, get_every_page


async def booted(csms: RunningCsms, station_id: str) -> Any:
    await csms.services.stations.create(station_id)
    return TestCharger.connect(csms.ocpp_url, station_id)


# Written by the CSMS's own calls (the configuration fetched after each boot runs in the
# background), not by what a charger sends.
_CSMS_BOOKKEEPING = {"commands", "device_model_variables"}


async def row_counts(csms: RunningCsms) -> dict[str, int]:
    """How many rows each table a charger's messages write has: a refused frame must change none."""
    counts = {}
    async with csms.application.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in _CSMS_BOOKKEEPING:
                counts[table.name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    return counts


async def refused(charger: TestCharger, frame: str, code: str) -> list[Any]:
    await charger.send_raw(frame)
    answer = await charger.receive()
    assert answer[0] == 4 and answer[2] == code, f"{frame[:120]} answered {answer}"
    return answer


async def start(charger: TestCharger, **fields: Any) -> list[Any]:
    payload = {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": now()} | fields
    return await charger.call_frame("StartTransaction", payload)


async def test_an_integral_float_beyond_any_integer_is_refused_and_pages_keep_answering(
    csms: RunningCsms, api: httpx.AsyncClient
) -> None:
    async with await booted(csms, "CP-1") as charger:
        await charger.boot()
        before = await row_counts(csms)
        answer = await refused(
            charger, '[2,"x","LogStatusNotification",{"status":"Idle","requestId":1e300}]', "PropertyConstraintViolation"
        )
        assert answer[4] == {"field": "requestId"}
        # above 2^64 the JSON parser yields a float; a draft-4 schema calls that a wrong type
        await refused(
            charger, '[2,"y","StatusNotification",{"connectorId":18446744073709551616,"status":"Available","errorCode":"NoError"}]',
            "TypeConstraintViolation",
        )
        assert await row_counts(csms) == before
        # an integral float within bounds is an integer (draft 6): kept, and stored as one
        await charger.send_raw('[2,"z","LogStatusNotification",{"status":"Uploading","requestId":7.0}]')
        assert (await charger.receive())[0] == 3
    events = (await api.get("/api/v1/stations/CP-1/events")).json()["items"]
    assert [(e["status"], e["request_id"]) for e in events if e["kind"] == "log"] == [("Uploading", 7)]
    assert failing(await get_every_page(api, ["CP-1"])) == {}


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("BootNotification", {"chargePointVendor": "V\u0000", "chargePointModel": "M"}),
        ("DataTransfer", {"vendorId": "com.example", "data": "a\u0000b"}),
        ("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError", "info": "\u0000"}),
        ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [{"value": "1\u0000"}]}]}),
        ("Authorize", {"idTag": "EVIL\u0000"}),
        ("DataTransfer", {"vendorId": "com.example", "messageId": "m", "data": "{}", "\u0000": 1}),
    ],
)
async def test_a_nul_character_is_refused_in_every_message(
    csms: RunningCsms, api: httpx.AsyncClient, action: str, payload: dict[str, Any]
) -> None:
    async with await booted(csms, "CP-1") as charger:
        await charger.boot()
        before = await row_counts(csms)
        answer = await charger.call_frame(action, payload)
        assert answer[0] == 4 and answer[2] in ("PropertyConstraintViolation", "FormationViolation"), answer
        assert await row_counts(csms) == before
        assert (await charger.call("Heartbeat", {}))["currentTime"]  # the connection stays up
    assert failing(await get_every_page(api, ["CP-1"])) == {}


async def test_one_stations_nul_id_tag_never_fails_another_stations_authorize(csms: RunningCsms) -> None:
    await csms.services.authorization.create("GOOD-1")
    stations = [f"CP-{i}" for i in range(12)]
    for station_id in stations:
        await csms.services.stations.create(station_id)

    async def authorize(station_id: str, id_tag: str) -> list[Any]:
        async with TestCharger.connect(csms.ocpp_url, station_id) as charger:
            await charger.boot()
            return [await charger.call_frame("Authorize", {"idTag": id_tag}) for _ in range(5)]

    answers = await asyncio.gather(
        *(authorize(station_id, "EVIL\u0000" if i % 3 == 0 else "GOOD-1") for i, station_id in enumerate(stations))
    )
    for i, frames in enumerate(answers):
        for frame in frames:
            if i % 3 == 0:
                assert frame[2] == "PropertyConstraintViolation"
            else:
                assert frame[0] == 3 and frame[2]["idTagInfo"]["status"] == "Accepted", frame


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ('[2,"a","StatusNotification",{"connectorId":9223372036854775808,"status":"Available","errorCode":"NoError"}]', "connectorId"),
        ('[2,"a","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":9223372036854775807,"timestamp":"2026-01-01T00:00:00Z"}]', "meterStart"),
        ('[2,"a","StopTransaction",{"transactionId":9223372036854775808,"meterStop":1,"timestamp":"2026-01-01T00:00:00Z"}]', "transactionId"),
        ('[2,"a","StopTransaction",{"transactionId":2147483648,"meterStop":1,"timestamp":"2026-01-01T00:00:00Z"}]', "transactionId"),
        ('[2,"a","LogStatusNotification",{"status":"Idle","requestId":2147483648}]', "requestId"),
        ('[2,"a","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"reservationId":-2147483649,"timestamp":"2026-01-01T00:00:00Z"}]', "reservationId"),
        ('[2,"a","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"0001-01-01T00:00:00+01:00"}]', "timestamp"),
        ('[2,"a","StopTransaction",{"transactionId":1,"meterStop":1,"timestamp":"9999-12-31T23:59:59-01:00"}]', "timestamp"),
        ('[2,"a","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"9999-12-31T23:59:59Z","sampledValue":[{"value":"1"}]}]}]', "meterValue.timestamp"),
        ('[2,"a","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError","timestamp":"0001-01-01T00:00:00Z"}]', "timestamp"),
    ],
)
async def test_integers_and_times_beyond_what_is_stored_get_property_constraint_violation(
    csms: RunningCsms, api: httpx.AsyncClient, frame: str, field: str
) -> None:
    async with await booted(csms, "CP-1") as charger:
        await charger.boot()
        before = await row_counts(csms)
        answer = await refused(charger, frame, "PropertyConstraintViolation")
        assert answer[4] == {"field": field}
        await charger.send_raw(frame)  # a retry gets the same answer, never InternalError
        assert (await charger.receive())[2] == "PropertyConstraintViolation"
        assert await row_counts(csms) == before
    assert failing(await get_every_page(api, ["CP-1"])) == {}


async def test_plausibility_bounds_refuse_the_absurd_and_keep_what_real_chargers_send(
    csms: RunningCsms, api: httpx.AsyncClient
) -> None:
    async with await booted(csms, "CP-1") as charger:
        await charger.boot()
        # absurd: refused
        for fields in ({"connectorId": 1001}, {"meterStart": 4_300_000_000_000_000_000}, {"meterStart": -1}):
            answer = await start(charger, **fields)
            assert answer[2] == "PropertyConstraintViolation" and answer[4] == {"field": next(iter(fields))}, answer
        # real: a lifetime register beyond 32 bits, a connector 0 status, a clock that was never set
        big = await start(charger, meterStart=3_000_000_000, timestamp="2026-03-01T10:00:00Z")
        assert big[0] == 3
        await charger.call(
            "StatusNotification",
            {"connectorId": 0, "status": "Available", "errorCode": "NoError", "timestamp": "1970-01-01T00:00:00Z"},
        )
        # an empty id tag is a token nobody has: Invalid, and the session is still recorded
        assert (await charger.call("Authorize", {"idTag": ""}))["idTagInfo"]["status"] == "Invalid"
        empty = await start(charger, connectorId=2, idTag="")
        assert empty[0] == 3 and empty[2]["idTagInfo"]["status"] == "Invalid"
        await charger.call(
            "StopTransaction", {"transactionId": big[2]["transactionId"], "meterStop": 3_000_012_345, "timestamp": now()}
        )
    transaction = (await api.get(f"/api/v1/transactions/{big[2]['transactionId']}")).json()
    assert (transaction["meter_start_wh"], transaction["energy_wh"]) == (3_000_000_000, 12_345)
    assert failing(await get_every_page(api, ["CP-1"])) == {}
