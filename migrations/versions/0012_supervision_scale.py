"""Supervision at provincial scale: per-agency counts of overdue timers, kept exact by triggers on timers

Revision ID: 0012_supervision_scale
Revises: 0011_perf
Create Date: 2026-12-01 22:40:00

`overdue_counts` holds, per agency, the timers in status `overdue` as of the last compaction;
`overdue_deltas` is append-only: a trigger on `timers` inserts -1/+1 in the same transaction as any
row change that makes a timer leave or enter status `overdue` (or move agency). So counts + deltas
equal the direct count at every committed state, whoever writes the timers (projections, the
generator, a repair by hand). engine.supervision.overdue reads and compacts them.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_supervision_scale'
down_revision = '0011_perf'
branch_labels = None
depends_on = None

POSTGRES = [
    """
CREATE OR REPLACE FUNCTION zhifa_overdue_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'overdue' THEN
        INSERT INTO overdue_deltas (agency_id, delta) VALUES (OLD.agency_id, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'overdue' THEN
        INSERT INTO overdue_deltas (agency_id, delta) VALUES (NEW.agency_id, 1);
    END IF;
    RETURN NULL;
END
$$
""",
    # The WHEN conditions are evaluated without calling the function: a projection write that does not
    # touch status `overdue` (nearly every task completion) costs a comparison, no statement.
    """CREATE TRIGGER timers_overdue_insert AFTER INSERT ON timers FOR EACH ROW
WHEN (NEW.status = 'overdue') EXECUTE FUNCTION zhifa_overdue_delta()""",
    """CREATE TRIGGER timers_overdue_update AFTER UPDATE OF status, agency_id ON timers FOR EACH ROW
WHEN ((OLD.status = 'overdue' OR NEW.status = 'overdue')
      AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.agency_id IS DISTINCT FROM NEW.agency_id))
EXECUTE FUNCTION zhifa_overdue_delta()""",
    """CREATE TRIGGER timers_overdue_delete AFTER DELETE ON timers FOR EACH ROW
WHEN (OLD.status = 'overdue') EXECUTE FUNCTION zhifa_overdue_delta()""",
]
SQLITE = [
    """CREATE TRIGGER timers_overdue_insert AFTER INSERT ON timers WHEN NEW.status = 'overdue'
BEGIN INSERT INTO overdue_deltas (agency_id, delta) VALUES (NEW.agency_id, 1); END""",
    """CREATE TRIGGER timers_overdue_update AFTER UPDATE OF status, agency_id ON timers
WHEN (OLD.status = 'overdue' OR NEW.status = 'overdue')
     AND (OLD.status IS NOT NEW.status OR OLD.agency_id IS NOT NEW.agency_id)
BEGIN
    INSERT INTO overdue_deltas (agency_id, delta) SELECT OLD.agency_id, -1 WHERE OLD.status = 'overdue';
    INSERT INTO overdue_deltas (agency_id, delta) SELECT NEW.agency_id, 1 WHERE NEW.status = 'overdue';
END""",
    """CREATE TRIGGER timers_overdue_delete AFTER DELETE ON timers WHEN OLD.status = 'overdue'
BEGIN INSERT INTO overdue_deltas (agency_id, delta) VALUES (OLD.agency_id, -1); END""",
]
TRIGGERS = ('timers_overdue_insert', 'timers_overdue_update', 'timers_overdue_delete')


def upgrade() -> None:
    op.create_table('overdue_counts',
    sa.Column('agency_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_overdue_counts'))
    )
    op.create_table('overdue_deltas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overdue_deltas'))
    )
    overdue_timers = sa.text("status = 'overdue'")
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ix_timers_overdue_page', ['agency_id', 'due_at', 'id'], unique=False,
                              postgresql_where=overdue_timers, sqlite_where=overdue_timers)
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:  # nothing may change the timers between the first count and the triggers
        op.execute("LOCK TABLE timers IN SHARE MODE")
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)
    op.execute("INSERT INTO overdue_counts (agency_id, n) "
               "SELECT agency_id, count(*) FROM timers WHERE status = 'overdue' GROUP BY agency_id")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON timers" if op.get_bind().dialect.name == 'postgresql'
                   else f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS zhifa_overdue_delta()")
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_overdue_page')
    op.drop_table('overdue_deltas')
    op.drop_table('overdue_counts')
