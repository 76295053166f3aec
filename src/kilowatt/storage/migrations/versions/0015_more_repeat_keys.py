"""Repeat keys on DER notifications and reports, battery swaps, security events, EV charging needs and schedules

Revision ID: 0015
Revises: 0014

NotifyDERAlarm, NotifyDERStartStop, ReportDERControl, BatterySwap, SecurityEventNotification,
NotifyEVChargingNeeds and NotifyEVChargingSchedule carry no message id; a charger that lost the
CALLRESULT sends the same message again. Their rows now carry a hash of what the message says (``kilowatt/storage/repeats.py``, as ``meter_values`` and
``status_notifications`` since 0013) under a unique index, and the insert drops a repeat. Existing
rows keep a NULL key (NULLs never conflict), so the upgrade rewrites nothing. Of ``station_events``
only security events get a key (the other kinds have no timestamp to tell a repeat from a new
report of the same status), and of ``ev_charging_needs`` only 2.1's (with a timestamp).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "der_notifications",
    "der_reports",
    "battery_swaps",
    "station_events",
    "ev_charging_needs",
    "ev_charging_schedules",
)


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("repeat_key", sa.LargeBinary(length=16), nullable=True))
        op.create_index(f"ux_{table}_repeat_key", table, ["repeat_key"], unique=True)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"ux_{table}_repeat_key", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("repeat_key")
