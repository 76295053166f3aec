"""Device model storage: components, variables and attributes; 1.6 configuration keys move into it

Revision ID: 0006
Revises: 0005

``configuration_keys`` (1.6 key, value, readonly) becomes rows of ``device_model_variables`` under
the component ``OCPP16Configuration``, attribute Actual, mutability ReadOnly or ReadWrite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

V16_COMPONENT = "OCPP16Configuration"


def upgrade() -> None:
    op.create_table(
        "device_model_variables",
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("component", sa.String(length=50), nullable=False),
        sa.Column("component_instance", sa.String(length=50), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("variable", sa.String(length=50), nullable=False),
        sa.Column("variable_instance", sa.String(length=50), nullable=False),
        sa.Column("attribute_type", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("mutability", sa.String(length=10), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "station_id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
        ),
    )
    op.execute(
        "INSERT INTO device_model_variables (station_id, component, component_instance, evse_id, connector_id, "
        "variable, variable_instance, attribute_type, value, mutability, updated_at) "
        f"SELECT station_id, '{V16_COMPONENT}', '', 0, 0, key, '', 'Actual', value, "
        "CASE WHEN readonly THEN 'ReadOnly' ELSE 'ReadWrite' END, updated_at FROM configuration_keys"
    )
    op.drop_table("configuration_keys")


def downgrade() -> None:
    op.create_table(
        "configuration_keys",
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("readonly", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "key"),
    )
    op.execute(
        "INSERT INTO configuration_keys (station_id, key, value, readonly, updated_at) "
        "SELECT station_id, variable, value, mutability = 'ReadOnly', updated_at FROM device_model_variables "
        f"WHERE component = '{V16_COMPONENT}' AND attribute_type = 'Actual'"
    )
    op.drop_table("device_model_variables")
