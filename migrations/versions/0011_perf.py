"""Performance: the workflow state as json, inline, lz4-compressed, updated HOT

Revision ID: 0011_perf
Revises: 0010_discretion_tables
Create Date: 2026-12-01 23:10:00

`ix_timers_status_due (status, due_at)` stays (this revision first dropped it): at provincial scale the
earliest waiting due instant and the sweep's due timers are one probe of it, where `ix_timers_open_due`
(ordered by due date over waiting *and* overdue timers) walks the ~200,000 overdue ones first.

Every completion reads and rewrites the case's workflow state (process_instances.state, ~5 kB of JSON). As
jsonb the server parsed it into its binary form on every write and printed it back on every read; the
application only ever reads and writes it whole, so it (and `projected`) is now json: text, checked. With the
defaults PostgreSQL compresses it with pglz and moves it out to the TOAST table: a TOAST row and index entry
written and one deleted per step. PostgreSQL only (SQLite's JSON is text already and has no such settings):
- the type json (set first: changing a column's type resets its storage);
- COMPRESSION lz4 (several times faster than pglz, both ways) where the server has it;
- STORAGE MAIN: kept in the row, compressed, unless it cannot fit;
- fillfactor 60: room on the page for the next version, so the update is a HOT update (no index entry).
"""
from alembic import op

revision = '0011_perf'
down_revision = '0010_discretion_tables'
branch_labels = None
depends_on = None

LZ4 = """
DO $$
BEGIN
    ALTER TABLE process_instances ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: the workflow state stays pglz-compressed';
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE process_instances ALTER COLUMN state TYPE json USING state::json, "
                   "ALTER COLUMN projected TYPE json USING projected::json")
        op.execute(LZ4)
        op.execute("ALTER TABLE process_instances ALTER COLUMN state SET STORAGE MAIN")
        op.execute("ALTER TABLE process_instances SET (fillfactor = 60)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE process_instances RESET (fillfactor)")
        op.execute("ALTER TABLE process_instances ALTER COLUMN state SET STORAGE EXTENDED")
        op.execute("ALTER TABLE process_instances ALTER COLUMN state SET COMPRESSION DEFAULT")
        op.execute("ALTER TABLE process_instances ALTER COLUMN state TYPE jsonb USING state::jsonb, "
                   "ALTER COLUMN projected TYPE jsonb USING projected::jsonb")
