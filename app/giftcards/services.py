"""Commands on gift cards: sell one on a check, and follow the check's money in the same transaction.

A card sold on a check waits (pending) until the check is paid and closes; then it holds what it was sold for.
Spending it is a tender: the balance comes off with one conditional UPDATE in the payment's own transaction,
so two tablets can never spend the same money. A refund of a card payment goes back onto the card.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import printing as check_printing
from app.checks import queries as check_queries
from app.checks.events import CheckClosed, CheckRefunded, CheckReopened, GiftCardCharged
from app.checks.models import Payment, Refund, RefundLine, Tender, TenderKind
from app.checks.queries import settings_of
from app.giftcards import calculations as calc
from app.giftcards import queries
from app.giftcards.models import GiftCard, GiftCardMovement, GiftCardStatus, MovementKind
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import EventBus, emit
from app.lib.money import Money
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from app.orders import services as orders
from app.orders.models import Check, CheckLine, CheckStatus, LineState
from app.staff.models import Staff

SALE_SKU = queries.SALE_SKU
SALE_NAME = "Gift card"
_CATEGORY_NAME = "Gift cards"
_TAX_NAME = "No tax (gift cards)"


def _money(cents: int, session: AsyncSession) -> str:
    return Money(cents, settings_of(session).currency).format()


async def sale_item(session: AsyncSession) -> MenuItem:
    """The menu item gift cards are sold as, made on first use: untaxed, sent to no station, hidden from the menu.

    Its category is posted to the gift-card liability (see `closes.postings`), never to revenue.
    """
    item = (await session.exec(select(MenuItem).where(MenuItem.sku == SALE_SKU))).first()
    if item is not None:
        return item
    now = utcnow()
    tax = (await session.exec(select(TaxRate).where(TaxRate.name == _TAX_NAME))).first()
    if tax is None:
        tax = TaxRate(name=_TAX_NAME, rate_bp=0, archived_at=now)
        session.add(tax)
        await session.flush()
    category = (await session.exec(select(MenuCategory).where(MenuCategory.name == _CATEGORY_NAME))).first()
    if category is None:
        category = MenuCategory(
            name=_CATEGORY_NAME, course=Course.DRINKS, tax_rate_id=tax.id or 0, sort_order=999, archived_at=now
        )
        session.add(category)
        await session.flush()
    item = MenuItem(
        sku=SALE_SKU, name=SALE_NAME, price_cents=0, category_id=category.id or 0, sort_order=999, archived_at=now
    )
    session.add(item)
    await session.flush()
    return item


def sale_category_of(lines: Iterable[CheckLine]) -> int | None:
    """The gift-card category as the lines of a check show it (no statement), or None if none of them sold a card."""
    return next((line.category_id for line in lines if line.sku == SALE_SKU), None)


async def sale_category_id(session: AsyncSession) -> int | None:
    """The menu category gift cards are sold in, once one has been sold."""
    found = await session.exec(select(MenuItem.category_id).where(MenuItem.sku == SALE_SKU))
    return found.first()


def check_amount(cents: int, *, maximum: int, currency: str) -> int:
    """Refuse a card amount below one unit of money or above what one card may hold."""
    if cents < 100:
        raise InvalidInput(f"A gift card holds at least {Money(100, currency).format()}. Nothing was sold.")
    if cents > maximum:
        raise InvalidInput(
            f"A gift card holds at most {Money(maximum, currency).format()}; sell several cards for more. "
            "Nothing was sold."
        )
    return cents


async def sell(
    session: AsyncSession, *, check_id: int, amount_cents: int, actor: Staff, expected_version: int | None = None
) -> GiftCard:
    """Put a new gift card for `amount_cents` on an open check, as a line; it is spendable once the check is paid."""
    settings = settings_of(session)
    check_amount(amount_cents, maximum=settings.gift_card_max_cents, currency=settings.currency)
    check = await orders.get_check_for_update(session, check_id, expected_version)
    if check.status is not CheckStatus.OPEN:
        raise Conflict(f"Check #{check.number} is {check.status.value}; sell the gift card on an open check.")
    item = await sale_item(session)
    category = await session.get(MenuCategory, item.category_id)
    tax = await session.get(TaxRate, category.tax_rate_id) if category else None
    if category is None or tax is None:
        raise Conflict("The gift-card menu item lost its category; a manager must fix the menu.")
    now = utcnow()
    number = calc.new_number()
    line = CheckLine(
        check_id=check.id or 0,
        menu_item_id=item.id or 0,
        sku=item.sku,
        name=f"{SALE_NAME} {calc.masked(number)}",
        category_id=category.id or 0,
        unit_price_cents=amount_cents,
        tax_rate_id=tax.id or 0,
        tax_rate_bp=tax.rate_bp,
        station_id=None,
        course=Course.DRINKS,
        # Nothing to cook: the line counts as sent, so paying never asks about unsent items.
        state=LineState.SENT,
        sent_at=now,
        added_by=actor.id or 0,
        added_at=now,
    )
    session.add(line)
    await session.flush()
    card = GiftCard(
        number=number,
        initial_cents=amount_cents,
        line_id=line.id or 0,
        sold_check_id=check.id or 0,
        sold_by=actor.id or 0,
        sold_at=now,
    )
    session.add(card)
    try:
        await session.flush()
    except IntegrityError as exc:  # one chance in 10^15 of drawing a number already out
        raise Conflict("That card number was drawn twice; sell the card again.") from exc
    await orders.bump_version(session, check, expected_version)
    await audit.record(
        session,
        "giftcards.sell",
        actor_id=actor.id,
        subject=f"check:{check.id}",
        after={"card_id": card.id, "last4": card.last4, "amount_cents": amount_cents, "line_id": line.id},
    )
    return card


async def find(session: AsyncSession, number: str | None) -> GiftCard:
    """The card with this number, or a refusal that says what is wrong with what was typed."""
    digits = calc.clean_number(number)
    if not digits:
        raise InvalidInput("Scan or type the gift card's number.")
    if not digits.isdigit() or len(digits) != calc.NUMBER_LENGTH or not calc.luhn_valid(digits):
        raise InvalidInput(
            f"{digits[:24]} is not a gift card number (it has {calc.NUMBER_LENGTH} digits and its last one checks "
            "the others); scan it again or check the digits."
        )
    card = (await session.exec(select(GiftCard).where(GiftCard.number == digits))).first()
    if card is None:
        raise NotFound(f"No gift card numbered {calc.masked(digits)} was sold here.")
    return card


def _refuse_unusable(card: GiftCard) -> None:
    if card.status is GiftCardStatus.PENDING:
        raise Conflict(
            f"Gift card {calc.masked(card.number)} is not paid for yet; it can be spent once its check is paid. "
            "Nothing was charged."
        )
    if card.status is GiftCardStatus.VOID:
        raise Conflict(f"Gift card {calc.masked(card.number)} was cancelled. Nothing was charged.")


async def _move(
    session: AsyncSession,
    card: GiftCard,
    kind: MovementKind,
    amount: int,
    *,
    check_id: int | None,
    staff_id: int | None,
    payment_id: int | None = None,
    refund_id: int | None = None,
) -> GiftCardMovement:
    movement = GiftCardMovement(
        card_id=card.id or 0,
        kind=kind,
        amount_cents=amount,
        balance_after_cents=card.balance_cents,
        check_id=check_id,
        payment_id=payment_id,
        refund_id=refund_id,
        staff_id=staff_id,
    )
    session.add(movement)
    await session.flush()
    return movement


async def spend_on_payment(session: AsyncSession, event: GiftCardCharged) -> None:
    """Take a gift-card payment off its card, or refuse it: the balance is checked and lowered in one statement."""
    card = await find(session, event.card_number)
    _refuse_unusable(card)
    # One conditional UPDATE: under PostgreSQL's row lock a second tablet's spend waits, then finds the lower
    # balance; on SQLite the write transaction is already the only one.
    spent = await session.exec(
        update(GiftCard)
        .where(
            col(GiftCard.id) == card.id,
            col(GiftCard.status) == GiftCardStatus.ACTIVE,
            col(GiftCard.balance_cents) >= event.amount_cents,
        )
        .values(balance_cents=col(GiftCard.balance_cents) - event.amount_cents)
        .returning(col(GiftCard.balance_cents))
        .execution_options(synchronize_session=False)
    )
    if spent.scalars().first() is None:
        await session.refresh(card)
        _refuse_unusable(card)
        raise Conflict(
            f"Gift card {calc.masked(card.number)} has {_money(card.balance_cents, session)} left, less than "
            f"{_money(event.amount_cents, session)}; charge {_money(card.balance_cents, session)} to it and the "
            "rest to another tender. Nothing was charged."
        )
    await session.refresh(card)
    payment = await session.get(Payment, event.payment_id)
    if payment is not None:
        payment.card_last4 = card.last4
        session.add(payment)
    await _move(
        session,
        card,
        MovementKind.REDEEM,
        -event.amount_cents,
        check_id=event.check_id,
        payment_id=event.payment_id,
        staff_id=event.staff_id,
    )


def _held_lines(session: AsyncSession, check_id: int) -> list[CheckLine] | None:
    """The check's lines this transaction already holds, if it holds any: read without another statement."""
    held = [row for row in session.identity_map.values() if isinstance(row, CheckLine) and row.check_id == check_id]
    return held or None


