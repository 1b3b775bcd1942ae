"""allocations by credit note: a partial index, of the rows that have one

The per-customer read a send makes before each message (open items, net of
what settled them) looks allocations up by credit note. Indexed whole, the
column is NULL on every allocation but those of credit notes, and where those
are few or none the planner's statistics say the index finds most rows:
SQLite scanned the company's allocations for each customer (31 ms a customer
at 150 000 allocations; tests/store/test_query_plans.py). Indexed where a
credit note is set, the index holds only credit notes' allocations, its
statistics say so, and payments' allocations no longer maintain it.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_allocations_credit_note_id"
HAS_NOTE = sa.text("credit_note_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(NAME, table_name="allocations")
    op.create_index(
        NAME,
        "allocations",
        ["credit_note_id"],
        sqlite_where=HAS_NOTE,
        postgresql_where=HAS_NOTE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="allocations")
    op.create_index(NAME, "allocations", ["credit_note_id"])
