"""Publicity pages: decision changes that withdraw publications (D7), the public withdrawal notice, and the
shared fixed-window counters of the public rate limit

Revision ID: 0008_publicity_pages
Revises: 0007_supervision
Create Date: 2026-12-01 22:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_publicity_pages'
down_revision = '0007_supervision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('publications', sa.Column('withdrawal_notice', sa.Text(), nullable=True))
    op.create_table('decision_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=30), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('notice', sa.Text(), nullable=False),
    sa.Column('limit_amount', sa.Integer(), nullable=False),
    sa.Column('limit_unit', sa.String(length=20), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_decision_changes_case_id_cases')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_decision_changes_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_changes'))
    )
    op.create_index('ix_decision_changes_status_due', 'decision_changes', ['status', 'due_at'], unique=False)
    op.create_index(op.f('ix_decision_changes_case_id'), 'decision_changes', ['case_id'], unique=False)
    op.create_table('public_rate_windows',
    sa.Column('client_key', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('client_key', 'window_start', name=op.f('pk_public_rate_windows'))
    )


def downgrade() -> None:
    op.drop_table('public_rate_windows')
    op.drop_index(op.f('ix_decision_changes_case_id'), table_name='decision_changes')
    op.drop_index('ix_decision_changes_status_due', table_name='decision_changes')
    op.drop_table('decision_changes')
    op.drop_column('publications', 'withdrawal_notice')  # SQLite >= 3.35 drops a column in place (the FTS triggers stay)
