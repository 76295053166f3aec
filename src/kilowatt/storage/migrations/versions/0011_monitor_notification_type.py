"""A reported monitor's eventNotificationType (OCPP 2.1)

Revision ID: 0011
Revises: 0010

OCPP 2.1's NotifyMonitoringReport requires each monitor's eventNotificationType (HardWiredMonitor,
PreconfiguredMonitor, CustomMonitor): which monitors the operator set and may clear. 2.0.1 does not
send it, so the column is nullable and older rows stay null.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("variable_monitors", sa.Column("event_notification_type", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("variable_monitors") as batch:
        batch.drop_column("event_notification_type")
