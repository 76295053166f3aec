"""OCPP 2.1 id tokens: a transaction's id token columns hold up to 255 characters

Revision ID: 0010
Revises: 0009

OCPP 2.1's IdTokenType.idToken is identifierString[255] (2.0.1: 36), and a station may start and
stop a transaction with such a token: the edge must be able to store what the schema allows.
Tokens an operator registers (id_tokens, local lists, reservations) stay at 36, the API's bound,
so a longer one is simply unknown (Invalid) when looked up. SQLite does not enforce VARCHAR
lengths, so only PostgreSQL changes (and SQLite keeps its tables, see 0005).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("id_token", "stop_id_token")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in _COLUMNS:
            op.alter_column("transactions", column, type_=sa.String(length=255), existing_type=sa.String(length=36))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in _COLUMNS:
            op.alter_column("transactions", column, type_=sa.String(length=36), existing_type=sa.String(length=255))
