"""The gateway's handshake, connection rules, limits and CSMS->station calls, over real sockets."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.commands import CommandEnvelope, CommandError, CommandErrorKind
from kilowatt.commands import model as m

PASSWORD = "0123456789abcdef0123"


async def refused_status(url: str, **kwargs) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, open_timeout=5, **kwargs):
            pass
    response = info.value.response
    return response.status_code, response.body.decode()


async def test_unknown_station_is_refused_with_404(csms: RunningCsms) -> None:
    status, body = await refused_status(f"{csms.ocpp_url}/NOBODY", subprotocols=["ocpp1.6"])
    assert status == 404 and "unknown station" in body
    assert (await csms.services.stations.list()).total == 0


async def test_wrong_path_is_refused(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-1")
    url = csms.ocpp_url.replace("/ocpp", "/other") + "/CP-1"
    status, body = await refused_status(url, subprotocols=["ocpp1.6"])
    assert status == 404 and "/ocpp/{station_id}" in body


@pytest.mark.parametrize("subprotocols", [None, ["ocpp1.2"], ["ocpp0.9", "chat"]])
async def test_no_common_subprotocol_is_a_clear_error(csms: RunningCsms, subprotocols: list[str] | None) -> None:
    await csms.services.stations.create("CP-1")
    status, body = await refused_status(f"{csms.ocpp_url}/CP-1", subprotocols=subprotocols)
    assert status == 400
    assert "ocpp1.6" in body and "subprotocol" in body


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),  # the server's preference, not the client's order
        (["ocpp1.6", "ocpp2.1", "ocpp2.0.1"], "ocpp2.1"),
        (["chat", "ocpp1.6"], "ocpp1.6"),
    ],
)
async def test_the_newest_offered_version_is_chosen(csms: RunningCsms, offered: list[str], chosen: str) -> None:
    await csms.services.stations.create("CP-1")
    async with connect(f"{csms.ocpp_url}/CP-1", subprotocols=offered) as socket:
        assert socket.subprotocol == chosen


async def test_station_password_is_required_and_checked(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-P", password=PASSWORD)
    url = f"{csms.ocpp_url}/CP-P"
    assert (await refused_status(url, subprotocols=["ocpp1.6"]))[0] == 401
    wrong = f"{csms.ocpp_url.replace('ws://', 'ws://CP-P:wrongwrongwrongwrong@')}/CP-P"
    assert (await refused_status(wrong, subprotocols=["ocpp1.6"]))[0] == 401
    other_user = f"{csms.ocpp_url.replace('ws://', f'ws://CP-X:{PASSWORD}@')}/CP-P"
    assert (await refused_status(other_user, subprotocols=["ocpp1.6"]))[0] == 401
    right = f"{csms.ocpp_url.replace('ws://', f'ws://CP-P:{PASSWORD}@')}"
    async with TestCharger.connect(right, "CP-P") as charger:
        assert (await charger.boot())["status"] == "Accepted"


async def test_a_stranger_cannot_cut_off_a_live_charger(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    status, body = await refused_status(f"{csms.ocpp_url}/CP-1", subprotocols=["ocpp1.6"])
    assert status == 409 and "already connected" in body
    assert "currentTime" in await charger.call("Heartbeat", {})  # the real charger is still served


async def test_a_dead_connection_is_replaced(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    charger.socket.transport.pause_reading()  # the old socket stops answering pings, as a dead one would
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as newcomer:
        assert (await newcomer.boot())["status"] == "Accepted"
        assert csms.application.gateway.connections["CP-1"].socket.remote_address[1] == newcomer.socket.local_address[1]
        pump = asyncio.create_task(_answer_calls(newcomer))
        try:
            reply = (await csms.application.bus.call_station(CommandEnvelope("CP-1", m.GetConfiguration()))).response
        finally:
            pump.cancel()
        assert reply == {"configurationKey": [], "unknownKey": []}
    await asyncio.sleep(0.1)
    assert not (await csms.services.stations.get("CP-1")).station.connected


async def test_an_authenticated_newcomer_replaces_the_old_socket_at_once(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-P", password=PASSWORD)
    base = csms.ocpp_url.replace("ws://", f"ws://CP-P:{PASSWORD}@")
    async with TestCharger.connect(base, "CP-P") as old:
        await old.boot()
        async with TestCharger.connect(base, "CP-P") as new:
            assert (await new.boot())["status"] == "Accepted"
            with pytest.raises(ConnectionClosed):
                await old.receive(timeout_s=2)
            assert old.socket.close_code == 4000
        await asyncio.sleep(0.1)
    assert not (await csms.services.stations.get("CP-P")).station.connected


async def test_connection_state_is_stored(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        await charger.boot()
        station = (await csms.services.stations.get("CP-1")).station
        assert station.connected and station.node_id == csms.application.settings.node_id
    await asyncio.sleep(0.1)
    station = (await csms.services.stations.get("CP-1")).station
    assert not station.connected and station.node_id is None and station.last_seen is not None


async def test_dead_socket_is_noticed_by_pings(make_csms) -> None:
    csms = await make_csms(ws_ping_interval_s=0.4)
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        await charger.boot()
        charger.socket.transport.pause_reading()
        for _ in range(40):
            await asyncio.sleep(0.05)
            if "CP-1" not in csms.application.gateway.connections:
                break
        assert "CP-1" not in csms.application.gateway.connections
        # The session leaves the map first; the stored state follows once its write is committed.
        for _ in range(40):
            if not (await csms.services.stations.get("CP-1")).station.connected:
                break
            await asyncio.sleep(0.05)
        assert not (await csms.services.stations.get("CP-1")).station.connected


async def test_handshake_timeout_is_the_configured_one(make_csms) -> None:
    """KILOWATT_WS_OPEN_TIMEOUT_S bounds the handshake: a socket that starts one and stalls is closed
    after it, and one that completes it slowly, still within it, is served."""
    csms = await make_csms(ws_open_timeout_s=1.0)
    await csms.services.stations.create("CP-1")
    port = csms.application.ocpp_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ...and never the rest
    await writer.drain()
    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(reader.read(), timeout=5.0) == b""  # closed by the server
    assert 0.8 <= asyncio.get_running_loop().time() - started < 3.0
    writer.close()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        "GET /ocpp/CP-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
    ).encode()
    writer.write(request[:40])
    await asyncio.sleep(0.5)  # slow, but inside the timeout
    writer.write(request[40:])
    status_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
    assert status_line.startswith(b"HTTP/1.1 101")
    writer.close()


async def test_oversized_frame_closes_only_that_connection(make_csms) -> None:
    csms = await make_csms(max_frame_bytes=4096)
    await csms.services.stations.create("CP-1")
    await csms.services.stations.create("CP-2")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as big, TestCharger.connect(csms.ocpp_url, "CP-2") as small:
        await big.boot()
        await small.boot()
        huge = {"vendorId": "com.acme", "data": "x" * 5000}
        await big.send_raw(json.dumps([2, "big", "DataTransfer", huge]))
        with pytest.raises(ConnectionClosed):
            await big.receive(timeout_s=3)
        assert big.socket.close_code == 1009
        assert "currentTime" in await small.call("Heartbeat", {})
    from sqlalchemy import func, select

    from kilowatt.storage.models import DataTransferRecord

    async with csms.application.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DataTransferRecord))).scalar_one() == 0


async def test_bad_frames_are_answered_and_the_connection_stays_up(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    cases = [
        ("garbage{", "-1", "FormationViolation"),
        ("[2, \"g1\", \"FooBar\", {}]", "g1", "NotImplemented"),
        ("[2, \"g2\", \"RemoteStartTransaction\", {\"idTag\": \"x\"}]", "g2", "NotSupported"),
        ("[2, \"g3\", \"StartTransaction\", {\"connectorId\": \"one\", \"idTag\": \"T\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "g3", "TypeConstraintViolation"),
        ("[2, \"g4\", \"StartTransaction\", {\"connectorId\": 1, \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "g4", "OccurenceConstraintViolation"),
        ("[2, \"g5\", \"Authorize\", {\"idTag\": \"TAG-LONGER-THAN-20-CHARS\"}]", "g5", "PropertyConstraintViolation"),
        ("[2, \"g6\", \"StartTransaction\", {\"connectorId\": 0, \"idTag\": \"T\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "g6", "PropertyConstraintViolation"),
        ("[2, \"g7\", \"Heartbeat\", []]", "g7", "FormationViolation"),
        ("[9, \"g8\"]", "g8", "FormationViolation"),
    ]
    for frame, message_id, code in cases:
        await charger.send_raw(frame)
        answer = await charger.receive()
        assert answer[:3] == [4, message_id, code], (frame, answer)
        assert answer[3] and isinstance(answer[4], dict)
    # stray answers are ignored, not answered
    await charger.send_raw('[3, "never-asked", {}]')
    assert "currentTime" in await charger.call("Heartbeat", {})
    assert (await csms.services.transactions.list()).total == 0


async def test_csms_calls_reach_the_station_and_return_its_answer(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    bus = csms.application.bus

    async def responder(action: str, payload: dict):
        if action == "Reset":
            return {"status": "Accepted" if payload["type"] == "Soft" else "Rejected"}
        if action == "UnlockConnector":
            return ("InternalError", "motor jammed")
        if action == "ClearCache":
            return {"status": "Perhaps"}  # not in the schema
        return {}

    charger.responder = responder
    pump = asyncio.create_task(_answer_calls(charger))
    try:
        soft = await bus.call_station(CommandEnvelope("CP-1", m.Reset(m.ResetMode.ON_IDLE)))
        assert (soft.action, soft.request, soft.result, soft.response) == ("Reset", {"type": "Soft"}, m.StatusResult("Accepted"), {"status": "Accepted"})
        assert (await bus.call_station(CommandEnvelope("CP-1", m.Reset(m.ResetMode.IMMEDIATE)))).result == m.StatusResult("Rejected")
        jammed = await bus.call_station(CommandEnvelope("CP-1", m.UnlockConnector(1)))
        assert jammed.error == CommandError(CommandErrorKind.CALL_ERROR, "motor jammed", "InternalError", {})
        assert jammed.result is None and jammed.request == {"connectorId": 1}
        invalid = await bus.call_station(CommandEnvelope("CP-1", m.ClearCache()))
        assert invalid.error is not None and (invalid.error.kind, invalid.error.code) == (CommandErrorKind.CALL_ERROR, "PropertyConstraintViolation")
        offline = await bus.call_station(CommandEnvelope("CP-404", m.Reset(m.ResetMode.ON_IDLE)))
        assert offline.error is not None and offline.error.kind is CommandErrorKind.OFFLINE and offline.action is None
    finally:
        pump.cancel()


async def test_csms_calls_are_one_at_a_time_and_time_out(make_csms) -> None:
    csms = await make_csms(call_timeout_s=0.5, call_queue_size=2)
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        await charger.boot()
        await _answer_post_boot_fetch(charger)
        bus = csms.application.bus
        calls = [asyncio.create_task(bus.call_station(CommandEnvelope("CP-1", m.ClearCache()))) for _ in range(2)]
        await asyncio.sleep(0.05)
        busy = await bus.call_station(CommandEnvelope("CP-1", m.ClearCache()))
        assert busy.error is not None and busy.error.kind is CommandErrorKind.BUSY
        # only one CALL is on the wire at a time: the charger sees the first, not yet the second
        first = json.loads(await asyncio.wait_for(charger.socket.recv(), 2))
        assert first[2] == "ClearCache"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(charger.socket.recv(), 0.2)
        await charger.socket.send(json.dumps([3, first[1], {"status": "Accepted"}]))
        assert (await calls[0]).result == m.StatusResult("Accepted")
        second = json.loads(await asyncio.wait_for(charger.socket.recv(), 2))
        assert second[1] != first[1]
        timed_out = await calls[1]  # never answered
        assert timed_out.error is not None and timed_out.error.kind is CommandErrorKind.TIMEOUT
        # a late answer is ignored and the station's own messages still work
        await charger.socket.send(json.dumps([3, second[1], {"status": "Accepted"}]))
        assert "currentTime" in await charger.call("Heartbeat", {})


async def test_station_messages_flow_while_a_csms_call_waits(csms: RunningCsms, charger: TestCharger) -> None:
    await charger.boot()
    await _answer_post_boot_fetch(charger)
    waiting = asyncio.create_task(csms.application.bus.call_station(CommandEnvelope("CP-1", m.ClearCache())))
    call = json.loads(await asyncio.wait_for(charger.socket.recv(), 2))
    assert call[2] == "ClearCache"
    await charger.socket.send(json.dumps([2, "hb", "Heartbeat", {}]))
    answer = json.loads(await asyncio.wait_for(charger.socket.recv(), 2))
    assert answer[0] == 3 and answer[1] == "hb"
    await charger.socket.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    assert (await waiting).result == m.StatusResult("Accepted")


async def _answer_post_boot_fetch(charger: TestCharger) -> None:
    """The CSMS's own GetConfiguration after an accepted boot comes first: answer it, so the
    frames that follow are the test's."""
    fetch = json.loads(await asyncio.wait_for(charger.socket.recv(), 2))
    assert fetch[2] == "GetConfiguration"
    await charger.socket.send(json.dumps([3, fetch[1], {"configurationKey": []}]))
    await asyncio.sleep(0.05)


