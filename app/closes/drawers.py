"""Cash drawers: open with a float, cash in and pay out, no-sale, cash placed in the drawer at hand, count.

Cash that moves is posted at once (float, cash in, pay out, over/short, deposit to the safe).

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code
from app.accounting.services import PostingLine, next_open_day, post_entry
from app.checks import printing as check_printing
from app.checks import services as checks
from app.checks.events import CashHandled
from app.checks.models import Payment, Refund, Tender, TenderKind
from app.closes import calculations as calc
from app.closes import drawer_queries
from app.closes.guards import DRAWER_NAME_MAX, _cash, _reason, _require, _role_accounts, today
from app.closes.models import DrawerMovement, DrawerSession, DrawerStatus, MovementKind
from app.kitchen.printing import enqueue_drawer_kick
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, DomainError, InvalidInput, NotFound
from app.staff.models import Staff
from app.staff.permissions import Perm


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
    if payment.drawer_id is not None or payment.id not in {
        p.payment.id for p in await drawer_queries.loose_cash(session)
    }:
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
        expected = await drawer_queries.drawer_expected(session, drawer)
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
        await enqueue_drawer_kick(session, printer_id=printer.id or 0, reference=f"no-sale:{movement.id}")
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
    expected = await drawer_queries.drawer_expected(session, drawer)
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
