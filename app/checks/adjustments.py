"""Discounts, comps and waiving the service charge on a check, and refusing an order change that would
lower a check's total below what was already paid.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.guards import (
    _authorise,
    _format,
    _live_line,
    _money_for_update,
    _require_editor,
    _require_open,
    clean_reason,
    parse_cents,
)
from app.checks.models import AdjustmentKind, CheckComp, CheckDiscount, ServiceChargeWaiver
from app.checks.queries import CheckMoney, check_money, load_check
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.orders import services as orders
from app.orders.models import Check
from app.staff.models import Staff
from app.staff.permissions import Perm

DISCOUNT_REASONS = ("Happy hour", "Staff meal", "Loyalty", "Regular guest", "Manager goodwill")
COMP_REASONS = ("Food quality", "Long wait", "Wrong order", "House guest", "Birthday")


# ---------------------------------------------------------------------------------------------- discounts, comps


async def _adjusting(
    session: AsyncSession,
    check_id: int,
    expected_version: int | None,
    actor: Staff,
    approver: Staff | None,
    perm: Perm,
    doing: str,
    *,
    closed_doing: str = "change it",
) -> tuple[CheckMoney, int]:
    """The open check's money, locked, once the actor may edit it and `perm` allows `doing`; and who allowed it."""
    money = await _money_for_update(session, check_id, expected_version)
    _require_open(money.check, closed_doing)
    _require_editor(money.check, actor, approver)
    return money, _authorise(actor, approver, perm, doing)


async def _record(
    session: AsyncSession,
    action: str,
    *,
    check: Check,
    actor: Staff,
    approved_by: int,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any] | None = None,
) -> None:
    """The audit entry of an adjustment, naming the manager who allowed it when it was not the actor."""
    await audit.record(
        session,
        action,
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
        reason=reason,
        before=before,
        after=after,
    )


async def _add(
    session: AsyncSession, money: CheckMoney, adjustment: CheckDiscount | CheckComp, expected_version: int | None
) -> CheckMoney:
    """Put a discount or comp on the check; the check's money after it (never below what is already paid)."""
    await orders.bump_version(session, money.check, expected_version)
    session.add(adjustment)
    await session.flush()
    return await _refuse_overpaid(session, money.check, money)


async def _take_off(
    session: AsyncSession,
    money: CheckMoney,
    adjustment: CheckDiscount | CheckComp,
    *,
    actor: Staff,
    approved_by: int,
    expected_version: int | None,
    action: str,
    id_key: str,
) -> None:
    """Take a discount or comp off again; kept as a removed row for the audit trail."""
    await orders.bump_version(session, money.check, expected_version)
    adjustment.removed_at = utcnow()
    adjustment.removed_by = actor.id
    session.add(adjustment)
    await session.flush()
    await _record(
        session,
        action,
        check=money.check,
        actor=actor,
        approved_by=approved_by,
        reason=adjustment.reason,
        before={id_key: adjustment.id, "total": money.totals.total},
    )


