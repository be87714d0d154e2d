"""Procedures: deviations from the discretion benchmarks (engine/discretion_models.py); the inspection
directory, the recorded random draws and referrals to punishment cases (engine/inspection_models.py)

Revision ID: 0003_procedures
Revises: 0002_calendar
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003_procedures'
down_revision = '0002_calendar'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('discretion_deviations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('matter_code', sa.String(length=40), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('band_low', sa.String(length=40), nullable=False),
    sa.Column('band_high', sa.String(length=40), nullable=False),
    sa.Column('fine_amount', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_discretion_deviations_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_discretion_deviations_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discretion_deviations'))
    )
    with op.batch_alter_table('discretion_deviations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discretion_deviations_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discretion_deviations_case_id'), ['case_id'], unique=False)

    op.create_table('inspection_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_inspection_subjects_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_subjects'))
    )
    with op.batch_alter_table('inspection_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_subjects_agency_id'), ['agency_id'], unique=False)

    op.create_table('inspection_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('plan_name', sa.String(length=200), nullable=False),
    sa.Column('matter_code', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=200), nullable=False),
    sa.Column('subject_pool', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('inspector_pool', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('subject_count', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_inspection_draws_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_draws'))
    )
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_draws_agency_id'), ['agency_id'], unique=False)

    op.create_table('inspection_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_case_id', sa.Integer(), nullable=False),
    sa.Column('punishment_case_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('referred_by', sa.Integer(), nullable=False),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inspection_case_id'], ['cases.id'], name=op.f('fk_inspection_referrals_inspection_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['punishment_case_id'], ['cases.id'], name=op.f('fk_inspection_referrals_punishment_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_referrals')),
    sa.UniqueConstraint('inspection_case_id', name=op.f('uq_inspection_referrals_inspection_case_id'))
    )
    with op.batch_alter_table('inspection_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_referrals_punishment_case_id'), ['punishment_case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_referrals_punishment_case_id'))
    op.drop_table('inspection_referrals')
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_draws_agency_id'))
    op.drop_table('inspection_draws')
    with op.batch_alter_table('inspection_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_subjects_agency_id'))
    op.drop_table('inspection_subjects')
    with op.batch_alter_table('discretion_deviations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discretion_deviations_case_id'))
        batch_op.drop_index(batch_op.f('ix_discretion_deviations_agency_id'))
    op.drop_table('discretion_deviations')
