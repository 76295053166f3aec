"""End to end: the project's simulator against the real Kilowatt server, checked through the REST API.

Every test but the last runs on SQLite and on PostgreSQL (the ``csms`` fixture). Intervals are
tenths of a second so the whole file takes seconds per backend; the last test runs
``kilowatt demo`` as a user would, in a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from conftest import RunningCsms
from kilowatt.simulator import DEFAULT_ID_TOKENS, Fleet, FleetConfig, SimulatedStation, StationConfig, StopReason
from kilowatt.simulator.model import Session

FAST = StationConfig(
    connectors=2,
    heartbeat_interval_s=300,
    meter_values_interval_s=0.2,
    arrival_rate_per_h=0,
    session_length_s=30,
    unplug_delay_s=0.05,
    boot_retry_s=0.1,
    reboot_s=0.05,
    reconnect_min_s=0.05,
    reconnect_max_s=0.2,
    call_timeout_s=5,
    connect_timeout_s=5,
    ev_ramp_s=0,
)
REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


async def register(csms: RunningCsms, station_ids: list[str], tokens: tuple[str, ...] = DEFAULT_ID_TOKENS) -> None:
    for station_id in station_ids:
        await csms.services.stations.create(station_id)
    for token in tokens:
        await csms.services.authorization.create(token)


async def eventually(predicate: Callable[[], Any], timeout_s: float = 10.0, poll_s: float = 0.05) -> Any:
    """Poll ``predicate`` (sync or async) until it returns something truthy; fail on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {getattr(predicate, '__name__', predicate)}")
        await asyncio.sleep(poll_s)