async def add_discount(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    kind: AdjustmentKind | str,
    value: str,
    reason: str,
    line_id: int | None = None,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckDiscount:
    """Take a percent or an amount off a line or the whole check, with a reason; needs the discount permission."""
    money, approved_by = await _adjusting(
        session,
        check_id,
        expected_version,
        actor,
        approver,
        Perm.DISCOUNT,
        "give a discount",
        closed_doing="discount it",
    )
    reason = clean_reason(reason)
    try:
        kind = AdjustmentKind(kind)
    except ValueError:
        raise InvalidInput("Choose a percent or an amount discount.") from None
    discount = CheckDiscount(
        check_id=check_id,
        line_id=line_id,
        kind=kind,
        reason=reason,
        created_by=actor.id or 0,
        approved_by=approved_by,
    )
    if kind is AdjustmentKind.PERCENT:
        discount.percent_bp = _percent_bp(value)
    else:
        discount.amount_cents = parse_cents(value, label="The discount", currency=money.currency)
    if line_id is not None:
        line = _live_line(money, line_id)
        if money.line_discount(line_id):
            raise Conflict(f"{line.name} already has a discount; take it off first. Nothing was changed.")
        if money.line_comp(line_id) or money.check_comp:
            raise Conflict(f"{line.name} is comped; a discount would take nothing more off. Nothing was changed.")
    else:
        if not money.live_lines:
            raise InvalidInput("There is nothing on this check to discount.")
        if money.check_discount:
            raise Conflict("This check already has a discount; take it off first. Nothing was changed.")
        if money.check_comp:
            raise Conflict("This check is comped; there is nothing left to discount. Nothing was changed.")
    after = await _add(session, money, discount, expected_version)
    await _record(
        session,
        "checks.discount",
        check=money.check,
        actor=actor,
        approved_by=approved_by,
        reason=reason,
        before={"total": money.totals.total},
        after={
            "discount_id": discount.id,
            "line_id": line_id,
            "kind": kind.value,
            "percent_bp": discount.percent_bp,
            "amount_cents": discount.amount_cents,
            "total": after.totals.total,
        },
    )
    return discount


async def remove_discount(
    session: AsyncSession,
    *,
    check_id: int,
    discount_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckDiscount:
    """Take a discount off again; kept as a removed row for the audit trail."""
    money, approved_by = await _adjusting(
        session, check_id, expected_version, actor, approver, Perm.DISCOUNT, "take a discount off"
    )
    discount = next((d for d in money.discounts if d.id == discount_id), None)
    if discount is None:
        raise NotFound("That discount is not on this check any more; reload the check.")
    await _take_off(
        session,
        money,
        discount,
        actor=actor,
        approved_by=approved_by,
        expected_version=expected_version,
        action="checks.discount_remove",
        id_key="discount_id",
    )
    return discount


async def add_comp(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    reason: str,
    line_id: int | None = None,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckComp:
    """Give a line or the whole check away, with a reason; needs the comp permission."""
    money, approved_by = await _adjusting(
        session, check_id, expected_version, actor, approver, Perm.COMP, "comp", closed_doing="comp it"
    )
    reason = clean_reason(reason)
    if line_id is not None:
        line = _live_line(money, line_id)
        if money.line_comp(line_id) or money.check_comp:
            raise Conflict(f"{line.name} is already comped. Nothing was changed.")
    else:
        if not money.live_lines:
            raise InvalidInput("There is nothing on this check to comp.")
        if money.check_comp:
            raise Conflict("This check is already comped. Nothing was changed.")
    comp = CheckComp(
        check_id=check_id, line_id=line_id, reason=reason, created_by=actor.id or 0, approved_by=approved_by
    )
    after = await _add(session, money, comp, expected_version)
    await _record(
        session,
        "checks.comp",
        check=money.check,
        actor=actor,
        approved_by=approved_by,
        reason=reason,
        before={"total": money.totals.total},
        after={"comp_id": comp.id, "line_id": line_id, "total": after.totals.total},
    )
    return comp


async def remove_comp(
    session: AsyncSession,
    *,
    check_id: int,
    comp_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckComp:
    """Put a comped line or check back on the bill."""
    money, approved_by = await _adjusting(
        session, check_id, expected_version, actor, approver, Perm.COMP, "take a comp off"
    )
    comp = next((c for c in money.comps if c.id == comp_id), None)
    if comp is None:
        raise NotFound("That comp is not on this check any more; reload the check.")
    await _take_off(
        session,
        money,
        comp,
        actor=actor,
        approved_by=approved_by,
        expected_version=expected_version,
        action="checks.comp_remove",
        id_key="comp_id",
    )
    return comp


async def waive_service_charge(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    reason: str,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> ServiceChargeWaiver:
    """Take the automatic large-party service charge off a check; a discount permission decision."""
    money, approved_by = await _adjusting(
        session, check_id, expected_version, actor, approver, Perm.DISCOUNT, "take the service charge off"
    )
    reason = clean_reason(reason)
    if money.service_charge_percent is None:
        raise Conflict("This check has no service charge to take off.")
    await orders.bump_version(session, money.check, expected_version)
    waiver = ServiceChargeWaiver(check_id=check_id, reason=reason, created_by=actor.id or 0, approved_by=approved_by)
    session.add(waiver)
    await session.flush()
    await _record(
        session,
        "checks.service_charge_waive",
        check=money.check,
        actor=actor,
        approved_by=approved_by,
        reason=reason,
        before={"service_charge": money.totals.service_charge},
    )
    return waiver


def _percent_bp(value: str) -> int:
    text = (value or "").strip().rstrip("%").strip().replace(",", ".")
    try:
        percent = Decimal(text)
    except InvalidOperation:
        raise InvalidInput("Enter the discount as a percent, like 10 or 12.5.") from None
    if not percent.is_finite() or not 0 < percent <= 100:
        raise InvalidInput("A percent discount is more than 0 and at most 100.")
    basis_points = percent * 100
    if basis_points != basis_points.to_integral_value():
        raise InvalidInput("Use at most two decimals in a percent, like 12.5.")
    return int(basis_points)


async def _refuse_overpaid(session: AsyncSession, check: Check, before: CheckMoney) -> CheckMoney:
    after = await check_money(session, check)
    if before.payments and after.totals.total < after.paid:
        raise Conflict(
            f"That would bring the check to {_format(after.totals.total, after.currency)}, below the "
            f"{_format(after.paid, after.currency)} already paid. Refund first; nothing was changed."
        )
    return after


async def refuse_lowering_below_paid(session: AsyncSession, event: orders.CheckTotalLowered) -> None:
    """A void or a smaller quantity may not leave a check below what was already paid on it."""
    check = await load_check(session, event.check_id)
    money = await check_money(session, check)
    if money.payments and money.totals.total < money.paid:
        raise Conflict(
            f"That would bring check #{check.number} to {_format(money.totals.total, money.currency)}, below the "
            f"{_format(money.paid, money.currency)} already paid. Refund first; nothing was changed."
        )
