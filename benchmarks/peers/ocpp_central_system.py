"""Peer (a): the minimal OCPP 1.6 central system the ``ocpp`` package documents, without persistence.

Written for the benchmark after the pattern of the ``ocpp`` package's README and its
``examples/v16/central_system.py`` (a ``ChargePoint`` subclass per connection with ``@on``
handlers, served by ``websockets``), answering the messages the simulator sends. Nothing is stored;
every id tag is accepted. This is what "a CSMS built the documented way on the ``ocpp`` package"
costs per message and per connection.

    python benchmarks/peers/ocpp_central_system.py --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import resource
import signal
from datetime import UTC, datetime

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as BaseChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus

HEARTBEAT_INTERVAL_S = 300
_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ChargePoint(BaseChargePoint):
    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs):
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL_S, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str, **kwargs):
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kwargs):
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs):
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids), id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list, **kwargs):
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs):
        return call_result.StopTransaction()


async def on_connect(websocket) -> None:
    if websocket.subprotocol != "ocpp1.6":
        await websocket.close()
        return
    charge_point_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        await ChargePoint(charge_point_id, websocket).start()
    except websockets.exceptions.ConnectionClosed:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logging.basicConfig(level=logging.WARNING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The same pings as Kilowatt's default: KILOWATT_WS_PING_INTERVAL_S=60 notices a dead socket
    # within 60 s by pinging every socket every 30 s. A ping every 30 s (and websockets' 20 s pong
    # timeout) gives this peer the same ping traffic and about the same detection time.
    async with websockets.serve(
        on_connect, args.host, args.port, subprotocols=["ocpp1.6"], ping_interval=30, backlog=2048
    ):
        print(f"listening {args.port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
