"""Pages for customer invoices: issue one for a closed check, view and print it (HTML or PDF), list them."""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.checks.queries import check_money
from app.invoices import pdf, queries, services
from app.lib import forms, web
from app.lib.manage import FORM
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
ISSUE: Final[dict[str, Any]] = {"permission": Perm.PAYMENTS_TAKE, "include_in_schema": False}
READ: Final[dict[str, Any]] = {"permission": (Perm.ACCOUNTING_MANAGE, Perm.REPORTS_VIEW), "include_in_schema": False}


def _actor(request: Req) -> int:
    viewer: Viewer = request.user
    return viewer.staff.id or 0


@get("/checks/{check_id:int}/invoice", **ISSUE)
async def invoice_form(request: Req, db: web.Db, check_id: FromPath[int]) -> Template | Redirect:
    """A closed check's invoice: shown if issued, else the form to issue it (a house account's details filled in)."""
    async with db.read() as session:
        existing = await services.invoice_for_check(session, check_id)
        if existing is not None:
            return Redirect(path=f"/invoices/{existing.id}")
        check = await services.check_of(session, check_id)
        total = (await check_money(session, check)).totals.total
        customer, _ = await services.customer_from_account(session, check_id)
    return web.page(
        request, "invoices/issue.html", fragment="invoices/_issue.html", check=check, customer=customer, total=total
    )


class CustomerForm(forms.Form, kw_only=True):
    """The invoice's customer as typed; the invoice services trim and check each field."""

    company_name: str = ""
    company_address: str = ""
    vat_number: str = ""

    def customer(self) -> services.Customer:
        return services.Customer(
            company_name=self.company_name, company_address=self.company_address, vat_number=self.vat_number
        )


@post("/checks/{check_id:int}/invoice", before_request=forms.drop_blanks, **ISSUE)
async def issue(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CustomerForm, FORM]
) -> Response[Any]:
    """Issue the check's invoice with the next number of the series, then show it."""
    async with db.write() as session:
        invoice = await services.issue_invoice(
            session, check_id=check_id, customer=data.customer(), actor_id=_actor(request)
        )
    return web.hx_redirect(request, f"/invoices/{invoice.id}")


@get("/invoices/{invoice_id:int}", **ISSUE)
async def view(request: Req, db: web.Db, invoice_id: FromPath[int]) -> Template:
    """An invoice or credit note, laid out to print."""
    async with db.read() as session:
        invoice = await queries.document(session, invoice_id)
        related = await queries.related(session, invoice)
    return Template(template_name="invoices/document.html", context={"i": invoice, "related": related})


@get("/invoices/{invoice_id:int}/pdf", **ISSUE)
async def view_pdf(db: web.Db, invoice_id: FromPath[int]) -> Response[bytes]:
    """An invoice or credit note as a PDF."""
    async with db.read() as session:
        invoice = await queries.document(session, invoice_id)
        related = await queries.related(session, invoice)
    credits = related[0].document_number if invoice.credits_invoice_id is not None and related else None
    return Response(
        content=pdf.render(invoice, credits_number=credits),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.document_number}.pdf"'},
    )


@get("/manage/invoices", **READ)
async def list_page(request: Req, db: web.Db) -> Template:
    """The latest invoices and credit notes."""
    async with db.read() as session:
        rows = await queries.recent(session)
    return web.page(request, "invoices/list.html", invoices=rows)


ROUTES: Final = [invoice_form, issue, view, view_pdf, list_page]
