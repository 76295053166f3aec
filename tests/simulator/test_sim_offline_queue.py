"""The transaction message queue: order, id rewriting after an offline start, bounds."""

from __future__ import annotations

import pytest

from kilowatt.simulator.offline import QueuedMessage, QueueFull, TransactionQueue


def test_resolve_rewrites_only_that_sessions_later_messages() -> None:
    queue = TransactionQueue()
    queue.put(QueuedMessage("StartTransaction", {"connectorId": 1}, session_key=1))
    queue.put(QueuedMessage("MeterValues", {"transactionId": -1}, session_key=1))
    queue.put(QueuedMessage("MeterValues", {"transactionId": 55}, session_key=2))
    queue.put(QueuedMessage("StopTransaction", {"transactionId": -1}, session_key=1))
    start = queue.pop()
    assert start.action == "StartTransaction"
    assert queue.resolve(1, 4242) == 2
    assert [(m.action, m.payload["transactionId"]) for m in queue] == [
        ("MeterValues", 4242),
        ("MeterValues", 55),
        ("StopTransaction", 4242),
    ]


def test_discard_session_drops_what_cannot_be_delivered() -> None:
    queue = TransactionQueue()
    for key in (1, 2, 1):
        queue.put(QueuedMessage("MeterValues", {"transactionId": -key}, session_key=key))
    assert queue.discard_session(1) == 2
    assert [m.session_key for m in queue] == [2]
    assert queue.dropped == 2


def test_full_queue_sacrifices_meter_values_never_start_or_stop() -> None:
    queue = TransactionQueue(max_messages=2)
    queue.put(QueuedMessage("StartTransaction", {}, session_key=1))
    queue.put(QueuedMessage("MeterValues", {}, session_key=1))
    queue.put(QueuedMessage("StopTransaction", {}, session_key=1))
    assert [m.action for m in queue] == ["StartTransaction", "StopTransaction"]
    with pytest.raises(QueueFull):
        queue.put(QueuedMessage("StartTransaction", {}, session_key=2))
    assert queue.dropped == 2
