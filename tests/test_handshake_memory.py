"""Sockets that die before, during or right after the handshake leave nothing for the cyclic collector.

An aborted handshake's objects have usually been promoted to the oldest generation by the time
they are dropped, and ``kilowatt serve`` collects that generation rarely: anything they keep in a
reference cycle stays in memory until then (issue 11: ~4.9 KB per aborted handshake). The test
aborts connections at every point against a real gateway and looks at what only the cyclic
collector would have freed (``gc.DEBUG_SAVEALL``).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import types
import weakref
from collections import Counter
from collections.abc import Callable

import pytest

from conftest import CsmsFactory

PASSWORD = "0123456789abcdef0123"
ROUNDS = 20

_REQUEST = (
    "GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset: the client is gone, whatever the server still wanted to send."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _request(station_id: str) -> bytes:
    return _REQUEST.format(station_id=station_id).encode()


def _before_any_byte(sock: socket.socket) -> None:
    _reset(sock)


def _mid_request_line(sock: socket.socket) -> None:
    sock.sendall(b"GET /ocpp/CP")
    _reset(sock)


def _after_the_request(sock: socket.socket) -> None:
    sock.sendall(_request("CP-1"))
    _reset(sock)


def _refused_404(sock: socket.socket) -> None:
    sock.sendall(_request("NOBODY"))
    _reset(sock)


def _refused_401(sock: socket.socket) -> None:
    sock.sendall(_request("CP-P"))
    _reset(sock)


def _after_the_upgrade(sock: socket.socket) -> None:
    sock.sendall(_request("CP-1"))
    sock.recv(4096)  # 101 Switching Protocols
    _reset(sock)


def _slowloris(sock: socket.socket) -> None:
    """Half a request, then wait until the server gives up on it (KILOWATT_WS_OPEN_TIMEOUT_S)."""
    sock.sendall(b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    sock.settimeout(5)
    while sock.recv(4096):
        pass
    sock.close()


ABORTS: list[Callable[[socket.socket], None]] = [
    _before_any_byte,
    _mid_request_line,
    _after_the_request,
    _refused_404,
    _refused_401,
    _after_the_upgrade,
    _slowloris,
]


def _abort(port: int, abort: Callable[[socket.socket], None]) -> None:
    """One client, on a plain blocking socket (in a thread): its own objects make no cycles."""
    abort(socket.create_connection(("127.0.0.1", port)))


def _ours(obj: object) -> bool:
    """An object the gateway or websockets made, or an exception kept with its frames."""
    if isinstance(obj, weakref.ProxyTypes):  # a dead proxy cannot even be asked for its class
        return False
    module = type(obj).__module__ or ""
    return module.startswith(("kilowatt", "websockets")) or isinstance(
        obj, BaseException | types.TracebackType | types.FrameType
    )


async def _wait_until_no_connections(gateway_server: object) -> None:
    for _ in range(100):
        if not gateway_server.handler_tasks:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway still handles connections")


@pytest.mark.parametrize("abort", ABORTS, ids=lambda abort: abort.__name__.strip("_"))
async def test_an_aborted_handshake_leaves_no_reference_cycles(make_csms: CsmsFactory, abort: Callable[[socket.socket], None]) -> None:
    csms = await make_csms(ws_open_timeout_s=0.3)
    await csms.services.stations.create("CP-1")
    await csms.services.stations.create("CP-P", password=PASSWORD)
    port = csms.application.ocpp_port
    server = csms.application.gateway._server
    await asyncio.to_thread(_abort, port, abort)  # warm-up: first-use caches are not garbage
    await _wait_until_no_connections(server)

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(ROUNDS):
            await asyncio.to_thread(_abort, port, abort)
            await _wait_until_no_connections(server)
        await asyncio.sleep(0.2)  # the station's disconnected() write, after an accepted handshake
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    # What else the collector finds is not the gateway's: on the asyncio loop each transport is a
    # cycle with its own bound method, and SQLAlchemy makes a few per statement.
    ours = Counter(type(obj).__qualname__ for obj in garbage if _ours(obj))
    assert not ours, f"left for the cyclic collector by {ROUNDS} aborted handshakes: {ours.most_common(12)}"


@pytest.mark.parametrize("abort", ABORTS, ids=lambda abort: abort.__name__.strip("_"))
async def test_an_aborted_handshake_is_freed_without_the_collector(make_csms: CsmsFactory, abort: Callable[[socket.socket], None]) -> None:
    """With the collector off, nothing of a lost connection may remain once its handler is done.

    ``gc.DEBUG_SAVEALL`` (above) cannot see a cycle through a suspended generator: the collector
    finalizes the generator first, which breaks the cycle, and what it held is then freed by
    reference counting instead of being saved. websockets' parser is such a generator (suspended
    for good in ``discard()`` once the stream has ended, its frame holding the protocol); on
    ``kilowatt serve``'s rare full collections that held every lost connection's protocol, reader
    and exceptions (~300 bytes per aborted handshake, without bound).
    """
    from websockets.server import ServerProtocol

    csms = await make_csms(ws_open_timeout_s=0.3, ws_ping_interval_s=0)  # no keep-alive: it holds pinged sockets a while
    await csms.services.stations.create("CP-1")
    await csms.services.stations.create("CP-P", password=PASSWORD)
    port = csms.application.ocpp_port
    server = csms.application.gateway._server
    await asyncio.to_thread(_abort, port, abort)
    await _wait_until_no_connections(server)
    gc.collect()
    gc.disable()
    try:
        for _ in range(ROUNDS):
            await asyncio.to_thread(_abort, port, abort)
            await _wait_until_no_connections(server)
        await asyncio.sleep(0.2)
        left = sum(1 for obj in gc.get_objects() if type(obj) is ServerProtocol)  # type(): a dead weak proxy is there too
    finally:
        gc.enable()
    assert left == 0, f"{left} websockets protocols of {ROUNDS} aborted handshakes wait for the cyclic collector"
