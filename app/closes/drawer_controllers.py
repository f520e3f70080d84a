"""Cash drawer pages: open, loose cash, moves, no sale and the count."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.closes import drawer_queries
from app.closes.drawers import close_drawer, move_cash, no_sale, open_drawer, put_loose_cash_in_drawer
from app.closes.guards import today
from app.closes.models import MovementKind
from app.closes.page_helpers import PAGE, CommandForm, Money, Req, _cents, _once, _viewer, command_post
from app.lib import forms, web
from app.lib.manage import FORM
from app.staff.permissions import Perm


async def _drawers_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        day = await today(session)
        rows = await drawer_queries.drawers(session, day)
        loose = await drawer_queries.loose_cash(session)
    return web.page(
        request,
        "closes/drawers.html",
        fragment="closes/_drawers.html",
        day=day,
        rows=rows,
        loose=loose,
        movement_kinds=[MovementKind.CASH_IN, MovementKind.PAY_OUT],
        flash=flash,
    )


@get("/closes/drawers", permission=Perm.DRAWER_MANAGE, **PAGE)
async def drawers_page(request: Req, db: web.Db) -> Template:
    """Cash drawers: open with a float, cash in and out, no sale, count."""
    return await _drawers_page(request, db)


class OpenDrawerForm(CommandForm, kw_only=True):
    name: Annotated[str, forms.Text(max_length=80, required=False)] = ""
    float: Money = ""
    this_device: str = ""
    blind: str = ""


class LooseCashForm(CommandForm, kw_only=True):
    drawer_id: Annotated[int, Meta(title="Drawer", ge=1)]


class MoveForm(CommandForm, kw_only=True):
    kind: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    amount: Money = ""
    reason: Annotated[str, forms.Text(max_length=200, required=False)] = ""
    account_code: Annotated[str, forms.Text(max_length=40, required=False)] = ""


class NoSaleForm(CommandForm, kw_only=True):
    reason: Annotated[str, forms.Text(max_length=200, required=False)] = ""


class CountForm(CommandForm, kw_only=True):
    counted: Money = ""


@command_post("/closes/drawers", permission=Perm.DRAWER_MANAGE)
async def drawer_open(request: Req, db: web.Db, data: Annotated[OpenDrawerForm, FORM]) -> Template:
    """Open a drawer with its float."""
    viewer = _viewer(request)
    float_cents = _cents(data.float, "The float", allow_zero=True)

    async def work(session: AsyncSession) -> str:
        drawer = await open_drawer(
            session,
            name=data.name,
            float_cents=float_cents,
            actor=viewer.staff,
            device_id=viewer.device_id if data.this_device == "on" else None,
            blind=data.blind == "on",
        )
        return f"Drawer {drawer.name} is open with a float of {float_cents / 100:.2f}."

    return await _drawers_page(request, db, flash=await _once(request, db, data, work))


@command_post("/closes/drawers/loose/{payment_id:int}", permission=Perm.DRAWER_MANAGE)
async def drawer_loose_cash(
    request: Req, db: web.Db, payment_id: FromPath[int], data: Annotated[LooseCashForm, FORM]
) -> Template:
    """Put cash taken while no drawer was open into an open drawer, so its count answers for it."""

    async def work(session: AsyncSession) -> str:
        payment = await put_loose_cash_in_drawer(
            session, payment_id=payment_id, drawer_id=data.drawer_id, actor=_viewer(request).staff
        )
        return (
            f"{payment.amount_cents / 100:.2f} in cash is now expected in that drawer; count it to see if it is there."
        )

    return await _drawers_page(request, db, flash=await _once(request, db, data, work))


@command_post("/closes/drawers/{drawer_id:int}/move", permission=Perm.DRAWER_MANAGE)
async def drawer_move(request: Req, db: web.Db, drawer_id: FromPath[int], data: Annotated[MoveForm, FORM]) -> Template:
    """Cash in or pay out, with a reason."""
    amount = _cents(data.amount, "The amount")

    async def work(session: AsyncSession) -> str:
        movement = await move_cash(
            session,
            drawer_id=drawer_id,
            kind=data.kind,
            amount_cents=amount,
            reason=data.reason,
            actor=_viewer(request).staff,
            account_code=data.account_code or None,
        )
        return f"{movement.kind.label} of {amount / 100:.2f} recorded."

    return await _drawers_page(request, db, flash=await _once(request, db, data, work))


@command_post("/closes/drawers/{drawer_id:int}/no-sale", permission=Perm.NO_SALE)
async def drawer_no_sale(
    request: Req, db: web.Db, drawer_id: FromPath[int], data: Annotated[NoSaleForm, FORM]
) -> Template:
    """Open the drawer without a sale (audited)."""

    async def work(session: AsyncSession) -> str:
        await no_sale(session, drawer_id=drawer_id, reason=data.reason, actor=_viewer(request).staff)
        return "The drawer opens; the no-sale is in the audit log."

    message = await _once(request, db, data, work)
    if not _viewer(request).can(Perm.DRAWER_MANAGE):
        return web.page(request, "_flash.html", message=message, level="info")
    return await _drawers_page(request, db, flash=message)


@command_post("/closes/drawers/{drawer_id:int}/count", permission=Perm.DRAWER_MANAGE)
async def drawer_count(
    request: Req, db: web.Db, drawer_id: FromPath[int], data: Annotated[CountForm, FORM]
) -> Template:
    """Count the drawer: over/short is posted and shown."""
    counted = _cents(data.counted, "The counted cash", allow_zero=True)

    async def work(session: AsyncSession) -> str:
        drawer = await close_drawer(session, drawer_id=drawer_id, counted_cents=counted, actor=_viewer(request).staff)
        difference = drawer.over_short_cents or 0
        if difference == 0:
            return f"Drawer {drawer.name} counted {counted / 100:.2f}: exact."
        word = "over" if difference > 0 else "short"
        return (
            f"Drawer {drawer.name} counted {counted / 100:.2f}: {word} by {abs(difference) / 100:.2f}, "
            "posted to cash over/short."
        )

    return await _drawers_page(request, db, flash=await _once(request, db, data, work))
