"""Id tokens: a personal message; local list entries: the token types sent

Revision ID: 0014
Revises: 0013

OCPP 2.0.1 answers an id token with an IdTokenInfoType that may carry a personalMessage (a
MessageContentType: format, language, content) for the station to show the driver; the operator
sets it per token. A local list entry now keeps the IdTokenType types it was sent with (its own and
its group's), so a Differential update resends a token whose type changed. All columns are
nullable: existing tokens have no message, and existing list entries (no type stored) differ from
the desired list once, so the next Differential update sends them again with their real type.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID_TOKEN_COLUMNS = (
    ("personal_message_format", 8),
    ("personal_message_language", 8),
    ("personal_message_content", 512),
)
_LIST_ENTRY_COLUMNS = (("id_token_type", 20), ("parent_id_token_type", 20))


def upgrade() -> None:
    for name, length in _ID_TOKEN_COLUMNS:
        op.add_column("id_tokens", sa.Column(name, sa.String(length=length), nullable=True))
    for name, length in _LIST_ENTRY_COLUMNS:
        op.add_column("local_auth_list_entries", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_auth_list_entries") as batch:
        for name, _ in _LIST_ENTRY_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("id_tokens") as batch:
        for name, _ in _ID_TOKEN_COLUMNS:
            batch.drop_column(name)
