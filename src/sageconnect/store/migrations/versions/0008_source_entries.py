"""source entries: the digest of each ledger entry the store holds, for re-syncs

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_source_entries_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_entries")),
    )
    op.create_index(
        op.f("ix_source_entries_company_id"),
        "source_entries",
        ["company_id", "digest"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_source_entries_company_id"), table_name="source_entries")
    op.drop_table("source_entries")
