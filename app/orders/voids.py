"""Voiding a line, whole or in part: an unsent line simply goes; a sent one needs a reason and, unless the person
may void after send, a manager's PIN, and reaches the kitchen as a void."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput
from app.lib.events import emit
from app.orders.calculations import (
    VOID_REASON_MAX_LENGTH,
)
from app.orders.firing import _announce
from app.orders.models import (
    CheckLine,
    FireKind,
    FireLine,
    KitchenFire,
    LineModifier,
    LineState,
)
from app.orders.services import (
    UNSENT,
    CheckTotalLowered,
    PortionsReturned,
    _approval,
    _clean_text,
    _line_on,
    _line_snapshot,
    _require_editor,
    _require_open,
    bump_version,
    get_check_for_update,
)
from app.staff.models import Staff
from app.staff.permissions import Perm


@dataclass(frozen=True)
class VoidResult:
    """What a void did: the line (what is left of it) and the kitchen message, if the kitchen had it."""

    line: CheckLine
    fire: KitchenFire | None


async def void_line(
    session: AsyncSession,
    *,
    check_id: int,
    line_id: int,
    actor: Staff,
    expected_version: int | None,
    reason: str = "",
    quantity: int | None = None,
    approver: Staff | None = None,
) -> VoidResult:
    """Take a line off the check: unsent lines simply go; sent ones need a reason and reach the kitchen as a void.

    A server without the permission needs a manager's PIN for a void after send, in the same flow.
    """
    check = await get_check_for_update(session, check_id, expected_version)
    _require_open(check)
    editor_approver = await _require_editor(session, check, actor, approver)
    line = await _line_on(session, check, line_id)
    if line.state == LineState.VOIDED:
        raise Conflict(f"{line.name} is already voided.")
    now = utcnow()
    whole = line.quantity_num if line.quantity_den == 1 else None
    if quantity is not None and (whole is None or not 1 <= quantity <= whole):
        limit = f"between 1 and {whole}" if whole else "the whole line"
        raise InvalidInput(f"Void quantity must be {limit}.")
    if line.state in UNSENT:
        await bump_version(session, check, expected_version)
        before = _line_snapshot(line)
        removed = await _void_part(session, line, quantity)
        await emit(session, CheckTotalLowered(check_id=check.id or 0))
        await emit(session, PortionsReturned((line.menu_item_id,)))
        removed.voided_at, removed.voided_by = now, actor.id
        removed.void_reason = (
            _clean_text(reason, label="The reason", max_length=VOID_REASON_MAX_LENGTH) or "removed before sending"
        )
        session.add(removed)
        await audit.record(
            session,
            "line.remove",
            actor_id=actor.id,
            approver_id=editor_approver,
            subject=f"check:{check.id}",
            reason=removed.void_reason,
            before=before,
            after={"removed_quantity": removed.quantity_num, "removed_line_id": removed.id},
        )
        return VoidResult(line, None)
    reason = _clean_text(reason, label="The reason", max_length=VOID_REASON_MAX_LENGTH)
    if not reason:
        raise InvalidInput(f"{line.name} was sent to the kitchen: give a reason for the void.")
    approver_id = editor_approver
    if not actor.can(Perm.VOID_AFTER_SEND):
        approver_id = await _approval(
            session, check, actor, approver, Perm.VOID_AFTER_SEND, f"void {line.name} after send"
        )
    await bump_version(session, check, expected_version)
    before = _line_snapshot(line)
    voided = await _void_part(session, line, quantity)
    await emit(session, CheckTotalLowered(check_id=check.id or 0))
    await emit(session, PortionsReturned((line.menu_item_id,)))
    voided_qty = voided.quantity_num
    voided.voided_at, voided.voided_by, voided.void_approved_by, voided.void_reason = now, actor.id, approver_id, reason
    session.add(voided)
    fire = KitchenFire(
        check_id=check.id or 0, kind=FireKind.VOID, course=line.course, fired_at=now, fired_by=actor.id or 0
    )
    session.add(fire)
    await session.flush()
    # The kitchen knows the original line; the fire says how much of it to stop making.
    session.add(
        FireLine(fire_id=fire.id or 0, line_id=line.id or 0, quantity_num=voided_qty, quantity_den=line.quantity_den)
    )
    await _announce(session, fire)
    await audit.record(
        session,
        "line.void_after_send",
        actor_id=actor.id,
        approver_id=approver_id,
        subject=f"check:{check.id}",
        reason=reason,
        before=before,
        after={"voided_quantity": voided_qty, "fire_id": fire.id, "voided_line_id": voided.id},
    )
    return VoidResult(line, fire)


async def _void_part(session: AsyncSession, line: CheckLine, quantity: int | None) -> CheckLine:
    """The voided line: `line` itself, or for part of it a voided copy while `line` keeps the rest."""
    if quantity is None or line.quantity_den != 1 or quantity >= line.quantity_num:
        line.state = LineState.VOIDED
        session.add(line)
        return line
    line.quantity_num -= quantity
    session.add(line)
    copy = await _split_off(session, line, quantity)
    copy.state = LineState.VOIDED
    session.add(copy)
    return copy


async def _split_off(session: AsyncSession, line: CheckLine, quantity: int) -> CheckLine:
    """A copy of `line` for `quantity` of it, with its modifiers, pointing back at where it came from."""
    data = line.model_dump(exclude={"id"})
    copy = CheckLine(**{**data, "quantity_num": quantity, "quantity_den": 1, "origin_line_id": line.id})
    session.add(copy)
    await session.flush()
    for modifier in (await session.exec(select(LineModifier).where(LineModifier.line_id == line.id))).all():
        session.add(LineModifier(**{**modifier.model_dump(exclude={"id"}), "line_id": copy.id or 0}))
    return copy
