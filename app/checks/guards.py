"""Guards and small helpers every command on a check's money leans on: the check must be open, the actor
allowed, the reason clean, the amount parsed, nothing unsent or pending in the way.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.queries import CheckMoney, check_money
from app.lib.cards import mask_card_numbers
from app.lib.db import Database
from app.lib.errors import Conflict, InvalidInput, ManagerApprovalRequired, NotFound
from app.lib.money import Money
from app.lib.settings import Settings
from app.orders import services as orders
from app.orders.models import Check, CheckLine, CheckStatus, LineState
from app.staff.models import Staff
from app.staff.permissions import Perm

REASON_MAX_LENGTH = 200


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


def _live_line(money: CheckMoney, line_id: int) -> CheckLine:
    line = next((line for line in money.lines if line.id == line_id), None)
    if line is None:
        raise NotFound(f"That item is not on check #{money.check.number} (any more); reload the check.")
    if line.state is LineState.VOIDED:
        raise Conflict(f"{line.name} is voided; it is not on the bill. Nothing was changed.")
    return line


def db_currency(db: Database) -> str:
    """The currency the database's restaurant trades in."""
    settings = db.context.get("settings")
    return settings.currency if isinstance(settings, Settings) else "EUR"
