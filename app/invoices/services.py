"""Issuing customer invoices for closed checks, and credit notes for refunds on invoiced checks.

Numbers come from `invoice_series` rows locked in the issuing transaction: the venue-wide document row first
(every issue takes it, so documents are numbered in commit order for the API's cursor), then the kind's own
row. A transaction that rolls back gives its number back with it, so the series has no gaps; two that issue
at once queue on the lock, so it has no duplicates. On SQLite the write transaction itself is exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import services as checks
from app.checks.events import CheckRefunded, CheckReopened
from app.checks.models import Refund, RefundLine, RefundStatus
from app.checks.printing import quantity_text
from app.checks.queries import check_money, settings_of
from app.house_accounts.models import CustomerAccount
from app.invoices.models import DOCUMENT_SERIES, SERIES_PREFIX, CustomerInvoice, InvoiceKind, InvoiceSeries
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, NotFound
from app.lib.events import EventBus
from app.lib.inputs import clean_text
from app.lib.sql import is_postgres
from app.orders import services as orders
from app.orders.models import Check, CheckStatus, LineState


@dataclass(frozen=True)
class Customer:
    """The company an invoice is made out to."""

    company_name: str
    company_address: str
    vat_number: str = ""


def wire(bus: EventBus) -> None:
    """Credit notes follow refunds of invoiced checks; an invoiced check is not reopened."""
    bus.subscribe(CheckRefunded, issue_credit_note_for_refund)
    bus.subscribe(CheckReopened, refuse_reopening_invoiced)


def _clean(customer: Customer) -> Customer:
    return Customer(
        company_name=clean_text(customer.company_name, label="The company name", max_length=120),
        company_address=clean_text(
            customer.company_address, label="The company address", max_length=300, multiline=True
        ),
        vat_number=clean_text(customer.vat_number, label="The VAT number", max_length=40, required=False)
        .upper()
        .replace(" ", ""),
    )


async def _take_number(session: AsyncSession, key: str) -> int:
    """The next number of a series, its row locked until this transaction ends."""
    values = {"key": key, "last_number": 0}
    if is_postgres(session):
        await session.exec(pg_insert(InvoiceSeries).values(**values).on_conflict_do_nothing())
    else:
        await session.exec(sqlite_insert(InvoiceSeries).values(**values).on_conflict_do_nothing())
    query = select(InvoiceSeries).where(InvoiceSeries.key == key).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    series = (await session.exec(query)).one()
    series.last_number += 1
    session.add(series)
    await session.flush()
    return series.last_number


async def _numbers(session: AsyncSession, kind: InvoiceKind) -> tuple[int, int]:
    sequence = await _take_number(session, DOCUMENT_SERIES)
    return sequence, await _take_number(session, kind.value)


def _rate_bp(rate: Decimal) -> int:
    return int((rate * 10000).to_integral_value())


async def invoice_for_check(session: AsyncSession, check_id: int) -> CustomerInvoice | None:
    """The invoice issued for a check, if any."""
    return (await session.exec(select(CustomerInvoice).where(CustomerInvoice.invoiced_check_id == check_id))).first()


async def customer_from_account(session: AsyncSession, check_id: int) -> tuple[Customer | None, int | None]:
    """The billing details of the house account a check was charged to (the first one), to start an invoice with."""
    money = await check_money(session, await _check(session, check_id))
    account_id = next((p.house_account_id for p in money.payments if p.house_account_id is not None), None)
    if account_id is None:
        return None, None
    account = await session.get(CustomerAccount, account_id)
    if account is None:
        return None, None
    return Customer(account.name, account.billing_address, account.vat_number), account_id


async def check_of(session: AsyncSession, check_id: int) -> Check:
    """The check an invoice is for, or a refusal."""
    return await _check(session, check_id)


async def _check(session: AsyncSession, check_id: int) -> Check:
    check = await session.get(Check, check_id)
    if check is None:
        raise NotFound(f"Check {check_id} does not exist.")
    return check


async def issue_invoice(session: AsyncSession, *, check_id: int, customer: Customer, actor_id: int) -> CustomerInvoice:
    """Issue the invoice of a closed check to a company, with the next number of the venue's invoice series."""
    customer = _clean(customer)
    check = await orders.get_check_for_update(session, check_id)
    if check.status is not CheckStatus.CLOSED:
        raise Conflict(f"Check #{check.number} is {check.status.value}; an invoice is issued once the check is closed.")
    existing = await invoice_for_check(session, check_id)
    if existing is not None:
        raise Conflict(f"Check #{check.number} already has invoice {existing.document_number}; it is issued once.")
    money = await check_money(session, check)
    settings = settings_of(session)
    lines: list[dict[str, Any]] = []
    by_id = {line.id: line for line in money.lines}
    for totals in money.totals.lines:
        line = by_id.get(totals.line_id)
        if line is None or line.state is LineState.VOIDED:
            continue
        lines.append(
            {
                "description": totals.name,
                "quantity": quantity_text(line.quantity_num, line.quantity_den),
                "unit_cents": line.unit_price_cents + line.modifiers_cents,
                "net_cents": totals.net,
                "tax_rate_bp": _rate_bp(totals.tax_rate.rate),
                "tax_cents": totals.tax,
                "total_cents": totals.total,
            }
        )
    if money.totals.service_charge:
        rate = money.totals.service_charge_tax_rate
        lines.append(
            {
                "description": "Service charge",
                "quantity": "1",
                "unit_cents": money.totals.service_charge,
                "net_cents": money.totals.service_charge,
                "tax_rate_bp": _rate_bp(rate.rate) if rate is not None else 0,
                "tax_cents": money.totals.service_charge_tax,
                "total_cents": money.totals.service_charge + money.totals.service_charge_tax,
            }
        )
    taxes = [
        {"name": t.rate.name, "rate_bp": _rate_bp(t.rate.rate), "base_cents": t.taxable_base, "tax_cents": t.tax}
        for t in money.totals.taxes
        if t.tax or t.taxable_base
    ]
    sequence, number = await _numbers(session, InvoiceKind.INVOICE)
    house_account_id = next((p.house_account_id for p in money.payments if p.house_account_id is not None), None)
    invoice = CustomerInvoice(
        kind=InvoiceKind.INVOICE,
        number=number,
        document_number=f"{SERIES_PREFIX[InvoiceKind.INVOICE]}{number:06d}",
        sequence=sequence,
        check_id=check_id,
        check_number=check.number,
        invoiced_check_id=check_id,
        house_account_id=house_account_id,
        company_name=customer.company_name,
        company_address=customer.company_address,
        vat_number=customer.vat_number,
        venue_name=settings.venue_name,
        venue_address=settings.venue_address[:300],
        venue_vat_number=settings.venue_vat_number[:40],
        currency=money.currency,
        net_cents=money.totals.total - money.totals.tax,
        tax_cents=money.totals.tax,
        total_cents=money.totals.total,
        lines=lines,
        taxes=taxes,
        issue_date=checks.business_day(settings, utcnow()),
        issued_by=actor_id,
    )
    session.add(invoice)
    await session.flush()
    await audit.record(
        session,
        "invoice.issued",
        actor_id=actor_id,
        subject=f"check:{check_id}",
        after={
            "invoice_id": invoice.id,
            "document_number": invoice.document_number,
            "company_name": invoice.company_name,
            "vat_number": invoice.vat_number,
            "total_cents": invoice.total_cents,
        },
    )
    return invoice


