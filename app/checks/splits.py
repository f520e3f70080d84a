"""Splitting a check: by seat, by items, sharing an item, evenly or by amounts, and undoing a split.

Splitting moves lines and creates checks but never writes anything for the kitchen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import split_calculations
from app.checks.events import CheckSplit
from app.checks.guards import (
    _format,
    _live_line,
    _money_for_update,
    _require_editor,
    _require_no_pending,
    _require_open,
)
from app.checks.models import CheckComp, CheckDiscount, CheckPortion, SplitKind
from app.checks.models import CheckSplit as CheckSplitRow
from app.checks.queries import CheckMoney, check_money, family, latest_split, root_of
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import emit
from app.orders import seating
from app.orders import services as orders
from app.orders.models import Check, CheckLine, CheckStatus, LineModifier, LineState
from app.staff.models import Staff

MAX_WAYS = 20


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
        shares = split_calculations.share_line(
            line.quantity, count, unit_price=line.unit_total_cents, currency=money.currency
        )
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
            split_calculations.split_by_amounts(due, weights, currency=money.currency)
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
