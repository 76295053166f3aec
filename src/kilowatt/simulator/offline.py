"""The queue of transaction messages a station must deliver, in order, connected or not.

A charger's transaction messages are billing records: it keeps them until the CSMS has answered,
and delivers them in the order they happened — StartTransaction before the MeterValues of that
session, MeterValues before StopTransaction. So every transaction message goes through this queue,
online too (otherwise a fresh MeterValues could overtake an old one waiting for the reconnect).

In OCPP 1.6 the CSMS, not the station, numbers transactions. A session started offline has no
transactionId until its StartTransaction is replayed; until then its later messages carry a
placeholder, and :meth:`TransactionQueue.resolve` rewrites them with the real id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class QueuedMessage:
    """One CALL waiting for delivery. ``session_key`` ties it to the session whose id it carries."""

    action: str
    payload: dict[str, Any]
    session_key: int | None = None
    attempts: int = 0
    enqueued_s: float = 0.0
    context: Any = None  # what the adapter needs when the answer comes (the session object)
    offline: bool = False  # queued while the station could not send: delivered as a replay
    droppable: bool = False  # a periodic sample: may make room when the queue is full (1.6 MeterValues always may)


class QueueFull(Exception):
    """The station ran out of room for unsent transaction messages (it has been offline too long)."""


class TransactionQueue:
    """FIFO of :class:`QueuedMessage`, bounded so a long outage cannot eat the simulator's memory."""

    __slots__ = ("_messages", "max_messages", "dropped")

    def __init__(self, max_messages: int = 10_000):
        self._messages: deque[QueuedMessage] = deque()
        self.max_messages = max_messages
        self.dropped = 0  # messages lost because the queue was full or delivery failed for good

    def __len__(self) -> int:
        return len(self._messages)

    def __bool__(self) -> bool:
        return bool(self._messages)

    def __iter__(self) -> Iterator[QueuedMessage]:
        return iter(self._messages)

    def put(self, message: QueuedMessage) -> None:
        """Append ``message``. When full, the oldest periodic sample makes room; a Start or Stop never does."""
        if len(self._messages) >= self.max_messages:
            for old in self._messages:
                if old.droppable or old.action == "MeterValues":
                    self._messages.remove(old)
                    self.dropped += 1
                    break
            else:
                self.dropped += 1
                raise QueueFull(f"{len(self._messages)} transaction messages waiting")
        self._messages.append(message)

    def peek(self) -> QueuedMessage | None:
        return self._messages[0] if self._messages else None

    def pop(self) -> QueuedMessage:
        return self._messages.popleft()

    def resolve(self, session_key: int, transaction_id: int | str) -> int:
        """The CSMS has numbered session ``session_key``: put the real id into its waiting messages.

        Returns how many messages were rewritten.
        """
        rewritten = 0
        for message in self._messages:
            if message.session_key == session_key and "transactionId" in message.payload:
                message.payload["transactionId"] = transaction_id
                rewritten += 1
        return rewritten

    def discard_session(self, session_key: int) -> int:
        """Drop what is queued for a session whose StartTransaction could not be delivered."""
        before = len(self._messages)
        self._messages = deque(m for m in self._messages if m.session_key != session_key)
        removed = before - len(self._messages)
        self.dropped += removed
        return removed