async def activate_on_close(session: AsyncSession, event: CheckClosed) -> None:
    """Cards sold on a check become spendable when it closes paid; a card whose line was voided is cancelled."""
    held = _held_lines(session, event.check_id)
    if held is not None and not any(line.sku == SALE_SKU for line in held):
        return  # closing priced every line of the check in this transaction: no card is on it
    found = await session.exec(
        select(GiftCard, CheckLine)
        .join(CheckLine, col(CheckLine.id) == col(GiftCard.line_id))
        .where(col(CheckLine.check_id) == event.check_id, col(GiftCard.status) == GiftCardStatus.PENDING)
    )
    now = utcnow()
    for card, line in found.all():
        check = await session.get(Check, event.check_id)
        if line.state is LineState.VOIDED:
            card.status, card.voided_at = GiftCardStatus.VOID, now
            session.add(card)
            continue
        card.status, card.activated_at = GiftCardStatus.ACTIVE, now
        card.balance_cents = card.initial_cents
        session.add(card)
        await session.flush()
        await _move(
            session,
            card,
            MovementKind.ISSUE,
            card.initial_cents,
            check_id=event.check_id,
            staff_id=check.server_id if check else None,
        )


async def reverse_on_reopen(session: AsyncSession, event: CheckReopened) -> None:
    """A reopened check takes back the cards it sold, unless one has already been spent."""
    found = await session.exec(
        select(GiftCard)
        .join(CheckLine, col(CheckLine.id) == col(GiftCard.line_id))
        .where(col(CheckLine.check_id) == event.check_id, col(GiftCard.status) == GiftCardStatus.ACTIVE)
        .with_for_update()
    )
    for card in found.all():
        if card.balance_cents != card.initial_cents:
            raise Conflict(
                f"Gift card {calc.masked(card.number)} sold on this check has already been spent; the check "
                "cannot be reopened. Refund what is owed instead. Nothing was changed."
            )
        card.balance_cents = 0
        card.status, card.activated_at = GiftCardStatus.PENDING, None
        session.add(card)
        await session.flush()
        await _move(session, card, MovementKind.UNISSUE, -card.initial_cents, check_id=event.check_id, staff_id=None)


