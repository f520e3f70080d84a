"""Cash drawer pages: open, loose cash, moves, no sale and the count."""

from __future__ import annotations

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.closes import queries
from app.closes.drawers import close_drawer, move_cash, no_sale, open_drawer, put_loose_cash_in_drawer
from app.closes.guards import today
from app.closes.models import MovementKind
from app.closes.page_helpers import PAGE, Req, _cents, _once, _viewer
from app.lib import web
from app.staff.permissions import Perm


async def _drawers_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        day = await today(session)
        rows = await queries.drawers(session, day)
        loose = await queries.loose_cash(session)
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


@post("/closes/drawers", permission=Perm.DRAWER_MANAGE, **PAGE)
async def drawer_open(request: Req, db: web.Db) -> Template:
    """Open a drawer with its float."""
    fields = await web.form_data(request)
    viewer = _viewer(request)
    float_cents = _cents(fields, "float", "The float", allow_zero=True)
    on_device = str(fields.get("this_device") or "") == "on"

    async def work(session: AsyncSession) -> str:
        drawer = await open_drawer(
            session,
            name=str(fields.get("name") or ""),
            float_cents=float_cents,
            actor=viewer.staff,
            device_id=viewer.device_id if on_device else None,
            blind=str(fields.get("blind") or "") == "on",
        )
        return f"Drawer {drawer.name} is open with a float of {float_cents / 100:.2f}."

    return await _drawers_page(request, db, flash=await _once(request, db, fields, work))


@post("/closes/drawers/loose/{payment_id:int}", permission=Perm.DRAWER_MANAGE, **PAGE)
async def drawer_loose_cash(request: Req, db: web.Db, payment_id: FromPath[int]) -> Template:
    """Put cash taken while no drawer was open into an open drawer, so its count answers for it."""
    fields = await web.form_data(request)
    drawer_id = web.field_int(fields, "drawer_id", label="Drawer", minimum=1)

    async def work(session: AsyncSession) -> str:
        payment = await put_loose_cash_in_drawer(
            session, payment_id=payment_id, drawer_id=drawer_id, actor=_viewer(request).staff
        )
        return (
            f"{payment.amount_cents / 100:.2f} in cash is now expected in that drawer; count it to see if it is there."
        )

    return await _drawers_page(request, db, flash=await _once(request, db, fields, work))


@post("/closes/drawers/{drawer_id:int}/move", permission=Perm.DRAWER_MANAGE, **PAGE)
async def drawer_move(request: Req, db: web.Db, drawer_id: FromPath[int]) -> Template:
    """Cash in or pay out, with a reason."""
    fields = await web.form_data(request)
    amount = _cents(fields, "amount", "The amount")
    kind = str(fields.get("kind") or "")

    async def work(session: AsyncSession) -> str:
        movement = await move_cash(
            session,
            drawer_id=drawer_id,
            kind=kind,
            amount_cents=amount,
            reason=str(fields.get("reason") or ""),
            actor=_viewer(request).staff,
            account_code=str(fields.get("account_code") or "") or None,
        )
        return f"{movement.kind.label} of {amount / 100:.2f} recorded."

    return await _drawers_page(request, db, flash=await _once(request, db, fields, work))


@post("/closes/drawers/{drawer_id:int}/no-sale", permission=Perm.NO_SALE, **PAGE)
async def drawer_no_sale(request: Req, db: web.Db, drawer_id: FromPath[int]) -> Template:
    """Open the drawer without a sale (audited)."""
    fields = await web.form_data(request)

    async def work(session: AsyncSession) -> str:
        await no_sale(
            session, drawer_id=drawer_id, reason=str(fields.get("reason") or ""), actor=_viewer(request).staff
        )
        return "The drawer opens; the no-sale is in the audit log."

    message = await _once(request, db, fields, work)
    if not _viewer(request).can(Perm.DRAWER_MANAGE):
        return web.page(request, "_flash.html", message=message, level="info")
    return await _drawers_page(request, db, flash=message)


@post("/closes/drawers/{drawer_id:int}/count", permission=Perm.DRAWER_MANAGE, **PAGE)
async def drawer_count(request: Req, db: web.Db, drawer_id: FromPath[int]) -> Template:
    """Count the drawer: over/short is posted and shown."""
    fields = await web.form_data(request)
    counted = _cents(fields, "counted", "The counted cash", allow_zero=True)

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

    return await _drawers_page(request, db, flash=await _once(request, db, fields, work))
