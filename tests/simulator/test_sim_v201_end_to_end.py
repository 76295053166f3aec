"""End to end: simulated 2.0.1 and 2.1 stations against the real Kilowatt server, checked through the API.

Runs on SQLite and PostgreSQL (the ``csms`` fixture). What the simulator sent — the transaction
it numbered, its meter start and stop, its seqNos, the events it queued offline — must be what the
CSMS stored and shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from conftest import RunningCsms
from kilowatt.simulator import SimulatedStation, StationConfig, StopReason

FAST = StationConfig(
    connectors=2,
    heartbeat_interval_s=300,
    meter_values_interval_s=0.15,
    arrival_rate_per_h=0,
    session_length_s=30,
    unplug_delay_s=0.05,
    boot_retry_s=0.1,
    reconnect_min_s=0.05,
    reconnect_max_s=0.2,
    call_timeout_s=5,
    connect_timeout_s=5,
    ev_ramp_s=0,
    id_tokens=("SIM201-TAG-1",),
)
REGISTER = "Energy.Active.Import.Register"


async def eventually(predicate: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout_s} s")
        await asyncio.sleep(0.05)


async def started_station(csms: RunningCsms, station_id: str, protocol: str, config: StationConfig = FAST) -> SimulatedStation:
    await csms.services.stations.create(station_id)
    for token in config.id_tokens:
        await csms.services.authorization.create(token)
    station = SimulatedStation(station_id, csms.ocpp_url, config, protocol=protocol)
    station.start()
    await eventually(lambda: station.ready)
    return station


async def stored(api: httpx.AsyncClient, station_id: str, transaction_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/stations/{station_id}/transactions/{transaction_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("protocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_a_simulated_session_is_stored_with_its_energy(csms: RunningCsms, api: httpx.AsyncClient, protocol: str) -> None:
    station = await started_station(csms, "SIM201-E2E", protocol)
    try:
        session = station.plug_in(1, "SIM201-TAG-1", stay_s=30)
        assert session is not None
        # Unplugged once energy flowed (a fixed stay delivered none when a loaded machine answered late).
        # (and after a periodic sample: seqNo 0 Started, 1 ChargingStateChanged, 2 the first sample)
        def charged_and_sampled() -> bool:
            state = session.protocol_state
            return station.model.connector(1).meter_wh >= session.meter_start_wh + 1 and state is not None and state.seq_no >= 3

        await eventually(charged_and_sampled)
        station.post(lambda: station.end_session(session, StopReason.LOCAL))
        await eventually(lambda: station.stats.sessions_completed == 1)
    finally:
        await station.stop(timeout_s=5)
    report = station.stats.as_dict()
    assert report["errors"] == 0, report["errors_by_kind"]
    assert report["rejected_by_action"] == {}

    body = await stored(api, "SIM201-E2E", str(session.transaction_id))
    assert (body["evse_id"], body["connector_id"], body["id_token"], body["id_token_type"]) == (1, 1, "SIM201-TAG-1", "ISO14443")
    assert body["active"] is False
    assert (body["meter_start_wh"], body["meter_stop_wh"]) == (session.meter_start_wh, session.meter_stop_wh)
    assert body["energy_wh"] == session.meter_stop_wh - session.meter_start_wh > 0
    assert abs(body["energy_wh"] - session.energy_wh) <= 1.0  # whole Wh on the wire, a float in the simulator
    assert body["start_reason"] == "Authorized" and body["stop_reason"] in ("Local", "EVDisconnected")
    seq_nos = [e["seq_no"] for e in body["events"]]
    assert seq_nos == list(range(len(seq_nos))) and len(seq_nos) >= 4
    assert body["missing_seq_nos"] == []
    registers = [v["value_numeric"] for v in body["meter_values"] if v["measurand"] == REGISTER]
    assert registers[0] == session.meter_start_wh and registers[-1] == session.meter_stop_wh
    assert registers == sorted(registers)

    listed = (await api.get("/api/v1/transactions", params={"station_id": "SIM201-E2E"})).json()["items"]
    assert [t["energy_wh"] for t in listed] == [body["energy_wh"]]
    station_view = (await api.get("/api/v1/stations/SIM201-E2E")).json()
    assert station_view["ocpp_version"] == protocol


async def test_events_queued_offline_are_stored_once_in_order(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    station = await started_station(csms, "SIM201-OFF", "ocpp2.0.1", replace(FAST, reconnect_min_s=0.02))
    try:
        running = station.plug_in(1, "SIM201-TAG-1", stay_s=30)
        assert running is not None
        await eventually(lambda: running.protocol_state is not None and running.protocol_state.seq_no >= 3)
        station.post(lambda: station.drop_connection(offline_s=0.6))
        await eventually(lambda: not station.connected)
        await asyncio.sleep(0.4)  # periodic samples queue while offline
        station.post(lambda: station.end_session(running, _remote()))
        await eventually(lambda: station.stats.sessions_completed == 1)
    finally:
        await station.stop(timeout_s=5)
    assert station.stats.as_dict()["errors"] == 0, station.stats.as_dict()["errors_by_kind"]
    assert station.stats.offline_messages_replayed >= 2

    body = await stored(api, "SIM201-OFF", str(running.transaction_id))
    assert body["active"] is False and body["missing_seq_nos"] == []
    assert [e["seq_no"] for e in body["events"]] == list(range(running.protocol_state.seq_no))
    assert (body["meter_start_wh"], body["meter_stop_wh"]) == (running.meter_start_wh, running.meter_stop_wh)
    assert body["stop_reason"] == "Remote"


def _remote() -> Any:
    from kilowatt.simulator import StopReason

    return StopReason.REMOTE


@pytest.mark.parametrize("protocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_a_simulated_fault_is_stored_as_monitoring_events(csms: RunningCsms, api: httpx.AsyncClient, protocol: str) -> None:
    """The NotifyEvents of a fault and its clearing pass the CSMS's validation and are what it shows."""
    station = await started_station(csms, "SIM201-FAULT", protocol)

    async def events() -> list[dict[str, Any]]:
        return (await api.get("/api/v1/stations/SIM201-FAULT/monitoring-events")).json()["items"]

    try:
        station.post(lambda: station.inject_error("OverCurrentFailure", 0.3, connector_id=1))
        await eventually(lambda: station.adapter.problem_events == {} and station.stats.faults_injected["error:OverCurrentFailure"] == 1)
        stored_events = await eventually(lambda: _four(events()))
    finally:
        await station.stop(timeout_s=5)
    assert station.stats.as_dict()["errors"] == 0, station.stats.as_dict()["errors_by_kind"]
    shown = sorted((e["event_id"], e["component"], e["variable"], e["actual_value"], e["tech_code"], e["cleared"]) for e in stored_events)
    assert shown == [
        (1, "EVSE", "Problem", "true", "OverCurrentFailure", None),
        (2, "Connector", "AvailabilityState", "Faulted", None, None),
        (3, "EVSE", "Problem", "false", None, True),
        (4, "Connector", "AvailabilityState", "Available", None, None),
    ]
    assert {(e["evse_id"], e["event_notification_type"]) for e in stored_events} == {(1, "HardWiredNotification")}
    assert [e["cause"] for e in sorted(stored_events, key=lambda e: e["event_id"])] == [None, 1, None, 3]


async def _four(events: Any) -> list[dict[str, Any]] | None:
    found = await events
    return found if len(found) == 4 else None
