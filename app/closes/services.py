"""End-of-day commands: posting mappings and exceptions, cash drawers, server checkouts, tip pools, day close.

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything. Cash that moves is posted at once (float, cash in, pay out, over/short, deposit, tips paid
out); the business day closes only when nothing is left open or owed, then its books are locked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.chart import sales_tax_code
from app.accounting.models import Account, AccountType
from app.accounting.services import PostingLine, account_by_code, is_day_locked, lock_day, next_open_day, post_entry
from app.checks import printing as check_printing
from app.checks import services as checks
from app.checks.events import CashHandled, TenderSaved
from app.checks.models import AttemptStatus, Payment, PaymentAttempt, Refund, Tender, TenderKind
from app.checks.queries import settings_of
from app.closes import calculations as calc
from app.closes import postings, queries, reports
from app.closes.models import (
    BusinessDay,
    CheckPosting,
    DayStatus,
    DrawerMovement,
    DrawerSession,
    DrawerStatus,
    ExceptionStatus,
    MappingKind,
    MovementKind,
    PoolMethod,
    PostingException,
    PostingMapping,
    ServerCheckout,
    StaffHours,
    TipPoolRule,
    TipShare,
)
from app.inventory.models import StockLocation
from app.kitchen.models import Station
from app.kitchen.printing import enqueue_print
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from app.lib.events import EventBus
from app.lib.outbox import RetryLater
from app.lib.settings import Settings
from app.menu.models import Course, MenuCategory, TaxRate
from app.orders.models import Check, CheckLine, CheckStatus, LineState
from app.staff.models import Staff
from app.staff.permissions import Perm, Role
from printers.documents import AmountLineDoc, CountedAmountDoc, TaxLineDoc, TenderTotalDoc, ZReportDoc
from printers.layouts import render_drawer_kick, render_z_report

REASON_MAX: Final = 200
MAX_CASH_CENTS: Final = 10_000_000
DRAWER_NAME_MAX: Final = 40


def _reason(text: str | None, label: str = "The reason") -> str:
    return checks.clean_reason(text, label=label)


def _require(actor: Staff, perm: Perm, doing: str) -> None:
    if not actor.can(perm):
        raise PermissionDenied(f"Your role does not allow you to {doing}. Ask a manager.")


def _cash(cents: int, label: str, *, allow_zero: bool = False) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidInput(f"{label} must be an amount in cents.")
    if cents < 0 or (cents == 0 and not allow_zero):
        raise InvalidInput(f"{label} must be more than zero." if not allow_zero else f"{label} cannot be negative.")
    if cents > MAX_CASH_CENTS:
        raise InvalidInput(f"{label} of {cents / 100:,.2f} is more than any drawer holds; check the amount.")
    return cents


async def today(session: AsyncSession) -> dt.date:
    """The business day now open: today's, or the next one after it when today is already closed."""
    settings = settings_of(session)
    return await next_open_day(session, checks.business_day(settings, utcnow()))


# ---------------------------------------------------------------------------------------------- mappings


DEMO_REVENUE: Final[dict[str, str]] = {
    "Cocktails": "4030",
    "Beer & Cider": "4030",
    "Wine": "4030",
    "Soft Drinks & Coffee": "4020",
}
TENDER_ACCOUNTS: Final[dict[TenderKind, str]] = {
    TenderKind.CASH: "1010",
    TenderKind.CARD: "1020",
    TenderKind.HOUSE_ACCOUNT: "1030",
    TenderKind.OTHER: "1040",
    TenderKind.GIFT_CARD: "2010",
}
ROLE_ACCOUNTS: Final[dict[str, str]] = {
    "discounts": "4500",
    "comps": "4510",
    "promotions": "4520",
    "service_charge": "4100",
    "tips_payable": "2020",
    "cogs": "5010",
    "inventory": "1100",
    "waste": "5020",
    "accounts_payable": "2030",
    "stock_variance": "5030",
    "price_variance": "5040",
    "over_short": "6010",
    "cash_drawers": "1010",
    "cash_safe": "1900",
    "pay_outs": "6000",
    "gift_cards": "2010",
}


