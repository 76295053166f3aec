"""The in-process bus: one node, no network. The default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from kilowatt.bus.base import Bus, Event, EventListener, StationCaller
from kilowatt.rpc.errors import StationDisconnected

log = structlog.get_logger("kilowatt.bus")


class InProcessBus(Bus):
    """Events go to local listeners; station calls go to the local socket or fail as offline."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._callers: dict[str, StationCaller] = {}

    async def publish(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed", event_type=event.type)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def attach(self, station_id: str, caller: StationCaller) -> None:
        self._callers[station_id] = caller

    async def detach(self, station_id: str, caller: StationCaller) -> None:
        if self._callers.get(station_id) is caller:
            del self._callers[station_id]

    async def call_station(
        self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        caller = self._callers.get(station_id)
        if caller is None:
            raise StationDisconnected(f"station {station_id!r} is not connected")
        return await caller(action, payload, timeout_s)
