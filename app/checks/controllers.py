"""Pages and endpoints for settling checks: split, discounts and comps, pay, tip, close, print, reopen, refund."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import adjustments, attempts, guards, payments, queries, receipts, services, splits, tips
from app.checks import refunds as check_refunds
from app.checks import tenders as check_tenders
from app.checks.delivery import payment_terminal
from app.checks.models import AttemptStatus, DeviceReceiptPrinter, RefundStatus, TenderKind
from app.checks.printing import quantity_text
from app.checks.queries import CheckMoney
from app.house_accounts import queries as house_account_queries
from app.kitchen.models import Printer
from app.lib import web
from app.lib.errors import InvalidInput, PermissionDenied
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.orders import approvals
from app.orders.models import CheckStatus
from app.staff import services as staff_services
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
_PRIVATE_FIELDS = {"manager_pin"}


# ---------------------------------------------------------------------------------------------- helpers


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _version(fields: Mapping[str, Any]) -> int | None:
    raw = fields.get("version")
    if raw in (None, ""):
        return None
    return web.field_int(fields, "version", label="The check version", minimum=1)


def _optional_int(fields: Mapping[str, Any], name: str, label: str) -> int | None:
    raw = fields.get(name)
    if raw in (None, ""):
        return None
    return web.field_int(fields, name, label=label, minimum=1)


def _int_list(fields: Mapping[str, Any], name: str, label: str) -> list[int]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
    result: list[int] = []
    for value in values:
        try:
            result.append(int(str(value)))
        except ValueError:
            raise InvalidInput(f"{label} must be chosen from the list.") from None
    return result


def _reason(fields: Mapping[str, Any]) -> str:
    chosen = str(fields.get("reason") or "").strip()
    other = str(fields.get("reason_other") or "").strip()
    return other if chosen in ("", "other") else chosen


async def _approver(request: Req, db: web.Db, fields: Mapping[str, Any]) -> Staff | None:
    """The manager whose PIN was typed into this form; a wrong PIN is recorded and refused."""
    pin = str(fields.get("manager_pin") or "").strip()
    if not pin:
        return None
    settings = _settings(request)
    policy = staff_services.PinPolicy(
        throttle_after=settings.pin_throttle_after,
        lockout_after=settings.pin_lockout_after,
        window=timedelta(minutes=settings.pin_window_minutes),
        throttle_delay=timedelta(seconds=settings.pin_throttle_seconds),
    )
    async with db.write() as session:
        outcome = await approvals.identify_approver(
            session, pin=pin, device_id=_viewer(request).device_id, policy=policy
        )
    if outcome.approver_id is None:
        raise PermissionDenied(outcome.message)
    async with db.read() as session:
        return await session.get(Staff, outcome.approver_id)


async def _once(
    request: Req, db: web.Db, fields: Mapping[str, Any], work: Callable[[AsyncSession], Awaitable[str]]
) -> str:
    """Run one command once per idempotency key; a repeat gets the first answer and changes nothing."""
    key = check_key(str(fields.get("idempotency_key") or ""))
    public = {name: value for name, value in fields.items() if name not in _PRIVATE_FIELDS}

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    response = await run_once(
        db,
        key=key,
        scope=f"checks:{_viewer(request).staff.id}",
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return response.body


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


async def _split_context(session: AsyncSession, request: Req, check_id: int) -> dict[str, Any]:
    check = await queries.load_check(session, check_id)
    money = await queries.check_money(session, check)
    members = await queries.family(session, check)
    columns: list[dict[str, Any]] = []
    open_columns: list[dict[str, Any]] = []
    for member in members:
        member_money = money if member.id == check.id else await queries.check_money(session, member)
        column = {"check": member, "m": member_money}
        columns.append(column)
        if member.status is CheckStatus.OPEN:
            open_columns.append(column)
    root = await queries.root_of(session, check)
    latest = await queries.latest_split(session, root.id or 0)
    return {
        "check": check,
        "m": money,
        "columns": columns,
        "open_columns": open_columns,
        "latest_split": latest,
        "table_name": await queries.table_name(session, check.table_id),
        "qty": quantity_text,
        "max_ways": splits.MAX_WAYS,
    }


async def _split_page(request: Req, db: web.Db, check_id: int, *, flash: str = "", level: str = "info") -> Template:
    async with db.read() as session:
        context = await _split_context(session, request, check_id)
    return web.page(
        request, "checks/split.html", fragment="checks/_split.html", flash=flash, flash_level=level, **context
    )


# ---------------------------------------------------------------------------------------------- settle page


@get("/checks/{check_id:int}/settle", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def settle_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The settle screen: the bill with its adjustments, the split family, payments and tenders."""
    return await _settle(request, db, check_id)