async def seed_posting_mappings(session: AsyncSession) -> int:
    """Map the menu, tenders, tax rates, stations and house accounts to the standard chart, where unmapped.

    Only accounts that exist are used, so a venue with its own chart keeps its gaps for a person to fill.
    Returns how many mappings were added.
    """
    existing = {(m.kind, m.subject) for m in (await session.exec(select(PostingMapping))).all()}
    codes = {a.code for a in (await session.exec(select(Account).where(col(Account.archived_at).is_(None)))).all()}
    added = 0

    def add(kind: MappingKind, subject: str, code: str | None = None, location_id: int | None = None) -> None:
        nonlocal added
        if (kind, subject) in existing or (code is not None and code not in codes):
            return
        session.add(PostingMapping(kind=kind, subject=subject, account_code=code, stock_location_id=location_id))
        existing.add((kind, subject))
        added += 1

    for category in (await session.exec(select(MenuCategory))).all():
        code = DEMO_REVENUE.get(category.name) or ("4020" if category.course is Course.DRINKS else "4010")
        add(MappingKind.CATEGORY, str(category.id), code)
    for tender in (await session.exec(select(Tender))).all():
        # The tender's own ledger account when the chart has it, so the tender page and the postings agree.
        own = tender.ledger_account_code if tender.ledger_account_code in codes else None
        add(MappingKind.TENDER, str(tender.id), own or TENDER_ACCOUNTS.get(tender.kind))
    rates = sorted({r.rate_bp for r in (await session.exec(select(TaxRate))).all()})
    for rate in (await session.exec(select(TaxRate))).all():
        add(MappingKind.TAX_RATE, str(rate.id), sales_tax_code(rates.index(rate.rate_bp)))
    for role, code in ROLE_ACCOUNTS.items():
        add(MappingKind.ACCOUNT, role, code)
    locations = {loc.name: loc.id for loc in (await session.exec(select(StockLocation))).all()}
    if locations:
        kitchen = locations.get("Kitchen") or next(iter(locations.values()))
        for station in (await session.exec(select(Station))).all():
            add(MappingKind.STATION, str(station.id), None, locations.get(station.name) or kitchen)
        add(MappingKind.STATION, "default", None, kitchen)
    await session.flush()
    return added


async def save_mapping(
    session: AsyncSession,
    *,
    kind: MappingKind | str,
    subject: str,
    actor: Staff,
    account_code: str | None = None,
    stock_location_id: int | None = None,
) -> PostingMapping:
    """Point a category, tender, tax rate or house role at an account (or a station at a stock location)."""
    _require(actor, Perm.ACCOUNTING_MANAGE, "change posting mappings")
    try:
        kind = MappingKind(kind)
    except ValueError:
        raise InvalidInput("Unknown kind of mapping.") from None
    subject = (subject or "").strip()
    names = await postings.subject_names(session)
    known: Mapping[str, str]
    if kind is MappingKind.CATEGORY:
        known = {str(k): v for k, v in names.categories.items()}
    elif kind is MappingKind.TENDER:
        known = {str(k): v for k, v in names.tenders.items()}
    elif kind is MappingKind.TAX_RATE:
        known = {str(k): v for k, v in names.tax_rates.items()}
    elif kind is MappingKind.STATION:
        known = {**{str(k): v for k, v in names.stations.items()}, "default": "items without a station"}
    else:
        known = calc.ACCOUNT_ROLES
    if subject not in known:
        raise InvalidInput("That mapping's subject does not exist; reload the page.")
    row = await _mapping_row(session, kind, subject)
    before = _mapping_state(row)
    row = row or PostingMapping(kind=kind, subject=subject)
    if kind is MappingKind.STATION:
        if stock_location_id is None:
            raise InvalidInput(f"Choose the stock location {known[subject]} draws from.")
        location = await session.get(StockLocation, stock_location_id)
        if location is None or location.archived_at is not None:
            raise InvalidInput("That stock location does not exist or is archived.")
        row.stock_location_id = stock_location_id
        row.account_code = None
    else:
        code = (account_code or "").strip()
        if not code:
            raise InvalidInput(f"Choose the account for {known[subject]}.")
        account = await account_by_code(session, code)
        if account is None:
            raise InvalidInput(f"Account {code} is not in the chart of accounts.")
        if account.archived_at is not None:
            raise InvalidInput(f"Account {account.label} is archived; choose a live account.")
        if kind is MappingKind.TENDER:
            await _tender_follows_mapping(session, int(subject), account)
        row.account_code = code
        row.stock_location_id = None
    return await _store_mapping(session, row, before, actor_id=actor.id)


async def _mapping_row(session: AsyncSession, kind: MappingKind, subject: str) -> PostingMapping | None:
    query = select(PostingMapping).where(PostingMapping.kind == kind, PostingMapping.subject == subject)
    return (await session.exec(query)).first()


def _mapping_state(row: PostingMapping | None) -> dict[str, Any] | None:
    return {"account_code": row.account_code, "stock_location_id": row.stock_location_id} if row else None


async def _store_mapping(
    session: AsyncSession, row: PostingMapping, before: dict[str, Any] | None, *, actor_id: int | None
) -> PostingMapping:
    """Write a changed mapping, stamped with who changed it, and audit it from `before`."""
    row.updated_by, row.updated_at = actor_id, utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "closes.mapping",
        actor_id=actor_id,
        subject=f"mapping:{MappingKind(row.kind).value}:{row.subject}",
        before=before,
        after=_mapping_state(row),
    )
    return row


async def _tender_follows_mapping(session: AsyncSession, tender_id: int, account: Account) -> None:
    """The tenders page shows the account a tender posts to: a tender's mapping and its account stay one."""
    if account.type not in (AccountType.ASSET, AccountType.LIABILITY):
        raise InvalidInput(
            f"Account {account.label} is not an asset or a liability; a tender's money goes to one of those."
        )
    tender = await session.get(Tender, tender_id)
    if tender is not None and tender.ledger_account_code != account.code:
        tender.ledger_account_code = account.code
        session.add(tender)


