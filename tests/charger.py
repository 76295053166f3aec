"""A raw OCPP-J test charger: sends exact frames and returns exact answers, so tests assert the wire.

It answers CALLs the CSMS sends (e.g. GetConfiguration after boot) with a responder the test can
replace, and keeps them in ``received_calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

Responder = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | tuple[str, str]]]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def station(answers: dict[str, Any]) -> Responder:
    """A responder answering each action from ``answers`` (a value, a (code, description) CALLERROR,
    or a function of the payload); GetConfiguration gets an empty list, anything else NotImplemented."""

    async def responder(action: str, payload: dict[str, Any]) -> Any:
        answer = answers.get(action, {"configurationKey": []} if action == "GetConfiguration" else ("NotImplemented", action))
        return answer(payload) if callable(answer) else answer

    return responder


def sent(charger: TestCharger, action: str) -> list[dict[str, Any]]:
    """The payloads of the CALLs named ``action`` the CSMS sent to ``charger``."""
    return [payload for name, payload in charger.received_calls if name == action]


async def default_responder(action: str, payload: dict[str, Any]) -> dict[str, Any] | tuple[str, str]:
    if action == "GetConfiguration":
        return {"configurationKey": [], "unknownKey": payload.get("key", [])}
    return ("NotImplemented", f"test charger does not implement {action}")


class TestCharger:
    __test__ = False  # not a pytest test class

    def __init__(self, socket: ClientConnection):
        self.socket = socket
        self._ids = itertools.count(1)
        self.responder: Responder = default_responder
        self.received_calls: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, base_url: str, station_id: str, subprotocols: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[TestCharger]:
        async with connect(
            f"{base_url}/{station_id}",
            subprotocols=subprotocols or ["ocpp1.6"],
            open_timeout=5,
            close_timeout=kwargs.pop("close_timeout", 0.5),  # tests pause sockets; don't wait 10 s on them
            **kwargs,
        ) as socket:
            yield cls(socket)

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[TestCharger]:
        """Answer the CSMS's CALLs in the background (for tests that only drive the API)."""

        async def pump() -> None:
            with contextlib.suppress(Exception):
                while True:
                    await self.receive(timeout_s=3600)

        task = asyncio.create_task(pump())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send_raw(self, text: str) -> None:
        await self.socket.send(text)

    async def receive(self, timeout_s: float = 5.0) -> list[Any]:
        """The next frame that is not a CALL from the CSMS (those are answered on the way)."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout_s))
            if isinstance(frame, list) and frame and frame[0] == 2:
                await self._answer(frame)
                continue
            return frame

    async def _answer(self, frame: list[Any]) -> None:
        _, message_id, action, payload = frame
        self.received_calls.append((action, payload))
        answer = await self.responder(action, payload)
        if isinstance(answer, tuple):
            await self.socket.send(json.dumps([4, message_id, answer[0], answer[1], {}]))
        else:
            await self.socket.send(json.dumps([3, message_id, answer]))

    async def call_frame(self, action: str, payload: dict[str, Any], message_id: str | None = None) -> list[Any]:
        """Send a CALL and return the whole answer frame (CALLRESULT or CALLERROR)."""
        message_id = message_id or f"m{next(self._ids)}"
        await self.socket.send(json.dumps([2, message_id, action, payload]))
        answer = await self.receive()
        assert answer[1] == message_id, f"answer for {answer[1]!r}, expected {message_id!r}: {answer}"
        return answer

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL that must succeed; returns the CALLRESULT payload."""
        answer = await self.call_frame(action, payload)
        assert answer[0] == 3, f"{action} answered with {answer}"
        return answer[2]

    async def boot(self, vendor: str = "Kilowatt", model: str = "Test") -> dict[str, Any]:
        return await self.call("BootNotification", {"chargePointVendor": vendor, "chargePointModel": model})

    async def status(self, connector_id: int, status: str, error_code: str = "NoError") -> dict[str, Any]:
        return await self.call(
            "StatusNotification", {"connectorId": connector_id, "status": status, "errorCode": error_code, "timestamp": now()}
        )
