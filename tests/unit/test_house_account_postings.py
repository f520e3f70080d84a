"""The receivable's lines split per house account, so each account's lines add up to what it owes; and the PDF of
an invoice is a PDF whatever its text holds."""

from __future__ import annotations

import datetime as dt

from app.checks.models import Payment
from app.closes.calculations import EntryLine
from app.closes.sales_postings import _by_house_account
from app.invoices import pdf
from app.invoices.models import CustomerInvoice, InvoiceKind

HOUSE, CARD = 4, 2


def _payment(tender_id: int, amount: int, tip: int = 0, account: int | None = None) -> Payment:
    return Payment(
        check_id=1,
        tender_id=tender_id,
        amount_cents=amount,
        tip_cents=tip,
        business_day=dt.date(2026, 12, 6),
        taken_by=1,
        house_account_id=account,
    )


def test_a_sale_charged_to_two_accounts_debits_the_receivable_once_per_account() -> None:
    lines = [
        EntryLine("4010", -5000, "Food", {"category": "1"}),
        EntryLine("1030", 4000, "House account", {"tender": str(HOUSE)}),
        EntryLine("1020", 1000, "Card", {"tender": str(CARD)}),
    ]
    payments = [_payment(HOUSE, 2500, 100, account=7), _payment(HOUSE, 1400, account=3), _payment(CARD, 1000)]
    split = _by_house_account(lines, payments)
    receivable = [line for line in split if line.account == "1030"]
    assert [(line.amount_cents, dict(line.dimensions)) for line in receivable] == [
        (1400, {"tender": str(HOUSE), "house_account": "3"}),
        (2600, {"tender": str(HOUSE), "house_account": "7"}),
    ]
    assert sum(line.amount_cents for line in split) == sum(line.amount_cents for line in lines) == 0
    assert [line for line in split if line.account != "1030"] == [lines[0], lines[2]]


def test_a_refund_to_a_house_account_credits_that_account_only_and_other_tenders_pass_untouched() -> None:
    lines = [EntryLine("4010", 900, "Refund: food"), EntryLine("1030", -900, "Refund", {"tender": str(HOUSE)})]
    [food, credit] = _by_house_account(lines, [_payment(HOUSE, 2500, account=7)])
    assert food == lines[0]
    assert (credit.amount_cents, credit.dimensions["house_account"]) == (-900, "7")
    assert _by_house_account(lines, [_payment(CARD, 2500)]) == lines


def test_an_invoice_pdf_starts_with_the_pdf_header_even_with_text_outside_latin_1() -> None:
    invoice = CustomerInvoice(
        kind=InvoiceKind.INVOICE,
        number=1,
        document_number="INV-000001",
        sequence=1,
        check_id=1,
        check_number=12,
        company_name="Łódź Ristorante Société \u2013 €",
        company_address="Rue 1\n75001 Paris",
        vat_number="FR12345678901",
        venue_name="Brigade Bistro",
        currency="EUR",
        net_cents=1000,
        tax_cents=90,
        total_cents=1090,
        lines=[
            {
                "description": "Crème brûlée",
                "quantity": "1",
                "unit_cents": 1000,
                "net_cents": 1000,
                "tax_rate_bp": 900,
                "tax_cents": 90,
                "total_cents": 1090,
            }
        ],
        taxes=[{"name": "9 %", "rate_bp": 900, "base_cents": 1000, "tax_cents": 90}],
        issue_date=dt.date(2026, 12, 6),
        issued_by=1,
    )
    rendered = pdf.render(invoice)
    assert rendered.startswith(b"%PDF-")
    assert rendered.rstrip().endswith(b"%%EOF")
