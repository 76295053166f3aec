"""OCPP 2.0.1 in the shared domain: version pin, connector status and charging state, transaction
and meter value fields

Revision ID: 0007
Revises: 0006

- ``stations.pinned_ocpp_version``: an operator may pin a station to one OCPP version.
- ``connectors.connector_status`` / ``charging_state``: the version-neutral status (2.0.1's
  ConnectorStatusEnum and the transaction's ChargingStateEnum); ``status`` stays the word the
  station sent. Existing 1.6 rows are mapped as the 1.6 edge maps new ones (docs/architecture.md).
- ``transactions``: what a 2.0.1 TransactionEvent tells beyond 1.6 (charging state, the last
  trigger reason, remoteStartId, phases used, cable maximum current, the id token's type, whether
  any event was sent offline).
- ``meter_values``: the unit multiplier and the signed meter value of a 2.0.1 sampled value.
- ``device_model_variables``: persistent, constant and the variable's characteristics (NotifyReport).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 1.6 ChargePointStatus -> (2.0.1 ConnectorStatus, ChargingState); kept in step with ocpp/v16/handlers.py.
_V16_STATUS = {
    "Available": ("Available", None),
    "Preparing": ("Occupied", "EVConnected"),
    "Charging": ("Occupied", "Charging"),
    "SuspendedEV": ("Occupied", "SuspendedEV"),
    "SuspendedEVSE": ("Occupied", "SuspendedEVSE"),
    "Finishing": ("Occupied", "EVConnected"),
    "Reserved": ("Reserved", None),
    "Unavailable": ("Unavailable", None),
    "Faulted": ("Faulted", None),
}


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: SQLite would drop the old table, and ON DELETE CASCADE
    # would take the rows that reference it (see 0005).
    op.add_column("stations", sa.Column("pinned_ocpp_version", sa.String(length=16), nullable=True))
    op.add_column("connectors", sa.Column("connector_status", sa.String(length=16), nullable=True))
    op.add_column("connectors", sa.Column("charging_state", sa.String(length=16), nullable=True))
    for status, (connector_status, charging_state) in _V16_STATUS.items():
        op.execute(
            sa.text("UPDATE connectors SET connector_status = :c, charging_state = :s WHERE status = :status").bindparams(
                c=connector_status, s=charging_state, status=status
            )
        )
    op.add_column("transactions", sa.Column("charging_state", sa.String(length=16), nullable=True))
    op.add_column("transactions", sa.Column("trigger_reason", sa.String(length=32), nullable=True))
    op.add_column("transactions", sa.Column("remote_start_id", sa.Integer(), nullable=True))
    op.add_column("transactions", sa.Column("number_of_phases_used", sa.Integer(), nullable=True))
    op.add_column("transactions", sa.Column("cable_max_current_a", sa.Integer(), nullable=True))
    op.add_column("transactions", sa.Column("id_token_type", sa.String(length=20), nullable=True))
    op.add_column("transactions", sa.Column("offline", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_transactions_remote_start", "transactions", ["station_id", "remote_start_id"])
    op.add_column("meter_values", sa.Column("unit_multiplier", sa.Integer(), nullable=True))
    op.add_column("meter_values", sa.Column("signed_meter_value", sa.JSON(), nullable=True))
    op.add_column("device_model_variables", sa.Column("persistent", sa.Boolean(), nullable=True))
    op.add_column("device_model_variables", sa.Column("constant", sa.Boolean(), nullable=True))
    op.add_column("device_model_variables", sa.Column("characteristics", sa.JSON(), nullable=True))


def downgrade() -> None:
    for column in ("characteristics", "constant", "persistent"):
        op.drop_column("device_model_variables", column)
    # Plain DROP COLUMN (SQLite 3.35+), not a batch copy, for the reason given in upgrade().
    op.drop_column("meter_values", "signed_meter_value")
    op.drop_column("meter_values", "unit_multiplier")
    op.drop_index("ix_transactions_remote_start", "transactions")
    for column in (
        "offline",
        "id_token_type",
        "cable_max_current_a",
        "number_of_phases_used",
        "remote_start_id",
        "trigger_reason",
        "charging_state",
    ):
        op.drop_column("transactions", column)
    op.drop_column("connectors", "charging_state")
    op.drop_column("connectors", "connector_status")
    op.drop_column("stations", "pinned_ocpp_version")
