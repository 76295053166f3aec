"""The bus interface."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kilowatt.storage.models import utcnow


@dataclass(slots=True, frozen=True)
class Event:
    """A domain event, e.g. ``station.connected``, ``connector.status``, ``transaction.started``."""

    type: str
    station_id: str | None
    data: dict[str, Any]
    at: datetime = field(default_factory=utcnow)


EventListener = Callable[[Event], Awaitable[None]]


class StationCaller(Protocol):
    """Sends one CALL over a station's socket and returns its CALLRESULT payload (see RpcEndpoint.call)."""

    def __call__(self, action: str, payload: dict[str, Any], timeout_s: float | None = None) -> Awaitable[dict[str, Any]]: ...


class Bus(abc.ABC):
    """Carries domain events and CSMS->station calls."""

    @abc.abstractmethod
    async def publish(self, event: Event) -> None:
        """Deliver ``event`` to every listener (on every node)."""

    @abc.abstractmethod
    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` for every event; returns a function that unsubscribes."""

    @abc.abstractmethod
    async def attach(self, station_id: str, caller: StationCaller) -> None:
        """This node now holds ``station_id``'s socket; calls to it go to ``caller``."""

    @abc.abstractmethod
    async def detach(self, station_id: str, caller: StationCaller) -> None:
        """``caller``'s socket closed; forget it unless another connection replaced it already."""

    @abc.abstractmethod
    async def call_station(
        self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL to the station wherever it is connected and return its answer.

        Raises :class:`~kilowatt.rpc.StationDisconnected` when no node holds the station, and the
        errors of :meth:`kilowatt.rpc.endpoint.RpcEndpoint.call` otherwise.
        """

    async def close(self) -> None:
        """Release connections; the in-process bus holds none."""
