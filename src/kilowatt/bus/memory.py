"""The in-process bus: one node, no network. The default."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import structlog

from kilowatt.bus.base import Bus, CommandExecutor, Event, EventListener
from kilowatt.commands import CommandEnvelope, CommandErrorKind, CommandOutcome

log = structlog.get_logger("kilowatt.bus")


class InProcessBus(Bus):
    """Events go to local listeners; commands go to the local socket or come back offline.

    With ``serialise`` every envelope and outcome is sent through its JSON form on the way, as a
    bus between processes would: tests use it to hold the format to what the Redis bus will carry.
    """

    def __init__(self, serialise: bool = False) -> None:
        self._listeners: list[EventListener] = []
        self._executors: dict[str, CommandExecutor] = {}
        self._serialise = serialise

    async def publish(self, event: Event, on_sent: Callable[[], None] | None = None) -> None:
        for listener in tuple(self._listeners):
            try:
                await listener(event)
            except Exception:
                log.exception("event listener failed", event_type=event.type)
        if on_sent is not None:
            on_sent()

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def attach(self, station_id: str, executor: CommandExecutor) -> None:
        self._executors[station_id] = executor

    async def detach(self, station_id: str, executor: CommandExecutor) -> None:
        if self._executors.get(station_id) is executor:
            del self._executors[station_id]

    async def call_station(self, envelope: CommandEnvelope) -> CommandOutcome:
        if self._serialise:
            envelope = CommandEnvelope.from_json(orjson.loads(orjson.dumps(envelope.to_json())))
        executor = self._executors.get(envelope.station_id)
        if executor is None:
            return CommandOutcome.failed(CommandErrorKind.OFFLINE, f"station {envelope.station_id!r} is not connected")
        outcome = await executor(envelope.command, envelope.timeout_s)
        if self._serialise:
            outcome = CommandOutcome.from_json(orjson.loads(orjson.dumps(outcome.to_json())))
        return outcome
