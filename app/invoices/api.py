"""The ERP's read of invoices and credit notes under /api/v1/invoices, followed by an opaque change cursor.

Documents are numbered in commit order (every issue locks the venue's document series), and an issued document
never changes, so following `after=next_cursor` from the start reads every invoice and credit note exactly once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Final

import msgspec
from litestar import get
from litestar.params import PathParameter, QueryParameter

from app.api.controllers import PREFIX, READ, Limit
from app.invoices import queries
from app.invoices.models import CustomerInvoice
from app.lib import web
from app.lib.errors import DomainError

_CURSOR_PREFIX: Final = "inv1:"
CURSOR_HELP: Final = (
    "An opaque change cursor: pass the `next_cursor` of the page before to get the documents issued after it. "
    "Documents are numbered in the order they were committed and never change, so following it from the start "
    "reads every invoice and credit note exactly once. Leave it out to start at the beginning."
)
AfterCursor = Annotated[str | None, QueryParameter(max_length=60, description=CURSOR_HELP)]
InvoicePath = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class BadCursor(DomainError):
    """A cursor the API did not give: a 400 that says what to send instead."""

    status_code = 400
    code = "bad_query"


class InvoiceLineOut(msgspec.Struct):
    """A line as billed: net, tax rate in basis points, tax and total in cents (negative on a credit note)."""

    description: str
    quantity: str
    unit_cents: int
    net_cents: int
    tax_rate_bp: int
    tax_cents: int
    total_cents: int


class InvoiceTaxOut(msgspec.Struct):
    """Tax by rate."""

    rate_bp: int
    base_cents: int
    tax_cents: int


class InvoiceOut(msgspec.Struct):
    """An issued invoice or credit note; a credit note's amounts are negative and name the invoice it credits."""

    id: int
    kind: str
    document_number: str
    number: int
    issue_date: dt.date
    issued_at: dt.datetime
    check_id: int
    check_number: int
    credits_invoice_id: int | None
    credits_document_number: str | None
    refund_id: int | None
    house_account_id: int | None
    company_name: str
    company_address: str
    vat_number: str
    venue_name: str
    venue_address: str
    venue_vat_number: str
    currency: str
    net_cents: int
    tax_cents: int
    total_cents: int
    lines: list[InvoiceLineOut]
    taxes: list[InvoiceTaxOut]
    cursor: str


class InvoicePage(msgspec.Struct):
    """A page of documents in issue order; ask again with `after=next_cursor` (never null)."""

    items: list[InvoiceOut]
    next_cursor: str
    has_more: bool


def encode_cursor(sequence: int) -> str:
    """The cursor after one document (opaque to clients)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{sequence}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int:
    """The place in the issue order a cursor stands for, or a refusal a client can act on."""
    if raw is None or not raw.strip():
        return 0
    text = raw.strip()
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    number = decoded.removeprefix(_CURSOR_PREFIX)
    if not decoded.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise BadCursor(
            "This cursor is not one the API gave: pass a next_cursor exactly as received, or leave it out to "
            "start at the beginning."
        )
    return int(number)


def _out(invoice: CustomerInvoice, credited: dict[int, str]) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.id or 0,
        kind=invoice.kind.value,
        document_number=invoice.document_number,
        number=invoice.number,
        issue_date=invoice.issue_date,
        issued_at=invoice.issued_at,
        check_id=invoice.check_id,
        check_number=invoice.check_number,
        credits_invoice_id=invoice.credits_invoice_id,
        credits_document_number=credited.get(invoice.credits_invoice_id or 0),
        refund_id=invoice.refund_id,
        house_account_id=invoice.house_account_id,
        company_name=invoice.company_name,
        company_address=invoice.company_address,
        vat_number=invoice.vat_number,
        venue_name=invoice.venue_name,
        venue_address=invoice.venue_address,
        venue_vat_number=invoice.venue_vat_number,
        currency=invoice.currency,
        net_cents=invoice.net_cents,
        tax_cents=invoice.tax_cents,
        total_cents=invoice.total_cents,
        lines=[msgspec.convert(line, InvoiceLineOut) for line in invoice.lines],
        taxes=[
            InvoiceTaxOut(int(t["rate_bp"]), int(t.get("base_cents") or 0), int(t["tax_cents"])) for t in invoice.taxes
        ],
        cursor=encode_cursor(invoice.sequence),
    )


@get(f"{PREFIX}/invoices", **READ)
async def list_invoices(db: web.Db, after: AfterCursor = None, limit: Limit = 50) -> InvoicePage:
    """Invoices and credit notes in the order they were issued."""
    position = decode_cursor(after)
    async with db.read() as session:
        rows, more = await queries.after(session, sequence=position, limit=limit)
        credited = await queries.numbers_of(session, [r.credits_invoice_id for r in rows if r.credits_invoice_id])
    last = rows[-1].sequence if rows else position
    return InvoicePage(items=[_out(r, credited) for r in rows], next_cursor=encode_cursor(last), has_more=more)


@get(f"{PREFIX}/invoices/{{invoice_id:int}}", **READ)
async def get_invoice(db: web.Db, invoice_id: InvoicePath) -> InvoiceOut:
    """One invoice or credit note."""
    async with db.read() as session:
        invoice = await queries.document(session, invoice_id)
        credited = await queries.numbers_of(session, [invoice.credits_invoice_id] if invoice.credits_invoice_id else [])
    return _out(invoice, credited)


ROUTES: Final = [list_invoices, get_invoice]
