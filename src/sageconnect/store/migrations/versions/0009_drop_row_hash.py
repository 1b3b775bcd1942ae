"""drop row_hash: a sync compares staged values column by column in SQL

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("customers", "contacts", "invoices", "payments")


def upgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "row_hash")


def downgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("row_hash", sa.String(32), nullable=False, server_default=""),
        )
