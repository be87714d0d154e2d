"""timers.recounted_due_at: the official last day of a limit that fired on a provisional count

Revision ID: 0013_fired_limits
Revises: 0012_supervision_scale
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_fired_limits'
down_revision = '0012_supervision_scale'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('timers', sa.Column('recounted_due_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('timers', 'recounted_due_at')  # SQLite >= 3.35 drops a column in place (the triggers stay)
