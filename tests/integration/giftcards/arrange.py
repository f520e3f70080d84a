"""Gift cards sold and spent as a server does it on the tablet: sell on the gift-card page, pay on the settle page."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.accounting.models import Account, JournalLine
from app.giftcards.models import GiftCard, GiftCardStatus
from tests.integration.checks.arrange import money, post, ring_in, rows, tenders
from tests.integration.closes.arrange import deliver

SOUP = [(1, "ST-TAR")]


async def sell(device: Any, runtime: Any, check_id: int, *, preset: int | None = None, amount: str = "") -> Any:
    """Tap a preset amount (cents) or type one on the check's gift-card page."""
    data = {"preset": str(preset)} if preset is not None else {"amount": amount}
    return await post(device, runtime, check_id, "gift-cards", data)


async def pay(device: Any, runtime: Any, check_id: int, tender: str, **fields: str) -> Any:
    """Tap a tender on the settle page with the amount (and card number) typed."""
    ids = await tenders(runtime)
    return await post(device, runtime, check_id, "pay", {"tender_id": str(ids[tender]), **fields})


async def pay_rest_in_cash(device: Any, runtime: Any, check_id: int) -> Any:
    due = (await money(runtime, check_id)).due
    return await pay(device, runtime, check_id, "Cash", tendered=f"{due / 100:.2f}")


async def sold_card(device: Any, runtime: Any, cents: int, *, table: str = "5") -> GiftCard:
    """A card of `cents` sold alone on a check paid in cash: active, with its balance."""
    arranged = await ring_in(runtime, items=[], table=table, send=False)
    response = await sell(device, runtime, arranged.check_id, amount=f"{cents / 100:.2f}")
    assert response.status_code == 200, response.text
    paid = await pay_rest_in_cash(device, runtime, arranged.check_id)
    assert paid.status_code == 200, paid.text
    [card] = await rows(runtime, GiftCard, GiftCard.sold_check_id == arranged.check_id)
    assert card.status is GiftCardStatus.ACTIVE
    return card


async def card(runtime: Any, card_id: int) -> GiftCard:
    async with runtime.db.read() as session:
        found = await session.get(GiftCard, card_id)
        assert found is not None
        return found


async def ledger_balance(runtime: Any, code: str) -> int:
    """An account's balance as the ledger has it, credit positive for a liability."""
    await deliver(runtime)
    async with runtime.db.read() as session:
        total = (
            await session.exec(
                select(JournalLine.amount_cents)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(Account.code == code)
            )
        ).all()
    return -sum(total)


async def open_balances(runtime: Any) -> int:
    return sum(c.balance_cents for c in await rows(runtime, GiftCard) if c.status is GiftCardStatus.ACTIVE)
