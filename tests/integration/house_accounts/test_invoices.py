"""Customer invoices: issued for a closed check in an unbroken series (even when two are issued at once), immutable,
as HTML and PDF, a credit note for a refund, and the ERP's read of them through the API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from app.invoices import services as invoices
from app.invoices.models import CustomerInvoice, ImmutableInvoice, InvoiceKind
from app.lib.audit import AuditEntry
from app.lib.errors import Conflict
from app.staff.services import create_api_token
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, staff
from tests.integration.house_accounts.test_house_accounts import DINNER, charge, open_account

ACME = invoices.Customer("Acme Catering BV", "Keizersgracht 1\n1015 Amsterdam", "nl 0012.34.567.B01")


async def _closed_checks(manager: Any, server: Any, runtime: Any, count: int) -> tuple[list[int], int]:
    account = await open_account(
        manager, runtime, "Acme Catering BV", "5000.00", billing_address="Keizersgracht 1\n1015 Amsterdam"
    )
    ids = []
    for index in range(count):
        arranged = await ring_in(runtime, items=DINNER, table=str(5 + index))
        response = await charge(server, runtime, arranged.check_id, account.id)
        assert response.status_code == 200, response.text
        ids.append(arranged.check_id)
    return ids, account.id or 0


async def _issue(runtime: Any, check_id: int, actor_id: int) -> CustomerInvoice:
    async with runtime.db.write() as session:
        return await invoices.issue_invoice(session, check_id=check_id, customer=ACME, actor_id=actor_id)


async def _rename(runtime: Any, invoice_id: int) -> None:
    async with runtime.db.write() as session:
        row = await session.get(CustomerInvoice, invoice_id)
        assert row is not None
        row.company_name = "Someone else"
        await session.flush()


async def test_invoices_are_numbered_without_gaps_or_duplicates_even_when_issued_at_once(
    manager: Any, server: Any, runtime: Any
) -> None:
    checks, _ = await _closed_checks(manager, server, runtime, 3)
    nora = await staff(runtime, "Nora Vance")
    # A refused issue (a check still open) takes no number with it.
    still_open = await ring_in(runtime, items=DINNER, table="9")
    with pytest.raises(Conflict, match="issued once the check is closed"):
        await _issue(runtime, still_open.check_id, nora.id or 0)
    # Two issues at the same moment queue on the series' row and take consecutive numbers.
    first, second = await asyncio.gather(
        _issue(runtime, checks[0], nora.id or 0), _issue(runtime, checks[1], nora.id or 0)
    )
    # The same check twice at once: one invoice, the other refused.
    outcomes = await asyncio.gather(
        _issue(runtime, checks[2], nora.id or 0), _issue(runtime, checks[2], nora.id or 0), return_exceptions=True
    )
    issued = [o for o in outcomes if isinstance(o, CustomerInvoice)]
    refused = [o for o in outcomes if not isinstance(o, CustomerInvoice)]
    assert len(issued) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], Conflict | IntegrityError)
    numbers = sorted(i.number for i in await rows(runtime, CustomerInvoice))
    assert numbers == [1, 2, 3]
    assert sorted([first.document_number, second.document_number]) == ["INV-000001", "INV-000002"]
    assert sorted(i.sequence for i in await rows(runtime, CustomerInvoice)) == [1, 2, 3]


async def test_an_issued_invoice_prints_as_html_and_pdf_never_changes_and_a_refund_issues_its_credit_note(
    manager: Any, server: Any, runtime: Any
) -> None:
    [check_id], account_id = await _closed_checks(manager, server, runtime, 1)
    check = await check_row(runtime, check_id)
    totals = (await money(runtime, check_id)).totals

    # The form starts from the house account's billing details.
    form = await server.get(f"/checks/{check_id}/invoice")
    assert form.status_code == 200
    assert 'value="Acme Catering BV"' in form.text
    missing = await server.post(f"/checks/{check_id}/invoice", {"company_name": "", "company_address": "x"})
    assert missing.status_code == 422
    assert "The company name is required." in missing.text
    assert await rows(runtime, CustomerInvoice) == []
    issued = await server.post(
        f"/checks/{check_id}/invoice",
        {"company_name": ACME.company_name, "company_address": ACME.company_address, "vat_number": ACME.vat_number},
    )
    assert issued.status_code == 200, issued.text
    [invoice] = await rows(runtime, CustomerInvoice)
    assert issued.headers["HX-Redirect"] == f"/invoices/{invoice.id}"
    assert (invoice.document_number, invoice.vat_number) == ("INV-000001", "NL0012.34.567.B01")
    assert invoice.house_account_id == account_id
    assert invoice.total_cents == totals.total
    assert invoice.net_cents + invoice.tax_cents == invoice.total_cents
    assert sum(line["total_cents"] for line in invoice.lines) == invoice.total_cents
    again = await server.post(f"/checks/{check_id}/invoice", {"company_name": "Other", "company_address": "x"})
    assert again.status_code == 409
    assert "already has invoice INV-000001" in again.text
    assert (await server.get(f"/checks/{check_id}/invoice", follow_redirects=False)).headers["location"] == (
        f"/invoices/{invoice.id}"
    )

    page = await server.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200
    assert "INV-000001" in page.text
    assert "Acme Catering BV" in page.text
    assert "VAT NL0012.34.567.B01" in page.text
    assert "Dam 1, 1012 JS Amsterdam" in page.text
    assert "VAT NL999999999B01" in page.text
    assert f"check #{check.number}" in page.text
    pdf = await server.get(f"/invoices/{invoice.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="INV-000001.pdf"' in pdf.headers["content-disposition"]
    listing = await manager.get("/manage/invoices")
    assert "INV-000001" in listing.text
    assert (await server.get("/manage/invoices")).status_code == 403

    # Issued means immutable: the app refuses, and so does the database.
    with pytest.raises(ImmutableInvoice):
        await _rename(runtime, invoice.id or 0)
    with pytest.raises((DBAPIError, IntegrityError)):
        async with runtime.db.write() as session:
            await session.exec(
                CustomerInvoice.__table__.update()
                .values(total_cents=1)
                .where(CustomerInvoice.__table__.c.id == invoice.id)  # type: ignore[attr-defined]
            )
    # An invoiced check is corrected by a refund, not reopened.
    reopen = await post(manager, runtime, check_id, "reopen", {"reason": "Wrong table"})
    assert reopen.status_code == 409
    assert "is invoiced (INV-000001)" in reopen.text

    line = next(iter((await money(runtime, check_id)).line_totals.values()))
    refunded = await post(
        manager, runtime, check_id, "refund", {"scope": "lines", "line_ids": [str(line.line_id)], "reason": "Cold"}
    )
    assert refunded.status_code == 200, refunded.text
    async with runtime.db.read() as session:
        note = (
            await session.exec(select(CustomerInvoice).where(CustomerInvoice.kind == InvoiceKind.CREDIT_NOTE))
        ).one()
    assert (note.document_number, note.credits_invoice_id, note.reason) == ("CN-000001", invoice.id, "Cold")
    assert note.total_cents == -line.total
    assert note.net_cents + note.tax_cents == note.total_cents
    note_page = await server.get(f"/invoices/{note.id}")
    assert "Credit note" in note_page.text
    assert "Credits invoice" in note_page.text
    assert "INV-000001" in note_page.text
    assert (await server.get(f"/invoices/{note.id}/pdf")).content.startswith(b"%PDF")
    assert "CN-000001" in (await server.get(f"/invoices/{invoice.id}")).text
    actions = [e.action for e in await rows(runtime, AuditEntry) if e.action.startswith("invoice.")]
    assert actions == ["invoice.issued", "invoice.credit_note_issued"]


async def test_an_erp_reads_invoices_and_credit_notes_in_issue_order_with_a_change_cursor(
    manager: Any, server: Any, runtime: Any, live: Any
) -> None:
    checks, _ = await _closed_checks(manager, server, runtime, 2)
    nora = await staff(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        token = await create_api_token(session, name="ERP", scopes="read")
    headers = {"Authorization": f"Bearer {token}"}
    first = await _issue(runtime, checks[0], nora.id or 0)
    assert (await live.get("/api/v1/invoices")).status_code == 401
    page = (await live.get("/api/v1/invoices?limit=1", headers=headers)).json()
    assert [i["document_number"] for i in page["items"]] == ["INV-000001"]
    assert page["has_more"] is False
    cursor = page["next_cursor"]
    # Nothing new: the same cursor comes back, never null.
    assert (await live.get(f"/api/v1/invoices?after={cursor}", headers=headers)).json() == {
        "items": [],
        "next_cursor": cursor,
        "has_more": False,
    }
    await _issue(runtime, checks[1], nora.id or 0)
    line = next(iter((await money(runtime, checks[0])).line_totals.values()))
    refunded = await post(
        manager, runtime, checks[0], "refund", {"scope": "lines", "line_ids": [str(line.line_id)], "reason": "Cold"}
    )
    assert refunded.status_code == 200, refunded.text
    following = (await live.get(f"/api/v1/invoices?after={cursor}&limit=1", headers=headers)).json()
    assert [i["document_number"] for i in following["items"]] == ["INV-000002"]
    assert following["has_more"] is True
    rest = (await live.get(f"/api/v1/invoices?after={following['next_cursor']}", headers=headers)).json()
    [note] = rest["items"]
    assert (note["kind"], note["document_number"], note["credits_document_number"]) == (
        "credit_note",
        "CN-000001",
        "INV-000001",
    )
    assert note["total_cents"] == -line.total
    one = (await live.get(f"/api/v1/invoices/{first.id}", headers=headers)).json()
    assert one["company_name"] == "Acme Catering BV"
    assert one["vat_number"] == "NL0012.34.567.B01"
    assert (one["venue_vat_number"], one["venue_address"]) == ("NL999999999B01", "Dam 1\n1012 JS Amsterdam")
    assert sum(line["total_cents"] for line in one["lines"]) == one["total_cents"]
    assert (await live.get("/api/v1/invoices/999999", headers=headers)).status_code == 404
    bad = await live.get("/api/v1/invoices?after=not-a-cursor", headers=headers)
    assert bad.status_code == 400
    assert "next_cursor exactly as received" in bad.json()["message"]
