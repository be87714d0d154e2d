"""Supervision: timer firings with lateness, timer incidents, compliance alerts, case review samples

Revision ID: 0007_supervision
Revises: 0006_evidence
Create Date: 2026-12-01 19:49:43.772260
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007_supervision'
down_revision = '0006_evidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compliance_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('escalated_to', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_compliance_alerts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_compliance_alerts_case_id_cases')),
    sa.ForeignKeyConstraint(['escalated_to'], ['agencies.id'], name=op.f('fk_compliance_alerts_escalated_to_agencies')),
    sa.ForeignKeyConstraint(['handled_by'], ['users.id'], name=op.f('fk_compliance_alerts_handled_by_users')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_compliance_alerts_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_alerts')),
    sa.UniqueConstraint('rule', 'case_id', 'subject', name='uq_compliance_alerts_rule_case_subject')
    )
    with op.batch_alter_table('compliance_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_alerts_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_alerts_case_id'), ['case_id'], unique=False)

    op.create_table('timer_firings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timer_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lateness_ms', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_timer_firings_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_timer_firings_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timer_firings')),
    sa.UniqueConstraint('timer_id', name=op.f('uq_timer_firings_timer_id'))
    )
    with op.batch_alter_table('timer_firings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_firings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_firings_fired_at'), ['fired_at'], unique=False)

    op.create_table('timer_incidents',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_timer_incidents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_timer_incidents_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_timer_incidents'))
    )
    with op.batch_alter_table('timer_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_incidents_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_incidents_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('review_checklists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_review_checklists_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_checklists'))
    )
    op.create_table('review_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('per_agency', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_review_samples_agency_id_agencies')),
    sa.ForeignKeyConstraint(['checklist_id'], ['review_checklists.id'], name=op.f('fk_review_samples_checklist_id_review_checklists')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_review_samples_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_samples'))
    )
    with op.batch_alter_table('review_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_samples_agency_id'), ['agency_id'], unique=False)

    op.create_table('review_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('scores', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_review_cases_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_review_cases_case_id_cases')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_cases_reviewer_id_users')),
    sa.ForeignKeyConstraint(['sample_id'], ['review_samples.id'], name=op.f('fk_review_cases_sample_id_review_samples')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_cases')),
    sa.UniqueConstraint('sample_id', 'case_id', name='uq_review_cases_sample_case')
    )
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_cases_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_cases_sample_id'), ['sample_id'], unique=False)

    open_timers = sa.text("status IN ('waiting', 'overdue')")
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ix_timers_open_due', ['due_at', 'agency_id', 'status'], unique=False,
                              postgresql_where=open_timers, sqlite_where=open_timers)


def downgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_cases_sample_id'))
        batch_op.drop_index(batch_op.f('ix_review_cases_case_id'))

    op.drop_table('review_cases')
    with op.batch_alter_table('review_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_samples_agency_id'))

    op.drop_table('review_samples')
    op.drop_table('review_checklists')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_open_due')

    with op.batch_alter_table('timer_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_incidents_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_timer_incidents_agency_id'))

    op.drop_table('timer_incidents')
    with op.batch_alter_table('timer_firings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_firings_fired_at'))
        batch_op.drop_index(batch_op.f('ix_timer_firings_case_id'))

    op.drop_table('timer_firings')
    with op.batch_alter_table('compliance_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_alerts_case_id'))
        batch_op.drop_index('ix_compliance_alerts_agency_status')

    op.drop_table('compliance_alerts')