async def transactions(api: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/transactions", params={"limit": 500, **query})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def transaction(api: httpx.AsyncClient, transaction_id: int) -> dict[str, Any]:
    response = await api.get(f"/api/v1/transactions/{transaction_id}")
    assert response.status_code == 200, response.text
    return response.json()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
async def station(csms: RunningCsms) -> AsyncIterator[SimulatedStation]:
    """One simulated station ``E2E-1``, registered and connected to the real CSMS."""
    await register(csms, ["E2E-1"])
    sim = SimulatedStation("E2E-1", csms.ocpp_url, FAST)
    sim.start()
    await eventually(lambda: sim.ready, timeout_s=10)
    try:
        yield sim
    finally:
        await sim.stop(timeout_s=5)


# --- (a) sessions end with the right energy -----------------------------------------------------


async def test_fleet_sessions_are_stored_with_the_energy_the_stations_delivered(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    config = FleetConfig(
        url=csms.ocpp_url,
        stations=3,
        id_prefix="E2E-",
        seed=11,
        connect_rate_per_s=1000,
        summary_interval_s=None,
        station=replace(FAST, arrival_rate_per_h=18_000, session_length_s=0.8, max_power_w=50_000),
    )
    await register(csms, config.station_ids())
    async with Fleet(config) as fleet:
        assert await fleet.wait_ready(timeout_s=10)
        assert await fleet.wait_until(lambda _: fleet.stats.sessions_completed >= 8, timeout_s=20)
    report = fleet.report()  # the graceful stop ended the sessions still running
    assert report["errors"] == 0, report["errors_by_kind"]
    assert report["rejected_by_action"] == {}

    sessions = [(sim.station_id, s) for sim in fleet.stations for s in sim.completed_sessions]
    assert len(sessions) == report["sessions_completed"] == report["sessions_started"]
    stored = await transactions(api)
    assert len(stored) == len(sessions)
    assert not [t for t in stored if t["active"]]
    by_id = {t["id"]: t for t in stored}
    for station_id, session in sessions:
        t = by_id[session.transaction_id]
        # OCPP 1.6 connector N is EVSE N (connector 1 of it) in the CSMS
        assert (t["station_id"], t["evse_id"], t["id_token"]) == (station_id, session.connector_id, session.id_token)
        assert t["meter_start_wh"] == session.meter_start_wh
        assert t["meter_stop_wh"] == session.meter_stop_wh
        assert t["energy_wh"] == t["meter_stop_wh"] - t["meter_start_wh"]
        # the simulator integrates power as a float; the registers it reports are whole Wh
        assert abs(t["energy_wh"] - session.energy_wh) <= 1.0, (t, session.energy_wh)
    stored_wh = sum(t["energy_wh"] for t in stored)
    assert stored_wh > 0
    assert abs(stored_wh - fleet.stats.energy_wh) <= len(stored)

    # the register readings between start and stop climb from meter start to meter stop
    detail = await transaction(api, sessions[0][1].transaction_id)
    readings = [v["value_numeric"] for v in detail["meter_values"] if v["measurand"] == REGISTER]
    assert readings == sorted(readings)
    assert all(detail["meter_start_wh"] <= r <= detail["meter_stop_wh"] for r in readings)


# --- (b) API commands change what the chargers do -----------------------------------------------


async def test_remote_start_and_a_charging_profile_through_the_csms(
    csms: RunningCsms, api: httpx.AsyncClient, station: SimulatedStation
) -> None:
    response = await api.post("/api/v1/stations/E2E-1/remote-start", json={"id_token": "SIMTAG0001", "evse_id": 1})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Accepted"

    async def started() -> list[dict[str, Any]]:
        return await transactions(api, station_id="E2E-1", active=True)

    (running,) = await eventually(started)
    assert (running["evse_id"], running["id_token"]) == (1, "SIMTAG0001")

    async def charging() -> bool:
        connectors = (await api.get("/api/v1/stations/E2E-1")).json()["connectors"]
        return any(c["evse_id"] == 1 and c["status"] == "Charging" for c in connectors)

    await eventually(charging)
    session = station.model.connector(1).session
    assert session is not None and session.transaction_id == running["id"]
    await asyncio.sleep(0.5)  # samples at full power first
    full_power_w = session.power_w
    limit_w = 2_000
    assert full_power_w > limit_w

    paths = (await api.get("/openapi.json")).json()["paths"]
    if "/api/v1/stations/{station_id}/charging-profiles" in paths:  # the smart charging API
        profile = {
            "charging_profile_id": 42,
            "transaction_id": running["id"],
            "stack_level": 0,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": {"charging_rate_unit": "W", "charging_schedule_period": [{"start_period": 0, "limit": limit_w}]},
        }
        response = await api.post("/api/v1/stations/E2E-1/charging-profiles", json={"evse_id": 1, "charging_profile": profile})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "Accepted"
    else:  # before that API exists: the same 1.6 call straight through the bus
        profile = {
            "chargingProfileId": 42,
            "transactionId": running["id"],
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}]},
        }
        answer = await csms.application.bus.call_station("E2E-1", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
        assert answer == {"status": "Accepted"}
    limited_from = datetime.now(UTC)
    await asyncio.sleep(1.0)  # about five periodic samples under the limit

    response = await api.post("/api/v1/stations/E2E-1/remote-stop", json={"transaction_id": running["id"]})
    assert response.json()["status"] == "Accepted"

    async def stopped() -> bool:
        return not await transactions(api, station_id="E2E-1", active=True)

    await eventually(stopped)
    detail = await transaction(api, running["id"])
    assert detail["stop_reason"] == "Remote"
    power = [(utc(v["timestamp"]), v["value_numeric"]) for v in detail["meter_values"] if v["measurand"] == POWER]
    before = [w for at, w in power if at < limited_from]
    after = [w for at, w in power if at >= limited_from]
    assert before and max(before) > limit_w
    assert len(after) >= 2
    assert all(w <= limit_w for w in after), after


# --- (c) offline queueing and replay ------------------------------------------------------------


async def test_sessions_through_an_outage_are_stored_once_without_gaps(
    csms: RunningCsms, api: httpx.AsyncClient, station: SimulatedStation
) -> None:
    sent: list[tuple[str, dict[str, Any], Session | None]] = []
    enqueue = station.enqueue

    def recording_enqueue(action: str, payload: dict[str, Any], session: Session | None) -> None:
        sent.append((action, payload, session))  # the payload is rewritten in place when its id resolves
        enqueue(action, payload, session)

    station.enqueue = recording_enqueue  # type: ignore[method-assign]

    first = station.plug_in(1, "SIMTAG0001", stay_s=60)
    assert first is not None
    await eventually(lambda: isinstance(first.transaction_id, int) and first.transaction_id > 0)
    await asyncio.sleep(0.5)  # a few meter values online

    # the network goes away (posted, so no CALL of the station is in flight when it does)
    station.post(lambda: station.drop_connection(offline_s=2.5))
    await eventually(lambda: not station.connected)
    await asyncio.sleep(0.5)  # meter values of the running session queue up
    station.post(lambda: station.end_session(first, StopReason.LOCAL))
    second = station.plug_in(2, "SIMTAG0002", stay_s=0.8)  # starts offline: no transactionId yet
    assert second is not None
    await eventually(lambda: station.model.connector(2).session is not second, timeout_s=5)
    assert not station.connected, "the outage should last until both sessions are queued"
    queued = list(station.queue)
    assert [m.action for m in queued].count("StartTransaction") == 1
    assert [m.action for m in queued].count("StopTransaction") == 2
    assert all(m.offline for m in queued)

    # back online: everything is replayed, in order
    await eventually(lambda: station.ready and not station.queue and station.stats.sessions_completed == 2, timeout_s=10)
    assert station.stats.offline_messages_replayed == len(queued)
    assert station.stats.messages_dropped == 0

    stored = await transactions(api, station_id="E2E-1")
    assert sorted(t["id"] for t in stored) == sorted([first.transaction_id, second.transaction_id])
    assert not [t for t in stored if t["active"]]
    for session in (first, second):
        expected = [
            (utc(sample["timestamp"]), value["measurand"], value["value"])
            for action, payload, owner in sent
            if action == "MeterValues" and owner is session
            for sample in payload["meterValue"]
            for value in sample["sampledValue"]
        ]
        assert expected, "the session should have sent meter values"
        detail = await transaction(api, session.transaction_id)
        got = [(utc(v["timestamp"]), v["measurand"], v["value"]) for v in detail["meter_values"] if v["source"] == "MeterValues"]
        assert got == expected  # each one once, none missing, in the order they were taken
        assert detail["meter_start_wh"] == session.meter_start_wh
        assert detail["meter_stop_wh"] == session.meter_stop_wh
        assert detail["energy_wh"] == session.meter_stop_wh - session.meter_start_wh
    # nothing the CSMS could not link to a transaction
    for action, payload, _ in sent:
        if action == "MeterValues":
            assert payload["transactionId"] in (first.transaction_id, second.transaction_id)


# --- (d) the demo -------------------------------------------------------------------------------


def test_kilowatt_demo_runs_and_reports_sessions(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILOWATT_")}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "kilowatt", "demo", "--duration", "20", "--stations", "3", "--ocpp-port", "0", "--http-port", "0"],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "/docs" in out and "admin token" in out
    match = re.search(r"sessions recorded\s+(\d+) completed in the CSMS", out)
    assert match and int(match.group(1)) > 0, out
    assert "remote-start" in out and "Accepted" in out
    assert '"level":"error"' not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == [], "the temporary database should be removed"
