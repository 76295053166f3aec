"""The canonical transaction event stream: 2.0.1 events stored once by (station, transactionId, seqNo)

Revision ID: 0005
Revises: 0004

- ``transaction_events``: one row per OCPP 2.0.1 TransactionEvent, unique by its idempotency key,
  so a repeated event is answered and not stored twice;
- ``transactions.id_token``, ``id_token_status`` and ``meter_start_wh`` may be NULL: a 2.0.1
  session may start without a token and has no meterStart, and an event that arrives before the
  Started creates the transaction before they are known;
- ``transactions.start_reason``: why it started (2.0.1 triggerReason).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns that become nullable, with their type as the CREATE TABLE of 0001 spells it on SQLite.
_NULLABLE = {"id_token": "VARCHAR(36)", "id_token_status": "VARCHAR(16)", "meter_start_wh": "BIGINT"}
_TYPES = {"id_token": sa.String(length=36), "id_token_status": sa.String(length=16), "meter_start_wh": sa.BigInteger()}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_not_null(required=False)
    else:
        for column, type_ in _TYPES.items():
            op.alter_column("transactions", column, existing_type=type_, nullable=True)
    op.add_column("transactions", sa.Column("start_reason", sa.String(length=32), nullable=True))
    op.create_table(
        "transaction_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=False),
        sa.Column("seq_no", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=8), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "station_transaction_id", "seq_no", name="uq_transaction_events_seq"),
    )
    op.create_index("ix_transaction_events_transaction", "transaction_events", ["transaction_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transaction_events_transaction", table_name="transaction_events")
    op.drop_table("transaction_events")
    # Sessions without a token or a start reading cannot go back under NOT NULL: they are 2.0.1
    # sessions the older schema cannot hold.
    op.execute("DELETE FROM transactions WHERE id_token IS NULL OR id_token_status IS NULL OR meter_start_wh IS NULL")
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35), never batch mode: its table copy would cascade
    # (see _sqlite_not_null).
    op.drop_column("transactions", "start_reason")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_not_null(required=True)
    else:
        for column, type_ in _TYPES.items():
            op.alter_column("transactions", column, existing_type=type_, nullable=False)


def _sqlite_not_null(required: bool) -> None:
    """Drop (or restore) NOT NULL on SQLite by editing the table's definition in place.

    SQLite cannot alter a column; Alembic's batch mode would copy the table and DROP the original,
    and with foreign keys on (every Kilowatt connection) that DROP cascades to ``meter_values``
    and deletes every sample. Removing a NOT NULL constraint changes nothing on disk, and SQLite
    documents this edit for exactly that case (https://sqlite.org/lang_altertable.html, "Making
    Other Kinds Of Table Schema Changes"); it runs inside the migration's transaction. Restoring the
    constraint is safe only once no row holds a NULL, which ``downgrade`` ensures first.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'transactions'").scalar_one()
    for column, type_ in _NULLABLE.items():
        nullable, not_null = f"{column} {type_},", f"{column} {type_} NOT NULL,"
        before, after = (nullable, not_null) if required else (not_null, nullable)
        if before not in sql:
            raise RuntimeError(f"transactions.{column} is not defined as expected: {sql!r}")
        sql = sql.replace(before, after, 1)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'transactions'", (sql,))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if bind.exec_driver_sql("PRAGMA integrity_check").scalar_one() != "ok":
        raise RuntimeError("transactions: the edited definition failed SQLite's integrity check")
