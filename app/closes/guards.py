"""What the end-of-day commands share: who may do what, amounts of cash, reasons, the open business day,
and the house accounts a command posts to (refused with the mapping's problem when one is missing).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.services import is_day_locked, next_open_day
from app.checks import services as checks
from app.checks.queries import settings_of
from app.closes import posting_base
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, PermissionDenied
from app.staff.models import Staff
from app.staff.permissions import Perm

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


async def _role_accounts(session: AsyncSession, *roles: str) -> dict[str, str]:
    try:
        return dict((await posting_base.resolve_accounts(session, roles=list(roles))).roles)
    except posting_base.PostingProblem as exc:
        raise InvalidInput(exc.message) from None


async def _require_open_day(session: AsyncSession, day: dt.date) -> None:
    if await is_day_locked(session, day):
        raise Conflict(f"The business day {day.isoformat()} is closed; nothing more can be recorded on it.")
