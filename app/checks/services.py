"""Commands on a check's money: discounts and comps, splits, payments, closing, reopening, refunds, printing.

Each command taking a session is one transaction. Payments through a terminal take the database instead,
because the attempt must be committed before the terminal is asked and the outcome recorded after it
answered: a crash in between leaves a pending attempt that `recover_pending_attempts` resolves by
asking the terminal about its reference, so a check ends fully paid and closed or still open, never half.
Splitting moves lines and creates checks but never writes anything for the kitchen.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import AccountType
from app.accounting.services import live_account
from app.checks import calculations as calc
from app.checks import printing
from app.checks.events import (
    CashHandled,
    CheckClosed,
    CheckRefunded,
    CheckReopened,
    CheckSplit,
    GiftCardCharged,
    PaymentTaken,
    TenderSaved,
)
from app.checks.models import (
    AdjustmentKind,
    AttemptKind,
    AttemptStatus,
    CheckClosing,
    CheckComp,
    CheckDiscount,
    CheckPortion,
    DeviceReceiptPrinter,
    Payment,
    PaymentAttempt,
    Refund,
    RefundLine,
    RefundStatus,
    ServiceChargeWaiver,
    SplitKind,
    Tender,
    TenderKind,
)
from app.checks.models import CheckSplit as CheckSplitRow
from app.checks.queries import (
    CheckMoney,
    check_money,
    closings,
    family,
    latest_split,
    load_check,
    open_checks_on_table,
    root_of,
    settings_of,
    with_payment,
)
from app.checks.terminal import PaymentTerminal, TerminalError, TerminalOutcome, TerminalResult
from app.house_accounts import services as house_accounts
from app.kitchen.models import Printer
from app.lib import audit
from app.lib.cards import mask_card_numbers
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import (
    Conflict,
    DomainError,
    IdempotencyMismatch,
    InvalidInput,
    ManagerApprovalRequired,
    NotFound,
    PermissionDenied,
)
from app.lib.events import emit
from app.lib.money import Money
from app.lib.outbox import OutboxMessage, RetryLater, enqueue
from app.lib.settings import Settings
from app.orders import firing, seating, voids
from app.orders import services as orders
from app.orders.models import Check, CheckLine, CheckStatus, LineModifier, LineState
from app.staff.models import Staff
from app.staff.permissions import Perm
from printers.layouts import render_drawer_kick, render_guest_check, render_receipt

log = logging.getLogger(__name__)

REASON_MAX_LENGTH = 200
MAX_WAYS = 20
# A terminal answers within a minute or two; after that the outbox asks it what happened.
RECOVERY_DELAY = timedelta(seconds=120)
RECOVERY_TOPIC = "checks.payment_attempt"
CLOSED_TOPIC = "checks.closed"
REOPENED_TOPIC = "checks.reopened"
REFUNDED_TOPIC = "checks.refunded"
TIP_ADJUSTED_TOPIC = "checks.tip_adjusted"

DISCOUNT_REASONS = ("Happy hour", "Staff meal", "Loyalty", "Regular guest", "Manager goodwill")
COMP_REASONS = ("Food quality", "Long wait", "Wrong order", "House guest", "Birthday")


# ---------------------------------------------------------------------------------------------- helpers


def _format(cents: int, currency: str = "EUR") -> str:
    return Money(cents, currency).format()


def _require_open(check: Check, doing: str = "change it") -> None:
    if check.status is CheckStatus.OPEN:
        return
    if check.status is CheckStatus.CLOSED:
        raise Conflict(f"Check #{check.number} is closed; a manager must reopen it to {doing}. Nothing was changed.")
    if check.status is CheckStatus.VOIDED:
        raise Conflict(f"Check #{check.number} was voided; it cannot be paid or changed. Nothing was changed.")
    raise Conflict(f"Check #{check.number} was merged into another check; nothing was changed.")


def _authorise(actor: Staff, approver: Staff | None, perm: Perm, doing: str) -> int:
    """The id of whoever allowed this: the actor if they hold `perm`, else the manager whose PIN was given."""
    if actor.can(perm):
        return actor.id or 0
    if approver is None:
        raise ManagerApprovalRequired(
            f"A manager's PIN is needed to {doing}. Nothing was changed.", detail={"permission": perm.value}
        )
    if not approver.can(perm):
        raise ManagerApprovalRequired(
            f"{approver.name} cannot approve this; a manager's PIN is needed to {doing}. Nothing was changed.",
            detail={"permission": perm.value},
        )
    return approver.id or 0


def _require_editor(check: Check, actor: Staff, approver: Staff | None) -> int | None:
    if actor.id == check.server_id or actor.can(Perm.CHECKS_EDIT_ANY):
        return None
    return _authorise(actor, approver, Perm.CHECKS_EDIT_ANY, f"change check #{check.number}, which is not yours")


def clean_reason(reason: str | None, *, label: str = "The reason") -> str:
    """A reason as typed, trimmed (a card number in it masked), or a clear refusal."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(f"{label} is required; nothing was changed.")
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidInput(f"{label} is {len(text)} characters; the limit is {REASON_MAX_LENGTH}.")
    if any(ord(c) < 32 for c in text):
        raise InvalidInput(f"{label} contains control characters.")
    return mask_card_numbers(text)


def parse_cents(text: str | None, *, label: str, currency: str = "EUR", allow_zero: bool = False) -> int:
    """An amount a person typed ("12.50", "12,50", "€12.50") as cents, or a clear refusal."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(f"Enter {label.lower()}, like 12.50.")
    try:
        cents = Money.parse(raw, currency).cents
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}.") from None
    if cents < 0 or (cents == 0 and not allow_zero):
        raise InvalidInput(f"{label} must be more than zero." if not allow_zero else f"{label} cannot be negative.")
    return cents


def business_day(settings: Settings, moment: datetime) -> dt.date:
    """The trading day a moment belongs to: the day starts at the cutoff hour in the restaurant's time zone."""
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return (local - timedelta(hours=settings.business_day_cutoff_hour)).date()


async def _money_for_update(session: AsyncSession, check_id: int, expected_version: int | None = None) -> CheckMoney:
    check = await orders.get_check_for_update(session, check_id, expected_version)
    return await check_money(session, check)


class UnsentItems(Conflict):
    """Paying in full would leave items on the bill that the kitchen never heard of."""

    code = "unsent_items"


def _refuse_unsent(money: CheckMoney, *, confirmed: bool, nothing: str) -> None:
    """Paying a check in full with items never sent (or still held) is refused unless the request confirms it."""
    unsent = money.unsent_lines
    if not unsent or confirmed:
        return
    names = ", ".join(f"{line.name} (held)" if line.state is LineState.HELD else line.name for line in unsent[:6]) + (
        f" and {len(unsent) - 6} more" if len(unsent) > 6 else ""
    )
    count = f"{len(unsent)} item{'s' if len(unsent) != 1 else ''}"
    raise UnsentItems(
        f"{count} on check #{money.check.number} never went to the kitchen: {names}. Send them or void them "
        f"first, or confirm the guest pays for them unsent. {nothing}",
        detail={"unsent_line_ids": [line.id for line in unsent]},
    )


def _require_no_pending(money: CheckMoney) -> None:
    if money.pending:
        attempt = money.pending[0]
        raise Conflict(
            f"A payment of {_format(attempt.amount_cents + attempt.tip_cents, money.currency)} is still waiting "
            "for the terminal; resolve it first. Nothing was changed."
        )


