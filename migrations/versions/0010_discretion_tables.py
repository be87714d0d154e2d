"""Edited discretion tables: immutable versions of the DMN benchmark files

Revision ID: 0010_discretion_tables
Revises: 0009_supervision_matters
Create Date: 2026-12-01 22:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_discretion_tables'
down_revision = '0009_supervision_matters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('discretion_table_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('saved_by', sa.Integer(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by'], ['users.id'], name=op.f('fk_discretion_table_versions_saved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discretion_table_versions')),
    sa.UniqueConstraint('table_name', 'version', name='uq_discretion_table_versions_table_version')
    )
    op.create_index(op.f('ix_discretion_table_versions_table_name'), 'discretion_table_versions', ['table_name'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_discretion_table_versions_table_name'), table_name='discretion_table_versions')
    op.drop_table('discretion_table_versions')
