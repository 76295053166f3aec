"""A raw OCPP 2.0.1 / 2.1 test station: the 1.6 test charger's wire handling, with each CALLRESULT
checked against the official schema of the negotiated version (compiled here, independently of the
CSMS's own validators and their added bounds)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from functools import cache
from importlib.resources import files
from typing import Any

import fastjsonschema

from charger import TestCharger

_SCHEMA_DIRS = {"ocpp2.0.1": "v201/schemas", "ocpp2.1": "v21/schemas"}


@cache
def response_validator(subprotocol: str, action: str) -> Any:
    text = (files("ocpp") / _SCHEMA_DIRS[subprotocol] / f"{action}Response.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    schema.pop("$id", None)
    return fastjsonschema.compile(schema)


class V201Station:
    """Sends 2.0.1 CALLs; :meth:`call` asserts a CALLRESULT valid by the official response schema."""

    def __init__(self, charger: TestCharger, subprotocol: str):
        self.charger = charger
        self.subprotocol = subprotocol

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, ocpp_url: str, station_id: str, subprotocol: str = "ocpp2.0.1") -> AsyncIterator[V201Station]:
        async with TestCharger.connect(ocpp_url, station_id, subprotocols=[subprotocol]) as charger:
            assert charger.socket.subprotocol == subprotocol
            yield cls(charger, subprotocol)

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self.charger.call(action, payload)
        response_validator(self.subprotocol, action)(answer)
        return answer

    async def error(self, action: str, payload: dict[str, Any]) -> tuple[str, str]:
        """Send a CALL that must be refused; returns the CALLERROR's (code, description)."""
        frame = await self.charger.call_frame(action, payload)
        assert frame[0] == 4, f"{action} answered with {frame}"
        return frame[2], frame[3]