@post("/checks/{check_id:int}/settle/discount", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def discount(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Discount a line or the whole check (a manager's PIN when the server may not)."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await adjustments.add_discount(
            session,
            check_id=check_id,
            actor=actor,
            kind=str(fields.get("kind") or ""),
            value=str(fields.get("value") or ""),
            reason=_reason(fields),
            line_id=_optional_int(fields, "line_id", "The item"),
            expected_version=_version(fields),
            approver=approver,
        )
        return "Discount given."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post(
    "/checks/{check_id:int}/settle/discount/{discount_id:int}/remove",
    permission=Perm.ORDERS_ENTER,
    include_in_schema=False,
)
async def discount_remove(request: Req, db: web.Db, check_id: FromPath[int], discount_id: FromPath[int]) -> Template:
    """Take a discount off."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await adjustments.remove_discount(
            session,
            check_id=check_id,
            discount_id=discount_id,
            actor=actor,
            expected_version=_version(fields),
            approver=approver,
        )
        return "Discount taken off."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/comp", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def comp(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Comp a line or the whole check (a manager's PIN when the server may not)."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await adjustments.add_comp(
            session,
            check_id=check_id,
            actor=actor,
            reason=_reason(fields),
            line_id=_optional_int(fields, "line_id", "The item"),
            expected_version=_version(fields),
            approver=approver,
        )
        return "Comped."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/comp/{comp_id:int}/remove", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def comp_remove(request: Req, db: web.Db, check_id: FromPath[int], comp_id: FromPath[int]) -> Template:
    """Put a comped line or check back on the bill."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await adjustments.remove_comp(
            session,
            check_id=check_id,
            comp_id=comp_id,
            actor=actor,
            expected_version=_version(fields),
            approver=approver,
        )
        return "Comp taken off."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/service-charge", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def service_charge_waive(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Take the automatic service charge off (a manager's decision)."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await adjustments.waive_service_charge(
            session,
            check_id=check_id,
            actor=actor,
            reason=_reason(fields),
            expected_version=_version(fields),
            approver=approver,
        )
        return "Service charge taken off."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/close", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def close(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Close a check that owes nothing."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await services.close_check(
            session,
            check_id=check_id,
            actor=actor,
            expected_version=_version(fields),
            unsent_confirmed=_confirmed(fields),
        )
        return "Check closed."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


def _confirmed(fields: Mapping[str, Any]) -> bool:
    """Whether the server ticked that the guest pays for items never sent to the kitchen."""
    return str(fields.get("unsent_confirmed") or "") in ("1", "on", "true")


@post("/checks/{check_id:int}/settle/send", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def send_unsent(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Send the items the kitchen never had before the guest pays."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)

    async def work(session: AsyncSession) -> str:
        count = await services.send_unsent(
            session,
            check_id=check_id,
            actor=_viewer(request).staff,
            expected_version=_version(fields),
            approver=approver,
        )
        return f"Sent {count} item{'s' if count != 1 else ''} to the kitchen."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/void-unsent", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def void_unsent(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Take the items the kitchen never had off the bill before the guest pays."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)

    async def work(session: AsyncSession) -> str:
        count = await services.void_unsent(
            session,
            check_id=check_id,
            actor=_viewer(request).staff,
            expected_version=_version(fields),
            approver=approver,
        )
        return f"Voided {count} unsent item{'s' if count != 1 else ''}; the kitchen was not told."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/print", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def print_check(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Print the guest check on this device's receipt printer."""
    fields = await web.form_data(request)
    viewer = _viewer(request)

    async def work(session: AsyncSession) -> str:
        await receipts.print_guest_check(session, check_id=check_id, actor=viewer.staff, device_id=viewer.device_id)
        return "Guest check sent to the printer."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/receipt", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def print_receipt(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Print the receipt (of the check, or of one part of it)."""
    fields = await web.form_data(request)
    viewer = _viewer(request)

    async def work(session: AsyncSession) -> str:
        printer = await receipts.print_receipt(
            session,
            check_id=check_id,
            actor=viewer.staff,
            device_id=viewer.device_id,
            portion_id=_optional_int(fields, "portion_id", "The part"),
        )
        return f"Receipt sent to {printer.name}."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/clear-table", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def clear_table(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The paid table has been bussed: it is free again."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await services.clear_table(session, check_id=check_id, actor=actor)
        return "Table cleared: it is free again."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


@post("/checks/{check_id:int}/settle/printer", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def choose_printer(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Choose this device's receipt printer."""
    fields = await web.form_data(request)
    viewer = _viewer(request)
    if viewer.device_id is None:
        raise InvalidInput("This device is not registered; log in on it again.")
    printer_id = web.field_int(fields, "printer_id", label="The printer", minimum=1)

    async def work(session: AsyncSession) -> str:
        printer = await receipts.set_receipt_printer(
            session, device_id=viewer.device_id or 0, printer_id=printer_id, actor=viewer.staff
        )
        return f"This device now prints receipts on {printer.name}."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


# ---------------------------------------------------------------------------------------------- split


@get("/checks/{check_id:int}/split", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def split_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The split screen: every check of the split side by side, with the ways to split."""
    return await _split_page(request, db, check_id)


SplitCommand = Callable[[AsyncSession, Req, Mapping[str, Any], int, Staff | None], Awaitable[str]]


def _split_route(path: str, doc: str, command: SplitCommand) -> Any:
    async def handler(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
        fields = await web.form_data(request)
        approver = await _approver(request, db, fields)

        async def work(session: AsyncSession) -> str:
            return await command(session, request, fields, check_id, approver)

        flash = await _once(request, db, fields, work)
        return await _split_page(request, db, check_id, flash=flash)

    handler.__doc__ = doc
    handler.__name__ = f"split_{path.replace('-', '_')}"
    return post(f"/checks/{{check_id:int}}/split/{path}", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)(
        handler
    )


async def _by_seat(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    checks = await splits.split_by_seat(
        session,
        check_id=check_id,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split by seat into {len(checks)} checks. Nothing was sent to the kitchen."


async def _items(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    to_check = str(fields.get("to_check_id") or "new")
    target = await splits.split_items(
        session,
        check_id=check_id,
        line_ids=_int_list(fields, "line_ids", "The items"),
        to_check_id=None if to_check == "new" else web.field_int(fields, "to_check_id", label="The check", minimum=1),
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Moved to check #{target.number}. Nothing was sent to the kitchen."


async def _share(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    check_ids = _int_list(fields, "check_ids", "The checks")
    ways = None if check_ids else web.field_int(fields, "ways", label="Ways", minimum=2, maximum=splits.MAX_WAYS)
    shares = await splits.share_item(
        session,
        check_id=check_id,
        line_id=web.field_int(fields, "line_id", label="The item", minimum=1),
        ways=ways,
        check_ids=check_ids or None,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Shared {len(shares)} ways; the shares add up exactly to the item."


async def _even(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    ways = web.field_int(fields, "ways", label="Ways", minimum=2, maximum=splits.MAX_WAYS)
    portions = await splits.split_evenly(
        session,
        check_id=check_id,
        ways=ways,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split evenly {len(portions)} ways."


async def _amounts(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    raw = fields.get("amounts")
    texts = [str(v) for v in (raw if isinstance(raw, list) else [raw])] if raw not in (None, "") else []
    texts = [t for t in texts if t.strip()]
    settings = _settings(request)
    amounts = [
        guards.parse_cents(text, label=f"Part {index}", currency=settings.currency)
        for index, text in enumerate(texts, start=1)
    ]
    portions = await splits.split_by_amounts(
        session,
        check_id=check_id,
        amounts=amounts,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split into {len(portions)} parts by amount."


async def _undo(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    split = await splits.undo_split(
        session,
        check_id=check_id,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split {split.kind.label} undone."


split_seat = _split_route("seat", "Split the check by seat.", _by_seat)
split_items = _split_route("items", "Move chosen items to a new or another check of the split.", _items)
split_share = _split_route("share", "Share one item between guests or checks.", _share)
split_even = _split_route("even", "Split what is due evenly N ways.", _even)
split_amounts = _split_route("amounts", "Split what is due into chosen amounts.", _amounts)
split_undo = _split_route("undo", "Undo the newest split while nothing is paid.", _undo)


# ---------------------------------------------------------------------------------------------- pay


@post("/checks/{check_id:int}/pay", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def pay(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Take a payment; a double tap (the same key) is one payment."""
    fields = await web.form_data(request)
    viewer = _viewer(request)
    settings = _settings(request)
    tender_id = web.field_int(fields, "tender_id", label="The tender", minimum=1)

    def cents(name: str, label: str, *, zero: bool = False) -> int | None:
        raw = str(fields.get(name) or "").strip()
        if not raw:
            return None
        return guards.parse_cents(raw, label=label, currency=settings.currency, allow_zero=zero)

    # The tender is judged by the payment, under the check's lock: cash takes what was handed over (the amount
    # field when no "tendered" came), any other tender the amount.
    request_ = payments.PaymentRequest(
        check_id=check_id,
        tender_id=tender_id,
        actor=viewer.staff,
        idempotency_key=check_key(str(fields.get("idempotency_key") or "")),
        amount_cents=cents("amount", "The amount"),
        tendered_cents=cents("tendered", "The cash handed over"),
        tip_cents=cents("tip", "The tip", zero=True) or 0,
        portion_id=_optional_int(fields, "portion_id", "The part"),
        expected_version=_version(fields),
        device_id=viewer.device_id,
        unsent_confirmed=_confirmed(fields),
        gift_card_number=str(fields.get("gift_card_number") or "") or None,
        house_account_id=_optional_int(fields, "house_account_id", "The house account"),
    )
    outcome = await payments.take_payment(db, payment_terminal(db), request_)
    level = "info" if outcome.attempt.status is AttemptStatus.APPROVED else "error"
    flash = outcome.message
    taken = outcome.payment
    if taken is not None and taken.card_last4 and outcome.money is not None:
        tender = outcome.money.tenders.get(taken.tender_id)
        if tender is not None and tender.kind is TenderKind.GIFT_CARD:
            async with db.read() as session:
                flash = " ".join([flash, *await queries.payment_notes(session, taken)])
    return await _settle(request, db, check_id, flash=flash, level=level, money=outcome.money)


@post(
    "/checks/{check_id:int}/pay/attempts/{attempt_id:int}/resolve",
    permission=Perm.PAYMENTS_TAKE,
    include_in_schema=False,
)
async def resolve(request: Req, db: web.Db, check_id: FromPath[int], attempt_id: FromPath[int]) -> Template:
    """Ask the terminal what became of a payment that got no answer."""
    outcome = await attempts.resolve_attempt(db, payment_terminal(db), attempt_id)
    if outcome.attempt.check_id != check_id:
        raise InvalidInput("That payment belongs to another check.")
    message = outcome.message
    if outcome.attempt.status is AttemptStatus.PENDING:
        message = "The terminal still does not answer; nothing was charged twice. Try again in a moment."
    level = "info" if outcome.attempt.status is AttemptStatus.APPROVED else "error"
    return await _settle(request, db, check_id, flash=message, level=level)


@post("/checks/{check_id:int}/pay/{payment_id:int}/tip", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def tip_adjust(request: Req, db: web.Db, check_id: FromPath[int], payment_id: FromPath[int]) -> Template:
    """Change the tip of a card payment before the business day closes."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    settings = _settings(request)
    tip = guards.parse_cents(str(fields.get("tip") or ""), label="The tip", currency=settings.currency, allow_zero=True)
    async with db.read() as session:
        check = await queries.load_check(session, check_id)
        money = await queries.check_money(session, check)
    if not any(p.id == payment_id for p in money.payments):
        raise InvalidInput("That payment is not on this check; reload the page.")
    await tips.adjust_tip(
        db, payment_terminal(db), payment_id=payment_id, tip_cents=tip, actor=_viewer(request).staff, approver=approver
    )
    return await _settle(request, db, check_id, flash="Tip changed.")


# ---------------------------------------------------------------------------------------------- reopen, refund


@post("/checks/{check_id:int}/reopen", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def reopen(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Reopen a closed check with a manager; the closing is reversed, not edited."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        await check_refunds.reopen_check(
            session,
            check_id=check_id,
            actor=actor,
            reason=_reason(fields),
            expected_version=_version(fields),
            approver=approver,
        )
        return "Check reopened."

    return await _settle(request, db, check_id, flash=await _once(request, db, fields, work))


async def _refund_context(session: AsyncSession, request: Req, check_id: int) -> dict[str, Any]:
    context = await _settle_context(session, request, check_id)
    money: CheckMoney = context["m"]
    refunded = await queries.refund_lines(
        session, [r.id or 0 for r in money.refunds if r.status is not RefundStatus.FAILED]
    )
    context["refunded_line_ids"] = {line.line_id for line in refunded if line.line_id is not None}
    return context


@get("/checks/{check_id:int}/refund", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def refund_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The refund form: the whole check, or chosen items back to one payment."""
    async with db.read() as session:
        context = await _refund_context(session, request, check_id)
    return web.page(request, "checks/refund.html", fragment="checks/_refund.html", flash="", **context)


@post("/checks/{check_id:int}/refund", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def refund(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Refund the whole check or chosen items, with a manager; card refunds go through the terminal."""
    fields = await web.form_data(request)
    approver = await _approver(request, db, fields)
    viewer = _viewer(request)
    refunds = await check_refunds.refund(
        db,
        payment_terminal(db),
        check_refunds.RefundRequest(
            check_id=check_id,
            actor=viewer.staff,
            reason=_reason(fields),
            idempotency_key=check_key(str(fields.get("idempotency_key") or "")),
            full=str(fields.get("scope") or "") == "full",
            line_ids=tuple(_int_list(fields, "line_ids", "The items")),
            payment_id=_optional_int(fields, "payment_id", "The payment"),
            approver=approver,
            device_id=viewer.device_id,
        ),
    )
    done = sum(r.amount_cents + r.tip_cents for r in refunds if r.status is RefundStatus.COMPLETED)
    failed = [r for r in refunds if r.status is not RefundStatus.COMPLETED]
    message = f"Refunded {web.money(done)}."
    if failed:
        message += " A card refund did not go through; see the refunds below."
    async with db.read() as session:
        context = await _refund_context(session, request, check_id)
    return web.page(
        request,
        "checks/refund.html",
        fragment="checks/_refund.html",
        flash=message,
        flash_level="error" if failed else "info",
        **context,
    )


# ---------------------------------------------------------------------------------------------- tenders


@get("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tenders_page(request: Req, db: web.Db) -> Template:
    """Tenders and the ledger accounts their money goes to."""
    async with db.read() as session:
        rows = await queries.tenders(session, include_archived=True)
    return web.page(
        request, "checks/tenders.html", fragment="checks/_tenders.html", tenders=rows, kinds=list(TenderKind), flash=""
    )


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    return str(fields.get(name) or "") in ("1", "on", "true", "yes")


@post("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tender_save(request: Req, db: web.Db) -> Template:
    """Add a tender, or change one."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        tender = await check_tenders.save_tender(
            session,
            actor=actor,
            tender_id=_optional_int(fields, "tender_id", "The tender"),
            name=str(fields.get("name") or ""),
            kind=str(fields.get("kind") or ""),
            ledger_account_code=str(fields.get("ledger_account_code") or ""),
            allows_tip=_flag(fields, "allows_tip"),
            opens_drawer=_flag(fields, "opens_drawer"),
            uses_terminal=_flag(fields, "uses_terminal"),
            sort_order=web.field_int(fields, "sort_order", label="The position", minimum=0, maximum=999, default=0),
        )
        return f"{tender.name} saved."

    flash = await _once(request, db, fields, work)
    async with db.read() as session:
        rows = await queries.tenders(session, include_archived=True)
    return web.page(
        request,
        "checks/tenders.html",
        fragment="checks/_tenders.html",
        tenders=rows,
        kinds=list(TenderKind),
        flash=flash,
    )


@post("/manage/tenders/{tender_id:int}/archive", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tender_archive(request: Req, db: web.Db, tender_id: FromPath[int]) -> Template:
    """Stop offering a tender."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        tender = await check_tenders.archive_tender(session, tender_id=tender_id, actor=actor)
        return f"{tender.name} is no longer offered."

    flash = await _once(request, db, fields, work)
    async with db.read() as session:
        rows = await queries.tenders(session, include_archived=True)
    return web.page(
        request,
        "checks/tenders.html",
        fragment="checks/_tenders.html",
        tenders=rows,
        kinds=list(TenderKind),
        flash=flash,
    )


ROUTES: list[Any] = [
    settle_page,
    discount,
    discount_remove,
    comp,
    comp_remove,
    service_charge_waive,
    close,
    send_unsent,
    void_unsent,
    print_check,
    print_receipt,
    clear_table,
    choose_printer,
    split_page,
    split_seat,
    split_items,
    split_share,
    split_even,
    split_amounts,
    split_undo,
    pay,
    resolve,
    tip_adjust,
    reopen,
    refund_page,
    refund,
    tenders_page,
    tender_save,
    tender_archive,
]