async def issue_credit_note_for_refund(session: AsyncSession, event: CheckRefunded) -> None:
    """A completed refund on an invoiced check: a credit note for what it gave back, referencing the invoice."""
    invoice = await invoice_for_check(session, event.check_id)
    if invoice is None:
        return
    refund = await session.get(Refund, event.refund_id)
    if refund is None or refund.status is not RefundStatus.COMPLETED:
        return
    rows = (
        await session.exec(select(RefundLine).where(RefundLine.refund_id == refund.id).order_by(col(RefundLine.id)))
    ).all()
    lines = [
        {
            "description": row.description,
            "quantity": "1",
            "unit_cents": -row.net_cents,
            "net_cents": -row.net_cents,
            "tax_rate_bp": row.tax_rate_bp or 0,
            "tax_cents": -row.tax_cents,
            "total_cents": -(row.net_cents + row.tax_cents),
        }
        for row in rows
    ]
    by_rate: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.tax_cents or row.tax_rate_bp:
            bp = row.tax_rate_bp or 0
            tax = by_rate.setdefault(bp, {"name": f"{bp / 100:g} %", "rate_bp": bp, "base_cents": 0, "tax_cents": 0})
            tax["tax_cents"] -= row.tax_cents
            if row.net_cents:
                tax["base_cents"] -= row.net_cents
    total = -refund.amount_cents
    tax_total = -sum(row.tax_cents for row in rows)
    settings = settings_of(session)
    sequence, number = await _numbers(session, InvoiceKind.CREDIT_NOTE)
    note = CustomerInvoice(
        kind=InvoiceKind.CREDIT_NOTE,
        number=number,
        document_number=f"{SERIES_PREFIX[InvoiceKind.CREDIT_NOTE]}{number:06d}",
        sequence=sequence,
        check_id=invoice.check_id,
        check_number=invoice.check_number,
        credits_invoice_id=invoice.id,
        refund_id=refund.id,
        house_account_id=invoice.house_account_id,
        company_name=invoice.company_name,
        company_address=invoice.company_address,
        vat_number=invoice.vat_number,
        venue_name=invoice.venue_name,
        venue_address=invoice.venue_address,
        venue_vat_number=invoice.venue_vat_number,
        currency=invoice.currency,
        net_cents=total - tax_total,
        tax_cents=tax_total,
        total_cents=total,
        lines=lines,
        taxes=list(by_rate.values()),
        reason=refund.reason,
        issue_date=checks.business_day(settings, utcnow()),
        issued_by=refund.refunded_by,
    )
    session.add(note)
    await session.flush()
    await audit.record(
        session,
        "invoice.credit_note_issued",
        actor_id=refund.refunded_by,
        subject=f"check:{invoice.check_id}",
        reason=refund.reason,
        after={
            "credit_note_id": note.id,
            "document_number": note.document_number,
            "credits": invoice.document_number,
            "refund_id": refund.id,
            "total_cents": note.total_cents,
        },
    )


async def refuse_reopening_invoiced(session: AsyncSession, event: CheckReopened) -> None:
    """An invoice stands as issued: an invoiced check is corrected by a refund (and its credit note), not reopened."""
    invoice = await invoice_for_check(session, event.check_id)
    if invoice is not None:
        raise Conflict(
            f"Check #{invoice.check_number} is invoiced ({invoice.document_number}); an issued invoice cannot "
            "change. Refund what was wrong instead: a credit note is issued for it. Nothing was changed."
        )
