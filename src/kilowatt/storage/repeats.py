"""Rows that a charger's repeated message must not store twice, though the message has no id.

OCPP lets a charger send a message again when its CALLRESULT was lost (a gateway died between the
commit and the answer, the connection dropped). Messages with an identity are made idempotent by
it (a 1.6 StartTransaction by its start key, a 2.0.1 TransactionEvent by its seqNo). A 1.6
MeterValues or a StatusNotification has none: the same message again is the same content again.

So such rows carry a ``repeat_key``, a 128-bit hash of everything the row says, under a unique
index, and are inserted with ``ON CONFLICT DO NOTHING``: a repeat is dropped by the database, in
the same statement, on every write path (the batched inserts too), with no look-up first. Two
samples alike in every field are one sample; a status notification without a timestamp gets no
key (the same status reported again later is a new report, not a repeat). The same goes for DER
alarms, start/stops and reports, battery swaps, security events and EV charging needs and
schedules; docs/architecture.md ("Repeats") lists which message is recognised by what.
"""

from __future__ import annotations

import json
from hashlib import blake2b

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Insert


def repeat_key(*fields: object) -> bytes:
    """The key of a row saying ``fields``.

    Each field is written with its length first, so no choice of field values (a charger's text
    may contain any character) makes two different rows read alike; None and "" differ. A dict or
    list (a message's nested JSON) is written as JSON with its keys sorted, so the same content
    makes the same key whatever order the charger wrote the keys in.
    """
    parts = ["-" if field is None else f"{len(text)}:{text}" for field in fields for text in (_text(field),)]
    return blake2b("|".join(parts).encode(), digest_size=16).digest()


def _text(field: object) -> str:
    if isinstance(field, (dict, list, tuple)):
        return json.dumps(field, sort_keys=True, separators=(",", ":"), default=str)
    return str(field)


def insert_ignoring_repeats(table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table``, one statement for SQLite and PostgreSQL.

    (SQLAlchemy's PostgreSQL ``insert`` compiles to the same clause on SQLite; the clause names no
    index, so any unique violation — in practice ``repeat_key``'s — drops the row.)
    """
    return postgresql.insert(table).on_conflict_do_nothing()
