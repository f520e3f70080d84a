"""Pages of gift cards: sell one on a check, look up a balance at the tablet, and the manager's liability report."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

import msgspec
import qrcode
import qrcode.image.svg
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from markupsafe import Markup
from msgspec import Meta
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import guards
from app.checks import services as checks
from app.checks.models import Tender, TenderKind
from app.checks.queries import load_check
from app.giftcards import calculations as calc
from app.giftcards import queries, services
from app.giftcards.models import MovementKind
from app.lib import forms, web
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.manage import FORM
from app.lib.money import Money
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
PAGE: Final[dict[str, Any]] = {"include_in_schema": False}
MAX_RANGE_DAYS: Final = 366


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def qr_svg(number: str) -> Markup:
    """The card's number as a QR code, an inline SVG that a phone camera or a scanner reads."""
    image = qrcode.make(number, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'width="[^"]*" height="[^"]*"', 'width="168" height="168" role="img"', svg, count=1)
    return Markup(svg.replace("<svg ", f'<svg aria-label="QR code of gift card {calc.masked(number)}" ', 1))  # noqa: S704


async def _sell_context(session: AsyncSession, request: Req, check_id: int) -> dict[str, Any]:
    check = await load_check(session, check_id)
    cards = await queries.cards_on_check(session, check_id)
    settings = _settings(request)
    return {
        "check": check,
        "cards": cards,
        "qr": {card.id: qr_svg(card.number) for card in cards},
        "presets": settings.gift_card_amounts,
        "max_cents": settings.gift_card_max_cents,
        "grouped": calc.grouped,
        "masked": calc.masked,
    }


async def _sell_page(request: Req, db: web.Db, check_id: int, *, flash: str = "", level: str = "info") -> Template:
    async with db.read() as session:
        context = await _sell_context(session, request, check_id)
    return web.page(
        request,
        "giftcards/sell.html",
        fragment="giftcards/_sell.html",
        flash=flash,
        flash_level=level,
        **context,
    )


@get("/checks/{check_id:int}/gift-cards", permission=Perm.ORDERS_ENTER, **PAGE)
async def sell_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """Sell a gift card on this check; the cards sold on it, with their numbers and QR codes."""
    return await _sell_page(request, db, check_id)


class CardCommand(forms.Form, kw_only=True):
    """A command on a check's gift cards: the request's idempotency key and the check version the page showed."""

    idempotency_key: str = ""
    version: Annotated[int, Meta(title="The check version", ge=1)] | None = None

    def public(self) -> dict[str, Any]:
        """What the request asks for, to tell a repeat from another request: the version is left out, so a
        double tap after the first one changed the check still answers as the first."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if k != "version"}


class SellForm(CardCommand, kw_only=True):
    """A card to sell: one of the preset amounts (in cents), or an amount typed in the venue's currency."""

    preset: str = ""
    amount: str = ""

    def amount_cents(self, settings: Settings) -> int:
        preset = self.preset.strip()
        if preset:
            try:
                cents = int(preset)
            except ValueError:
                raise InvalidInput("Choose one of the amounts shown.") from None
            if cents not in settings.gift_card_amounts:
                raise InvalidInput("Choose one of the amounts shown.")
            return cents
        raw = self.amount.strip()
        if not raw:
            raise InvalidInput("Tap an amount or type one for the card. Nothing was sold.")
        return guards.parse_cents(raw, label="The card's amount", currency=settings.currency)


async def _once(request: Req, db: web.Db, data: CardCommand, work: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run `work` once per idempotency key; its flash (a repeat gets the first one)."""
    key = check_key(data.idempotency_key)

    async def stored(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    done = await run_once(
        db,
        key=key,
        scope=f"giftcards:{_viewer(request).staff.id}",
        print_=fingerprint(request.method, request.url.path, data.public()),
        work=stored,
    )
    return done.body


@post("/checks/{check_id:int}/gift-cards", permission=Perm.ORDERS_ENTER, before_request=forms.drop_blanks, **PAGE)
async def sell(request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[SellForm, FORM]) -> Template:
    """Put a new gift card on the check; a double tap (the same key) sells one card."""
    settings = _settings(request)
    amount = data.amount_cents(settings)

    async def work(session: AsyncSession) -> str:
        card = await services.sell(
            session, check_id=check_id, amount_cents=amount, actor=_viewer(request).staff, expected_version=data.version
        )
        money = Money(card.initial_cents, settings.currency).format()
        return f"Gift card {calc.masked(card.number)} for {money} is on the check."

    flash = await _once(request, db, data, work)
    return await _sell_page(request, db, check_id, flash=flash + " It can be spent once the check is paid.")


@post(
    "/checks/{check_id:int}/gift-cards/{card_id:int}/cancel",
    permission=Perm.ORDERS_ENTER,
    before_request=forms.drop_blanks,
    **PAGE,
)
async def cancel(
    request: Req, db: web.Db, check_id: FromPath[int], card_id: FromPath[int], data: Annotated[CardCommand, FORM]
) -> Template:
    """Take a card not yet paid for off the check."""

    async def work(session: AsyncSession) -> str:
        card = await services.cancel(
            session, check_id=check_id, card_id=card_id, actor=_viewer(request).staff, expected_version=data.version
        )
        return f"Gift card {calc.masked(card.number)} was taken off the check."

    return await _sell_page(request, db, check_id, flash=await _once(request, db, data, work))


@get("/gift-cards", permission=Perm.PAYMENTS_TAKE, **PAGE)
async def balance_page(request: Req, db: web.Db, number: FromQuery[str | None] = None) -> Template:
    """Look up a card's balance by its number (typed, or scanned from its QR code)."""
    view = None
    error = ""
    if number is not None and number.strip():
        try:
            async with db.read() as session:
                view = await queries.card_view(session, await services.find(session, number))
        except (InvalidInput, NotFound, Conflict) as exc:
            error = exc.message
    return web.page(
        request,
        "giftcards/balance.html",
        fragment="giftcards/_balance.html",
        view=view,
        number=number or "",
        error=error,
        masked=calc.masked,
        kinds=MovementKind,
    )


def _day(raw: str | None, default: dt.date, label: str) -> dt.date:
    if raw is None or not raw.strip():
        return default
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


async def ledger_code(session: AsyncSession) -> str:
    """The ledger account the gift-card tender's money is on (the liability)."""
    found = await session.exec(
        select(Tender.ledger_account_code)
        .where(Tender.kind == TenderKind.GIFT_CARD, col(Tender.archived_at).is_(None))
        .order_by(col(Tender.id))
    )
    return found.first() or "2010"


@get("/reports/gift-cards", permission=Perm.REPORTS_VIEW, **PAGE)
async def report_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Gift-card liability (cards against the ledger), what was sold, spent and refunded, and likely breakage."""
    today = checks.business_day(_settings(request), utcnow())
    last = _day(end, today, "To")
    first = _day(start, last.replace(day=1), "From")
    if first > last:
        raise InvalidInput("The first day comes after the last; swap them.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"Show at most {MAX_RANGE_DAYS} days at a time.")
    async with db.read() as session:
        code = await ledger_code(session)
        report = await queries.liability(session, start=first, end=last, ledger_code=code)
    return web.page(
        request,
        "giftcards/report.html",
        fragment="giftcards/_report.html",
        report=report,
        kinds=MovementKind,
        start=first,
        end=last,
        today=today,
    )


ROUTES: list[Any] = [sell_page, sell, cancel, balance_page, report_page]
