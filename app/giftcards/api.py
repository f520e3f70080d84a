"""Gift cards in the JSON API: look up a balance, page through the cards, sell a card paid elsewhere (a web shop).

Lists show a card's last four digits only: a full number is what spends the card, so only the sale that made
it and a look-up by that number answer with it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.controllers import PREFIX, READ, WRITE, AfterId, IdempotencyHeader, Limit, _house_staff
from app.checks import payments
from app.checks.delivery import payment_terminal
from app.checks.models import AttemptStatus, Tender, TenderKind
from app.giftcards import queries, services
from app.giftcards.models import GiftCard, GiftCardStatus
from app.lib import web
from app.lib.errors import Conflict, InvalidInput
from app.lib.idempotency import StoredResponse, fingerprint, run_once
from app.orders import seating
from app.orders.models import CheckKind
from app.staff.auth import ApiClient

NumberPath = Annotated[str, PathParameter(min_length=1, max_length=40, description="The card's number.")]
StatusQuery = Annotated[
    str | None, QueryParameter(max_length=10, description="Only cards that are pending, active or void.")
]
_PATH: Final = f"{PREFIX}/gift-cards"


class MovementOut(msgspec.Struct):
    """One change of a card's balance: signed cents, and the balance it left."""

    id: int
    kind: str
    amount_cents: int
    balance_after_cents: int
    check_id: int | None
    payment_id: int | None
    refund_id: int | None
    at: str


class GiftCardOut(msgspec.Struct):
    """A card: its status, what it was sold for and what it holds; `number` only where the caller already has it."""

    id: int
    last4: str
    status: str
    initial_cents: int
    balance_cents: int
    sold_check_id: int
    sold_at: str
    activated_at: str | None
    number: str | None = None
    movements: list[MovementOut] | None = None


class GiftCardPage(msgspec.Struct):
    """A page of cards, in the order they were sold; ask again with `after_id=next_after_id`."""

    items: list[GiftCardOut]
    next_after_id: int | None
    outstanding_cents: int


class GiftCardSale(msgspec.Struct):
    """A card sold and paid for elsewhere: its amount, and the tender the money came in on (not cash or a card)."""

    amount_cents: Annotated[int, msgspec.Meta(ge=100, le=10**7)]
    tender_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


def card_out(card: GiftCard, *, number: bool = False, view: queries.CardView | None = None) -> GiftCardOut:
    """A card as the API shows it."""
    return GiftCardOut(
        id=card.id or 0,
        last4=card.last4,
        status=card.status.value,
        initial_cents=card.initial_cents,
        balance_cents=card.balance_cents,
        sold_check_id=card.sold_check_id,
        sold_at=card.sold_at.isoformat(),
        activated_at=card.activated_at.isoformat() if card.activated_at else None,
        number=card.number if number else None,
        movements=[
            MovementOut(
                id=m.id or 0,
                kind=m.kind.value,
                amount_cents=m.amount_cents,
                balance_after_cents=m.balance_after_cents,
                check_id=m.check_id,
                payment_id=m.payment_id,
                refund_id=m.refund_id,
                at=m.created_at.isoformat(),
            )
            for m in view.movements
        ]
        if view is not None
        else None,
    )


@get(_PATH, **READ)
async def list_gift_cards(
    db: web.Db, after_id: AfterId = 0, limit: Limit = 50, status: StatusQuery = None
) -> GiftCardPage:
    """Gift cards in the order they were sold (last four digits only), with the total still owed on them."""
    wanted = None
    if status:
        try:
            wanted = GiftCardStatus(status)
        except ValueError:
            raise InvalidInput("status must be pending, active or void.") from None
    async with db.read() as session:
        cards = await queries.cards_page(session, after_id=after_id, limit=limit + 1, status=wanted)
        outstanding = await queries.outstanding_cents(session)
    more = len(cards) > limit
    cards = cards[:limit]
    return GiftCardPage(
        items=[card_out(c) for c in cards],
        next_after_id=(cards[-1].id if more and cards else None),
        outstanding_cents=outstanding,
    )


@get(f"{_PATH}/{{number:str}}", **READ)
async def get_gift_card(db: web.Db, number: NumberPath) -> GiftCardOut:
    """One card by its number: its balance and every movement of it."""
    async with db.read() as session:
        card = await services.find(session, number)
        return card_out(card, number=True, view=await queries.card_view(session, card))


async def _online_tender(session: AsyncSession, tender_id: int) -> Tender:
    tender = await session.get(Tender, tender_id)
    if tender is None or tender.archived_at is not None:
        raise InvalidInput(f"There is no tender {tender_id}.")
    if tender.kind in (TenderKind.CASH, TenderKind.GIFT_CARD, TenderKind.HOUSE_ACCOUNT) or tender.uses_terminal:
        raise InvalidInput(
            f"{tender.name} cannot pay for a card sold online: choose a tender whose money arrives elsewhere "
            "(not cash, a terminal, a gift card or a house account)."
        )
    return tender


@post(_PATH, status_code=201, **WRITE)
async def sell_gift_card(
    request: Request[Any, Any, Any], db: web.Db, data: JSONBody[GiftCardSale], idempotency_key: IdempotencyHeader = None
) -> Response[Any]:
    """Sell a card paid for elsewhere (a web shop): an online check with the card on it, paid and closed at once.

    The `Idempotency-Key` header is required: the same key answers the same card and never sells or charges twice.
    """
    if not idempotency_key:
        raise InvalidInput("Send an Idempotency-Key header, so a retried sale never sells two cards.")
    client: ApiClient = request.user
    body = msgspec.to_builtins(data)

    async def work(session: AsyncSession) -> StoredResponse:
        await _online_tender(session, data.tender_id)
        owner = await _house_staff(session)
        check = await seating.open_check(session, table_id=None, covers=1, server=owner, kind=CheckKind.ONLINE)
        card = await services.sell(session, check_id=check.id or 0, amount_cents=data.amount_cents, actor=owner)
        payload = {"card_id": card.id, "check_id": check.id, "owner_id": owner.id}
        return StoredResponse(201, json.dumps(payload), {})

    sold = await run_once(
        db,
        key=idempotency_key,
        scope=f"api:{client.token_id}",
        print_=fingerprint("POST", _PATH, {"body": json.dumps(body, sort_keys=True)}),
        work=work,
    )
    made = json.loads(sold.body)
    async with db.read() as session:
        owner_staff = await _house_staff(session)
    outcome = await payments.take_payment(
        db,
        payment_terminal(db),
        payments.PaymentRequest(
            check_id=made["check_id"],
            tender_id=data.tender_id,
            actor=owner_staff,
            idempotency_key=f"api-gift-card:{client.token_id}:{idempotency_key}"[:100],
        ),
    )
    if outcome.attempt.status is not AttemptStatus.APPROVED:
        raise Conflict(f"The card's payment was not taken: {outcome.message}")
    async with db.read() as session:
        card = await session.get(GiftCard, made["card_id"])
        if card is None:
            raise Conflict("The card sold was not found; try the same request again.")
        view = await queries.card_view(session, card)
    return Response(content=msgspec.to_builtins(card_out(card, number=True, view=view)), status_code=201)


ROUTES: list[Any] = [list_gift_cards, get_gift_card, sell_gift_card]
