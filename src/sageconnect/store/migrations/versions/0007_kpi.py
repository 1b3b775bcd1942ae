"""kpi: one snapshot of the receivables KPIs per company and day; report e-mails

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "kpi_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("receivable", sa.BigInteger(), nullable=False),
        sa.Column("overdue", sa.BigInteger(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        _fk("kpi_snapshots", "company_id", "companies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_snapshots")),
        sa.UniqueConstraint(
            "company_id", "day", name=op.f("uq_kpi_snapshots_company_id")
        ),
    )
    op.create_table(
        "report_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        _fk("report_mails", "company_id", "companies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mails")),
        sa.UniqueConstraint("company_id", "slot", name=op.f("uq_report_mails_company_id")),
    )


def downgrade() -> None:
    op.drop_table("report_mails")
    op.drop_table("kpi_snapshots")
