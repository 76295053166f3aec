"""Tables for the domains OCPP 2.1 adds: settlements and VAT number checks, station tariffs, DER
controls / notifications / reports, periodic event streams and their data, battery swaps, priority
charging events, dynamic schedule updates

Revision ID: 0009
Revises: 0008

Every table is new (nothing to migrate); see ``kilowatt/storage/energy_models.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "settlements",
    "vat_number_validations",
    "station_tariffs",
    "der_controls",
    "der_notifications",
    "der_reports",
    "event_streams",
    "event_stream_data",
    "battery_swaps",
    "priority_charging_events",
    "dynamic_schedule_updates",
)


def upgrade() -> None:
    op.create_table(
        "settlements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("psp_ref", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_info", sa.String(length=500), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("settlement_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_id", sa.String(length=50), nullable=True),
        sa.Column("receipt_url", sa.String(length=2000), nullable=True),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("vat_company", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "psp_ref", name="uq_settlements_station_psp_ref"),
    )
    op.create_index("ix_settlements_station_transaction_id", "settlements", ["station_transaction_id"])
    op.create_table(
        "vat_number_validations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vat_number_validations_station_id", "vat_number_validations", ["station_id"])
    op.create_table(
        "station_tariffs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tariff_id", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tariff", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_station_tariffs_station_tariff", "station_tariffs", ["station_id", "tariff_id"])
    op.create_table(
        "der_controls",
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("control_id", sa.String(length=36), nullable=False),
        sa.Column("control_type", sa.String(length=32), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("setting", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "control_id"),
    )
    op.create_table(
        "der_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("control_type", sa.String(length=32), nullable=True),
        sa.Column("grid_event_fault", sa.String(length=32), nullable=True),
        sa.Column("alarm_ended", sa.Boolean(), nullable=True),
        sa.Column("control_id", sa.String(length=36), nullable=True),
        sa.Column("started", sa.Boolean(), nullable=True),
        sa.Column("superseded_ids", sa.JSON(), nullable=True),
        sa.Column("extra_info", sa.String(length=200), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_der_notifications_station_time", "der_notifications", ["station_id", "received_at"])
    op.create_table(
        "der_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("tbc", sa.Boolean(), nullable=False),
        sa.Column("controls", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_der_reports_station_request", "der_reports", ["station_id", "request_id"])
    op.create_table(
        "event_streams",
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("variable_monitoring_id", sa.Integer(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=True),
        sa.Column("values", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("station_id", "stream_id"),
    )
    op.create_table(
        "event_stream_data",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("basetime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_stream_data_stream", "event_stream_data", ["station_id", "stream_id", "basetime"])
    op.create_table(
        "battery_swaps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("id_token", sa.String(length=255), nullable=False),
        sa.Column("id_token_type", sa.String(length=20), nullable=False),
        sa.Column("batteries", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_battery_swaps_station_time", "battery_swaps", ["station_id", "received_at"])
    op.create_table(
        "priority_charging_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=False),
        sa.Column("activated", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_priority_charging_events_station_id", "priority_charging_events", ["station_id"])
    op.create_table(
        "dynamic_schedule_updates",
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("charging_profile_id", sa.Integer(), nullable=False),
        sa.Column("schedule_update", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "charging_profile_id"),
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
