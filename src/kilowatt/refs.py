"""References to things both sides name, each in its own way: shared by the services, the typed
commands and the version edges, so it depends on none of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class TransactionRef:
    """A transaction as both sides name it: ``id`` is ours (the OCPP 1.6 transactionId, the API's
    id); ``station_transaction_id`` is the station's own (OCPP 2.0.1 transactionId), None in 1.6."""

    id: int
    station_transaction_id: str | None = None
