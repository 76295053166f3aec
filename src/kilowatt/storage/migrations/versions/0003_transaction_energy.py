"""transactions.energy_wh: energy delivered, computed at stop from the register readings

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("energy_wh", sa.BigInteger(), nullable=True))
    # Transactions stopped before this revision: the plain difference is the best that is known.
    op.execute("UPDATE transactions SET energy_wh = meter_stop_wh - meter_start_wh WHERE meter_stop_wh IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("energy_wh")
