"""initial schema

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('id_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id_token', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expiry_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parent_id_token', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_token')
    )
    op.create_index(op.f('ix_id_tokens_parent_id_token'), 'id_tokens', ['parent_id_token'], unique=False)

    op.create_table('stations',
    sa.Column('id', sa.String(length=48), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('registration_status', sa.String(length=16), nullable=False),
    sa.Column('ocpp_version', sa.String(length=16), nullable=True),
    sa.Column('vendor', sa.String(length=50), nullable=True),
    sa.Column('model', sa.String(length=50), nullable=True),
    sa.Column('serial_number', sa.String(length=50), nullable=True),
    sa.Column('charge_box_serial_number', sa.String(length=50), nullable=True),
    sa.Column('firmware_version', sa.String(length=50), nullable=True),
    sa.Column('iccid', sa.String(length=20), nullable=True),
    sa.Column('imsi', sa.String(length=20), nullable=True),
    sa.Column('meter_type', sa.String(length=25), nullable=True),
    sa.Column('meter_serial_number', sa.String(length=25), nullable=True),
    sa.Column('firmware_status', sa.String(length=40), nullable=True),
    sa.Column('diagnostics_status', sa.String(length=40), nullable=True),
    sa.Column('connected', sa.Boolean(), nullable=False),
    sa.Column('node_id', sa.String(length=64), nullable=True),
    sa.Column('last_boot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('station_transaction_id', sa.String(length=36), nullable=True),
    sa.Column('id_token', sa.String(length=36), nullable=False),
    sa.Column('id_token_status', sa.String(length=16), nullable=False),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('meter_start_wh', sa.BigInteger(), nullable=False),
    sa.Column('meter_stop_wh', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stop_reason', sa.String(length=32), nullable=True),
    sa.Column('stop_id_token', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('station_id', 'evse_id', 'id_token', 'started_at', name='uq_transactions_start'),
    sa.UniqueConstraint('station_id', 'station_transaction_id', name='uq_transactions_station_tx')
    )
    op.create_index('ix_transactions_active', 'transactions', ['station_id', 'stopped_at'], unique=False)
    op.create_index('ix_transactions_id_token', 'transactions', ['id_token'], unique=False)

    op.create_table('connectors',
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('info', sa.String(length=50), nullable=True),
    sa.Column('vendor_id', sa.String(length=255), nullable=True),
    sa.Column('vendor_error_code', sa.String(length=50), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'evse_id', 'connector_id')
    )
    op.create_table('data_transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('vendor_id', sa.String(length=255), nullable=False),
    sa.Column('message_id', sa.String(length=50), nullable=True),
    sa.Column('data', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('response_data', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_data_transfers_station_id'), 'data_transfers', ['station_id'], unique=False)

    op.create_table('meter_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('value_numeric', sa.Float(), nullable=True),
    sa.Column('measurand', sa.String(length=64), nullable=False),
    sa.Column('context', sa.String(length=32), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('phase', sa.String(length=8), nullable=True),
    sa.Column('location', sa.String(length=8), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_meter_values_station', 'meter_values', ['station_id', 'timestamp'], unique=False)
    op.create_index('ix_meter_values_transaction', 'meter_values', ['transaction_id', 'timestamp'], unique=False)

    op.create_table('station_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_station_events_station_kind', 'station_events', ['station_id', 'kind', 'received_at'], unique=False)

    op.create_table('status_notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('info', sa.String(length=50), nullable=True),
    sa.Column('vendor_id', sa.String(length=255), nullable=True),
    sa.Column('vendor_error_code', sa.String(length=50), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_status_notifications_station_time', 'status_notifications', ['station_id', 'received_at'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_status_notifications_station_time', table_name='status_notifications')

    op.drop_table('status_notifications')
    op.drop_index('ix_station_events_station_kind', table_name='station_events')

    op.drop_table('station_events')
    op.drop_index('ix_meter_values_transaction', table_name='meter_values')
    op.drop_index('ix_meter_values_station', table_name='meter_values')

    op.drop_table('meter_values')
    op.drop_index(op.f('ix_data_transfers_station_id'), table_name='data_transfers')

    op.drop_table('data_transfers')
    op.drop_table('connectors')
    op.drop_index('ix_transactions_id_token', table_name='transactions')
    op.drop_index('ix_transactions_active', table_name='transactions')

    op.drop_table('transactions')
    op.drop_table('stations')
    op.drop_index(op.f('ix_id_tokens_parent_id_token'), table_name='id_tokens')

    op.drop_table('id_tokens')
