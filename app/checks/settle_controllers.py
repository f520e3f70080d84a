"""The settle page: discounts, comps, the service charge, sending or voiding the unsent, printing, closing."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import adjustments, queries, receipts, services
from app.checks.controller_helpers import (
    CheckForm,
    ReasonForm,
    Req,
    UnsentForm,
    Work,
    _settings,
    _viewer,
    actor,
    command,
    command_post,
)
from app.checks.models import AttemptStatus, DeviceReceiptPrinter, RefundStatus, TenderKind
from app.checks.printing import quantity_text
from app.checks.queries import CheckMoney
from app.house_accounts import queries as house_account_queries
from app.kitchen.models import Printer
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.orders.models import CheckStatus
from app.staff.models import Staff
from app.staff.permissions import Perm


def _quick_cash(due: int) -> list[int]:
    if due <= 0:
        return []
    amounts = [due]
    for step in (500, 1000, 2000, 5000, 10000):
        rounded = -(-due // step) * step
        if rounded not in amounts:
            amounts.append(rounded)
    return amounts[:5]


async def _member_summaries(session: AsyncSession, money_of_check: CheckMoney) -> list[dict[str, Any]]:
    if len(money_of_check.family_ids) < 2:
        return []  # priced alone: no split family to show
    check = money_of_check.check
    members = await queries.family(session, check)
    if len(members) < 2:
        return []
    summaries = []
    for member in members:
        money = money_of_check if member.id == check.id else await queries.check_money(session, member)
        seats = [seat for seat in money.seats if seat is not None]
        summaries.append(
            {
                "check": member,
                "total": money.totals.total,
                "due": money.due,
                "paid": money.paid,
                "seats": seats,
                "lines": money.live_lines,
                "money": money,
            }
        )
    return summaries


async def _settle_context(
    session: AsyncSession, request: Req, check_id: int, *, money: CheckMoney | None = None
) -> dict[str, Any]:
    """The settle page's context; `money` is the check's as the request that changed it just left it, if it has it."""
    if money is not None and money.check.id == check_id:
        check = money.check
    else:
        check = await queries.load_check(session, check_id)
        money = await queries.check_money(session, check)
    viewer = _viewer(request)
    tenders = await queries.tenders(session)
    names = await queries.staff_names(
        session,
        [check.server_id, *(p.taken_by for p in money.payments), *(d.created_by for d in money.discounts)]
        + [c.created_by for c in money.comps],
    )
    history = await queries.closings(session, check.id or 0)
    printers = []
    device_printer = None
    if viewer.can(Perm.PRINTERS_MANAGE):
        printers = list(
            (
                await session.exec(select(Printer).where(col(Printer.archived_at).is_(None)).order_by(col(Printer.id)))
            ).all()
        )
        if viewer.device_id is not None:
            device_printer = await session.get(DeviceReceiptPrinter, viewer.device_id)
    last_change = max((p.change_cents for p in money.payments[-1:]), default=0)
    if check.status is CheckStatus.CLOSED and check.table_cleared_at is None:
        table_name, still_open = await queries.table_name_and_others_open(session, check)
    else:
        table_name, still_open = await queries.table_name(session, check.table_id), []
    cash_tender = next((t for t in tenders if t.kind is TenderKind.CASH), None)
    # Asked only while cash can still be taken, so the page says so before a server taps Cash.
    takes_payment = check.status is CheckStatus.OPEN and money.due > 0 and not money.pending
    cash_drawer_open = (
        await queries.cash_drawer_open(session, viewer.device_id) if cash_tender and takes_payment else None
    )
    settings = _settings(request)
    open_portion = next((p for p in money.portions if p.remaining > 0), None)
    default_amount = min(open_portion.remaining, money.due) if open_portion else max(money.due, 0)
    # Read only while a house account can be charged, so paying by card costs no extra statement.
    house_accounts = (
        await house_account_queries.chargeable(session)
        if takes_payment and any(t.kind is TenderKind.HOUSE_ACCOUNT for t in tenders)
        else []
    )
    return {
        "check": check,
        "m": money,
        "members": await _member_summaries(session, money),
        "table_name": table_name,
        "names": names,
        "tenders": tenders,
        "card_tender": next((t for t in tenders if t.kind is TenderKind.CARD), None),
        "cash_tender": cash_tender,
        "house_accounts": house_accounts,
        "no_cash_drawer": cash_drawer_open is False,
        "quick_cash": _quick_cash(default_amount),
        "default_amount": default_amount,
        "default_portion_id": open_portion.portion.id if open_portion else None,
        "tip_percents": settings.tip_percents,
        "closings": history,
        "last_change": last_change,
        "can": {perm.name.lower(): viewer.can(perm) for perm in Perm},
        "me": viewer.staff.id,
        "printers": printers,
        "device_printer": device_printer,
        "discount_reasons": adjustments.DISCOUNT_REASONS,
        "comp_reasons": adjustments.COMP_REASONS,
        "qty": quantity_text,
        "refunds_completed": [r for r in money.refunds if r.status is RefundStatus.COMPLETED],
        "is_open": check.status is CheckStatus.OPEN,
        "is_closed": check.status is CheckStatus.CLOSED,
        "needs_clearing": check.status is CheckStatus.CLOSED
        and check.table_id is not None
        and check.table_cleared_at is None
        and not still_open,
        "still_open_on_table": still_open,
        "pending_status": AttemptStatus.PENDING,
    }


async def _settle(
    request: Req,
    db: web.Db,
    check_id: int,
    *,
    flash: str = "",
    level: str = "info",
    money: CheckMoney | None = None,
) -> Template:
    async with db.read() as session:
        context = await _settle_context(session, request, check_id, money=money)
    return web.page(
        request, "checks/settle.html", fragment="checks/_settle.html", flash=flash, flash_level=level, **context
    )


@get("/checks/{check_id:int}/settle", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def settle_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The settle screen: the bill with its adjustments, the split family, payments and tenders."""
    return await _settle(request, db, check_id)


