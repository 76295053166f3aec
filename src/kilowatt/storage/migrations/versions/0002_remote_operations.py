"""commands, configuration, reservations, local lists, charging profiles, api keys, audit

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_api_keys_prefix'), 'api_keys', ['prefix'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('principal', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)

    op.create_table('charging_profiles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('charging_profile_id', sa.Integer(), nullable=False),
    sa.Column('stack_level', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('station_id', 'charging_profile_id', name='uq_charging_profiles_station_profile')
    )
    op.create_index(op.f('ix_charging_profiles_station_id'), 'charging_profiles', ['station_id'], unique=False)

    op.create_table('commands',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('operation', sa.String(length=48), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=True),
    sa.Column('request', sa.JSON(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('error_code', sa.String(length=48), nullable=True),
    sa.Column('error_description', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_commands_station_time', 'commands', ['station_id', 'requested_at'], unique=False)

    op.create_table('reservations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=False),
    sa.Column('id_token', sa.String(length=36), nullable=False),
    sa.Column('parent_id_token', sa.String(length=36), nullable=True),
    sa.Column('expiry_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_reservations_station_status', 'reservations', ['station_id', 'status'], unique=False)

    op.create_table('configuration_keys',
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('readonly', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'key')
    )
    op.create_table('local_auth_lists',
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id')
    )
    op.create_table('local_auth_list_entries',
    sa.Column('station_id', sa.String(length=48), nullable=False),
    sa.Column('id_token', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expiry_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parent_id_token', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['station_id'], ['local_auth_lists.station_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('station_id', 'id_token')
    )


def downgrade() -> None:
    op.drop_table('local_auth_list_entries')
    op.drop_table('local_auth_lists')
    op.drop_table('configuration_keys')
    op.drop_index('ix_reservations_station_status', table_name='reservations')

    op.drop_table('reservations')
    op.drop_index('ix_commands_station_time', table_name='commands')

    op.drop_table('commands')
    op.drop_index(op.f('ix_charging_profiles_station_id'), table_name='charging_profiles')

    op.drop_table('charging_profiles')
    op.drop_index('ix_audit_log_at', table_name='audit_log')

    op.drop_table('audit_log')
    op.drop_index(op.f('ix_api_keys_prefix'), table_name='api_keys')

    op.drop_table('api_keys')
