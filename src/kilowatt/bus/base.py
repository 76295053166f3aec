"""The bus interface."""

from __future__ import annotations

import abc
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from kilowatt.commands import Command, CommandEnvelope, CommandOutcome


@dataclass(slots=True, frozen=True)
class Event:
    """A domain event, e.g. ``station.connected``, ``connector.status``, ``transaction.started``.

    ``id`` names the event wherever it travels: an event from the outbox may be delivered twice
    (its writer published it and died before marking it sent, and the relay published it again),
    so a consumer that acts on it (billing, webhooks) de-duplicates by ``id``.
    """

    type: str
    station_id: str | None
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


EventListener = Callable[[Event], Awaitable[None]]


class CommandExecutor(Protocol):
    """Runs a typed command over one station's socket: encodes it for the connection's OCPP
    version, sends it, decodes the answer (see :func:`kilowatt.ocpp.execute.execute`). Every
    failure is a typed error in the outcome, never an exception."""

    def __call__(self, command: Command, timeout_s: float | None = None) -> Awaitable[CommandOutcome]: ...


EvictHandler = Callable[[str, "CommandExecutor"], Awaitable[None]]
"""Closes the local socket behind ``executor``: the station has a newer connection on another node."""

ProbeHandler = Callable[[str], Awaitable[bool]]
"""Whether the station's socket on this node still answers a ping (a dead one is closed)."""


class Bus(abc.ABC):
    """Carries domain events and CSMS->station calls."""

    _evict_handler: EvictHandler | None = None
    _probe_handler: ProbeHandler | None = None

    async def start(self) -> None:
        """Connect and start background work; the in-process bus has none."""

    def on_evict(self, handler: EvictHandler | None) -> None:
        """Who closes a socket whose station connected again on another node (the gateway).

        Only a bus between processes calls it: on one node the gateway itself sees the newer
        connection and replaces the old one.
        """
        self._evict_handler = handler

    def on_probe(self, handler: ProbeHandler | None) -> None:
        """Who answers another node's question "is this station's socket here still alive?" (the gateway)."""
        self._probe_handler = handler

    async def alive_elsewhere(self, station_id: str, timeout_s: float) -> bool:
        """Whether another node holds a live socket for the station (it is asked to ping it).

        The gateway refuses a newcomer that did not prove the station's password while the
        station's socket on another node still answers, as it does for one on its own node. One
        node: there is no elsewhere.
        """
        return False

    @abc.abstractmethod
    async def publish(self, event: Event, on_sent: Callable[[], None] | None = None) -> None:
        """Deliver ``event`` to every listener (on every node).

        ``on_sent`` is called once the event has reached every node: on one node when the
        listeners have run, between processes when Redis has taken it. It is never called for
        an event that was dropped (Redis down, its buffer full): the outbox marks an event sent
        only from here, so a dropped one is relayed again instead of being lost.
        """

    async def flush(self) -> None:
        """Send what is buffered for the other nodes now (bounded in time); one node buffers nothing."""

    @abc.abstractmethod
    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` for every event; returns a function that unsubscribes."""

    @abc.abstractmethod
    async def attach(self, station_id: str, executor: CommandExecutor) -> None:
        """This node now holds ``station_id``'s socket; its commands go to ``executor``."""

    @abc.abstractmethod
    async def detach(self, station_id: str, executor: CommandExecutor) -> None:
        """``executor``'s socket closed; forget it unless another connection replaced it already."""

    @abc.abstractmethod
    async def call_station(self, envelope: CommandEnvelope) -> CommandOutcome:
        """Run the envelope's command on the node holding the station's socket and return the outcome.

        Never raises for the station's sake: a station no node holds is an ``offline`` outcome.
        Between processes the envelope and the outcome travel as their ``to_json`` forms.
        """

    async def close(self) -> None:
        """Release connections; the in-process bus holds none."""
