"""Repeat keys on ``meter_values`` and ``status_notifications``

Revision ID: 0013
Revises: 0012

A 1.6 MeterValues or a StatusNotification sent again after its CALLRESULT was lost has no id to
recognise it by; each row now carries a hash of its content under a unique index, and the insert
drops a repeat (``kilowatt/storage/repeats.py``). Rows stored before this revision keep a NULL key
(NULLs never conflict), so the upgrade rewrites nothing and is quick on a large table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("meter_values", "status_notifications")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("repeat_key", sa.LargeBinary(length=16), nullable=True))
        op.create_index(f"ux_{table}_repeat_key", table, ["repeat_key"], unique=True)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"ux_{table}_repeat_key", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("repeat_key")
