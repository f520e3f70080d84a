"""Server checkout: the end of a server's shift, with card tips paid out unless they are pooled.

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.services import PostingLine, post_entry
from app.closes import calculations as calc
from app.closes import queries
from app.closes.guards import _cash, _require, _require_open_day, _role_accounts
from app.closes.models import DrawerMovement, DrawerSession, DrawerStatus, MovementKind, ServerCheckout
from app.lib import audit
from app.lib.errors import Conflict, NotFound
from app.staff.models import Staff
from app.staff.permissions import Perm


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
