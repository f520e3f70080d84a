"""Tables of customer invoices: the numbered series, and the invoices and credit notes issued from them.

An invoice is issued for one closed check, to a company (name, address, VAT number), and keeps a snapshot of
what it bills: lines, taxes and totals as they were. Issued documents are never changed or deleted (a flush
guard and a database trigger refuse it); a refund on an invoiced check issues a credit note that references
the invoice. Each kind has its own unbroken series per venue: the series row is locked in the transaction
that takes a number, so numbers are taken one at a time, in commit order, with no gaps and no duplicates.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Date, event
from sqlalchemy.orm import Session
from sqlmodel import JSON, Column, Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.lib.errors import Conflict


class InvoiceKind(StrEnum):
    """An invoice bills a check; a credit note gives part or all of it back."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def label(self) -> str:
        """What the document is called on paper."""
        return {"invoice": "Invoice", "credit_note": "Credit note"}[self.value]


# The series a venue numbers from: one per kind, and one for every document (the API's change cursor).
DOCUMENT_SERIES: Final = "document"
SERIES_PREFIX: Final[dict[InvoiceKind, str]] = {InvoiceKind.INVOICE: "INV-", InvoiceKind.CREDIT_NOTE: "CN-"}


class InvoiceSeries(SQLModel, table=True):
    """A numbered series and the last number it gave; locked by whoever takes the next one."""

    __tablename__ = "invoice_series"

    key: str = Field(primary_key=True, max_length=20)
    last_number: int = Field(default=0, ge=0)


class CustomerInvoice(SQLModel, table=True):
    """An issued invoice or credit note, with the company billed and a snapshot of what it bills.

    Amounts are integer cents, negative on a credit note. `lines` lists {description, quantity, unit_cents,
    net_cents, tax_rate_bp, tax_cents, total_cents}; `taxes` lists {name, rate_bp, base_cents, tax_cents}.
    `sequence` is the document's place in the venue's issue order, across kinds: the API's change cursor.
    """

    __tablename__ = "customer_invoice"
    __table_args__ = (UniqueConstraint("kind", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: InvoiceKind = Field(sa_type=str_enum(InvoiceKind))
    number: int = Field(ge=1)
    document_number: str = Field(max_length=30, unique=True)
    sequence: int = Field(ge=1, unique=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    check_number: int
    # Set on invoices only: one invoice per check.
    invoiced_check_id: int | None = Field(default=None, unique=True)
    credits_invoice_id: int | None = Field(default=None, foreign_key="customer_invoice.id", index=True)
    refund_id: int | None = Field(default=None, unique=True)
    house_account_id: int | None = Field(default=None, foreign_key="customer_account.id", index=True)
    company_name: str = Field(max_length=120)
    company_address: str = Field(max_length=300)
    vat_number: str = Field(default="", max_length=40)
    venue_name: str = Field(max_length=120)
    venue_address: str = Field(default="", max_length=300)
    venue_vat_number: str = Field(default="", max_length=40)
    currency: str = Field(max_length=3)
    net_cents: int
    tax_cents: int
    total_cents: int
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    taxes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", max_length=200)
    issue_date: dt.date = Field(sa_type=Date)
    issued_by: int = Field(foreign_key="staff.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


IMMUTABLE_TABLE: Final = "customer_invoice"


def immutability_ddl(dialect: str) -> list[str]:
    """SQL that makes issued invoices refuse UPDATE and DELETE (the migration runs the same text)."""
    table = IMMUTABLE_TABLE
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable; issue a credit note'); END"
            for action in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION invoice_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'issued invoices are immutable; issue a credit note'; END; $$ LANGUAGE plpgsql",
            f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}",
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()",
        ]
    return []


def _install_guard(target: Any, connection: Any, **_: Any) -> None:
    for statement in immutability_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


event.listen(CustomerInvoice.__table__, "after_create", _install_guard)  # type: ignore[attr-defined]


class ImmutableInvoice(Conflict):
    """Something tried to change or delete an issued invoice or credit note."""

    code = "immutable_invoice"


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_issued_invoices(session: Session, _context: Any, _instances: Any) -> None:
    # The trigger is the last word; refusing here gives the caller a message instead of a driver error.
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, CustomerInvoice) and (instance in session.deleted or session.is_modified(instance)):
            raise ImmutableInvoice("Issued invoices cannot be changed or deleted; issue a credit note instead.")
