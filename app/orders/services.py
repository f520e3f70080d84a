"""What every table-service command shares: the check under lock, its version, the editor and approver, and the events.

Every command takes the caller's session (one write transaction), checks the check's version when the caller
says which version it saw, and refuses bad input with a message for the person before changing anything.
The commands live by what they do: `seating` (open, covers, transfer, merge, move, clear), `lines` (ring in,
change, repeat), `voids`, and `firing` (send, hold, fire, rush).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Table, bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.cards import mask_card_numbers
from app.lib.errors import Conflict, InvalidInput, ManagerApprovalRequired, NotFound, StaleVersion
from app.lib.events import DomainEvent
from app.lib.sql import is_postgres, rows_as
from app.menu.models import Course
from app.orders.calculations import (
    MAX_QUANTITY,
    UnsentLine,
)
from app.orders.models import (
    Check,
    CheckLine,
    CheckStatus,
    FireLine,
    LineState,
)
from app.orders.queries import check_label
from app.staff.models import Staff
from app.staff.permissions import Perm

KITCHEN_FIRE_TOPIC = "kitchen.fire"


UNSENT = (LineState.PENDING, LineState.HELD)


_FIRE_LINES: Table = FireLine.__table__  # type: ignore[attr-defined]


_CHECKS: Table = Check.__table__  # type: ignore[attr-defined]
# One more change to a check, the row locked and read back as the session's Check; built once (see rows_as).
# The check as it stands in the database (`check_id`), and on PostgreSQL locked as an UPDATE of its columns would.
_CHECK_FRESH = select(Check).where(Check.id == bindparam("check_id")).execution_options(populate_existing=True)
_CHECK_LOCKED = _CHECK_FRESH.with_for_update(key_share=True)

_COUNT_CHANGE = rows_as(
    Check,
    update(_CHECKS)
    .where(_CHECKS.c.id == bindparam("check_id"))
    .values(version=_CHECKS.c.version + 1)
    .returning(*_CHECKS.c),
).execution_options(populate_existing=True)


@dataclass(frozen=True)
class CheckTotalLowered(DomainEvent):
    """A void or a smaller quantity took value off a check. Subscribers may refuse (raise), e.g. when paid."""

    name: ClassVar[str] = "orders.check_total_lowered"
    check_id: int


@dataclass(frozen=True)
class PortionsTaken(DomainEvent):
    """A line of a dish made with counted stock was rung in or grew by `quantity`. Subscribers may refuse (raise)."""

    name: ClassVar[str] = "orders.portions_taken"
    line_id: int
    menu_item_id: int
    item_name: str
    quantity: int


@dataclass(frozen=True)
class PortionsReturned(DomainEvent):
    """Lines of these dishes were voided or made smaller: the stock they held is free again."""

    name: ClassVar[str] = "orders.portions_returned"
    menu_item_ids: tuple[int, ...]


async def get_check_for_update(session: AsyncSession, check_id: int, expected_version: int | None = None) -> Check:
    """The check, locked against other writers until this transaction ends (row lock on PostgreSQL).

    A tablet's change made from a stale copy is refused here, before anything else is judged: what it asked
    for was decided on a check that no longer stands (a line it voids may since have been sent, say).

    The lock is PostgreSQL's FOR NO KEY UPDATE, what an UPDATE of the check's columns takes by itself: writers of
    the check wait for each other as with FOR UPDATE, but not for a transaction that only wrote a row referring to
    the check (a line, a payment), whose share of the check's key FOR UPDATE would have to wait out too.
    """
    query = _CHECK_LOCKED if is_postgres(session) else _CHECK_FRESH
    check = (await session.exec(query, params={"check_id": check_id})).first()
    if check is None:
        raise NotFound(f"Check {check_id} does not exist.")
    await _require_current(session, check, expected_version)
    return check


async def _require_current(session: AsyncSession, check: Check, expected_version: int | None) -> None:
    await _refuse_stale(session, check, expected_version, seen=check.version)


async def _refuse_stale(session: AsyncSession, check: Check, expected_version: int | None, *, seen: int) -> None:
    """Refuse a change asked for on version `expected_version` of a check that stands at version `seen`."""
    if expected_version is not None and seen != expected_version:
        raise StaleVersion(
            f"{_sentence(await check_label(session, check))} was changed on another tablet. "
            "Here it is as it stands now; nothing was changed — check it and try again.",
            detail={"check_id": check.id, "version": seen},
        )


async def bump_version(session: AsyncSession, check: Check, expected_version: int | None) -> None:
    """Refuse a change made from a stale copy of the check; otherwise count one more change."""
    await _require_current(session, check, expected_version)
    check.version += 1
    session.add(check)


# ---------------------------------------------------------------------------------------------- internals


def _require_open(check: Check) -> None:
    if check.status == CheckStatus.MERGED:
        raise Conflict(f"Check #{check.number} was merged into another check; nothing was changed.")
    if check.status != CheckStatus.OPEN:
        raise Conflict(f"Check #{check.number} is {check.status.value}; nothing was changed.")


async def editable_check(
    session: AsyncSession, check_id: int, actor: Staff, expected_version: int | None, approver: Staff | None
) -> Check:
    """The check, locked and counted as changed, once it is open, current and `actor` (or `approver`) may change
    it."""
    return await _editable_check(session, check_id, actor, expected_version, approver)


async def _editable_check(
    session: AsyncSession, check_id: int, actor: Staff, expected_version: int | None, approver: Staff | None
) -> Check:
    # Locking the row and counting the change are one statement (the UPDATE takes the row lock on PostgreSQL, as
    # FOR UPDATE would); whatever is refused below raises, and the rollback takes the count back with it.
    row = (await session.exec(_COUNT_CHANGE, params={"check_id": check_id})).first()
    if row is None:
        raise NotFound(f"Check {check_id} does not exist.")
    check: Check = row[0]
    await _refuse_stale(session, check, expected_version, seen=check.version - 1)
    _require_open(check)
    await _require_editor(session, check, actor, approver)
    return check


async def _require_editor(session: AsyncSession, check: Check, actor: Staff, approver: Staff | None) -> int | None:
    """Only the owning server, or someone with the permission, changes a check; the approver's id if one was needed."""
    if actor.id == check.server_id or actor.can(Perm.CHECKS_EDIT_ANY):
        return None
    return await _approval(session, check, actor, approver, Perm.CHECKS_EDIT_ANY, "change it")


