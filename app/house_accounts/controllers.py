"""Manager pages for house accounts (charge accounts): the list, opening and changing one, its statement
(printable), payments received, closing and reopening."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from app.house_accounts import queries, services
from app.house_accounts.models import ReceiptMethod
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.lib.money import Money
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
MANAGE: Final[dict[str, Any]] = {"permission": Perm.ACCOUNTING_MANAGE, "include_in_schema": False}
FORM_POST: Final[dict[str, Any]] = {**MANAGE, "before_request": forms.drop_blanks}
"""A manager's POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
READ: Final[dict[str, Any]] = {"permission": (Perm.ACCOUNTING_MANAGE, Perm.REPORTS_VIEW), "include_in_schema": False}


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _actor(request: Req) -> int:
    viewer: Viewer = request.user
    return viewer.staff.id or 0


def _cents(raw: str, label: str, currency: str, *, zero: bool) -> int:
    raw = raw.strip()
    if not raw:
        raise InvalidInput(f"Enter {label.lower()}, like 500.00.")
    try:
        cents = Money.parse(raw, currency).cents
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}.") from None
    if cents < 0 or (cents == 0 and not zero):
        raise InvalidInput(f"{label} must be more than zero." if not zero else f"{label} cannot be negative.")
    return cents


class AccountForm(forms.Form, kw_only=True):
    """An account's details as a manager types them; the house account services trim and check each one."""

    name: str = ""
    credit_limit: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    billing_address: str = ""
    vat_number: str = ""
    note: str = ""

    def fields(self, currency: str) -> services.AccountFields:
        return services.AccountFields(
            name=self.name,
            credit_limit_cents=_cents(self.credit_limit, "The credit limit", currency, zero=True),
            contact_name=self.contact_name,
            email=self.email,
            phone=self.phone,
            billing_address=self.billing_address,
            vat_number=self.vat_number,
            note=self.note,
        )


class CloseForm(forms.Form, kw_only=True):
    """Closing an account to new charges, and why."""

    reason: str = ""


class PaymentForm(forms.Form, kw_only=True):
    """A payment the customer made on their account: the amount in the venue's currency, how, and its reference."""

    amount: str = ""
    method: str = ""
    reference: str = ""

    def amount_cents(self, currency: str) -> int:
        return _cents(self.amount, "The amount received", currency, zero=False)


def _day(raw: str | None, label: str) -> dt.date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


async def _list_page(request: Req, db: web.Db, *, flash: str = "") -> Template:
    async with db.read() as session:
        rows = await queries.accounts(session)
        total = await queries.total_balance(session)
    return web.page(
        request,
        "house_accounts/list.html",
        fragment="house_accounts/_list.html",
        accounts=rows,
        total=total,
        can_manage=request.user.can(Perm.ACCOUNTING_MANAGE),
        flash=flash,
    )


@get("/manage/house-accounts", **READ)
async def list_page(request: Req, db: web.Db) -> Template:
    """Every house account with what it owes and its limit."""
    return await _list_page(request, db)


@post("/manage/house-accounts", **FORM_POST)
async def open_account(request: Req, db: web.Db, data: Annotated[AccountForm, FORM]) -> Template:
    """Open a house account."""
    account_fields = data.fields(_settings(request).currency)
    async with db.write() as session:
        account = await services.open_account(session, account_fields, actor_id=_actor(request))
    return await _list_page(request, db, flash=f"House account {account.name} opened.")


async def _account_page(
    request: Req,
    db: web.Db,
    account_id: int,
    *,
    flash: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    printable: bool = False,
) -> Template:
    async with db.read() as session:
        statement = await queries.statement(session, account_id, start=start, end=end)
    return web.page(
        request,
        "house_accounts/statement_print.html" if printable else "house_accounts/account.html",
        fragment=None if printable else "house_accounts/_account.html",
        s=statement,
        a=statement.account,
        methods=list(ReceiptMethod),
        can_manage=request.user.can(Perm.ACCOUNTING_MANAGE),
        flash=flash,
    )


@get("/manage/house-accounts/{house_account_id:int}", **READ)
async def account_page(request: Req, db: web.Db, house_account_id: FromPath[int]) -> Template:
    """An account: its details, statement for a period, payments received and its settings."""
    start = _day(request.query_params.get("start"), "The start")
    end = _day(request.query_params.get("end"), "The end")
    return await _account_page(request, db, house_account_id, start=start, end=end)


@get("/manage/house-accounts/{house_account_id:int}/statement", **READ)
async def statement_print(request: Req, db: web.Db, house_account_id: FromPath[int]) -> Template:
    """The account's statement on one printable page."""
    start = _day(request.query_params.get("start"), "The start")
    end = _day(request.query_params.get("end"), "The end")
    return await _account_page(request, db, house_account_id, start=start, end=end, printable=True)


@post("/manage/house-accounts/{house_account_id:int}", **FORM_POST)
async def update_account(
    request: Req, db: web.Db, house_account_id: FromPath[int], data: Annotated[AccountForm, FORM]
) -> Template:
    """Change an account's details or credit limit."""
    account_fields = data.fields(_settings(request).currency)
    async with db.write() as session:
        account = await services.update_account(session, house_account_id, account_fields, actor_id=_actor(request))
    return await _account_page(request, db, house_account_id, flash=f"{account.name} saved.")


@post("/manage/house-accounts/{house_account_id:int}/close", **FORM_POST)
async def close_account(
    request: Req, db: web.Db, house_account_id: FromPath[int], data: Annotated[CloseForm, FORM]
) -> Template:
    """Stop an account taking charges."""
    async with db.write() as session:
        account = await services.close_account(session, house_account_id, actor_id=_actor(request), reason=data.reason)
    return await _account_page(request, db, house_account_id, flash=f"{account.name} is closed to new charges.")


@post("/manage/house-accounts/{house_account_id:int}/reopen", **MANAGE)
async def reopen_account(request: Req, db: web.Db, house_account_id: FromPath[int]) -> Template:
    """Let a closed account take charges again."""
    async with db.write() as session:
        account = await services.reopen_account(session, house_account_id, actor_id=_actor(request))
    return await _account_page(request, db, house_account_id, flash=f"{account.name} takes charges again.")


@post("/manage/house-accounts/{house_account_id:int}/payments", **FORM_POST)
async def receive_payment(
    request: Req, db: web.Db, house_account_id: FromPath[int], data: Annotated[PaymentForm, FORM]
) -> Template | Response[Any]:
    """Record a payment the customer made on their account."""
    settings = _settings(request)
    amount = data.amount_cents(settings.currency)
    async with db.write() as session:
        entry = await services.receive_payment(
            session,
            house_account_id,
            amount_cents=amount,
            method=data.method,
            reference=data.reference,
            actor_id=_actor(request),
        )
    received = Money(-entry.amount_cents, settings.currency).format()
    return await _account_page(request, db, house_account_id, flash=f"Payment of {received} received.")


ROUTES: Final = [
    list_page,
    open_account,
    account_page,
    statement_print,
    update_account,
    close_account,
    reopen_account,
    receive_payment,
]
