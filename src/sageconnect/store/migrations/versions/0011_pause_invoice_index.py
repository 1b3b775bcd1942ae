"""pauses by invoice: a partial index, of the pauses of an invoice

Matching reads, for each open debit of the customers it matches again, whether
a dispute pauses it: a look-up of pauses by invoice. Without an index SQLite
scanned every pause of the store for each open invoice
(tests/store/test_query_plans.py). Indexed where an invoice is set, the index
holds only invoice pauses (disputes); customer-wide ones stay out.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NAME = "ix_pauses_invoice_id"
HAS_INVOICE = sa.text("invoice_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        NAME,
        "pauses",
        ["invoice_id"],
        sqlite_where=HAS_INVOICE,
        postgresql_where=HAS_INVOICE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="pauses")