# ---------------------------------------------------------------------------------------------- discounts, comps


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
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check, "discount it")
    _require_editor(check, actor, approver)
    approved_by = _authorise(actor, approver, Perm.DISCOUNT, "give a discount")
    reason = clean_reason(reason)
    try:
        kind = AdjustmentKind(kind)
    except ValueError:
        raise InvalidInput("Choose a percent or an amount discount.") from None
    discount = CheckDiscount(
        check_id=check.id or 0,
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
    await orders.bump_version(session, check, expected_version)
    session.add(discount)
    await session.flush()
    after = await _refuse_overpaid(session, check, money)
    await audit.record(
        session,
        "checks.discount",
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
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
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check)
    _require_editor(check, actor, approver)
    approved_by = _authorise(actor, approver, Perm.DISCOUNT, "take a discount off")
    discount = next((d for d in money.discounts if d.id == discount_id), None)
    if discount is None:
        raise NotFound("That discount is not on this check any more; reload the check.")
    await orders.bump_version(session, check, expected_version)
    discount.removed_at = utcnow()
    discount.removed_by = actor.id
    session.add(discount)
    await session.flush()
    await audit.record(
        session,
        "checks.discount_remove",
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
        reason=discount.reason,
        before={"discount_id": discount.id, "total": money.totals.total},
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
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check, "comp it")
    _require_editor(check, actor, approver)
    approved_by = _authorise(actor, approver, Perm.COMP, "comp")
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
    await orders.bump_version(session, check, expected_version)
    comp = CheckComp(
        check_id=check.id or 0, line_id=line_id, reason=reason, created_by=actor.id or 0, approved_by=approved_by
    )
    session.add(comp)
    await session.flush()
    after = await _refuse_overpaid(session, check, money)
    await audit.record(
        session,
        "checks.comp",
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
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
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check)
    _require_editor(check, actor, approver)
    approved_by = _authorise(actor, approver, Perm.COMP, "take a comp off")
    comp = next((c for c in money.comps if c.id == comp_id), None)
    if comp is None:
        raise NotFound("That comp is not on this check any more; reload the check.")
    await orders.bump_version(session, check, expected_version)
    comp.removed_at = utcnow()
    comp.removed_by = actor.id
    session.add(comp)
    await session.flush()
    await audit.record(
        session,
        "checks.comp_remove",
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
        reason=comp.reason,
        before={"comp_id": comp.id, "total": money.totals.total},
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
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check)
    _require_editor(check, actor, approver)
    approved_by = _authorise(actor, approver, Perm.DISCOUNT, "take the service charge off")
    reason = clean_reason(reason)
    if money.service_charge_percent is None:
        raise Conflict("This check has no service charge to take off.")
    await orders.bump_version(session, check, expected_version)
    waiver = ServiceChargeWaiver(
        check_id=check.id or 0, reason=reason, created_by=actor.id or 0, approved_by=approved_by
    )
    session.add(waiver)
    await session.flush()
    await audit.record(
        session,
        "checks.service_charge_waive",
        actor_id=actor.id,
        approver_id=approved_by if approved_by != actor.id else None,
        subject=f"check:{check.id}",
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


def _live_line(money: CheckMoney, line_id: int) -> CheckLine:
    line = next((line for line in money.lines if line.id == line_id), None)
    if line is None:
        raise NotFound(f"That item is not on check #{money.check.number} (any more); reload the check.")
    if line.state is LineState.VOIDED:
        raise Conflict(f"{line.name} is voided; it is not on the bill. Nothing was changed.")
    return line


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


# ---------------------------------------------------------------------------------------------- splits


def _require_line_split(money: CheckMoney, *, doing: str) -> None:
    check = money.check
    _require_open(check, doing)
    _require_no_pending(money)
    if money.payments:
        raise Conflict(
            f"Check #{check.number} already has payments; split what is left evenly or by amount instead. "
            "Nothing was changed."
        )
    if money.portions:
        raise Conflict(
            f"Check #{check.number} is already split into parts; undo that split first. Nothing was changed."
        )
    if money.check_discount or money.check_comp:
        raise Conflict(
            "Take the discount or comp off the whole check before splitting it, then give it to the checks you "
            "want. Nothing was changed."
        )


async def _new_split_check(session: AsyncSession, source: Check, actor: Staff) -> Check:
    """A check for a guest leaving `source`: the guest's cover goes with them, so the table keeps its headcount.

    The source keeps at least one cover; once it is down to one, the new check serves no one new (0 covers).
    """
    server = await session.get(Staff, source.server_id)
    if server is None:
        raise NotFound("The check's server is not on the staff list any more.")
    target = await seating.open_check(
        session,
        table_id=source.table_id,
        covers=1,
        server=server,
        kind=source.kind,
        tab_name=source.tab_name,
        actor=actor,
        split_from_id=source.id,
    )
    moving = 1 if source.covers > 1 else 0
    source.covers -= moving
    target.covers = moving
    # The party's guest and allergies go with every part of their check: food fired from a split still carries them.
    target.guest_id, target.guest_name, target.guest_allergies = (
        source.guest_id,
        source.guest_name,
        source.guest_allergies,
    )
    session.add(source)
    session.add(target)
    return target


async def _move(
    session: AsyncSession,
    lines: Sequence[CheckLine],
    source: Check,
    target: Check,
    actor: Staff,
    approver: Staff | None,
) -> list[dict[str, Any]]:
    seats = {line.id: line.seat for line in lines}
    moved = await seating.move_lines(
        session,
        line_ids=[line.id or 0 for line in lines],
        from_check_id=source.id or 0,
        to_check_id=target.id or 0,
        actor=actor,
        approver=approver,
        audit_action="checks.split_move",
    )
    for line in moved:
        # A split check serves one guest, but the guest keeps their seat number on the bill.
        line.seat = seats.get(line.id)
        session.add(line)
    return [{"line_id": line.id, "from_check_id": source.id, "to_check_id": target.id} for line in moved]


async def split_by_seat(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> list[Check]:
    """One check per seat: the lowest seat and the shared lines stay, every other seat moves to a check of its own."""
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_line_split(money, doing="split it")
    _require_editor(check, actor, approver)
    seats = sorted({line.seat for line in money.live_lines if line.seat is not None})
    if len(seats) < 2:
        raise InvalidInput("Only one seat has items on this check; there is nothing to split by seat.")
    await orders.bump_version(session, check, expected_version)
    created: list[Check] = []
    moves: list[dict[str, Any]] = []
    for seat in seats[1:]:
        target = await _new_split_check(session, check, actor)
        created.append(target)
        lines = [line for line in money.live_lines if line.seat == seat]
        moves.extend(await _move(session, lines, check, target, actor, approver))
    await _record_split(session, check, actor, SplitKind.SEAT, created=created, moves=moves)
    return [check, *created]


async def split_items(
    session: AsyncSession,
    *,
    check_id: int,
    line_ids: Sequence[int],
    actor: Staff,
    to_check_id: int | None = None,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> Check:
    """Move chosen items to a new check (or another open check of the same split); sent stays sent."""
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_line_split(money, doing="split it")
    _require_editor(check, actor, approver)
    ids = list(dict.fromkeys(line_ids))
    if not ids:
        raise InvalidInput("Choose the items to move to the other check.")
    lines = [_live_line(money, line_id) for line_id in ids]
    if len(lines) == len(money.live_lines) and to_check_id is None:
        raise InvalidInput("Leave at least one item on this check; moving everything is not a split.")
    await orders.bump_version(session, check, expected_version)
    created: list[Check] = []
    if to_check_id is None:
        target = await _new_split_check(session, check, actor)
        created.append(target)
    else:
        target = await _split_target(session, check, to_check_id)
    moves = await _move(session, lines, check, target, actor, approver)
    await _record_split(session, check, actor, SplitKind.ITEMS, created=created, moves=moves)
    return target


async def _split_target(session: AsyncSession, check: Check, target_id: int) -> Check:
    members = {member.id: member for member in await family(session, check)}
    if target_id == check.id:
        raise InvalidInput("Choose another check to move the items to.")
    if target_id not in members:
        raise InvalidInput(f"Check {target_id} is not part of this split; choose one of its checks.")
    target = await orders.get_check_for_update(session, target_id)
    target_money = await check_money(session, target)
    _require_open(target, "add to it")
    if target_money.payments or target_money.pending or target_money.portions:
        raise Conflict(f"Check #{target.number} already has payments or parts; choose another. Nothing was changed.")
    return target


async def share_item(
    session: AsyncSession,
    *,
    check_id: int,
    line_id: int,
    actor: Staff,
    ways: int | None = None,
    check_ids: Sequence[int] | None = None,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> list[CheckLine]:
    """Share one item N ways: N lines of 1/N whose prices add up exactly to the item's, one per chosen check.

    With `check_ids` each share goes to one of those checks of the same split; otherwise all N shares stay on
    this check to be moved later. The kitchen hears nothing: the shares point back at the original line.
    """
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_line_split(money, doing="share an item")
    _require_editor(check, actor, approver)
    line = _live_line(money, line_id)
    if money.line_discount(line_id) or money.line_comp(line_id):
        raise Conflict(
            f"{line.name} has a discount or comp; take it off before sharing, then give it to the shares. "
            "Nothing was changed."
        )
    targets: list[Check] = []
    if check_ids:
        wanted = list(dict.fromkeys(check_ids))
        if len(wanted) < 2:
            raise InvalidInput("Choose at least two checks to share the item between.")
        for target_id in wanted:
            targets.append(check if target_id == check.id else await _split_target(session, check, target_id))
        count = len(targets)
    else:
        if ways is None or isinstance(ways, bool) or not 2 <= ways <= MAX_WAYS:
            raise InvalidInput(f"Share an item between 2 and {MAX_WAYS} guests.")
        count = ways
    try:
        shares = calc.share_line(line.quantity, count, unit_price=line.unit_total_cents, currency=money.currency)
    except ValueError as exc:
        raise InvalidInput(f"{exc}; nothing was changed.") from None
    await orders.bump_version(session, check, expected_version)
    for target in targets:
        if target.id != check.id:
            await orders.bump_version(session, target, None)
    original = {"quantity_num": line.quantity_num, "quantity_den": line.quantity_den, "check_id": line.check_id}
    modifiers = list((await session.exec(select(LineModifier).where(LineModifier.line_id == line.id))).all())
    line.quantity_num, line.quantity_den = shares[0].numerator, shares[0].denominator
    if targets and targets[0].id != check.id:
        line.check_id = targets[0].id or 0
    session.add(line)
    created: list[CheckLine] = [line]
    for index, share in enumerate(shares[1:], start=1):
        data = line.model_dump(exclude={"id"})
        copy = CheckLine(
            **{
                **data,
                "quantity_num": share.numerator,
                "quantity_den": share.denominator,
                "origin_line_id": line.origin_line_id or line.id,
                "check_id": (targets[index].id if targets else check.id) or 0,
            }
        )
        session.add(copy)
        await session.flush()
        for modifier in modifiers:
            session.add(LineModifier(**{**modifier.model_dump(exclude={"id"}), "line_id": copy.id or 0}))
        created.append(copy)
    await session.flush()
    share_record = {
        "line_id": line.id,
        **original,
        "new_line_ids": [copy.id for copy in created[1:]],
    }
    await _record_split(session, check, actor, SplitKind.SHARE, shares=[share_record])
    return created


async def split_evenly(
    session: AsyncSession,
    *,
    check_id: int,
    ways: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> list[CheckPortion]:
    """Split what is left to pay into N parts at most a cent apart; each part pays and gets its receipt on its own."""
    if isinstance(ways, bool) or not isinstance(ways, int) or not 2 <= ways <= MAX_WAYS:
        raise InvalidInput(f"Split a check between 2 and {MAX_WAYS} guests.")
    return await _portion_split(session, check_id, [1] * ways, SplitKind.EVEN, actor, expected_version, approver)


async def split_by_amounts(
    session: AsyncSession,
    *,
    check_id: int,
    amounts: Sequence[int],
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> list[CheckPortion]:
    """Split what is left to pay into the amounts the guests chose; they must add up to it exactly."""
    if not 2 <= len(amounts) <= MAX_WAYS:
        raise InvalidInput(f"Enter between 2 and {MAX_WAYS} amounts.")
    if any(amount <= 0 for amount in amounts):
        raise InvalidInput("Every part of a split must be more than zero.")
    return await _portion_split(session, check_id, list(amounts), SplitKind.AMOUNT, actor, expected_version, approver)


async def _portion_split(
    session: AsyncSession,
    check_id: int,
    weights: list[int],
    kind: SplitKind,
    actor: Staff,
    expected_version: int | None,
    approver: Staff | None,
) -> list[CheckPortion]:
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check, "split it")
    _require_editor(check, actor, approver)
    _require_no_pending(money)
    if money.portions:
        raise Conflict("This check is already split into parts; undo that split first. Nothing was changed.")
    due = money.due
    if due <= 0:
        raise Conflict("Nothing is left to pay on this check; there is nothing to split.")
    if kind is SplitKind.AMOUNT:
        try:
            calc.split_by_amounts(due, weights, currency=money.currency)
        except ValueError as exc:
            raise InvalidInput(f"{exc}. Nothing was changed.") from None
    elif due < len(weights):
        raise InvalidInput(f"{_format(due, money.currency)} cannot be split {len(weights)} ways.")
    await orders.bump_version(session, check, expected_version)
    split = await _record_split(session, check, actor, kind)
    portions = [
        CheckPortion(check_id=check.id or 0, split_id=split.id or 0, position=index, weight=weight)
        for index, weight in enumerate(weights, start=1)
    ]
    for portion in portions:
        session.add(portion)
    await session.flush()
    return portions


async def _record_split(
    session: AsyncSession,
    check: Check,
    actor: Staff,
    kind: SplitKind,
    *,
    created: Sequence[Check] = (),
    moves: Sequence[dict[str, Any]] = (),
    shares: Sequence[dict[str, Any]] = (),
) -> CheckSplitRow:
    root = await root_of(session, check)
    row = CheckSplitRow(
        root_check_id=root.id or 0,
        check_id=check.id or 0,
        kind=kind,
        new_check_ids=[c.id or 0 for c in created],
        moves=list(moves),
        shares=list(shares),
        created_by=actor.id or 0,
    )
    session.add(row)
    await session.flush()
    members = await family(session, check)
    open_ids = tuple(m.id or 0 for m in members if m.status is CheckStatus.OPEN)
    await audit.record(
        session,
        "checks.split",
        actor_id=actor.id,
        subject=f"check:{check.id}",
        after={
            "split_id": row.id,
            "kind": kind.value,
            "new_check_ids": row.new_check_ids,
            "moved_line_ids": [m["line_id"] for m in moves],
            "shares": [{"line_id": s["line_id"], "new_line_ids": s["new_line_ids"]} for s in shares],
        },
    )
    await emit(session, CheckSplit(root_check_id=root.id or 0, check_ids=open_ids, table_id=check.table_id))
    return row


async def undo_split(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckSplitRow:
    """Undo the newest split of this check's family, exactly, while nothing in it is paid."""
    check = await orders.get_check_for_update(session, check_id, expected_version)
    _require_open(check, "undo its split")
    _require_editor(check, actor, approver)
    root = await root_of(session, check)
    split = await latest_split(session, root.id or 0)
    if split is None:
        raise InvalidInput("This check has no split to undo.")
    members = await family(session, check)
    for member in members:
        member_money = await check_money(session, member)
        if member_money.payments or member_money.pending or member.status is not CheckStatus.OPEN:
            raise Conflict(
                f"Check #{member.number} of this split is already paid (or being paid); a split cannot be undone "
                "once money is taken. Nothing was changed."
            )
    await orders.bump_version(session, check, expected_version)
    if split.kind in (SplitKind.EVEN, SplitKind.AMOUNT):
        portions = (
            await session.exec(
                select(CheckPortion).where(CheckPortion.split_id == split.id, col(CheckPortion.removed_at).is_(None))
            )
        ).all()
        for portion in portions:
            portion.removed_at = utcnow()
            session.add(portion)
    for share in split.shares:
        await _unshare(session, share)
    moved_ids = {move["line_id"] for move in split.moves}
    for move in reversed(split.moves):
        line = await session.get(CheckLine, move["line_id"])
        if line is None:
            continue
        if line.check_id != move["to_check_id"]:
            raise Conflict(f"{line.name} was moved again since the split; undo the newer move first.")
        line.check_id = move["from_check_id"]
        session.add(line)
    await session.flush()
    origin = check if check.id == split.check_id else await orders.get_check_for_update(session, split.check_id)
    for new_id in split.new_check_ids:
        new_check = await orders.get_check_for_update(session, new_id)
        leftovers = (
            await session.exec(
                select(CheckLine).where(CheckLine.check_id == new_id, col(CheckLine.id).not_in(moved_ids))
            )
        ).all()
        if leftovers:
            raise Conflict(
                f"Check #{new_check.number} has items rung in since the split; move them first. Nothing was changed."
            )
        # The guests who left with the split come back to the check they left.
        origin.covers += new_check.covers
        new_check.covers = 0
        new_check.status = CheckStatus.MERGED
        new_check.merged_into_id = split.check_id
        new_check.closed_at = utcnow()
        new_check.version += 1
        session.add(new_check)
    session.add(origin)
    split.undone_at = utcnow()
    split.undone_by = actor.id
    session.add(split)
    await session.flush()
    remaining = await family(session, check)
    await audit.record(
        session,
        "checks.split_undo",
        actor_id=actor.id,
        subject=f"check:{split.check_id}",
        before={"split_id": split.id, "kind": split.kind.value, "new_check_ids": split.new_check_ids},
    )
    await emit(
        session,
        CheckSplit(
            root_check_id=root.id or 0,
            check_ids=tuple(m.id or 0 for m in remaining if m.status is CheckStatus.OPEN),
            table_id=check.table_id,
        ),
    )
    return split


async def _unshare(session: AsyncSession, share: dict[str, Any]) -> None:
    line = await session.get(CheckLine, share["line_id"])
    if line is None:
        raise Conflict("A shared item is missing; the split cannot be undone.")
    for new_id in share["new_line_ids"]:
        copy = await session.get(CheckLine, new_id)
        if copy is None:
            continue
        if copy.state is LineState.VOIDED and line.state is not LineState.VOIDED:
            raise Conflict(f"A share of {line.name} was voided since; the split cannot be undone.")
        adjusted = (
            await session.exec(
                select(CheckDiscount.id).where(CheckDiscount.line_id == new_id, col(CheckDiscount.removed_at).is_(None))
            )
        ).first() or (
            await session.exec(
                select(CheckComp.id).where(CheckComp.line_id == new_id, col(CheckComp.removed_at).is_(None))
            )
        ).first()
        if adjusted is not None:
            raise Conflict(f"A share of {line.name} has a discount or comp; take it off to undo the split.")
        for modifier in (await session.exec(select(LineModifier).where(LineModifier.line_id == new_id))).all():
            await session.delete(modifier)
        await session.flush()
        await session.delete(copy)
    line.quantity_num = share["quantity_num"]
    line.quantity_den = share["quantity_den"]
    line.check_id = share["check_id"]
    session.add(line)
    await session.flush()


# ---------------------------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentRequest:
    """What the server asked for on the pay screen."""

    check_id: int
    tender_id: int
    actor: Staff
    idempotency_key: str
    amount_cents: int | None = None
    tip_cents: int = 0
    tendered_cents: int | None = None
    portion_id: int | None = None
    expected_version: int | None = None
    device_id: int | None = None
    # The server saw that some items were never sent and chose to take the payment anyway.
    unsent_confirmed: bool = False
    # The house account (charge account) to charge, when the tender is a house account.
    house_account_id: int | None = None
    # The gift card's number, scanned or typed, when the tender is a gift card.
    gift_card_number: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """What became of a payment request: the attempt, its payment if taken, and whether the check closed."""

    attempt: PaymentAttempt
    payment: Payment | None
    closed: bool
    repeated: bool = False
    # The check's money as the payment left it, when this request booked it: the page that answers shows it as is.
    money: CheckMoney | None = field(default=None, compare=False, repr=False)

    @property
    def message(self) -> str:
        """What the server reads after tapping Pay."""
        attempt = self.attempt
        if self.repeated and attempt.status is AttemptStatus.PENDING:
            return "That payment is already on its way to the terminal; nothing was charged twice."
        if self.repeated:
            return "That payment was already recorded; nothing was charged twice."
        if attempt.status is AttemptStatus.DECLINED:
            return f"Declined: {attempt.message or 'the card was declined'}. Nothing was charged; try another card."
        if attempt.status is AttemptStatus.FAILED:
            return f"The terminal never took this payment ({attempt.message}). Nothing was charged."
        if attempt.status is AttemptStatus.PENDING:
            return (
                "The terminal did not answer. Do not charge again: check the terminal, then tap Resolve "
                "(the app will also ask it by itself)."
            )
        if self.payment is not None and self.payment.change_cents:
            change = Money(self.payment.change_cents).format()
            return f"Change due {change}." + (" Check closed." if self.closed else "")
        return "Payment taken." + (" Check closed." if self.closed else "")


async def take_payment(db: Database, terminal: PaymentTerminal, request: PaymentRequest) -> PaymentOutcome:
    """Take a payment: record the attempt, ask the terminal if the tender uses one, record what it said.

    The same idempotency key twice (a double tap, a retried request) is one payment: the repeat finds the first
    attempt under the check's lock and answers with it.
    """
    try:
        async with db.write() as session:
            begun = await _begin_payment(session, request)
    except (IntegrityError, _TwinPayment):
        repeated = await _existing_attempt(db, request)
        if repeated is None:
            raise
        return repeated
    if begun.outcome is not None:
        return begun.outcome
    attempt = begun.attempt
    result = await _ask_terminal(terminal, attempt, db_currency(db))
    async with db.write() as session:
        await _settle_recovery(session, attempt, result)
        return await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name, tender=begun.tender)


async def _existing_attempt(db: Database, request: PaymentRequest) -> PaymentOutcome | None:
    async with db.read() as session:
        attempt = (
            await session.exec(select(PaymentAttempt).where(PaymentAttempt.idempotency_key == request.idempotency_key))
        ).first()
        if attempt is None:
            return None
        if attempt.check_id != request.check_id or attempt.tender_id != request.tender_id:
            raise IdempotencyMismatch(
                "This payment was already sent with different details; reload the page and try again."
            )
        outcome = await _outcome_for(session, attempt)
    return PaymentOutcome(outcome.attempt, outcome.payment, outcome.closed, repeated=True)


async def _outcome_for(session: AsyncSession, attempt: PaymentAttempt) -> PaymentOutcome:
    payment = (await session.exec(select(Payment).where(Payment.attempt_id == attempt.id))).first()
    check = await session.get(Check, attempt.check_id)
    return PaymentOutcome(attempt, payment, closed=bool(check and check.status is CheckStatus.CLOSED))


def _booked(attempt: PaymentAttempt, payment: Payment, money: CheckMoney) -> PaymentOutcome:
    return PaymentOutcome(attempt, payment, closed=money.check.status is CheckStatus.CLOSED, money=money)


class _TwinPayment(Exception):
    """The same payment form arrived twice at once; the twin that waited for the check answers as a repeat."""


@dataclass(frozen=True)
class _Begun:
    """An attempt just recorded, with its tender; its outcome too when no terminal had to be asked."""

    attempt: PaymentAttempt
    tender: Tender
    outcome: PaymentOutcome | None = None


async def _begin_payment(session: AsyncSession, request: PaymentRequest) -> _Begun:
    check = await orders.get_check_for_update(session, request.check_id)
    # Looked up under the check's lock: a double tap's twin waited here for the first tap to commit, and must
    # answer as that payment, not as a stale check or a payment "still waiting for the terminal". A retried
    # request finds its payment here too.
    twin = await session.exec(
        select(PaymentAttempt.id).where(PaymentAttempt.idempotency_key == request.idempotency_key)
    )
    if twin.first() is not None:
        raise _TwinPayment
    money = await check_money(session, check)
    _require_open(check, "take a payment")
    _require_no_pending(money)
    tender = await session.get(Tender, request.tender_id)
    if tender is None or tender.archived_at is not None:
        raise InvalidInput("That way of paying is not set up; choose another tender.")
    currency = money.currency
    due = money.due
    if due <= 0:
        raise Conflict(f"Check #{check.number} is already paid in full; close it instead. Nothing was charged.")
    target = due
    portion = None
    if request.portion_id is not None:
        portion = money.portion(request.portion_id)
        if portion is None:
            raise InvalidInput("That part of the split is not on this check any more; reload the check.")
        if portion.remaining <= 0:
            raise Conflict(f"{portion.label} is already paid. Nothing was charged.")
        target = min(portion.remaining, due)
    tip = request.tip_cents
    if tip < 0:
        raise InvalidInput("A tip cannot be negative.")
    if tip and not tender.allows_tip:
        raise InvalidInput(f"Tips are not taken on {tender.name}; cash tips are declared at checkout.")
    if tender.kind is TenderKind.HOUSE_ACCOUNT and request.house_account_id is None:
        raise InvalidInput("Choose the house account to charge. Nothing was charged.")
    if tender.kind is TenderKind.GIFT_CARD and not (request.gift_card_number or "").strip():
        raise InvalidInput("Scan or type the gift card's number. Nothing was charged.")
    tendered: int | None = None
    change = 0
    if tender.kind is TenderKind.CASH:
        tendered = request.tendered_cents if request.tendered_cents is not None else request.amount_cents
        if tendered is None or tendered <= 0:
            raise InvalidInput("Enter the cash the guest handed over.")
        amount = min(tendered, target)
        change = calc.change_due(target, tendered)
    else:
        amount = request.amount_cents if request.amount_cents is not None else target
        if amount <= 0:
            raise InvalidInput("The amount to pay must be more than zero.")
        if amount > target:
            what = portion.label if portion else f"check #{check.number}"
            raise InvalidInput(
                f"{_format(amount, currency)} is more than the {_format(target, currency)} due on {what}; "
                f"{tender.name} cannot be charged more than is due"
                + (" (add the extra as a tip)." if tender.allows_tip else ".")
                + " Nothing was charged."
            )
    if tip > max(amount, 1) * 2:
        raise InvalidInput(
            f"A tip of {_format(tip, currency)} on {_format(amount, currency)} looks like a typing mistake; "
            "check it. Nothing was charged."
        )
    if amount >= due:
        _refuse_unsent(money, confirmed=request.unsent_confirmed, nothing="Nothing was charged.")
    await orders.bump_version(session, check, request.expected_version)
    attempt = PaymentAttempt(
        kind=AttemptKind.CHARGE,
        check_id=check.id or 0,
        portion_id=request.portion_id,
        tender_id=tender.id or 0,
        reference=_new_reference(),
        idempotency_key=request.idempotency_key,
        amount_cents=amount,
        tip_cents=tip,
        tendered_cents=tendered,
        requested_by=request.actor.id or 0,
        device_id=request.device_id,
    )
    if not tender.uses_terminal:
        attempt.status = AttemptStatus.APPROVED
        attempt.resolved_at = utcnow()
    session.add(attempt)
    await session.flush()
    if tender.uses_terminal:
        _owe_recovery(session, attempt)
        return _Begun(attempt, tender)
    payment, paid = await _book_payment(session, attempt, tender, change_cents=change, result=None, held=money)
    if tender.kind is TenderKind.HOUSE_ACCOUNT:
        # Refused (and the whole payment with it) when the account is closed or the charge passes its limit.
        await house_accounts.charge(
            session,
            account_id=request.house_account_id,
            amount_cents=payment.amount_cents + payment.tip_cents,
            check_id=payment.check_id,
            check_number=check.number,
            payment_id=payment.id or 0,
            receivable_code=tender.ledger_account_code,
            actor_id=payment.taken_by,
        )
        payment.house_account_id = request.house_account_id
        session.add(payment)
    if tender.kind is TenderKind.GIFT_CARD:
        # Refused (and the whole payment with it) when the card cannot pay this much.
        await emit(
            session,
            GiftCardCharged(
                check_id=payment.check_id,
                payment_id=payment.id or 0,
                card_number=request.gift_card_number or "",
                amount_cents=payment.amount_cents + payment.tip_cents,
                staff_id=payment.taken_by,
            ),
        )
    return _Begun(attempt, tender, _booked(attempt, payment, paid))


def db_currency(db: Database) -> str:
    """The currency the database's restaurant trades in."""
    settings = db.context.get("settings")
    return settings.currency if isinstance(settings, Settings) else "EUR"


def _new_reference() -> str:
    return f"BRG-{uuid.uuid4().hex[:20].upper()}"


def _recovery_key(attempt_id: int | None) -> str:
    return f"{RECOVERY_TOPIC}:{attempt_id}"


def _owe_recovery(session: AsyncSession, attempt: PaymentAttempt) -> None:
    # Committed with the attempt: if this process dies mid-payment, any process will ask the terminal later. The
    # row is written as it is, not through enqueue(): an attempt just made cannot owe one already (no dedupe
    # lookup), and nothing needs waking for a message that falls due only after RECOVERY_DELAY.
    session.add(
        OutboxMessage(
            topic=RECOVERY_TOPIC,
            payload={"attempt_id": attempt.id},
            dedupe_key=_recovery_key(attempt.id),
            available_at=utcnow() + RECOVERY_DELAY,
        )
    )


async def _settle_recovery(session: AsyncSession, attempt: PaymentAttempt, result: TerminalResult) -> None:
    """The terminal answered, and this transaction records it: the recovery the attempt owes is owed no more.

    Marked delivered with the answer instead of being claimed and delivered later only to find nothing pending.
    Run before the attempt is locked, the order in which a worker delivering that recovery takes the same two
    rows, so on PostgreSQL the two never wait for each other in a circle.
    """
    if result.outcome is TerminalOutcome.TIMED_OUT:
        return
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.dedupe_key) == _recovery_key(attempt.id), col(OutboxMessage.delivered_at).is_(None))
        .values(delivered_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def _ask_terminal(terminal: PaymentTerminal, attempt: PaymentAttempt, currency: str) -> TerminalResult:
    try:
        if attempt.kind is AttemptKind.REFUND:
            return await terminal.refund(
                reference=attempt.reference,
                original_reference=attempt.original_reference or "",
                amount_cents=attempt.amount_cents,
                currency=currency,
            )
        return await terminal.charge(
            reference=attempt.reference,
            amount_cents=attempt.amount_cents,
            tip_cents=attempt.tip_cents,
            currency=currency,
        )
    except (TerminalError, OSError, TimeoutError) as exc:
        log.warning("terminal %s did not answer for %s: %s", terminal.name, attempt.reference, exc)
        return TerminalResult(TerminalOutcome.TIMED_OUT, attempt.reference, message=str(exc)[:150])


def _answer(result: TerminalResult, terminal_name: str) -> dict[str, Any]:
    """What a terminal's answer writes on a pending attempt; no answer (a timeout) leaves it pending."""
    values: dict[str, Any] = {"terminal": terminal_name[:40]}
    if result.outcome is TerminalOutcome.TIMED_OUT:
        values["message"] = (result.message or "The terminal did not answer")[:200]
        return values
    values["resolved_at"] = utcnow()
    if result.outcome is TerminalOutcome.NOT_FOUND:
        values["status"] = AttemptStatus.FAILED
        values["message"] = (result.message or "the terminal never received it")[:200]
    elif result.outcome is TerminalOutcome.DECLINED:
        values["status"] = AttemptStatus.DECLINED
        values["message"] = (result.message or "Declined")[:200]
    else:
        values["status"] = AttemptStatus.APPROVED
        values["message"] = None
    return values


async def _record_result(
    session: AsyncSession,
    attempt_id: int,
    result: TerminalResult,
    *,
    terminal_name: str,
    tender: Tender | None = None,
) -> PaymentOutcome:
    """Record the terminal's answer on a pending attempt; `tender` is the attempt's, when the caller holds it."""
    # Only a pending attempt takes an answer: one conditional UPDATE locks it, records the answer and says whether
    # it was still pending (another process may have resolved it meanwhile).
    recorded = await session.exec(
        update(PaymentAttempt)
        .where(col(PaymentAttempt.id) == attempt_id, col(PaymentAttempt.status) == AttemptStatus.PENDING)
        .values(**_answer(result, terminal_name))
        .returning(PaymentAttempt)
    )
    attempt = recorded.scalars().first()
    if attempt is None:
        attempt = await session.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise NotFound("That payment attempt does not exist.")
        return await _outcome_for(session, attempt)
    if result.outcome is TerminalOutcome.TIMED_OUT:
        return await _outcome_for(session, attempt)
    if attempt.kind is AttemptKind.REFUND:
        await _finish_refund(session, attempt, result)
        return await _outcome_for(session, attempt)
    if attempt.status is AttemptStatus.APPROVED:
        if tender is None or tender.id != attempt.tender_id:
            tender = await session.get(Tender, attempt.tender_id)
        assert tender is not None
        payment, money = await _book_payment(session, attempt, tender, change_cents=0, result=result)
        return _booked(attempt, payment, money)
    else:
        await audit.record(
            session,
            "checks.payment_declined" if attempt.status is AttemptStatus.DECLINED else "checks.payment_failed",
            actor_id=attempt.requested_by,
            subject=f"check:{attempt.check_id}",
            reason=attempt.message,
            after={"attempt_id": attempt.id, "amount_cents": attempt.amount_cents, "tip_cents": attempt.tip_cents},
        )
    return await _outcome_for(session, attempt)


async def _book_payment(
    session: AsyncSession,
    attempt: PaymentAttempt,
    tender: Tender,
    *,
    change_cents: int,
    result: TerminalResult | None,
    held: CheckMoney | None = None,
) -> tuple[Payment, CheckMoney]:
    """Book an approved attempt as a payment and close the check if that paid it; the payment and the check's money.

    `held` is the check's money as this transaction already locked and priced it, before this payment.
    """
    settings = settings_of(session)
    now = utcnow()
    payment = Payment(
        check_id=attempt.check_id,
        portion_id=attempt.portion_id,
        tender_id=tender.id or 0,
        attempt_id=attempt.id,
        amount_cents=attempt.amount_cents,
        tip_cents=attempt.tip_cents,
        tendered_cents=attempt.tendered_cents,
        change_cents=change_cents,
        processor_reference=result.processor_reference if result else None,
        card_brand=result.card_brand if result else None,
        card_last4=result.card_last4 if result else None,
        auth_code=result.auth_code if result else None,
        business_day=business_day(settings, now),
        taken_by=attempt.requested_by,
        device_id=attempt.device_id,
        taken_at=now,
    )
    session.add(payment)
    await session.flush()
    await audit.record(
        session,
        "checks.payment",
        actor_id=attempt.requested_by,
        subject=f"check:{attempt.check_id}",
        after={
            "payment_id": payment.id,
            "tender": tender.name,
            "amount_cents": payment.amount_cents,
            "tip_cents": payment.tip_cents,
            "change_cents": payment.change_cents,
            "reference": attempt.reference,
        },
    )
    await emit(
        session,
        PaymentTaken(
            check_id=payment.check_id,
            payment_id=payment.id or 0,
            amount_cents=payment.amount_cents,
            tip_cents=payment.tip_cents,
        ),
    )
    if tender.kind is TenderKind.CASH:
        # Refused (and the whole payment with it) when no drawer is open to put the cash in.
        await emit(
            session,
            CashHandled(
                check_id=payment.check_id,
                device_id=payment.device_id,
                staff_id=payment.taken_by,
                amount_cents=payment.amount_cents + payment.tip_cents,
                payment_id=payment.id,
            ),
        )
    if tender.opens_drawer:
        await _kick_drawer(session, attempt.device_id, reference=f"payment:{payment.id}")
    if held is not None:
        money = with_payment(held, payment, tender)
    else:
        money = await check_money(session, await orders.get_check_for_update(session, attempt.check_id))
    check = money.check
    check.version += 1
    session.add(check)
    if check.status is CheckStatus.OPEN and money.due <= 0 and not money.pending:
        # requested_by is a staff row's id (a foreign key; staff are archived, never deleted)
        await _close(session, money, actor_id=attempt.requested_by)
    return payment, money


async def _kick_drawer(session: AsyncSession, device_id: int | None, *, reference: str) -> None:
    # The drawer is a convenience; a missing printer must never refuse the guest's money.
    try:
        printer = await printing.receipt_printer(session, device_id)
        data = render_drawer_kick(printing.profile_for(printer))
        await printing.queue(session, printer, data, kind="drawer_kick", reference=reference, open_drawer=True)
    except DomainError as exc:
        log.warning("cash drawer not opened for %s: %s", reference, exc.message)


async def resolve_attempt(db: Database, terminal: PaymentTerminal, attempt_id: int) -> PaymentOutcome:
    """Ask the terminal what became of a pending attempt and record it (a person tapped Resolve)."""
    async with db.read() as session:
        attempt = await session.get(PaymentAttempt, attempt_id)
        if attempt is None:
            raise NotFound("That payment attempt does not exist.")
        if attempt.status is not AttemptStatus.PENDING:
            return await _outcome_for(session, attempt)
    result = await _lookup(terminal, attempt.reference)
    async with db.write() as session:
        await _settle_recovery(session, attempt, result)
        return await _record_result(session, attempt_id, result, terminal_name=terminal.name)


async def _lookup(terminal: PaymentTerminal, reference: str) -> TerminalResult:
    try:
        return await terminal.lookup(reference)
    except (TerminalError, OSError, TimeoutError) as exc:
        return TerminalResult(TerminalOutcome.TIMED_OUT, reference, message=str(exc)[:150])


async def recover_pending_attempts(
    db: Database, terminal: PaymentTerminal, *, older_than: timedelta = timedelta(0)
) -> list[PaymentOutcome]:
    """After a restart: settle every attempt still pending by asking the terminal about its reference."""
    cutoff = utcnow() - older_than
    async with db.read() as session:
        pending = (
            await session.exec(
                select(PaymentAttempt.id)
                .where(PaymentAttempt.status == AttemptStatus.PENDING, PaymentAttempt.requested_at <= cutoff)
                .order_by(col(PaymentAttempt.id))
            )
        ).all()
    return [await resolve_attempt(db, terminal, attempt_id or 0) for attempt_id in pending]


def recovery_deliverer(terminal_for: Any) -> Any:
    """The outbox deliverer that resolves a pending attempt when its recovery message falls due."""

    async def deliver(session: AsyncSession, message: OutboxMessage) -> None:
        attempt = await session.get(PaymentAttempt, int(message.payload["attempt_id"]))
        if attempt is None or attempt.status is not AttemptStatus.PENDING:
            return
        terminal: PaymentTerminal = terminal_for()
        result = await _lookup(terminal, attempt.reference)
        if result.outcome is TerminalOutcome.TIMED_OUT:
            raise RetryLater(f"terminal {terminal.name} did not answer about {attempt.reference}", delay=30.0)
        await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name)

    return deliver


# ---------------------------------------------------------------------------------------------- tips


async def adjust_tip(
    db: Database,
    terminal: PaymentTerminal,
    *,
    payment_id: int,
    tip_cents: int,
    actor: Staff,
    approver: Staff | None = None,
) -> Payment:
    """Change the tip on a card payment before the business day closes; the terminal is told first."""
    if isinstance(tip_cents, bool) or tip_cents < 0:
        raise InvalidInput("A tip cannot be negative.")
    async with db.read() as session:
        payment, tender = await _tippable(session, payment_id, tip_cents, actor, approver)
        reference = await _charge_reference(session, payment)
    if tender.uses_terminal and reference:
        try:
            result = await terminal.adjust_tip(original_reference=reference, tip_cents=tip_cents)
        except (TerminalError, OSError, TimeoutError):
            raise Conflict("The terminal did not answer; the tip was not changed. Try again.") from None
        if result.outcome is not TerminalOutcome.APPROVED:
            raise Conflict(f"The terminal refused the new tip ({result.message}); the tip was not changed.")
    async with db.write() as session:
        payment, tender = await _tippable(session, payment_id, tip_cents, actor, approver)
        approved_by = _authorise(actor, approver, Perm.TIPS_ADJUST, "change a tip")
        before = payment.tip_cents
        payment.tip_cents = tip_cents
        payment.tip_adjusted_at = utcnow()
        payment.tip_adjusted_by = actor.id
        session.add(payment)
        await audit.record(
            session,
            "checks.tip_adjust",
            actor_id=actor.id,
            approver_id=approved_by if approved_by != actor.id else None,
            subject=f"check:{payment.check_id}",
            before={"payment_id": payment.id, "tip_cents": before},
            after={"payment_id": payment.id, "tip_cents": tip_cents},
        )
        await enqueue(
            session,
            TIP_ADJUSTED_TOPIC,
            {"check_id": payment.check_id, "payment_id": payment.id, "tip_cents": tip_cents, "previous": before},
            dedupe_key=f"{TIP_ADJUSTED_TOPIC}:{payment.id}:{payment.tip_adjusted_at.isoformat()}",
        )
        return payment


async def _tippable(
    session: AsyncSession, payment_id: int, tip_cents: int, actor: Staff, approver: Staff | None
) -> tuple[Payment, Tender]:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("That payment does not exist.")
    tender = await session.get(Tender, payment.tender_id)
    assert tender is not None
    _authorise(actor, approver, Perm.TIPS_ADJUST, "change a tip")
    if not tender.allows_tip:
        raise InvalidInput(f"Tips are not taken on {tender.name}.")
    if tender.kind is TenderKind.HOUSE_ACCOUNT:
        raise InvalidInput(
            "A house account charge's tip is set when it is charged (it is on the customer's statement); "
            "refund the charge and charge the account again to change it."
        )
    if payment.tips_locked_at is not None:
        raise Conflict("The business day of this payment is closed; its tip can no longer change.")
    if payment.refunded_cents:
        raise Conflict("This payment was refunded; its tip can no longer change.")
    if tip_cents > max(payment.amount_cents, 1) * 2:
        raise InvalidInput(f"A tip of {_format(tip_cents)} looks like a typing mistake; check it.")
    return payment, tender


async def lock_tips(session: AsyncSession, day: dt.date) -> int:
    """The business day is closing: tips on its payments can no longer be adjusted. Returns how many were locked."""
    now = utcnow()
    payments = (
        await session.exec(select(Payment).where(Payment.business_day == day, col(Payment.tips_locked_at).is_(None)))
    ).all()
    for payment in payments:
        payment.tips_locked_at = now
        session.add(payment)
    return len(payments)


# ---------------------------------------------------------------------------------------------- the table


async def clear_table(session: AsyncSession, *, check_id: int, actor: Staff) -> Check:
    """The paid table is bussed; refused while another check on it (a split's) is still open."""
    check = await load_check(session, check_id)
    others = [c for c in await open_checks_on_table(session, check.table_id) if c.id != check.id]
    if others:
        numbers = ", ".join(f"#{c.number}" for c in others)
        raise Conflict(
            f"The table still has check{'s' if len(others) != 1 else ''} {numbers} open; clear it once the last "
            "check is paid. Nothing was changed."
        )
    return await seating.clear_table(session, check_id, actor)


# ---------------------------------------------------------------------------------------------- unsent items


async def send_unsent(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> int:
    """The guest is paying: send every item the kitchen has not had, held courses too. Returns how many."""
    money = await _money_for_update(session, check_id, expected_version)
    _require_open(money.check, "send its items")
    unsent = money.unsent_lines
    if not unsent:
        raise InvalidInput("Every item on this check is already with the kitchen.")
    version = expected_version
    for course in sorted({line.course for line in unsent}, key=lambda c: c.order):
        await firing.fire_course(
            session, check_id=check_id, course=course, actor=actor, expected_version=version, approver=approver
        )
        version = None
    return len(unsent)


async def void_unsent(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> int:
    """Take every item the kitchen never had off the bill (nothing reaches the kitchen). Returns how many."""
    money = await _money_for_update(session, check_id, expected_version)
    _require_open(money.check, "void its items")
    unsent = money.unsent_lines
    if not unsent:
        raise InvalidInput("There are no unsent items on this check.")
    version = expected_version
    for line in unsent:
        await voids.void_line(
            session,
            check_id=check_id,
            line_id=line.id or 0,
            actor=actor,
            expected_version=version,
            reason="Not sent to the kitchen; taken off before payment",
            approver=approver,
        )
        version = None
    return len(unsent)


# ---------------------------------------------------------------------------------------------- closing


async def close_check(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    expected_version: int | None = None,
    unsent_confirmed: bool = False,
) -> CheckClosing:
    """Close a check that is fully paid (or owes nothing, such as a check comped in full)."""
    money = await _money_for_update(session, check_id, expected_version)
    check = money.check
    _require_open(check, "close it")
    _require_no_pending(money)
    _refuse_unsent(money, confirmed=unsent_confirmed, nothing="Nothing was changed.")
    if money.due > 0:
        raise Conflict(
            f"Check #{check.number} still has {_format(money.due, money.currency)} to pay; take payment before "
            "closing. Nothing was changed."
        )
    await orders.bump_version(session, check, expected_version)
    return await _close(session, money, actor_id=actor.id)


async def _close(session: AsyncSession, money: CheckMoney, *, actor_id: int | None) -> CheckClosing:
    check = money.check
    # Without an early flush of the check's pending version bump: the closing's flush writes the check once.
    with session.no_autoflush:
        sequence = len(await closings(session, check.id or 0)) + 1
    now = utcnow()
    closing = CheckClosing(
        check_id=check.id or 0,
        sequence=sequence,
        total_cents=money.totals.total,
        paid_cents=money.paid,
        tips_cents=money.tips,
        closed_by=actor_id or check.server_id,
        closed_at=now,
    )
    session.add(closing)
    check.status = CheckStatus.CLOSED
    check.closed_at = now
    check.table_cleared_at = None
    check.version += 1
    session.add(check)
    await session.flush()
    await enqueue(
        session,
        CLOSED_TOPIC,
        {"check_id": check.id, "sequence": sequence, "closing_id": closing.id},
        dedupe_key=f"{CLOSED_TOPIC}:{check.id}:{sequence}",
    )
    await audit.record(
        session,
        "checks.close",
        actor_id=actor_id,
        subject=f"check:{check.id}",
        after={
            "sequence": sequence,
            "total_cents": closing.total_cents,
            "paid_cents": closing.paid_cents,
            "tips_cents": closing.tips_cents,
        },
    )
    await emit(session, CheckClosed(check_id=check.id or 0, table_id=check.table_id, sequence=sequence))
    return closing


async def reopen_check(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    reason: str,
    expected_version: int | None = None,
    approver: Staff | None = None,
) -> CheckClosing:
    """Reopen a closed check with a manager: its closing is marked reversed (not edited) and the ledger told."""
    check = await orders.get_check_for_update(session, check_id, expected_version)
    approved_by = _authorise(actor, approver, Perm.CHECKS_REOPEN, "reopen a check")
    reason = clean_reason(reason)
    if check.status is not CheckStatus.CLOSED:
        raise Conflict(f"Check #{check.number} is {check.status.value}, not closed; there is nothing to reopen.")
    history = await closings(session, check.id or 0)
    closing = history[-1] if history else None
    if closing is None or closing.reopened_at is not None:
        raise Conflict(f"Check #{check.number} has no closing to reverse.")
    pending_refund = (
        await session.exec(select(Refund.id).where(Refund.check_id == check.id, Refund.status == RefundStatus.PENDING))
    ).first()
    if pending_refund is not None:
        raise Conflict("A card refund on this check is still waiting for the terminal; resolve it first.")
    await orders.bump_version(session, check, expected_version)
    now = utcnow()
    closing.reopened_at = now
    closing.reopened_by = actor.id
    closing.reopen_approved_by = approved_by
    closing.reopen_reason = reason
    session.add(closing)
    check.status = CheckStatus.OPEN
    check.closed_at = None
    check.table_cleared_at = None
    session.add(check)
    await session.flush()
    await enqueue(
        session,
        REOPENED_TOPIC,
        {"check_id": check.id, "sequence": closing.sequence, "closing_id": closing.id},
        dedupe_key=f"{REOPENED_TOPIC}:{check.id}:{closing.sequence}",
    )
    await audit.record(
        session,
        "checks.reopen",
        actor_id=actor.id,
        approver_id=approved_by,
        subject=f"check:{check.id}",
        reason=reason,
        before={"status": "closed", "sequence": closing.sequence, "total_cents": closing.total_cents},
        after={"status": "open"},
    )
    await emit(session, CheckReopened(check_id=check.id or 0, table_id=check.table_id, sequence=closing.sequence))
    return closing


# ---------------------------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundRequest:
    """A manager's refund: the whole check, or chosen lines back to one payment."""

    check_id: int
    actor: Staff
    reason: str
    idempotency_key: str
    full: bool = False
    line_ids: tuple[int, ...] = ()
    payment_id: int | None = None
    approver: Staff | None = None
    device_id: int | None = None


async def refund(db: Database, terminal: PaymentTerminal, request: RefundRequest) -> list[Refund]:
    """Give money back on a closed check: reversing refund rows (never edits), card refunds through the terminal."""
    async with db.read() as session:
        existing = (
            await session.exec(
                select(PaymentAttempt.refund_id).where(
                    col(PaymentAttempt.idempotency_key).startswith(f"{request.idempotency_key[:90]}:")
                )
            )
        ).all()
        done = (
            await session.exec(
                select(Refund)
                .where(col(Refund.id).in_([i for i in existing if i is not None]))
                .order_by(col(Refund.id))
            )
        ).all()
        if done:
            return list(done)
    async with db.write() as session:
        refunds, attempts = await _begin_refund(session, request)
    for attempt in attempts:
        result = await _ask_terminal(terminal, attempt, db_currency(db))
        async with db.write() as session:
            await _settle_recovery(session, attempt, result)
            await _record_result(session, attempt.id or 0, result, terminal_name=terminal.name)
    async with db.read() as session:
        return [r for r in [await session.get(Refund, r.id) for r in refunds] if r is not None]


async def _begin_refund(session: AsyncSession, request: RefundRequest) -> tuple[list[Refund], list[PaymentAttempt]]:
    money = await _money_for_update(session, request.check_id)
    check = money.check
    approved_by = _authorise(request.actor, request.approver, Perm.REFUND, "refund")
    reason = clean_reason(request.reason)
    if check.status is not CheckStatus.CLOSED:
        raise Conflict(
            f"Check #{check.number} is {check.status.value}; refunds are made on closed checks. Nothing was changed."
        )
    if any(r.status is RefundStatus.PENDING for r in money.refunds):
        raise Conflict("A card refund on this check is still waiting for the terminal; resolve it first.")
    if not money.payments:
        raise Conflict(f"Nothing was paid on check #{check.number}; there is nothing to refund.")
    plans: list[tuple[Payment, int, int, list[RefundLine]]] = []
    refunded_lines = {
        line.line_id
        for line in await _refund_lines_of(
            session, [r.id or 0 for r in money.refunds if r.status is not RefundStatus.FAILED]
        )
        if line.line_id is not None
    }
    if request.full:
        if any(r.status is RefundStatus.COMPLETED for r in money.refunds):
            raise Conflict("Part of this check was already refunded; refund the remaining items instead.")
        payments = [p for p in money.payments if p.refundable_cents > 0]
        parts = calc.allocate_check_to_parts(money.totals, [p.amount_cents for p in payments]) if payments else []
        for payment, part in zip(payments, parts, strict=True):
            part_lines = [
                RefundLine(refund_id=0, category_id=category_id, description="Sales", net_cents=net, tax_cents=0)
                for category_id, net in part.net_by_category.items()
                if net
            ]
            part_lines += [
                RefundLine(
                    refund_id=0,
                    tax_rate_id=tax.rate.id,
                    tax_rate_bp=int(tax.rate.rate * 10000),
                    description=tax.rate.name[:80],
                    net_cents=0,
                    tax_cents=tax.tax,
                )
                for tax in part.taxes
                if tax.tax
            ]
            if part.service_charge:
                part_lines.append(
                    RefundLine(refund_id=0, description="Service charge", net_cents=part.service_charge, tax_cents=0)
                )
            plans.append((payment, payment.amount_cents, payment.tip_cents, part_lines))
    else:
        ids = list(dict.fromkeys(request.line_ids))
        if not ids:
            raise InvalidInput("Choose the items to refund, or refund the whole check.")
        chosen: list[RefundLine] = []
        amount = 0
        for line_id in ids:
            line = _live_line(money, line_id)
            if line_id in refunded_lines:
                raise Conflict(f"{line.name} was already refunded. Nothing was changed.")
            totals = money.line_totals[line_id]
            if totals.total == 0:
                raise InvalidInput(f"{line.name} was not charged (comped); there is nothing to refund.")
            amount += totals.total
            chosen.append(
                RefundLine(
                    refund_id=0,
                    line_id=line_id,
                    category_id=line.category_id,
                    tax_rate_id=line.tax_rate_id,
                    tax_rate_bp=line.tax_rate_bp,
                    description=line.name,
                    net_cents=totals.net,
                    tax_cents=totals.tax,
                )
            )
        payment = _refund_payment(money, request.payment_id, amount)
        left = payment.amount_cents - _refunded_amount(money, payment)
        if amount > left:
            raise InvalidInput(
                f"Refunding {_format(amount, money.currency)} is more than the {_format(left, money.currency)} "
                f"left to refund on that payment. Nothing was changed."
            )
        plans.append((payment, amount, 0, chosen))
    refunds: list[Refund] = []
    attempts: list[PaymentAttempt] = []
    for index, (payment, amount, tip, lines) in enumerate(plans):
        tender = money.tenders[payment.tender_id]
        row = Refund(
            check_id=check.id or 0,
            payment_id=payment.id or 0,
            tender_id=tender.id or 0,
            amount_cents=amount,
            tip_cents=tip,
            full=request.full,
            reason=reason,
            refunded_by=request.actor.id or 0,
            approved_by=approved_by,
        )
        session.add(row)
        await session.flush()
        for refund_line in lines:
            refund_line.refund_id = row.id or 0
            session.add(refund_line)
        attempt = PaymentAttempt(
            kind=AttemptKind.REFUND,
            check_id=check.id or 0,
            tender_id=tender.id or 0,
            reference=_new_reference(),
            idempotency_key=f"{request.idempotency_key[:90]}:{index}",
            amount_cents=amount + tip,
            refund_id=row.id,
            original_payment_id=payment.id,
            # The terminal refunds against the charge it approved, known by our reference to it.
            original_reference=await _charge_reference(session, payment),
            requested_by=request.actor.id or 0,
            device_id=request.device_id,
        )
        session.add(attempt)
        await session.flush()
        await audit.record(
            session,
            "checks.refund",
            actor_id=request.actor.id,
            approver_id=approved_by,
            subject=f"check:{check.id}",
            reason=reason,
            before={"payment_id": payment.id, "refundable_cents": payment.refundable_cents},
            after={
                "refund_id": row.id,
                "amount_cents": amount,
                "tip_cents": tip,
                "full": request.full,
                "line_ids": [line.line_id for line in lines if line.line_id is not None],
            },
        )
        refunds.append(row)
        if tender.uses_terminal and payment.processor_reference:
            _owe_recovery(session, attempt)
            attempts.append(attempt)
        else:
            attempt.status = AttemptStatus.APPROVED
            attempt.resolved_at = utcnow()
            session.add(attempt)
            await _finish_refund(session, attempt, None)
    return refunds, attempts


async def _charge_reference(session: AsyncSession, payment: Payment) -> str | None:
    if payment.attempt_id is None:
        return None
    attempt = await session.get(PaymentAttempt, payment.attempt_id)
    return attempt.reference if attempt else None


def _refund_payment(money: CheckMoney, payment_id: int | None, amount: int) -> Payment:
    if payment_id is not None:
        payment = next((p for p in money.payments if p.id == payment_id), None)
        if payment is None:
            raise InvalidInput("That payment is not on this check; choose one of its payments.")
        return payment
    # Without a choice, give it back to the payment with the most left to refund.
    return max(money.payments, key=lambda p: (p.amount_cents - _refunded_amount(money, p), -(p.id or 0)))


def _refunded_amount(money: CheckMoney, payment: Payment) -> int:
    return sum(
        r.amount_cents for r in money.refunds if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
    )


async def _refund_lines_of(session: AsyncSession, refund_ids: Sequence[int]) -> list[RefundLine]:
    if not refund_ids:
        return []
    return list((await session.exec(select(RefundLine).where(col(RefundLine.refund_id).in_(list(refund_ids))))).all())


async def _finish_refund(session: AsyncSession, attempt: PaymentAttempt, result: TerminalResult | None) -> None:
    row = await session.get(Refund, attempt.refund_id) if attempt.refund_id else None
    if row is None:
        return
    if attempt.status is AttemptStatus.APPROVED:
        row.status = RefundStatus.COMPLETED
        row.completed_at = utcnow()
        row.processor_reference = result.processor_reference if result else None
        payment = await session.get(Payment, row.payment_id)
        if payment is not None:
            payment.refunded_cents += row.amount_cents + row.tip_cents
            session.add(payment)
        session.add(row)
        await session.flush()
        await enqueue(
            session,
            REFUNDED_TOPIC,
            {"check_id": row.check_id, "refund_id": row.id},
            dedupe_key=f"{REFUNDED_TOPIC}:{row.id}",
        )
        await emit(session, CheckRefunded(check_id=row.check_id, refund_id=row.id or 0, amount_cents=row.amount_cents))
        tender = await session.get(Tender, row.tender_id)
        if tender is not None and tender.kind is TenderKind.HOUSE_ACCOUNT:
            await house_accounts.credit_refund(
                session,
                payment_id=row.payment_id,
                refund_id=row.id or 0,
                amount_cents=row.amount_cents + row.tip_cents,
                actor_id=row.refunded_by,
            )
        if tender is not None and tender.kind is TenderKind.CASH:
            await emit(
                session,
                CashHandled(
                    check_id=row.check_id,
                    device_id=attempt.device_id,
                    staff_id=row.refunded_by,
                    amount_cents=-(row.amount_cents + row.tip_cents),
                    refund_id=row.id,
                ),
            )
        if tender is not None and tender.opens_drawer:
            await _kick_drawer(session, attempt.device_id, reference=f"refund:{row.id}")
    else:
        row.status = RefundStatus.FAILED
        session.add(row)
        await audit.record(
            session,
            "checks.refund_failed",
            actor_id=attempt.requested_by,
            subject=f"check:{row.check_id}",
            reason=attempt.message,
            after={"refund_id": row.id},
        )


# ---------------------------------------------------------------------------------------------- printing


async def print_guest_check(
    session: AsyncSession, *, check_id: int, actor: Staff, device_id: int | None = None
) -> Check:
    """Print the guest check (per-seat subtotals when split by seat) on this device's receipt printer."""
    check = await orders.get_check_for_update(session, check_id)
    _require_open(check, "print its guest check")
    money = await check_money(session, check)
    if not money.live_lines:
        raise InvalidInput("There is nothing on this check to print.")
    printer = await printing.receipt_printer(session, device_id)
    reprint = check.guest_check_printed_at is not None
    doc = await printing.guest_check_doc(session, money, reprint=reprint)
    data = render_guest_check(doc, printing.profile_for(printer))
    await printing.queue(
        session, printer, data, kind="guest_check", reference=f"check:{check.id}", document=doc, requested_by=actor.id
    )
    check.guest_check_printed_at = utcnow()
    check.version += 1
    session.add(check)
    await audit.record(
        session, "checks.print_guest_check", actor_id=actor.id, subject=f"check:{check.id}", after={"reprint": reprint}
    )
    return check


async def print_receipt(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    device_id: int | None = None,
    portion_id: int | None = None,
) -> Printer:
    """Print the receipt of a paid check, or of one part of an even or by-amount split."""
    check = await load_check(session, check_id)
    money = await check_money(session, check)
    if not money.payments and check.status is not CheckStatus.CLOSED:
        raise Conflict("Nothing has been paid on this check yet; print the guest check instead.")
    portion = None
    if portion_id is not None:
        portion = money.portion(portion_id)
        if portion is None:
            raise InvalidInput("That part of the split is not on this check any more; reload the check.")
    printer = await printing.receipt_printer(session, device_id)
    doc = await printing.receipt_doc(session, money, portion=portion)
    data = render_receipt(doc, printing.profile_for(printer))
    suffix = f":part:{portion_id}" if portion_id else ""
    await printing.queue(
        session,
        printer,
        data,
        kind="receipt",
        reference=f"check:{check.id}{suffix}",
        document=doc,
        requested_by=actor.id,
    )
    await audit.record(session, "checks.print_receipt", actor_id=actor.id, subject=f"check:{check.id}")
    return printer


async def set_receipt_printer(session: AsyncSession, *, device_id: int, printer_id: int, actor: Staff) -> Printer:
    """Choose which printer this device prints receipts and guest checks on (and whose drawer it opens)."""
    if not actor.can(Perm.PRINTERS_MANAGE):
        raise PermissionDenied("Only a manager chooses a device's receipt printer.")
    printer = await session.get(Printer, printer_id)
    if printer is None or printer.archived_at is not None:
        raise NotFound("That printer is not set up.")
    choice = await session.get(DeviceReceiptPrinter, device_id)
    if choice is None:
        choice = DeviceReceiptPrinter(device_id=device_id, printer_id=printer_id, set_by=actor.id or 0)
    choice.printer_id = printer_id
    choice.set_by = actor.id or 0
    choice.set_at = utcnow()
    session.add(choice)
    await audit.record(
        session,
        "checks.receipt_printer",
        actor_id=actor.id,
        subject=f"device:{device_id}",
        after={"printer": printer.name},
    )
    return printer


# ---------------------------------------------------------------------------------------------- tenders


DEMO_TENDERS: tuple[tuple[str, TenderKind, str, bool, bool, bool], ...] = (
    # name, kind, ledger account code, tips, drawer, terminal
    ("Cash", TenderKind.CASH, "1010", False, True, False),
    ("Card", TenderKind.CARD, "1020", True, False, True),
    ("Gift card", TenderKind.GIFT_CARD, "2010", False, False, False),
    ("House account", TenderKind.HOUSE_ACCOUNT, "1030", True, False, False),
)


async def seed_tenders(session: AsyncSession) -> list[Tender]:
    """The usual tenders, each with the ledger account its money goes to; existing names are left alone."""
    existing = {t.name for t in (await session.exec(select(Tender))).all()}
    created: list[Tender] = []
    for position, (name, kind, account, tips, drawer, terminal) in enumerate(DEMO_TENDERS):
        if name in existing:
            continue
        tender = Tender(
            name=name,
            kind=kind,
            ledger_account_code=account,
            allows_tip=tips,
            opens_drawer=drawer,
            uses_terminal=terminal,
            sort_order=position,
        )
        session.add(tender)
        created.append(tender)
    await session.flush()
    return created


async def save_tender(
    session: AsyncSession,
    *,
    actor: Staff,
    name: str,
    kind: TenderKind | str,
    ledger_account_code: str,
    allows_tip: bool = False,
    opens_drawer: bool = False,
    uses_terminal: bool = False,
    sort_order: int = 0,
    tender_id: int | None = None,
) -> Tender:
    """Add or change a tender a manager configures."""
    name = name.strip()
    if not name or len(name) > 40:
        raise InvalidInput("Give the tender a name of at most 40 characters.")
    code = ledger_account_code.strip()
    if not code or len(code) > 20 or not code.replace("-", "").replace(".", "").isalnum():
        raise InvalidInput("The ledger account code is 1 to 20 letters or digits, like 1020.")
    await live_account(session, code, label="Ledger account", types=(AccountType.ASSET, AccountType.LIABILITY))
    try:
        kind = TenderKind(kind)
    except ValueError:
        raise InvalidInput("Choose cash, card, gift card, house account or other.") from None
    if uses_terminal and kind is not TenderKind.CARD:
        raise InvalidInput("Only card tenders go through the payment terminal.")
    clash = (await session.exec(select(Tender).where(Tender.name == name, Tender.id != tender_id))).first()
    if clash is not None:
        raise Conflict(f"A tender called {name} already exists.")
    if tender_id is None:
        tender = Tender(name=name, kind=kind, ledger_account_code=code)
        before = None
    else:
        found = await session.get(Tender, tender_id)
        if found is None:
            raise NotFound("That tender does not exist.")
        tender = found
        before = tender.model_dump(mode="json")
    tender.name, tender.kind, tender.ledger_account_code = name, kind, code
    tender.allows_tip, tender.opens_drawer, tender.uses_terminal = allows_tip, opens_drawer, uses_terminal
    tender.sort_order = sort_order
    session.add(tender)
    await session.flush()
    await emit(session, TenderSaved(tender_id=tender.id or 0, account_code=code, actor_id=actor.id))
    await audit.record(
        session,
        "checks.tender_save",
        actor_id=actor.id,
        subject=f"tender:{tender.id}",
        before=before,
        after=tender.model_dump(mode="json"),
    )
    return tender


async def archive_tender(session: AsyncSession, *, tender_id: int, actor: Staff) -> Tender:
    """Stop offering a tender; payments made with it keep pointing at it."""
    tender = await session.get(Tender, tender_id)
    if tender is None:
        raise NotFound("That tender does not exist.")
    if tender.archived_at is None:
        tender.archived_at = utcnow()
        session.add(tender)
        await audit.record(session, "checks.tender_archive", actor_id=actor.id, subject=f"tender:{tender.id}")
    return tender