async def follow_tender_account(session: AsyncSession, event: TenderSaved) -> None:
    """A tender saved with a ledger account posts there from now on: its posting mapping follows, audited."""
    row = await _mapping_row(session, MappingKind.TENDER, str(event.tender_id))
    if row is not None and row.account_code == event.account_code:
        return
    before = _mapping_state(row)
    row = row or PostingMapping(kind=MappingKind.TENDER, subject=str(event.tender_id))
    row.account_code, row.stock_location_id = event.account_code, None
    await _store_mapping(session, row, before, actor_id=event.actor_id)


def wire(bus: EventBus) -> None:
    """Keep a tender's posting mapping on the account the tenders page gives it, and put cash in a drawer,
    in the same transaction."""
    bus.subscribe(TenderSaved, follow_tender_account)
    bus.subscribe(CashHandled, place_cash)


# ---------------------------------------------------------------------------------------------- exceptions


async def retry_exception(session: AsyncSession, *, exception_id: int, actor: Staff) -> PostingException:
    """Try a failed posting again: it posts once, or the exception keeps its (new) reason."""
    _require(actor, Perm.ACCOUNTING_MANAGE, "retry postings")
    query = select(PostingException).where(PostingException.id == exception_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("That posting exception does not exist.")
    if row.status is ExceptionStatus.RESOLVED:
        return row
    try:
        await postings.attempt(session, row.topic, dict(row.payload), actor_id=actor.id)
    except RetryLater as exc:
        raise Conflict(f"Not yet: {exc}. Retry once the earlier posting is in the books.") from None
    await session.refresh(row)
    await audit.record(
        session,
        "closes.posting_retry",
        actor_id=actor.id,
        subject=f"posting:{row.source_key}",
        after={"status": row.status.value, "reason": row.reason if row.status is ExceptionStatus.OPEN else None},
    )
    return row


# ---------------------------------------------------------------------------------------------- drawers


async def _role_accounts(session: AsyncSession, *roles: str) -> dict[str, str]:
    try:
        return dict((await postings.resolve_accounts(session, roles=list(roles))).roles)
    except postings.PostingProblem as exc:
        raise InvalidInput(exc.message) from None


async def _require_open_day(session: AsyncSession, day: dt.date) -> None:
    if await is_day_locked(session, day):
        raise Conflict(f"The business day {day.isoformat()} is closed; nothing more can be recorded on it.")


async def open_drawer(
    session: AsyncSession,
    *,
    name: str,
    float_cents: int,
    actor: Staff,
    device_id: int | None = None,
    blind: bool = False,
) -> DrawerSession:
    """Open a cash drawer with its float (taken from the safe); one open drawer per name."""
    _require(actor, Perm.DRAWER_MANAGE, "open a cash drawer")
    name = (name or "").strip()
    if not name or len(name) > DRAWER_NAME_MAX:
        raise InvalidInput(f"Give the drawer a name of at most {DRAWER_NAME_MAX} characters.")
    float_cents = _cash(float_cents, "The float", allow_zero=True)
    clash = (
        await session.exec(
            select(DrawerSession).where(DrawerSession.name == name, DrawerSession.status == DrawerStatus.OPEN)
        )
    ).first()
    if clash is not None:
        raise Conflict(f"Drawer {name} is already open; count it before opening it again.")
    if device_id is not None:
        other = (
            await session.exec(
                select(DrawerSession).where(
                    DrawerSession.device_id == device_id, DrawerSession.status == DrawerStatus.OPEN
                )
            )
        ).first()
        if other is not None:
            raise Conflict(f"That device already has drawer {other.name} open.")
    accounts = await _role_accounts(session, "cash_drawers", "cash_safe")
    day = await today(session)
    drawer = DrawerSession(
        name=name, device_id=device_id, business_day=day, blind=blind, float_cents=float_cents, opened_by=actor.id or 0
    )
    session.add(drawer)
    await session.flush()
    if float_cents:
        entry = await post_entry(
            session,
            date=day,
            description=f"Float for drawer {name}",
            lines=[
                PostingLine(accounts["cash_drawers"], float_cents, "Float", {"drawer": str(drawer.id)}),
                PostingLine(accounts["cash_safe"], -float_cents, "Float"),
            ],
            source_type="drawer",
            source_id=f"{drawer.id}:open",
            actor_id=actor.id,
        )
        drawer.open_entry_id = entry.id
        session.add(drawer)
    await audit.record(
        session,
        "closes.drawer_open",
        actor_id=actor.id,
        subject=f"drawer:{drawer.id}",
        after={"name": name, "float_cents": float_cents, "blind": blind, "device_id": device_id},
    )
    return drawer


NO_DRAWER_OPEN: Final = (
    "No cash drawer is open{where}, so cash cannot be {doing}. A manager opens one on Manage → Cash drawers "
    "(/closes/drawers) with its float: tick “This tablet's drawer” on this tablet, or open a house drawer for "
    "every tablet. Or use another tender. Nothing was {changed}."
)


async def drawer_at_hand(session: AsyncSession, device_id: int | None) -> DrawerSession | None:
    """The open drawer cash goes into on a device: its own drawer, else the house drawer (oldest first)."""
    query = (
        select(DrawerSession)
        .where(DrawerSession.status == DrawerStatus.OPEN)
        .where((col(DrawerSession.device_id).is_(None)) | (col(DrawerSession.device_id) == device_id))
        .order_by(col(DrawerSession.device_id).is_(None), col(DrawerSession.id))
        .limit(1)
    )
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        # A count waits for the cash going in, so the count sees it.
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def place_cash(session: AsyncSession, event: CashHandled) -> None:
    """Cash taken or given back lands in the open drawer at hand; with no drawer open it is refused."""
    drawer = await drawer_at_hand(session, event.device_id)
    if drawer is None:
        refund = event.refund_id is not None
        raise Conflict(
            NO_DRAWER_OPEN.format(
                where=" for this tablet" if event.device_id is not None else "",
                doing="given back" if refund else "taken",
                changed="refunded" if refund else "charged",
            ),
            detail={"drawer": None},
        )
    row: Payment | Refund | None
    if event.payment_id is not None:
        row = await session.get(Payment, event.payment_id)
    else:
        row = await session.get(Refund, event.refund_id) if event.refund_id is not None else None
    if row is None:
        return
    row.drawer_id = drawer.id
    session.add(row)


async def put_loose_cash_in_drawer(session: AsyncSession, *, payment_id: int, drawer_id: int, actor: Staff) -> Payment:
    """Put cash that was taken while no drawer was open into a drawer, so its count finds whether it is there."""
    _require(actor, Perm.DRAWER_MANAGE, "put cash in a drawer")
    drawer = await _open_drawer(session, drawer_id)
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("That payment does not exist.")
    tender = await session.get(Tender, payment.tender_id)
    if tender is None or tender.kind is not TenderKind.CASH:
        raise InvalidInput("Only cash goes into a drawer.")
    if payment.drawer_id is not None or payment.id not in {p.payment.id for p in await queries.loose_cash(session)}:
        raise Conflict("That cash is already in a drawer. Nothing was changed.")
    payment.drawer_id = drawer.id
    session.add(payment)
    await audit.record(
        session,
        "closes.drawer_loose_cash",
        actor_id=actor.id,
        subject=f"drawer:{drawer.id}",
        after={"payment_id": payment.id, "amount_cents": payment.amount_cents},
    )
    return payment


async def _open_drawer(session: AsyncSession, drawer_id: int) -> DrawerSession:
    query = select(DrawerSession).where(DrawerSession.id == drawer_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        query = query.with_for_update()
    drawer = (await session.exec(query)).first()
    if drawer is None:
        raise NotFound("That drawer does not exist.")
    if drawer.status is not DrawerStatus.OPEN:
        raise Conflict(f"Drawer {drawer.name} was already counted and closed.")
    return drawer


async def move_cash(
    session: AsyncSession,
    *,
    drawer_id: int,
    kind: MovementKind | str,
    amount_cents: int,
    reason: str,
    actor: Staff,
    account_code: str | None = None,
) -> DrawerMovement:
    """Put cash into a drawer (from the safe) or pay cash out of it (to an expense), with a reason; posted."""
    _require(actor, Perm.DRAWER_MANAGE, "move cash in or out of a drawer")
    try:
        kind = MovementKind(kind)
    except ValueError:
        raise InvalidInput("Choose cash in or pay out.") from None
    if kind not in (MovementKind.CASH_IN, MovementKind.PAY_OUT):
        raise InvalidInput("Choose cash in or pay out.")
    amount_cents = _cash(amount_cents, "The amount")
    reason = _reason(reason)
    drawer = await _open_drawer(session, drawer_id)
    accounts = await _role_accounts(session, "cash_drawers", "cash_safe", "pay_outs")
    other = accounts["cash_safe"]
    if kind is MovementKind.PAY_OUT:
        other = (account_code or "").strip() or accounts["pay_outs"]
        account = await account_by_code(session, other)
        if account is None or account.archived_at is not None:
            raise InvalidInput(f"Account {other} is not a live account in the chart.")
        expected = await queries.drawer_expected(session, drawer)
        if amount_cents > expected:
            raise Conflict(
                f"Drawer {drawer.name} should hold {expected / 100:.2f}; it cannot pay out {amount_cents / 100:.2f}."
            )
    movement = DrawerMovement(
        drawer_id=drawer.id or 0,
        kind=kind,
        amount_cents=amount_cents,
        reason=reason,
        account_code=other if kind is MovementKind.PAY_OUT else None,
        actor_id=actor.id or 0,
    )
    session.add(movement)
    await session.flush()
    signed = amount_cents * kind.sign
    entry = await post_entry(
        session,
        date=await today(session),
        description=f"{kind.label} drawer {drawer.name}: {reason}"[:200],
        lines=[
            PostingLine(accounts["cash_drawers"], signed, kind.label, {"drawer": str(drawer.id)}),
            PostingLine(other, -signed, reason[:200]),
        ],
        source_type="drawer",
        source_id=f"{drawer.id}:move:{movement.id}",
        actor_id=actor.id,
    )
    movement.entry_id = entry.id
    session.add(movement)
    await audit.record(
        session,
        f"closes.drawer_{kind.value}",
        actor_id=actor.id,
        subject=f"drawer:{drawer.id}",
        reason=reason,
        after={"amount_cents": amount_cents, "account": other},
    )
    return movement


async def no_sale(
    session: AsyncSession, *, drawer_id: int, reason: str, actor: Staff, approver: Staff | None = None
) -> DrawerMovement:
    """Open the drawer without a sale: audited with its reason, and the drawer kicked on its printer."""
    approved = checks._authorise(actor, approver, Perm.NO_SALE, "open the drawer without a sale")
    reason = _reason(reason)
    drawer = await _open_drawer(session, drawer_id)
    movement = DrawerMovement(
        drawer_id=drawer.id or 0,
        kind=MovementKind.NO_SALE,
        amount_cents=0,
        reason=reason,
        actor_id=actor.id or 0,
        approver_id=approved if approved != actor.id else None,
    )
    session.add(movement)
    await session.flush()
    try:
        printer = await check_printing.receipt_printer(session, drawer.device_id)
        data = render_drawer_kick(check_printing.profile_for(printer))
        await check_printing.queue(
            session, printer, data, kind="drawer_kick", reference=f"no-sale:{movement.id}", open_drawer=True
        )
    except DomainError as exc:
        raise Conflict(f"The drawer cannot be opened: {exc.message}") from None
    await audit.record(
        session,
        "closes.no_sale",
        actor_id=actor.id,
        approver_id=movement.approver_id,
        subject=f"drawer:{drawer.id}",
        reason=reason,
    )
    return movement


async def close_drawer(
    session: AsyncSession,
    *,
    drawer_id: int,
    counted_cents: int,
    actor: Staff,
    count_detail: Mapping[int, int] | None = None,
) -> DrawerSession:
    """Count a drawer: over/short against what it should hold is posted, and the count goes to the safe."""
    _require(actor, Perm.DRAWER_MANAGE, "count a cash drawer")
    detail = {int(k): int(v) for k, v in (count_detail or {}).items() if int(v)}
    if detail:
        try:
            total = calc.count_total(detail)
        except ValueError as exc:
            raise InvalidInput(f"{exc}.") from None
        if total != counted_cents:
            raise InvalidInput(
                f"The notes and coins add up to {total / 100:.2f}, not the {counted_cents / 100:.2f} entered."
            )
    counted_cents = _cash(counted_cents, "The counted cash", allow_zero=True)
    drawer = await _open_drawer(session, drawer_id)
    accounts = await _role_accounts(session, "cash_drawers", "cash_safe", "over_short")
    expected = await queries.drawer_expected(session, drawer)
    difference = calc.over_short(counted_cents, expected)
    day = await next_open_day(session, drawer.business_day)
    lines = [
        PostingLine(line.account, line.amount_cents, line.memo, {"drawer": str(drawer.id)})
        for line in calc.over_short_entry(
            difference, over_short_account=accounts["over_short"], drawer_account=accounts["cash_drawers"]
        )
    ]
    if counted_cents:
        lines += [
            PostingLine(accounts["cash_safe"], counted_cents, "Drawer counted into the safe"),
            PostingLine(
                accounts["cash_drawers"], -counted_cents, "Drawer counted into the safe", {"drawer": str(drawer.id)}
            ),
        ]
    if lines:
        entry = await post_entry(
            session,
            date=day,
            description=f"Drawer {drawer.name} counted"
            + (f": {'over' if difference > 0 else 'short'} {abs(difference) / 100:.2f}" if difference else ""),
            lines=lines,
            source_type="drawer",
            source_id=f"{drawer.id}:close",
            actor_id=actor.id,
        )
        drawer.close_entry_id = entry.id
    drawer.status = DrawerStatus.CLOSED
    drawer.expected_cents = expected
    drawer.counted_cents = counted_cents
    drawer.over_short_cents = difference
    drawer.count_detail = {str(k): v for k, v in detail.items()}
    drawer.closed_by = actor.id
    drawer.closed_at = utcnow()
    session.add(drawer)
    await session.flush()
    await audit.record(
        session,
        "closes.drawer_close",
        actor_id=actor.id,
        subject=f"drawer:{drawer.id}",
        after={"expected_cents": expected, "counted_cents": counted_cents, "over_short_cents": difference},
    )
    return drawer


# ---------------------------------------------------------------------------------------------- server checkout


async def check_out_server(
    session: AsyncSession, *, staff_id: int, day: dt.date, declared_cash_tips_cents: int, actor: Staff
) -> ServerCheckout:
    """End a server's shift: refused while they have open checks; card tips are paid out unless pooled."""
    if actor.id != staff_id:
        _require(actor, Perm.DAY_CLOSE, "check out someone else")
    else:
        _require(actor, Perm.SERVER_CHECKOUT, "check out")
    declared = _cash(declared_cash_tips_cents, "Declared cash tips", allow_zero=True)
    person = await session.get(Staff, staff_id)
    if person is None:
        raise NotFound("That person does not work here.")
    await _require_open_day(session, day)
    summary = await queries.checkout_summary(session, staff_id, day)
    if summary.open_checks:
        raise Conflict(
            f"{person.name} still has open checks: {', '.join(summary.open_checks)}. Close or transfer them first.",
            detail={"open_checks": summary.open_checks},
        )
    existing = (
        await session.exec(
            select(ServerCheckout).where(ServerCheckout.staff_id == staff_id, ServerCheckout.business_day == day)
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{person.name} already checked out for {day.isoformat()}.")
    pooled = await queries.active_rule(session) is not None
    paid_out = 0 if pooled else summary.card_tips_cents
    checkout = ServerCheckout(
        staff_id=staff_id,
        business_day=day,
        check_count=summary.check_count,
        net_sales_cents=summary.net_sales_cents,
        total_cents=summary.total_cents,
        card_tips_cents=summary.card_tips_cents,
        declared_cash_tips_cents=declared,
        cash_collected_cents=summary.cash_collected_cents,
        tips_paid_out_cents=paid_out,
        owed_to_house_cents=calc.cash_owed_to_house(summary.cash_collected_cents, paid_out),
        pooled=pooled,
        checked_out_by=actor.id or 0,
    )
    session.add(checkout)
    await session.flush()
    if paid_out > 0:
        accounts = await _role_accounts(session, "tips_payable", "cash_drawers")
        entry = await post_entry(
            session,
            date=day,
            description=f"Card tips paid out to {person.name}",
            lines=[
                PostingLine(accounts["tips_payable"], paid_out, "Tips paid out", {"staff": str(staff_id)}),
                PostingLine(accounts["cash_drawers"], -paid_out, "Tips paid out"),
            ],
            source_type="checkout",
            source_id=str(checkout.id),
            actor_id=actor.id,
        )
        checkout.entry_id = entry.id
        session.add(checkout)
        house = (
            await session.exec(
                select(DrawerSession)
                .where(DrawerSession.status == DrawerStatus.OPEN)
                .order_by(col(DrawerSession.device_id).is_not(None), col(DrawerSession.id))
            )
        ).first()
        if house is not None:
            session.add(
                DrawerMovement(
                    drawer_id=house.id or 0,
                    kind=MovementKind.TIP_PAYOUT,
                    amount_cents=paid_out,
                    reason=f"Card tips for {person.name}",
                    actor_id=actor.id or 0,
                    entry_id=entry.id,
                )
            )
    await audit.record(
        session,
        "closes.server_checkout",
        actor_id=actor.id,
        subject=f"staff:{staff_id}",
        after={
            "day": day.isoformat(),
            "net_sales_cents": checkout.net_sales_cents,
            "card_tips_cents": checkout.card_tips_cents,
            "declared_cash_tips_cents": declared,
            "owed_to_house_cents": checkout.owed_to_house_cents,
        },
    )
    return checkout


# ---------------------------------------------------------------------------------------------- tip pools


async def save_tip_rule(
    session: AsyncSession,
    *,
    name: str,
    method: PoolMethod | str,
    role_percents: Mapping[str, int],
    include_cash_tips: bool,
    actor: Staff,
) -> TipPoolRule:
    """Set the venue's tip pooling rule (the previous one is archived, so past days keep theirs)."""
    _require(actor, Perm.DAY_CLOSE, "set tip pooling")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("Give the rule a name of at most 60 characters.")
    try:
        method = PoolMethod(method)
    except ValueError:
        raise InvalidInput("Choose pooling by role percentage or by hours.") from None
    percents: dict[str, int] = {}
    if method is PoolMethod.ROLE_PERCENT:
        for role, percent in role_percents.items():
            try:
                Role(role)
            except ValueError:
                raise InvalidInput(f"{role} is not a role.") from None
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidInput(f"The {role} share must be a whole percentage from 0 to 100.")
            if percent:
                percents[role] = percent
        if sum(percents.values()) != 100:
            raise InvalidInput(f"The role shares add up to {sum(percents.values())} %; they must add up to 100 %.")
    now = utcnow()
    for old in (await session.exec(select(TipPoolRule).where(col(TipPoolRule.archived_at).is_(None)))).all():
        old.archived_at = now
        old.active = False
        session.add(old)
    rule = TipPoolRule(
        name=name, method=method, role_percents=percents, include_cash_tips=include_cash_tips, created_by=actor.id or 0
    )
    session.add(rule)
    await session.flush()
    await audit.record(
        session,
        "closes.tip_rule",
        actor_id=actor.id,
        subject=f"tip_rule:{rule.id}",
        after={"method": method.value, "role_percents": percents, "include_cash_tips": include_cash_tips},
    )
    return rule


async def stop_pooling(session: AsyncSession, *, actor: Staff) -> None:
    """Turn tip pooling off: each server keeps their own card tips again."""
    _require(actor, Perm.DAY_CLOSE, "set tip pooling")
    now = utcnow()
    for old in (await session.exec(select(TipPoolRule).where(col(TipPoolRule.archived_at).is_(None)))).all():
        old.archived_at = now
        old.active = False
        session.add(old)
    await audit.record(session, "closes.tip_rule_off", actor_id=actor.id, subject="tip_rule")


async def record_hours(session: AsyncSession, *, staff_id: int, day: dt.date, minutes: int, actor: Staff) -> StaffHours:
    """Enter how long someone worked on a business day (for pooling by hours)."""
    _require(actor, Perm.DAY_CLOSE, "enter hours")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Hours worked must be between 0 and 24.")
    person = await session.get(Staff, staff_id)
    if person is None:
        raise NotFound("That person does not work here.")
    await _require_open_day(session, day)
    row = (
        await session.exec(select(StaffHours).where(StaffHours.staff_id == staff_id, StaffHours.business_day == day))
    ).first()
    before = row.minutes if row else None
    if row is None:
        row = StaffHours(staff_id=staff_id, business_day=day, minutes=minutes, entered_by=actor.id or 0)
    row.minutes = minutes
    row.entered_by = actor.id or 0
    row.entered_at = utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "closes.hours",
        actor_id=actor.id,
        subject=f"staff:{staff_id}",
        before={"minutes": before} if before is not None else None,
        after={"day": day.isoformat(), "minutes": minutes},
    )
    return row


async def distribute_tips(session: AsyncSession, *, day: dt.date, actor: Staff | None) -> list[TipShare]:
    """Share the day's pool by the active rule, to the cent; recomputed until the day closes."""
    if actor is not None:
        _require(actor, Perm.DAY_CLOSE, "share the tip pool")
    await _require_open_day(session, day)
    rule = await queries.active_rule(session)
    if rule is None:
        raise Conflict("No tip pooling rule is set; each server keeps their own tips.")
    pool = await queries.tip_pool(session, day, include_cash=rule.include_cash_tips)
    members = await queries.pool_members(session, day)
    try:
        if rule.method is PoolMethod.HOURS:
            shares = calc.split_by_hours(pool.total_cents, members)
        else:
            shares = calc.split_by_roles(pool.total_cents, rule.role_percents, members)
    except ValueError as exc:
        raise Conflict(f"The pool of {pool.total_cents / 100:.2f} cannot be shared: {exc}.") from None
    for old in (await session.exec(select(TipShare).where(TipShare.business_day == day))).all():
        await session.delete(old)
    await session.flush()
    result: list[TipShare] = []
    for member in members:
        share = TipShare(
            business_day=day,
            rule_id=rule.id or 0,
            staff_id=member.staff_id,
            role=member.role,
            minutes=member.minutes,
            share_cents=shares.get(member.staff_id, 0),
        )
        session.add(share)
        result.append(share)
    await session.flush()
    await audit.record(
        session,
        "closes.tip_pool",
        actor_id=actor.id if actor else None,
        subject=f"day:{day.isoformat()}",
        after={"pool_cents": pool.total_cents, "shares": {str(m.staff_id): shares.get(m.staff_id, 0) for m in members}},
    )
    return result


# ---------------------------------------------------------------------------------------------- day close


class DayNotReady(Conflict):
    """The business day cannot close yet; `detail['blockers']` lists why."""

    code = "day_not_ready"


async def close_day(session: AsyncSession, *, day: dt.date, actor: Staff, device_id: int | None = None) -> BusinessDay:
    """Close a business day: refused with the list of what is still open or owed; then sweep void waste,
    share the tip pool, lock tips, store and print the Z report, and lock the day's books."""
    _require(actor, Perm.DAY_CLOSE, "close the business day")
    settings = settings_of(session)
    row = (await session.exec(select(BusinessDay).where(BusinessDay.day == day))).first()
    if (row is not None and row.status is DayStatus.CLOSED) or await is_day_locked(session, day):
        raise Conflict(f"The business day {day.isoformat()} is already closed.")
    if day > checks.business_day(settings, utcnow()):
        raise InvalidInput(f"{day.isoformat()} has not started yet; it cannot be closed.")
    blockers = await queries.close_blockers(session, day)
    if blockers:
        raise DayNotReady(
            f"{day.isoformat()} cannot close yet: " + "; ".join(blockers) + ".", detail={"blockers": blockers}
        )
    await sweep_void_waste(session, day)
    if await queries.active_rule(session) is not None:
        pool = await queries.tip_pool(session, day, include_cash=True)
        if pool.total_cents:
            await distribute_tips(session, day=day, actor=None)
    await checks.lock_tips(session, day)
    z = await reports.z_report(session, day)
    if row is None:
        row = BusinessDay(day=day)
    row.status = DayStatus.CLOSED
    row.closed_by = actor.id
    row.closed_at = utcnow()
    row.z_report = z.as_json()
    row.late_arrivals = z.late_postings
    session.add(row)
    await session.flush()
    row.print_job_id = await _print_z(session, settings, z, device_id)
    session.add(row)
    await lock_day(session, day, actor_id=actor.id, reason="Business day closed")
    await audit.record(
        session,
        "closes.day_close",
        actor_id=actor.id,
        subject=f"day:{day.isoformat()}",
        after={"net_sales_cents": z.net_sales_cents, "tax_cents": z.tax_cents, "checks": z.checks},
    )
    return row


async def sweep_void_waste(session: AsyncSession, day: dt.date) -> int:
    """Lines voided after they were fired, on checks that never closed, leave stock as waste before the day closes."""
    settings = settings_of(session)
    if not settings.void_after_fire_is_waste:
        return 0
    lines = (
        await session.exec(
            select(CheckLine).where(CheckLine.state == LineState.VOIDED, col(CheckLine.sent_at).is_not(None))
        )
    ).all()
    done = {
        p.source_key
        for p in (
            await session.exec(select(CheckPosting).where(col(CheckPosting.source_key).startswith("void-waste:")))
        ).all()
    }
    count = 0
    for line in lines:
        if f"void-waste:{line.id}" in done or line.voided_at is None:
            continue
        if checks.business_day(settings, line.voided_at) > day:
            continue
        try:
            await postings.waste_voided_line(session, line)
        except postings.PostingProblem as exc:
            raise DayNotReady(
                f"{day.isoformat()} cannot close yet: {exc.message}", detail={"blockers": [exc.message]}
            ) from None
        count += 1
    return count


def z_document(settings: Settings, z: reports.ZReport) -> ZReportDoc:
    """The Z report as the printer lays it out."""
    return ZReportDoc(
        venue_name=settings.venue_name,
        business_day=z.day,
        printed_at=utcnow(),
        categories=tuple(AmountLineDoc(label=c.label, amount_cents=c.cents) for c in z.categories),
        net_sales_cents=z.net_sales_cents,
        tenders=tuple(TenderTotalDoc(tender=t.label, count=t.count, amount_cents=t.cents) for t in z.tenders),
        taxes=tuple(
            TaxLineDoc(
                label=t.label,
                tax_cents=t.cents,
                base_cents=t.base_cents,
                included=settings.prices_include_tax,
                rounded_per_line=settings.tax_rounding == "per_line",
            )
            for t in z.taxes
        ),
        voids=CountedAmountDoc(count=z.voids.count, amount_cents=z.voids.cents),
        comps=CountedAmountDoc(count=z.comps.count, amount_cents=z.comps.cents),
        discounts=CountedAmountDoc(count=z.discounts.count, amount_cents=z.discounts.cents),
        promotions=CountedAmountDoc(count=z.promotions.count, amount_cents=z.promotions.cents),
        tips_cents=z.tips_cents,
        cash_over_short_cents=z.over_short_cents,
    )


async def _print_z(session: AsyncSession, settings: Settings, z: reports.ZReport, device_id: int | None) -> int | None:
    try:
        printer = await check_printing.receipt_printer(session, device_id)
    except DomainError:
        return None
    data = render_z_report(z_document(settings, z), check_printing.profile_for(printer))
    job = await enqueue_print(
        session, printer_id=printer.id or 0, data=data, kind="z_report", reference=f"z:{z.day.isoformat()}"
    )
    return job.id


async def print_z_again(session: AsyncSession, *, day: dt.date, actor: Staff, device_id: int | None = None) -> int:
    """Print a closed day's Z report again, from the figures stored when it closed."""
    _require(actor, Perm.REPORTS_VIEW, "print the Z report")
    row = (await session.exec(select(BusinessDay).where(BusinessDay.day == day))).first()
    if row is None or row.status is not DayStatus.CLOSED:
        raise Conflict(f"{day.isoformat()} is not closed; its Z report is printed when it closes.")
    settings = settings_of(session)
    z = await reports.z_report(session, day)
    job = await _print_z(session, settings, z, device_id)
    if job is None:
        raise Conflict("No receipt printer is set up to print the Z report on.")
    await audit.record(session, "closes.z_reprint", actor_id=actor.id, subject=f"day:{day.isoformat()}")
    return job


async def pending_attempts_count(session: AsyncSession) -> int:
    """Card payments whose outcome the terminal has not told yet."""
    rows = (await session.exec(select(PaymentAttempt.id).where(PaymentAttempt.status == AttemptStatus.PENDING))).all()
    return len(rows)


async def open_checks_count(session: AsyncSession) -> int:
    """Checks still open anywhere."""
    return len((await session.exec(select(Check.id).where(Check.status == CheckStatus.OPEN))).all())
