"""Delivering the offline queue: a station's transaction messages, in order, until the CSMS answers.

:class:`DeliveryMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation` that
puts transaction messages (Start/Stop, MeterValues — whatever the adapter calls them) into the
station's :class:`~kilowatt.simulator.offline.TransactionQueue` and sends them, oldest first. It owns
``_queue_retry_s``. The head is popped only when answered: no answer (timeout, lost socket) keeps it
for a retry after ``transaction_retry_s`` or on reconnect; a CALLERROR is retried up to
``transaction_message_attempts`` times, then given up (the adapter decides what that means for the
session, e.g. a StartTransaction given up orphans its session).
"""

from __future__ import annotations

from typing import Any

from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected
from kilowatt.simulator.model import Session
from kilowatt.simulator.offline import QueuedMessage, QueueFull


class DeliveryMixin:
    """Queue transaction messages and deliver them in order (see the module docstring)."""

    def enqueue(self, action: str, payload: dict[str, Any], session: Session | None, *, droppable: bool = False) -> None:
        """Queue a transaction message; :meth:`flush` delivers it in order.

        ``droppable`` marks a periodic sample that may make room when the queue is full.
        """
        message = QueuedMessage(
            action,
            payload,
            session_key=session.key if session is not None else None,
            enqueued_s=self.now_s(),
            context=session,
            offline=not self.ready,
            droppable=droppable,
        )
        try:
            self.queue.put(message)
        except QueueFull:
            self.stats.messages_dropped += 1
            self.stats.error("offline_queue_full")

    async def flush(self) -> None:
        """Deliver queued transaction messages, oldest first, while the CSMS answers."""
        queue = self.queue
        while queue and self.ready:
            message = queue.peek()
            assert message is not None
            try:
                response = await self.call_or_raise(message.action, message.payload)
            except CallError:
                message.attempts += 1
                if message.attempts < self.transaction_message_attempts:
                    self._queue_retry_s = self.now_s() + self.transaction_retry_s
                    return
                self._give_up(message)
                continue
            except OcppError:
                self._give_up(message)
                continue
            except (CallTimeout, StationDisconnected, CallQueueFull):
                self._queue_retry_s = self.now_s() + self.transaction_retry_s
                return
            if queue.peek() is message:
                queue.pop()
            if message.offline:
                self.stats.offline_messages_replayed += 1
            self.adapter.transaction_message_answered(message, response)

    def _give_up(self, message: QueuedMessage) -> None:
        if self.queue.peek() is message:
            self.queue.pop()
        self.stats.messages_dropped += 1
        self.adapter.transaction_message_failed(message)