async def _approval(
    session: AsyncSession, check: Check, actor: Staff, approver: Staff | None, perm: Perm, doing: str
) -> int:
    owner = await session.get(Staff, check.server_id)
    label = await check_label(session, check)
    if approver is None:
        whose = f"{_sentence(label)} is {owner.name}'s. " if owner and perm == Perm.CHECKS_EDIT_ANY else ""
        raise ManagerApprovalRequired(
            f"{whose}A manager's PIN is needed to {doing}.", detail={"permission": perm.value, "check_id": check.id}
        )
    if not approver.can(perm):
        raise ManagerApprovalRequired(
            f"{approver.name} cannot approve this; a manager's PIN is needed to {doing}.",
            detail={"permission": perm.value, "check_id": check.id},
        )
    await audit.record(
        session,
        "check.override",
        actor_id=actor.id,
        approver_id=approver.id,
        subject=f"check:{check.id}",
        reason=f"approved with PIN: {perm.value}",
    )
    return approver.id or 0


async def _line_on(session: AsyncSession, check: Check, line_id: int) -> CheckLine:
    line = await session.get(CheckLine, line_id)
    if line is None or line.check_id != check.id:
        raise NotFound(f"That item is not on check #{check.number} (any more); reload the check.")
    return line


async def _unsent_line_rows(session: AsyncSession, check: Check) -> list[CheckLine]:
    result = await session.exec(
        select(CheckLine)
        .where(CheckLine.check_id == check.id, col(CheckLine.state).in_(UNSENT))
        .order_by(col(CheckLine.id))
    )
    return list(result.all())


_CHECK_LINES = select(CheckLine).where(col(CheckLine.check_id) == bindparam("check_id")).order_by(col(CheckLine.id))


async def _check_lines(session: AsyncSession, check: Check) -> list[CheckLine]:
    return list((await session.exec(_CHECK_LINES, params={"check_id": check.id})).all())


def _unsent(lines: Sequence[CheckLine]) -> list[UnsentLine]:
    return [
        UnsentLine(line.id or 0, line.course, line.state == LineState.HELD) for line in lines if line.state in UNSENT
    ]


def _fired_courses(lines: Sequence[CheckLine]) -> set[Course]:
    return {line.course for line in lines if line.sent_at is not None}


def _require_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"Quantity must be between 1 and {MAX_QUANTITY}.")


def _require_seat(check: Check, seat: int | None) -> None:
    if seat is None:
        return
    if isinstance(seat, bool) or not isinstance(seat, int) or seat < 1:
        raise InvalidInput("A seat is a number from 1, or 'shared'.")
    if seat > check.covers:
        raise InvalidInput(
            f"There is no seat {seat}: the check has {check.covers} cover{'s' if check.covers != 1 else ''}. "
            "Add a cover first."
        )


def _clean_text(value: str | None, *, label: str, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInput(f"{label} is {len(text)} characters; the limit is {max_length}.")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(f"{label} contains control characters.")
    # A card number read out by a guest never reaches the check, the kitchen or the printer.
    return mask_card_numbers(text)


def _line_snapshot(line: CheckLine) -> dict[str, Any]:
    return {
        "line_id": line.id,
        "name": line.name,
        "quantity": f"{line.quantity_num}/{line.quantity_den}" if line.quantity_den != 1 else line.quantity_num,
        "unit_total_cents": line.unit_total_cents,
        "state": line.state.value,
        "seat": line.seat,
        "course": line.course.value,
        "sent_at": _iso(line.sent_at),
    }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
