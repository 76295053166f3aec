"""Id tokens match case-insensitively: a key column on id tokens and transactions

Revision ID: 0016
Revises: 0015

OCPP says an IdToken is case insensitive: a charger may send "abcd1234" for the card registered
as "ABCD1234". ``id_tokens.key`` holds ``id_token_key(id_token)`` (the token casefolded, computed
in Python so SQLite and PostgreSQL agree) under a unique index: look-ups and the registry's
uniqueness go through it, and the token itself keeps the spelling it was registered with.
``transactions.id_token_key`` is the same key of the token a station sent, for ConcurrentTx (the
same card in another open transaction, whatever its case); it is filled for open transactions
only (ended ones are never asked about) and indexed with ``stopped_at``.

Two registered tokens that differ only in case were two tokens and are now one: the upgrade does
not pick one. It stops with a message naming them, and the operator deletes or renames one first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(id_token: str) -> str:
    # Frozen copy of kilowatt.storage.models.id_token_key: a migration must not change with the code.
    return id_token.casefold()


class CaseCollision(RuntimeError):
    """Registered id tokens that differ only in case: one must go before the upgrade."""


def upgrade() -> None:
    connection = op.get_bind()
    tokens = sa.table("id_tokens", sa.column("id", sa.BigInteger), sa.column("id_token", sa.String), sa.column("key", sa.String))
    rows = connection.execute(sa.select(tokens.c.id, tokens.c.id_token)).all()
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[_key(row.id_token)].append(row.id_token)
    collisions = sorted(sorted(names) for names in groups.values() if len(names) > 1)
    if collisions:
        named = "; ".join(" and ".join(repr(name) for name in names) for names in collisions)
        raise CaseCollision(
            "id tokens are now case insensitive (OCPP), but these registered tokens differ only in case: "
            f"{named}. Delete all but one of each (DELETE /api/v1/id-tokens/{{id_token}} with the "
            "upgrade not yet run) and run the upgrade again."
        )
    op.add_column("id_tokens", sa.Column("key", sa.String(length=255), nullable=True))
    for row in rows:
        connection.execute(tokens.update().where(tokens.c.id == row.id).values(key=_key(row.id_token)))
    with op.batch_alter_table("id_tokens") as batch:
        batch.alter_column("key", existing_type=sa.String(length=255), nullable=False)
        batch.create_unique_constraint("uq_id_tokens_key", ["key"])

    op.add_column("transactions", sa.Column("id_token_key", sa.String(length=1024), nullable=True))
    transactions = sa.table(
        "transactions",
        sa.column("id", sa.BigInteger),
        sa.column("id_token", sa.String),
        sa.column("id_token_key", sa.String),
        sa.column("stopped_at", sa.DateTime),
    )
    open_rows = connection.execute(
        sa.select(transactions.c.id, transactions.c.id_token).where(
            transactions.c.stopped_at.is_(None), transactions.c.id_token.is_not(None)
        )
    ).all()
    for row in open_rows:
        connection.execute(transactions.update().where(transactions.c.id == row.id).values(id_token_key=_key(row.id_token)))
    op.create_index("ix_transactions_id_token_key", "transactions", ["id_token_key", "stopped_at"])


def downgrade() -> None:
    op.drop_index("ix_transactions_id_token_key", table_name="transactions")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("id_token_key")
    with op.batch_alter_table("id_tokens") as batch:
        batch.drop_constraint("uq_id_tokens_key", type_="unique")
        batch.drop_column("key")