async def _answer_calls(charger: TestCharger) -> None:
    while True:
        await charger.receive(timeout_s=30)


async def test_registration_change_reaches_the_live_connection(csms: RunningCsms) -> None:
    await csms.services.stations.create("CP-1", registration_status="Pending")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as charger:
        assert (await charger.boot())["status"] == "Pending"
        assert (await charger.call_frame("Authorize", {"idTag": "X"}))[2] == "SecurityError"
        await csms.services.stations.update("CP-1", registration_status="Accepted")
        # no new BootNotification needed: the operator's decision applies to the open connection
        assert (await charger.call("Authorize", {"idTag": "X"}))["idTagInfo"]["status"] == "Invalid"


async def test_connected_station_cannot_be_deleted(csms: RunningCsms, charger: TestCharger) -> None:
    from kilowatt.services.common import Conflict

    await charger.boot()
    with pytest.raises(Conflict):
        await csms.services.stations.delete("CP-1")
    assert "currentTime" in await charger.call("Heartbeat", {})


async def test_a_binary_frame_is_refused_and_not_processed(csms: RunningCsms, charger: TestCharger) -> None:
    """OCPP-J messages are text frames: a CALL in a binary frame gets the version's RPC framework error."""
    await charger.boot(vendor="Kilowatt")
    await _answer_post_boot_fetch(charger)
    boot = [2, "bin-1", "BootNotification", {"chargePointVendor": "Binary", "chargePointModel": "Frame"}]
    await charger.socket.send(json.dumps(boot).encode())
    answer = await charger.receive()
    assert answer == [4, "bin-1", "FormationViolation", "OCPP-J messages must be sent as text frames", {}]
    assert (await csms.services.stations.get("CP-1")).station.vendor == "Kilowatt"  # nothing stored

    # a binary frame that holds no readable CALL is dropped without an answer
    for ignored in (b"\x00\x01\xff", json.dumps([3, "bin-2", {}]).encode(), b"[2, 7, \"Heartbeat\", {}]"):
        await charger.socket.send(ignored)
    answer = await charger.call_frame("Heartbeat", {}, message_id="after-binary")  # the next answer is this one's
    assert answer[0] == 3 and "currentTime" in answer[2]


async def test_closing_with_a_pending_csms_call_leaves_no_unretrieved_future(csms: RunningCsms, charger: TestCharger) -> None:
    """A connection that dies while our CALL is still being written: the caller gets
    an offline outcome, and asyncio reports no "Future exception was never retrieved"."""
    await charger.boot()
    await _answer_post_boot_fetch(charger)
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        charger.socket.transport.pause_reading()  # the CALL below cannot all be written: its send waits to drain
        big = m.DataTransfer("com.acme", data="x" * 16_000_000)
        call = asyncio.create_task(csms.application.bus.call_station(CommandEnvelope("CP-1", big)))
        await asyncio.sleep(0.5)
        assert not call.done()
        charger.socket.transport.abort()
        outcome = await asyncio.wait_for(call, 5)
        assert outcome.error is not None and outcome.error.kind is CommandErrorKind.OFFLINE
        del call
        await asyncio.sleep(0.1)
        gc.collect()  # a never-retrieved exception is reported when its future is freed
        await asyncio.sleep(0.1)
    finally:
        loop.set_exception_handler(previous_handler)
    assert not [context for context in reported if "never retrieved" in context.get("message", "")], reported
