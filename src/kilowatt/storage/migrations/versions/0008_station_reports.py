"""What stations report on their own: multi-part reports, monitoring events and monitors, display
messages, charging limits, EV charging needs and schedules, reported charging profiles, customer
information

Revision ID: 0008
Revises: 0007

- ``station_reports`` / ``station_report_parts``: a report a station sends in parts (``tbc``) for
  one requestId; each part stored once by its key, the report complete once its last part and
  every part before it arrived;
- ``monitoring_events`` (NotifyEvent, once by station, eventId and timestamp) and
  ``variable_monitors`` (NotifyMonitoringReport);
- ``display_messages`` (NotifyDisplayMessages);
- ``charging_limits`` (NotifyChargingLimit, ClearedChargingLimit), ``ev_charging_needs``,
  ``ev_charging_schedules``, ``reported_charging_profiles`` (ReportChargingProfiles);
- ``customer_information_parts`` (NotifyCustomerInformation).

Only new tables: nothing existing is copied or altered.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Children first when dropping (their foreign keys name the parents).
_TABLES = (
    "customer_information_parts",
    "reported_charging_profiles",
    "ev_charging_schedules",
    "ev_charging_needs",
    "charging_limits",
    "display_messages",
    "variable_monitors",
    "monitoring_events",
    "station_report_parts",
    "station_reports",
)


def upgrade() -> None:
    op.create_table(
        "station_reports",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        sa.Column("final_seq_no", sa.Integer(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("first_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "kind", "request_id", name="uq_station_reports_request"),
    )
    op.create_table(
        "station_report_parts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report_id", _ID, sa.ForeignKey("station_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("part_key", sa.String(length=64), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("tbc", sa.Boolean(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "part_key", name="uq_station_report_parts_key"),
    )
    op.create_table(
        "monitoring_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.BigInteger(), nullable=True),
        sa.Column("actual_value", sa.Text(), nullable=False),
        sa.Column("tech_code", sa.String(length=50), nullable=True),
        sa.Column("tech_info", sa.Text(), nullable=True),
        sa.Column("cleared", sa.Boolean(), nullable=True),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("variable_monitoring_id", sa.BigInteger(), nullable=True),
        sa.Column("event_notification_type", sa.String(length=32), nullable=False),
        sa.Column("component", sa.String(length=50), nullable=False),
        sa.Column("component_instance", sa.String(length=50), nullable=True),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("variable", sa.String(length=50), nullable=False),
        sa.Column("variable_instance", sa.String(length=50), nullable=True),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("tbc", sa.Boolean(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "event_id", "timestamp", name="uq_monitoring_events_event"),
    )
    op.create_index("ix_monitoring_events_station_time", "monitoring_events", ["station_id", "timestamp"], unique=False)
    op.create_table(
        "variable_monitors",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report_id", _ID, sa.ForeignKey("station_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("monitor_id", sa.BigInteger(), nullable=False),
        sa.Column("component", sa.String(length=50), nullable=False),
        sa.Column("component_instance", sa.String(length=50), nullable=True),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("variable", sa.String(length=50), nullable=False),
        sa.Column("variable_instance", sa.String(length=50), nullable=True),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("transaction", sa.Boolean(), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_variable_monitors_report", "variable_monitors", ["report_id"], unique=False)
    op.create_table(
        "display_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report_id", _ID, sa.ForeignKey("station_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("station_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("message_format", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("display_component", sa.String(length=50), nullable=True),
        sa.Column("display_component_instance", sa.String(length=50), nullable=True),
        sa.Column("display_evse_id", sa.Integer(), nullable=True),
        sa.Column("display_connector_id", sa.Integer(), nullable=True),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_display_messages_report", "display_messages", ["report_id"], unique=False)
    op.create_table(
        "charging_limits",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("charging_limit_source", sa.String(length=20), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column("is_grid_critical", sa.Boolean(), nullable=True),
        sa.Column("charging_schedules", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_charging_limits_station_time", "charging_limits", ["station_id", "received_at"], unique=False)
    op.create_table(
        "ev_charging_needs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("requested_energy_transfer", sa.String(length=32), nullable=False),
        sa.Column("departure_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_schedule_tuples", sa.BigInteger(), nullable=True),
        sa.Column("ac_charging_parameters", sa.JSON(), nullable=True),
        sa.Column("dc_charging_parameters", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ev_charging_needs_station_time", "ev_charging_needs", ["station_id", "received_at"], unique=False)
    op.create_table(
        "ev_charging_schedules",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=48), sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("time_base", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charging_schedule", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ev_charging_schedules_station_time", "ev_charging_schedules", ["station_id", "received_at"], unique=False)
    op.create_table(
        "reported_charging_profiles",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report_id", _ID, sa.ForeignKey("station_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("charging_limit_source", sa.String(length=20), nullable=False),
        sa.Column("charging_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("stack_level", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reported_charging_profiles_report", "reported_charging_profiles", ["report_id"], unique=False)
    op.create_table(
        "customer_information_parts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("report_id", _ID, sa.ForeignKey("station_reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_information_parts_report", "customer_information_parts", ["report_id"], unique=False)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
