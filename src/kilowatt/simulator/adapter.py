"""What a protocol version must provide to drive a simulated station.

The runtime (:class:`~kilowatt.simulator.station.SimulatedStation`) decides *when* things happen —
a driver arrives, a meter sample is due, a session ends — and asks the adapter to say it in its
version's words. The adapter also answers the CSMS's commands by calling back into the runtime.
OCPP 1.6 lives in :mod:`kilowatt.simulator.v16`; 2.0.1 (and 2.1, the same adapter with 2.1's dialect)
in :mod:`kilowatt.simulator.v201`, which says the same things with TransactionEvent and a device model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kilowatt.rpc.protocol import Dialect, IncomingCall
from kilowatt.simulator.model import ConnectorStatus, Session
from kilowatt.simulator.offline import QueuedMessage

if TYPE_CHECKING:
    from kilowatt.simulator.station import SimulatedStation


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """The CSMS's verdict on a boot. ``status`` is None when the message was not answered."""

    status: str | None  # "Accepted" | "Pending" | "Rejected"
    interval_s: float


class ProtocolAdapter(ABC):
    """One protocol version's view of a station."""

    subprotocol: str
    dialect: Dialect

    def __init__(self, station: SimulatedStation):
        self.station = station

    @abstractmethod
    async def boot(self) -> BootAnswer: ...

    @abstractmethod
    async def heartbeat(self) -> None: ...

    @abstractmethod
    async def status_notification(self, connector_id: int, status: ConnectorStatus, error_code: str | None) -> bool:
        """Report one connector's (or, with 0, the station's) status; True when the CSMS answered."""

    @abstractmethod
    async def authorize(self, id_token: str, id_token_type: str = "ISO14443") -> bool | None:
        """Ask the CSMS whether ``id_token`` may charge; ``None`` when it could not be asked.

        ``id_token_type`` is 2.0.1's IdTokenEnumType; 1.6 has only one kind of token and ignores it.
        """

    @abstractmethod
    def transaction_started(self, session: Session) -> None:
        """Queue the message that opens ``session``'s transaction."""

    @abstractmethod
    def meter_values(self, session: Session, context: str) -> None:
        """Queue a meter sample for ``session``."""

    @abstractmethod
    async def connector_meter_values(self, connector_id: int, context: str) -> None:
        """Send a meter sample outside any transaction (e.g. on a trigger)."""

    @abstractmethod
    def transaction_stopped(self, session: Session) -> None:
        """Queue the message that closes ``session``'s transaction."""

    @abstractmethod
    def transaction_message_answered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        """The CSMS answered a queued transaction message."""

    @abstractmethod
    def transaction_message_failed(self, message: QueuedMessage) -> None:
        """A queued transaction message was given up on (CALLERROR after every attempt)."""

    @abstractmethod
    async def handle(self, call: IncomingCall) -> dict[str, Any]:
        """Answer a CSMS command. Must not await a CALL: post follow-ups with ``station.post``."""
