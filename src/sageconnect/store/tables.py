"""The canonical store's tables. Every amount is integer cents (see Cents)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.types import TypeDecorator

from sageconnect.model.money import from_cents, to_cents

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Cents(TypeDecorator[Decimal]):
    """Decimal in Python, BIGINT cents in the database: SQLite has no exact decimal."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_cents(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_cents(int(value))


def _lifecycle() -> list[Column[Any]]:
    """Which sync run first saw a row, last changed it, closed it (gone from source)."""
    return [
        Column("first_run_id", Integer, nullable=False),
        Column("changed_run_id", Integer, nullable=False),
        Column("closed_run_id", Integer, nullable=True),
    ]


companies = Table(
    "companies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("account", Text, nullable=False),
    Column("email", Text),
    Column("phone", Text),
    Column("siren", Text),
    Column("language", Text, nullable=False),
    Column("payment_terms", Text),
    Column("credit_limit", Cents),
    Column("insured_limit", Cents),
    Column("dunning_excluded", Boolean, nullable=False),
    Column("category", Text, nullable=False, server_default=""),
    Column("consumer", Boolean, nullable=False, server_default=false()),
    *_lifecycle(),
    UniqueConstraint("company_id", "code"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("email", Text),
    Column("phone", Text),
    *_lifecycle(),
    UniqueConstraint("company_id", "key"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("issued", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("due_source", String(8), nullable=False),
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("currency_amount", Cents),
    Column("journal", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("lettering", Text),
    Column("lettered_on", Date),
    *_lifecycle(),
    UniqueConstraint("company_id", "key"),
    Index(None, "customer_id", "lettering"),
    Index(None, "changed_run_id"),  # what a run changed: read after each merge
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("received", Date, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("currency_amount", Cents),
    Column("journal", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("lettering", Text),
    Column("lettered_on", Date),
    *_lifecycle(),
    UniqueConstraint("company_id", "key"),
    Index(None, "customer_id", "lettering"),
    Index(None, "changed_run_id"),  # what a run changed: read after each merge
)

_HAS_NOTE = text("credit_note_id IS NOT NULL")

allocations = Table(
    "allocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("key", Text),  # the source's key, for allocations the source states
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("payment_id", ForeignKey("payments.id"), index=True),
    Column("credit_note_id", ForeignKey("invoices.id")),
    Column("amount", Cents, nullable=False),
    Column("allocated_on", Date, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("lettering", Text),
    CheckConstraint(
        "(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_credit_side"
    ),
    CheckConstraint("amount > 0", name="positive"),
    UniqueConstraint("company_id", "key"),
    # only the allocations of credit notes (migration 0010): its statistics
    # stay those of credit notes, where most companies have few or none
    Index(None, "credit_note_id", sqlite_where=_HAS_NOTE, postgresql_where=_HAS_NOTE),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_uid", String(32), nullable=False, unique=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("source", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(32), nullable=False),
    Column("read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("closed", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("error", Text),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("company_id", ForeignKey("companies.id"), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("run_id", ForeignKey("sync_runs.id"), nullable=False),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("first_run_id", Integer, nullable=False),
    Column("last_run_id", Integer, nullable=False),
    Column("resolved_run_id", Integer),
    UniqueConstraint("company_id", "source", "line", "field", "reason"),
)


bank_lines = Table(
    "bank_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("key", String(40), nullable=False),  # the same movement, in any file
    Column("source", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("account", Text, nullable=False),
    Column("booked", Date, nullable=False),
    Column("value_date", Date),
    Column("amount", Cents, nullable=False),  # > 0 money in, < 0 money out
    Column("currency", String(3), nullable=False),
    Column("payer_name", Text, nullable=False),
    Column("payer_account", Text, nullable=False),
    Column("remittance", Text, nullable=False),
    Column("structured_ref", Text, nullable=False),
    Column("end_to_end_id", Text, nullable=False),
    Column("bank_ref", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("booked_status", String(4), nullable=False),
    Column("reversal", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # matched|partial|unmatched|ignored
    Column("reason", Text, nullable=False),
    Column("first_run_id", Integer, nullable=False),
    UniqueConstraint("company_id", "key"),
)

bank_matches = Table(
    "bank_matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("bank_line_id", ForeignKey("bank_lines.id"), nullable=False, index=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("amount", Cents, nullable=False),
    Column("method", String(16), nullable=False),
    CheckConstraint("amount > 0", name="positive"),
)

# --- dunning: pauses, and the delivery ledger (one row per message, at most once) ---

_HAS_INVOICE = text("invoice_id IS NOT NULL")

pauses = Table(
    "pauses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("invoice_id", ForeignKey("invoices.id")),  # None: the whole customer
    Column("kind", String(8), nullable=False),  # dispute | promise | hold
    Column("reason", Text, nullable=False),
    Column("amount", Cents),  # promise: the amount promised
    Column("until", Date),  # promise: the day it is due; hold: the end of it
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("origin", String(8), nullable=False),  # cli | csv | source
    Column("external_key", Text),  # a CSV file and line: read once
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", Text),
    Column("resolution", Text),  # resolved | kept | broken
    UniqueConstraint("company_id", "external_key"),
    # an open invoice's dispute is looked up by the invoice (matching reads it
    # for each open debit); only the pauses of an invoice (migration 0011)
    Index(None, "invoice_id", sqlite_where=_HAS_INVOICE, postgresql_where=_HAS_INVOICE),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("scenario", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("planned_on", Date, nullable=False),
    Column("state", String(12), nullable=False),
    Column("total", Cents, nullable=False),
    Column("payload", Text, nullable=False),  # the notice as JSON: what was said
    Column("payload_hash", String(64), nullable=False),
    Column("attempt_id", String(32)),
    Column("attempts", Integer, nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("provider_ref", Text),
    Column("outcome_detail", Text),
    Column("resolved_by", Text),
    Index(None, "company_id", "state"),
)

reminder_items = Table(
    "reminder_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reminder_id", ForeignKey("reminders.id"), nullable=False, index=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("step", Text, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("open", Cents, nullable=False),
    UniqueConstraint("invoice_id", "step", "channel"),  # each step once per invoice
)

# --- credit: insurer decisions (with history), alert states and their notices ---

covers = Table(
    "covers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("insurer", Text, nullable=False),
    Column("limit_amount", Cents, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reference", Text, nullable=False),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("origin", String(8), nullable=False),  # source | file
    Column("source_key", String(64), nullable=False),  # the same decision, read once
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "source_key"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("key", Text, nullable=False),  # kind:customer:subject
    Column("occurrence", Integer, nullable=False),  # raised again after clearing
    Column("kind", String(16), nullable=False),
    Column("customer", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("cleared_at", DateTime(timezone=True)),
    UniqueConstraint("company_id", "key", "occurrence"),
    Index(None, "company_id", "cleared_at"),
)

alert_notices = Table(
    "alert_notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("alert_id", ForeignKey("alerts.id"), nullable=False, index=True),
    Column("target", Text, nullable=False),
    Column("event", String(16), nullable=False),  # raised | escalated | cleared
    Column("level", String(16), nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("attempt_id", String(32)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("provider_ref", Text),
    Column("outcome_detail", Text),
)

# --- issue 7: the note write-back queue (one row per reminder event and kind) ---

note_queue = Table(
    "note_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("reminder_id", ForeignKey("reminders.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # note | entries
    Column("outcome", String(12), nullable=False),  # sent | failed: the event noted
    Column("marker", String(24), nullable=False),  # found by read-before-write
    Column("customer", Text, nullable=False),
    Column("target", Text, nullable=False),  # the writer: odbc | file | a plug-in
    Column("text", Text, nullable=False),  # the full history line, never cut
    Column("written_text", Text),  # what the target received (fitted to it)
    Column("state", String(12), nullable=False),  # pending | writing | written
    Column("attempts", Integer, nullable=False),
    Column("next_try", DateTime(timezone=True), nullable=False),
    Column("attempt_id", String(32)),
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("written_at", DateTime(timezone=True)),
    Column("found", Boolean, nullable=False, server_default=false()),
    Column("last_error", Text),
    UniqueConstraint("reminder_id", "kind", "outcome"),  # one note per event
    Index(None, "company_id", "state"),
)

# --- issue 8: the daemon's run history (last and next run of each job, outcome) ---

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company", String(32), nullable=False),  # the config's code
    Column("job", String(32), nullable=False),
    Column("scheduled_for", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # running | ok | failed | refused | interrupted | abandoned
    Column("outcome", String(16), nullable=False),
    Column("runner", Text, nullable=False),  # host:pid of the daemon
    Column("detail", Text),  # why it failed or was refused (scrubbed)
    Column("figures", Text),  # JSON: rows rejected, reminders sent...
    UniqueConstraint("company", "job", "scheduled_for"),  # one run per slot
    Index(None, "company", "job", "started_at"),
)

# --- issue 9: KPI history (one snapshot per company and day) and report e-mails ---

kpi_snapshots = Table(
    "kpi_snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("receivable", Cents, nullable=False),
    Column("overdue", Cents, nullable=False),
    Column("figures", Text, nullable=False),  # every KPI of the day as JSON
    Column("computed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("company_id", "day"),
)

report_mails = Table(
    "report_mails",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("slot", String(32), nullable=False),  # the scheduled local time, ISO
    Column("state", String(12), nullable=False),  # claimed|sent|failed|uncertain
    Column("attempt_id", String(32), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("detail", Text),
    UniqueConstraint("company_id", "slot"),
)

# --- issue 10: which source entries the store holds, by digest ---

source_entries = Table(
    "source_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("digest", BigInteger, nullable=False),  # the entry's bytes, salted
    Column("key", Text),  # a record the entry gave (NULL: it gave none)
    Index(None, "company_id", "digest"),
)