async def take_back_refunded_cards(session: AsyncSession, refund: Refund) -> None:
    """A refund of the card's own sale cancels the card, unless some of it was spent (then it is refused)."""
    held = _held_lines(session, refund.check_id)
    sold = {line.id: line for line in held or [] if line.sku == SALE_SKU}
    if held is not None and not sold:
        return  # the refunding transaction priced every line of the check: no card was sold on it
    refunded = [
        row for row in session.identity_map.values() if isinstance(row, RefundLine) and row.refund_id == refund.id
    ]
    if not refunded:
        refunded = list((await session.exec(select(RefundLine).where(RefundLine.refund_id == refund.id))).all())
    category = await sale_category_id(session)
    whole = any(row.line_id is None and row.category_id == category and row.net_cents for row in refunded)
    line_ids = {row.line_id for row in refunded if row.line_id is not None}
    found = await session.exec(
        select(GiftCard)
        .join(CheckLine, col(CheckLine.id) == col(GiftCard.line_id))
        .where(col(CheckLine.check_id) == refund.check_id, col(GiftCard.status) == GiftCardStatus.ACTIVE)
        .with_for_update()
    )
    now = utcnow()
    for card in found.all():
        if not whole and card.line_id not in line_ids:
            continue
        if card.balance_cents != card.initial_cents:
            raise Conflict(
                f"Gift card {calc.masked(card.number)} sold on this check has been spent "
                f"({_money(card.balance_cents, session)} of {_money(card.initial_cents, session)} left); its sale "
                "cannot be refunded. Nothing was refunded."
            )
        card.balance_cents, card.status, card.voided_at = 0, GiftCardStatus.VOID, now
        session.add(card)
        await session.flush()
        await _move(
            session,
            card,
            MovementKind.SALE_REFUNDED,
            -card.initial_cents,
            check_id=refund.check_id,
            refund_id=refund.id,
            staff_id=refund.refunded_by,
        )


