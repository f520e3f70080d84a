"""Read models of gift cards: one card with its movements, pages of cards, and the liability a manager reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account
from app.accounting.queries import balances
from app.checks.models import Payment
from app.checks.queries import CheckMoney, settings_of
from app.giftcards import calculations as calc
from app.giftcards.models import GiftCard, GiftCardMovement, GiftCardStatus, MovementKind
from app.kitchen.print_documents import QrCodeDoc
from app.lib.clock import utcnow
from app.lib.money import Money
from app.orders.models import Check, CheckLine, LineState

SALE_SKU = "GIFT-CARD"
# A card nobody has used for this long is reported as likely breakage (still owed: cards here do not expire).
DORMANT_AFTER = timedelta(days=365)


@dataclass(frozen=True)
class CardView:
    """A card as a page or the API shows it, with its movements, newest first."""

    card: GiftCard
    movements: list[GiftCardMovement]
    check_numbers: dict[int, int] = field(default_factory=dict)


async def card_view(session: AsyncSession, card: GiftCard) -> CardView:
    """The card with every movement of its balance."""
    movements = (
        await session.exec(
            select(GiftCardMovement)
            .where(GiftCardMovement.card_id == card.id)
            .order_by(col(GiftCardMovement.id).desc())
        )
    ).all()
    check_ids = sorted({m.check_id for m in movements if m.check_id is not None})
    numbers: dict[int, int] = {}
    if check_ids:
        found = await session.exec(select(Check.id, Check.number).where(col(Check.id).in_(check_ids)))
        numbers = {check_id or 0: number for check_id, number in found.all()}
    return CardView(card, list(movements), numbers)


async def cards_page(
    session: AsyncSession, *, after_id: int = 0, limit: int = 50, status: GiftCardStatus | None = None
) -> list[GiftCard]:
    """Cards in the order they were sold, after `after_id`."""
    query = select(GiftCard).where(col(GiftCard.id) > after_id).order_by(col(GiftCard.id)).limit(limit)
    if status is not None:
        query = query.where(GiftCard.status == status)
    return list((await session.exec(query)).all())


async def cards_on_check(session: AsyncSession, check_id: int) -> list[GiftCard]:
    """The cards on a check's lines (a card moved with its line to another check of a split goes with it)."""
    found = await session.exec(
        select(GiftCard)
        .join(CheckLine, col(CheckLine.id) == col(GiftCard.line_id))
        .where(col(CheckLine.check_id) == check_id)
        .order_by(col(GiftCard.id))
    )
    return list(found.all())


@dataclass
class Liability:
    """What the house owes on gift cards, from the cards and from the ledger, and what moved between two days."""

    open_cards: int = 0
    outstanding_cents: int = 0
    ledger_cents: int | None = None
    ledger_code: str = "2010"
    moved: dict[MovementKind, tuple[int, int]] = field(default_factory=dict)
    dormant_cards: int = 0
    dormant_cents: int = 0
    pending_cards: int = 0
    pending_cents: int = 0

    @property
    def difference_cents(self) -> int | None:
        """Cards' balances less the ledger's: money on cards whose checks have not reached the books yet."""
        return None if self.ledger_cents is None else self.outstanding_cents - self.ledger_cents


async def outstanding_cents(session: AsyncSession) -> int:
    """The sum of every active card's balance."""
    total = (
        await session.exec(
            select(func.coalesce(func.sum(GiftCard.balance_cents), 0)).where(GiftCard.status == GiftCardStatus.ACTIVE)
        )
    ).one()
    return int(total)


async def liability(
    session: AsyncSession, *, start: dt.date, end: dt.date, ledger_code: str = "2010", now: datetime | None = None
) -> Liability:
    """The gift-card liability today, its ledger balance, and the movements made between `start` and `end` (UTC)."""
    report = Liability(ledger_code=ledger_code)
    open_cards, outstanding = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(GiftCard.balance_cents), 0)).where(
                GiftCard.status == GiftCardStatus.ACTIVE, col(GiftCard.balance_cents) > 0
            )
        )
    ).one()
    report.open_cards, report.outstanding_cents = int(open_cards), int(outstanding)
    pending_cards, pending = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(GiftCard.initial_cents), 0)).where(
                GiftCard.status == GiftCardStatus.PENDING
            )
        )
    ).one()
    report.pending_cards, report.pending_cents = int(pending_cards), int(pending)
    account = (await session.exec(select(Account).where(Account.code == ledger_code))).first()
    if account is not None:
        signed = (await balances(session)).get(account.id or 0, 0)
        report.ledger_cents = -signed  # a liability's balance is a credit
    first = datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    last = datetime.combine(end + timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    for kind, count, cents in (
        await session.exec(
            select(GiftCardMovement.kind, func.count(), func.coalesce(func.sum(GiftCardMovement.amount_cents), 0))
            .where(col(GiftCardMovement.created_at) >= first, col(GiftCardMovement.created_at) < last)
            .group_by(col(GiftCardMovement.kind))
        )
    ).all():
        report.moved[MovementKind(kind)] = (int(count), abs(int(cents)))
    last_move = (
        select(GiftCardMovement.card_id, func.max(GiftCardMovement.created_at).label("last_at"))
        .group_by(col(GiftCardMovement.card_id))
        .subquery()
    )
    cutoff = (now or utcnow()) - DORMANT_AFTER
    dormant_cards, dormant = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(GiftCard.balance_cents), 0))
            .join(last_move, last_move.c.card_id == col(GiftCard.id))
            .where(
                GiftCard.status == GiftCardStatus.ACTIVE,
                col(GiftCard.balance_cents) > 0,
                last_move.c.last_at < cutoff,
            )
        )
    ).one()
    report.dormant_cards, report.dormant_cents = int(dormant_cards), int(dormant)
    return report


async def payment_note(session: AsyncSession, payment: Payment) -> str | None:
    """What the server reads after a gift-card payment: what the card has left."""
    card = (
        await session.exec(
            select(GiftCard)
            .join(GiftCardMovement, col(GiftCardMovement.card_id) == col(GiftCard.id))
            .where(GiftCardMovement.payment_id == payment.id, GiftCardMovement.kind == MovementKind.REDEEM)
        )
    ).first()
    if card is None:
        return None
    left = Money(card.balance_cents, settings_of(session).currency).format()
    return f"Gift card {calc.masked(card.number)} has {left} left."


async def receipt_codes(session: AsyncSession, money: CheckMoney) -> list[QrCodeDoc]:
    """The QR code of every spendable card sold on a check, for its receipt: the guest's card, whole."""
    line_ids = [line.id for line in money.lines if line.sku == SALE_SKU and line.state is not LineState.VOIDED]
    if not line_ids:
        return []  # no card on the check: no statement either
    cards = (
        await session.exec(
            select(GiftCard)
            .where(col(GiftCard.line_id).in_(line_ids), GiftCard.status == GiftCardStatus.ACTIVE)
            .order_by(col(GiftCard.id))
        )
    ).all()
    return [
        QrCodeDoc(
            label=f"Gift card {Money(card.initial_cents, money.currency).format()}",
            data=card.number,
            caption=f"{calc.grouped(card.number)} · balance {Money(card.balance_cents, money.currency).format()}",
        )
        for card in cards
    ]