class DiscountForm(ReasonForm, kw_only=True):
    kind: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    value: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    line_id: Annotated[int, Meta(title="The item", ge=1)] | None = None


class CompForm(ReasonForm, kw_only=True):
    line_id: Annotated[int, Meta(title="The item", ge=1)] | None = None


class ReceiptForm(CheckForm, kw_only=True):
    portion_id: Annotated[int, Meta(title="The part", ge=1)] | None = None


class PrinterForm(CheckForm, kw_only=True):
    printer_id: Annotated[int, Meta(title="The printer", ge=1)]


async def _settled(
    request: Req, db: web.Db, check_id: int, data: CheckForm, work: Work, *, approve: bool = True
) -> Template:
    """Run a settle-page command once and show the settle page with what it said."""
    return await _settle(request, db, check_id, flash=await command(request, db, data, work, approve=approve))


@command_post("/checks/{check_id:int}/settle/discount", permission=Perm.ORDERS_ENTER)
async def discount(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[DiscountForm, FORM]) -> Template:
    """Discount a line or the whole check (a manager's PIN when the server may not)."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await adjustments.add_discount(
            session,
            check_id=check_id,
            actor=actor(request),
            kind=data.kind,
            value=data.value,
            reason=data.why,
            line_id=data.line_id,
            expected_version=data.version,
            approver=approver,
        )
        return "Discount given."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/discount/{discount_id:int}/remove", permission=Perm.ORDERS_ENTER)
async def discount_remove(
    request: Req, db: web.Db, check_id: FromPath[int], discount_id: FromPath[int], data: Annotated[CheckForm, FORM]
) -> Template:
    """Take a discount off."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await adjustments.remove_discount(
            session,
            check_id=check_id,
            discount_id=discount_id,
            actor=actor(request),
            expected_version=data.version,
            approver=approver,
        )
        return "Discount taken off."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/comp", permission=Perm.ORDERS_ENTER)
async def comp(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CompForm, FORM]) -> Template:
    """Comp a line or the whole check (a manager's PIN when the server may not)."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await adjustments.add_comp(
            session,
            check_id=check_id,
            actor=actor(request),
            reason=data.why,
            line_id=data.line_id,
            expected_version=data.version,
            approver=approver,
        )
        return "Comped."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/comp/{comp_id:int}/remove", permission=Perm.ORDERS_ENTER)
async def comp_remove(
    request: Req, db: web.Db, check_id: FromPath[int], comp_id: FromPath[int], data: Annotated[CheckForm, FORM]
) -> Template:
    """Put a comped line or check back on the bill."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await adjustments.remove_comp(
            session,
            check_id=check_id,
            comp_id=comp_id,
            actor=actor(request),
            expected_version=data.version,
            approver=approver,
        )
        return "Comp taken off."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/service-charge", permission=Perm.ORDERS_ENTER)