async def credit_refund(session: AsyncSession, event: CheckRefunded) -> None:
    """A refund of a gift-card payment goes back onto the card it was paid with; one of a card's sale cancels it."""
    refund = await session.get(Refund, event.refund_id)
    if refund is not None:
        await take_back_refunded_cards(session, refund)
    tender = await session.get(Tender, refund.tender_id) if refund else None
    if refund is None or tender is None or tender.kind is not TenderKind.GIFT_CARD:
        return
    spent = (
        await session.exec(
            select(GiftCardMovement).where(
                GiftCardMovement.payment_id == refund.payment_id, GiftCardMovement.kind == MovementKind.REDEEM
            )
        )
    ).first()
    if spent is None:
        raise Conflict(
            "That gift-card payment was taken before cards were tracked; refund it to another tender. "
            "Nothing was changed."
        )
    amount = refund.amount_cents + refund.tip_cents
    await session.exec(
        update(GiftCard)
        .where(col(GiftCard.id) == spent.card_id)
        .values(balance_cents=col(GiftCard.balance_cents) + amount)
        .execution_options(synchronize_session=False)
    )
    card = await session.get(GiftCard, spent.card_id)
    if card is None:
        return
    await session.refresh(card)
    await _move(
        session,
        card,
        MovementKind.REFUND,
        amount,
        check_id=refund.check_id,
        refund_id=refund.id,
        staff_id=refund.refunded_by,
    )
    await audit.record(
        session,
        "giftcards.refund",
        actor_id=refund.refunded_by,
        subject=f"check:{refund.check_id}",
        after={"card_id": card.id, "last4": card.last4, "amount_cents": amount, "balance_cents": card.balance_cents},
    )


async def cancel(
    session: AsyncSession, *, check_id: int, card_id: int, actor: Staff, expected_version: int | None = None
) -> GiftCard:
    """Take a card not yet paid for off its check: its line is voided without telling the kitchen (it never knew)."""
    check = await orders.get_check_for_update(session, check_id, expected_version)
    card = await session.get(GiftCard, card_id)
    line = await session.get(CheckLine, card.line_id) if card is not None else None
    if card is None or line is None or line.check_id != check.id:
        raise NotFound("That gift card is not on this check; reload the page.")
    if check.status is not CheckStatus.OPEN or card.status is not GiftCardStatus.PENDING:
        raise Conflict(
            f"Gift card {calc.masked(card.number)} is {card.status.label.lower()}; only a card on an open, unpaid "
            "check can be cancelled. Refund it instead."
        )
    now = utcnow()
    line.state, line.voided_at, line.voided_by, line.void_reason = (
        LineState.VOIDED,
        now,
        actor.id,
        "gift card cancelled",
    )
    card.status, card.voided_at = GiftCardStatus.VOID, now
    session.add(line)
    session.add(card)
    await orders.bump_version(session, check, expected_version)
    await session.flush()
    # Refused (and the cancel with it) when the check is already paid past what would be left.
    await emit(session, orders.CheckTotalLowered(check_id=check.id or 0))
    await audit.record(
        session,
        "giftcards.cancel",
        actor_id=actor.id,
        subject=f"check:{check.id}",
        after={"card_id": card.id, "last4": card.last4, "line_id": line.id},
    )
    return card


async def refuse_line_void(session: AsyncSession, event: orders.PortionsReturned) -> None:
    """A gift card's line is never voided from the order screen: that would tell the kitchen about it."""
    # The line being voided is in this transaction already: its snapshot says whether it is a card.
    if any(
        isinstance(row, CheckLine) and row.sku == SALE_SKU and row.menu_item_id in event.menu_item_ids
        for row in session.identity_map.values()
    ):
        raise Conflict(
            "A gift card is taken off a check on its own page (Gift card, then Cancel), never as a void. "
            "Nothing was changed."
        )


def wire(bus: EventBus) -> None:
    """Follow the checks' money in the same transaction; tell the server what a card has left after paying."""
    check_queries.PAYMENT_NOTES["gift_cards"] = queries.payment_note
    check_printing.RECEIPT_CODES["gift_cards"] = queries.receipt_codes
    bus.subscribe(orders.PortionsReturned, refuse_line_void)
    bus.subscribe(GiftCardCharged, spend_on_payment)
    bus.subscribe(CheckClosed, activate_on_close)
    bus.subscribe(CheckReopened, reverse_on_reopen)
    bus.subscribe(CheckRefunded, credit_refund)
