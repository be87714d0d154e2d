"""Supervision procedure: supervision matters (a case of the internal matter SUPERVISION owned by the
supervising bureau) and their own number series

Revision ID: 0009_supervision_matters
Revises: 0008_publicity_pages
Create Date: 2026-12-01 22:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_supervision_matters'
down_revision = '0008_publicity_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supervision_matters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('supervised_agency_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('subject_case_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['compliance_alerts.id'], name=op.f('fk_supervision_matters_alert_id_compliance_alerts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_supervision_matters_case_id_cases')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_supervision_matters_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_supervision_matters_opened_by_users')),
    sa.ForeignKeyConstraint(['subject_case_id'], ['cases.id'], name=op.f('fk_supervision_matters_subject_case_id_cases')),
    sa.ForeignKeyConstraint(['supervised_agency_id'], ['agencies.id'], name=op.f('fk_supervision_matters_supervised_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_matters')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_supervision_matters_alert_id')),
    sa.UniqueConstraint('case_id', name=op.f('uq_supervision_matters_case_id')),
    sa.UniqueConstraint('complaint_id', name=op.f('uq_supervision_matters_complaint_id'))
    )
    with op.batch_alter_table('supervision_matters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_matters_subject_case_id'), ['subject_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_matters_supervised_agency_id'), ['supervised_agency_id'], unique=False)

    op.create_table('supervision_sequences',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_supervision_sequences_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'year', name=op.f('pk_supervision_sequences'))
    )


def downgrade() -> None:
    op.drop_table('supervision_sequences')
    with op.batch_alter_table('supervision_matters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_matters_supervised_agency_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_matters_subject_case_id'))
    op.drop_table('supervision_matters')
