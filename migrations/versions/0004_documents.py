"""documents: issued documents, their content and gapless document numbers

Revision ID: 0004_documents
Revises: 0003_procedures
Create Date: 2026-12-01 19:56:19.505162
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_documents'
down_revision = '0003_procedures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_sequences',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_document_sequences_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'doc_type', 'year', name=op.f('pk_document_sequences'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('task_bpmn_id', sa.String(length=100), nullable=True),
    sa.Column('template', sa.String(length=200), nullable=False),
    sa.Column('template_sha256', sa.String(length=64), nullable=False),
    sa.Column('doc_type', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=120), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('verification_code', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('docx_sha256', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_documents_case_id_cases')),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_documents_issued_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('agency_id', 'doc_type', 'year', 'serial', name='uq_documents_agency_type_year_serial'),
    sa.UniqueConstraint('case_id', 'task_id', 'template', name='uq_documents_case_task_template'),
    sa.UniqueConstraint('verification_code', name=op.f('uq_documents_verification_code'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_case_issued', ['case_id', 'issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_number'), ['number'], unique=False)

    op.create_table('document_contents',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('docx', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_contents_document_id_documents')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_contents'))
    )


def downgrade() -> None:
    op.drop_table('document_contents')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_number'))
        batch_op.drop_index('ix_documents_case_issued')

    op.drop_table('documents')
    op.drop_table('document_sequences')