async def service_charge_waive(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[ReasonForm, FORM]
) -> Template:
    """Take the automatic service charge off (a manager's decision)."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        await adjustments.waive_service_charge(
            session,
            check_id=check_id,
            actor=actor(request),
            reason=data.why,
            expected_version=data.version,
            approver=approver,
        )
        return "Service charge taken off."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/close", permission=Perm.PAYMENTS_TAKE)
async def close(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[UnsentForm, FORM]) -> Template:
    """Close a check that owes nothing."""

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        await services.close_check(
            session,
            check_id=check_id,
            actor=actor(request),
            expected_version=data.version,
            unsent_confirmed=data.confirmed,
        )
        return "Check closed."

    return await _settled(request, db, check_id, data, work, approve=False)


@command_post("/checks/{check_id:int}/settle/send", permission=Perm.ORDERS_ENTER)
async def send_unsent(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CheckForm, FORM]) -> Template:
    """Send the items the kitchen never had before the guest pays."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        count = await services.send_unsent(
            session, check_id=check_id, actor=actor(request), expected_version=data.version, approver=approver
        )
        return f"Sent {count} item{'s' if count != 1 else ''} to the kitchen."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/void-unsent", permission=Perm.ORDERS_ENTER)
async def void_unsent(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CheckForm, FORM]) -> Template:
    """Take the items the kitchen never had off the bill before the guest pays."""

    async def work(session: AsyncSession, approver: Staff | None) -> str:
        count = await services.void_unsent(
            session, check_id=check_id, actor=actor(request), expected_version=data.version, approver=approver
        )
        return f"Voided {count} unsent item{'s' if count != 1 else ''}; the kitchen was not told."

    return await _settled(request, db, check_id, data, work)


@command_post("/checks/{check_id:int}/settle/print", permission=Perm.PAYMENTS_TAKE)
async def print_check(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CheckForm, FORM]) -> Template:
    """Print the guest check on this device's receipt printer."""
    viewer = _viewer(request)

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        await receipts.print_guest_check(session, check_id=check_id, actor=viewer.staff, device_id=viewer.device_id)
        return "Guest check sent to the printer."

    return await _settled(request, db, check_id, data, work, approve=False)


@command_post("/checks/{check_id:int}/settle/receipt", permission=Perm.PAYMENTS_TAKE)
async def print_receipt(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[ReceiptForm, FORM]
) -> Template:
    """Print the receipt (of the check, or of one part of it)."""
    viewer = _viewer(request)

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        printer = await receipts.print_receipt(
            session, check_id=check_id, actor=viewer.staff, device_id=viewer.device_id, portion_id=data.portion_id
        )
        return f"Receipt sent to {printer.name}."

    return await _settled(request, db, check_id, data, work, approve=False)


@command_post("/checks/{check_id:int}/settle/clear-table", permission=Perm.PAYMENTS_TAKE)
async def clear_table(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CheckForm, FORM]) -> Template:
    """The paid table has been bussed: it is free again."""

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        await services.clear_table(session, check_id=check_id, actor=actor(request))
        return "Table cleared: it is free again."

    return await _settled(request, db, check_id, data, work, approve=False)


@command_post("/checks/{check_id:int}/settle/printer", permission=Perm.PRINTERS_MANAGE)
async def choose_printer(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[PrinterForm, FORM]
) -> Template:
    """Choose this device's receipt printer."""
    viewer = _viewer(request)
    if viewer.device_id is None:
        raise InvalidInput("This device is not registered; log in on it again.")

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        printer = await receipts.set_receipt_printer(
            session, device_id=viewer.device_id or 0, printer_id=data.printer_id, actor=viewer.staff
        )
        return f"This device now prints receipts on {printer.name}."

    return await _settled(request, db, check_id, data, work, approve=False)
