"""Read models for guests: search by phone, name or email, and one guest's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.checks.models import Payment, Refund, RefundStatus
from app.guests.models import Guest
from app.orders.models import Check, CheckLine, CheckStatus, LineState

SEARCH_LIMIT = 20
MAX_PAGE = 100
# Fewer digits than this match too many numbers to be a phone search; they are read as part of a name.
PHONE_SEARCH_MIN_DIGITS = 3


# A number's last nine digits are the same however it was written: "+44 20 7946 0018", "020 7946 0018".
PHONE_KEY_DIGITS = 9


def digits_of(text: str) -> str:
    """Only the digits of `text`."""
    return "".join(c for c in text if c.isdigit())


def phone_key(text: str) -> str:
    """What a phone number is stored and searched by: its last nine digits, so a country code or a trunk 0 is moot."""
    return digits_of(text)[-PHONE_KEY_DIGITS:]


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(q: str) -> SelectOfScalar[Guest]:
    query = select(Guest).where(col(Guest.erased_at).is_(None))
    q = q.strip()
    if not q:
        return query
    digits = digits_of(q)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS and len(digits) * 2 >= len(q.replace(" ", "")):
        # Mostly digits: a phone number, however it was typed.
        return query.where(col(Guest.phone_digits).like(_like(phone_key(digits)), escape="\\"))
    pattern = _like(q)
    return query.where(
        or_(
            func.lower(col(Guest.name)).like(pattern, escape="\\"),
            func.lower(col(Guest.email)).like(pattern, escape="\\"),
        )
    )


async def search_guests(session: AsyncSession, q: str, *, limit: int = SEARCH_LIMIT, offset: int = 0) -> list[Guest]:
    """Guests on file (never erased ones) whose phone, name or email holds `q`, by name; all of them when blank."""
    limit = max(1, min(limit, MAX_PAGE))
    query = _matching(q).order_by(func.lower(col(Guest.name)), col(Guest.id)).limit(limit).offset(max(0, offset))
    return list((await session.exec(query)).all())


async def count_guests(session: AsyncSession, q: str) -> int:
    """How many guests `search_guests` would find across all pages."""
    query = _matching(q).with_only_columns(func.count()).order_by(None)
    return int((await session.exec(query)).one())  # type: ignore[call-overload]


@dataclass(frozen=True)
class Visit:
    """One check of the guest's: when, which, what it came to."""

    check_id: int
    number: int
    opened_at: datetime
    status: CheckStatus
    paid_cents: int


@dataclass(frozen=True)
class Favourite:
    """An item the guest orders, and how many they had."""

    name: str
    quantity: Fraction

    @property
    def quantity_label(self) -> str:
        """'3', or '1 1/2' for shared items."""
        whole, part = divmod(self.quantity.numerator, self.quantity.denominator)
        if not part:
            return str(whole)
        fraction = f"{part}/{self.quantity.denominator}"
        return f"{whole} {fraction}" if whole else fraction


@dataclass(frozen=True)
class GuestHistory:
    """What a guest's checks say about them: visits, spend, favourite items."""

    visits: int
    first_visit: datetime | None
    last_visit: datetime | None
    spend_cents: int
    favourites: tuple[Favourite, ...]
    recent: tuple[Visit, ...]

    @property
    def average_cents(self) -> int:
        """Spend per visit, rounded down to the cent."""
        return self.spend_cents // self.visits if self.visits else 0


FAVOURITES = 5
RECENT_VISITS = 10


async def guest_history(session: AsyncSession, guest_id: int) -> GuestHistory:
    """Visits (closed checks, a split counted once), spend (paid on them, less refunds), the five items ordered most."""
    checks = list(
        (
            await session.exec(
                select(Check)
                .where(Check.guest_id == guest_id, col(Check.status).in_([CheckStatus.OPEN, CheckStatus.CLOSED]))
                .order_by(col(Check.opened_at).desc(), col(Check.id).desc())
            )
        ).all()
    )
    ids = [c.id or 0 for c in checks]
    paid: dict[int, int] = {}
    favourites: dict[str, Fraction] = {}
    if ids:
        payments = await session.exec(
            select(Payment.check_id, func.sum(Payment.amount_cents))
            .where(col(Payment.check_id).in_(ids))
            .group_by(col(Payment.check_id))
        )
        for check_id, cents in payments.all():
            paid[check_id] = int(cents or 0)
        refunds = await session.exec(
            select(Refund.check_id, func.sum(Refund.amount_cents))
            .where(col(Refund.check_id).in_(ids), Refund.status == RefundStatus.COMPLETED)
            .group_by(col(Refund.check_id))
        )
        for check_id, cents in refunds.all():
            paid[check_id] = paid.get(check_id, 0) - int(cents or 0)
        lines = await session.exec(
            select(CheckLine.name, CheckLine.quantity_num, CheckLine.quantity_den).where(
                col(CheckLine.check_id).in_(ids), CheckLine.state != LineState.VOIDED
            )
        )
        for name, num, den in lines.all():
            favourites[name] = favourites.get(name, Fraction(0)) + Fraction(num, den)
    closed = [c for c in checks if c.status == CheckStatus.CLOSED]
    by_id = {c.id: c for c in checks}

    def visit_of(check: Check) -> int:
        # A check split at the table is one visit, however many parts it was paid in.
        while check.split_from_id in by_id:
            check = by_id[check.split_from_id]
        return check.id or 0

    visits = {visit_of(c) for c in closed}
    ranked = sorted(favourites.items(), key=lambda item: (-item[1], item[0]))[:FAVOURITES]
    return GuestHistory(
        visits=len(visits),
        first_visit=min((c.opened_at for c in closed), default=None),
        last_visit=max((c.opened_at for c in closed), default=None),
        spend_cents=sum(paid.get(c.id or 0, 0) for c in closed),
        favourites=tuple(Favourite(name, quantity) for name, quantity in ranked),
        recent=tuple(
            Visit(c.id or 0, c.number, c.opened_at, c.status, paid.get(c.id or 0, 0)) for c in checks[:RECENT_VISITS]
        ),
    )
