"""Repair rows that SQLite stored with the wrong type before the edges refused such values

Revision ID: 0004
Revises: 0003

Two kinds of row could not be read back, and made every page that held one answer 500:
- an audit entry whose body was a JSON scalar (SQLite's JSON column has NUMERIC affinity, so the
  text ``7`` became the integer 7): now stored as ``{"json": value}``, as new entries are;
- a station event whose ``requestId`` was an integral float beyond any integer (``1e300``), stored
  as REAL: the request id is cleared and the value kept in the details as ``refused_request_id``.
PostgreSQL stored both correctly (or refused them), so there is nothing to repair there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("UPDATE audit_log SET body = json_object('json', body) WHERE typeof(body) IN ('integer', 'real')")
    op.execute(
        "UPDATE station_events SET details = json_set(coalesce(details, '{}'), '$.refused_request_id', request_id), "
        "request_id = NULL WHERE typeof(request_id) = 'real'"
    )


def downgrade() -> None:
    """Nothing to undo: the repaired rows are what the old code should have stored."""
