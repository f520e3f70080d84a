"""Pages for the end of the day (close, drawers, checkout, tips, exceptions, mappings) and the reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from msgspec import Meta
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.models import Refund, RefundStatus
from app.closes import drawer_queries, queries, refund_postings, reports
from app.closes.checkouts import check_out_server
from app.closes.day_close import DayNotReady, close_day
from app.closes.drawer_controllers import (
    drawer_count,
    drawer_loose_cash,
    drawer_move,
    drawer_no_sale,
    drawer_open,
    drawers_page,
)
from app.closes.guards import today
from app.closes.mappings import retry_exception, save_mapping, seed_posting_mappings
from app.closes.models import CheckPosting, MappingKind, PoolMethod
from app.closes.page_helpers import (
    PAGE,
    DayForm,
    Money,
    Req,
    _cents,
    _day,
    _once,
    _today,
    _viewer,
    command_post,
)
from app.closes.report_controllers import adjustments_page, kitchen_page, sales_page, stock_page, z_page, z_print
from app.closes.tip_pools import distribute_tips, record_hours, save_tip_rule, stop_pooling
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.staff.models import Staff
from app.staff.permissions import Perm, Role

# ---------------------------------------------------------------------------------------------- day close


async def _day_page(
    request: Req, db: web.Db, day: dt.date, *, flash: str | None = None, level: str = "info"
) -> Template:
    async with db.read() as session:
        state = await queries.day_state(session, day)
        blockers = [] if state.closed else await queries.close_blockers(session, day)
        z = await reports.z_report(session, day)
        drawers = await drawer_queries.drawers(session, day)
        people = await queries.servers_of_day(session, day)
        checkouts = {p.id: await queries.checkout_summary(session, p.id or 0, day) for p in people}
        recent = await queries.recent_days(session)
        exceptions = await queries.open_exception_count(session)
    return web.page(
        request,
        "closes/day.html",
        fragment="closes/_day.html",
        day=day,
        state=state,
        blockers=blockers,
        z=z,
        drawers=drawers,
        people=people,
        checkouts=checkouts,
        recent=recent,
        exceptions=exceptions,
        flash=flash,
        flash_level=level,
    )


@get("/closes", permission=Perm.DAY_CLOSE, **PAGE)
async def closes_home() -> Redirect:
    """The end of the day starts on the close page."""
    return Redirect(path="/closes/day")


@get("/closes/day", permission=Perm.DAY_CLOSE, **PAGE)
async def day_page(request: Req, db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """The day's close: what still blocks it, drawers, checkouts, and the Z report as it stands."""
    async with db.read() as session:
        default = await queries.oldest_unclosed_day(session, _today(request))
    return await _day_page(request, db, _day(day, default))


@command_post("/closes/day/close", permission=Perm.DAY_CLOSE)
async def day_close(request: Req, db: web.Db, data: Annotated[DayForm, FORM]) -> Template:
    """Close the business day; refused with the list of what is still open or owed."""
    day = _day(data.day, _today(request))
    viewer = _viewer(request)

    async def work(session: AsyncSession) -> str:
        await close_day(session, day=day, actor=viewer.staff, device_id=viewer.device_id)
        return f"{day.isoformat()} is closed: the Z report was printed and the books are locked."

    try:
        message = await _once(request, db, data, work)
    except DayNotReady as exc:
        return await _day_page(request, db, day, flash=exc.message, level="error")
    return await _day_page(request, db, day, flash=message)


# ---------------------------------------------------------------------------------------------- mappings


async def _mappings_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        view = await queries.mappings_view(session)
    return web.page(request, "closes/mappings.html", fragment="closes/_mappings.html", view=view, flash=flash)


@get("/closes/mappings", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def mappings_page(request: Req, db: web.Db) -> Template:
    """Where sales, tenders, taxes, house accounts and stock are posted."""
    return await _mappings_page(request, db)


class MappingForm(forms.Form, kw_only=True):
    kind: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    subject: Annotated[str, forms.Text(max_length=120, required=False)] = ""
    account_code: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    stock_location_id: Annotated[int, Meta(title="Stock location", ge=1)] | None = None


@post("/closes/mappings", permission=Perm.ACCOUNTING_MANAGE, before_request=forms.drop_blanks, **PAGE)
async def mapping_save(request: Req, db: web.Db, data: Annotated[MappingForm, FORM]) -> Template:
    """Map one subject to an account (or a station to a stock location)."""
    async with db.write() as session:
        row = await save_mapping(
            session,
            kind=data.kind,
            subject=data.subject,
            actor=_viewer(request).staff,
            account_code=data.account_code or None,
            stock_location_id=data.stock_location_id,
        )
    what = row.account_code or "the chosen stock location"
    return await _mappings_page(
        request, db, flash=f"Saved: {MappingKind(row.kind).label.split(' →')[0]} now posts to {what}."
    )


@post("/closes/mappings/defaults", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def mapping_defaults(request: Req, db: web.Db) -> Template:
    """Fill every gap from the standard chart of accounts."""
    async with db.write() as session:
        added = await seed_posting_mappings(session)
    return await _mappings_page(
        request, db, flash=f"Filled {added} mapping{'s' if added != 1 else ''} from the standard chart."
    )


# ---------------------------------------------------------------------------------------------- exceptions


async def _exceptions_page(request: Req, db: web.Db, *, flash: str | None = None, level: str = "info") -> Template:
    async with db.read() as session:
        rows = await queries.exceptions(session, include_resolved=True, limit=100)
        refunds = (
            await session.exec(
                select(Refund).where(Refund.status == RefundStatus.COMPLETED).order_by(col(Refund.id).desc()).limit(20)
            )
        ).all()
        returned = {
            p.source_key
            for p in (
                await session.exec(select(CheckPosting).where(col(CheckPosting.source_key).startswith("refund-stock:")))
            ).all()
        }
    return web.page(
        request,
        "closes/exceptions.html",
        fragment="closes/_exceptions.html",
        rows=rows,
        refunds=refunds,
        returned=returned,
        flash=flash,
        flash_level=level,
    )


@get("/closes/exceptions", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def exceptions_page(request: Req, db: web.Db) -> Template:
    """Postings that could not be made, with why, and a retry for each."""
    return await _exceptions_page(request, db)


@post("/closes/exceptions/{exception_id:int}/retry", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def exception_retry(request: Req, db: web.Db, exception_id: FromPath[int]) -> Template:
    """Try a failed posting again (it posts once)."""
    async with db.write() as session:
        row = await retry_exception(session, exception_id=exception_id, actor=_viewer(request).staff)
    if row.status.value == "open":
        return await _exceptions_page(request, db, flash=f"Still not posted: {row.reason}", level="error")
    return await _exceptions_page(request, db, flash=f"Posted {row.source_key}.")


@post("/closes/refunds/{refund_id:int}/return-stock", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def refund_return_stock(request: Req, db: web.Db, refund_id: FromPath[int]) -> Template:
    """The refunded items can be sold again: put their ingredients back in stock (once)."""
    async with db.write() as session:
        posting = await refund_postings.return_refund_to_stock(session, refund_id, actor_id=_viewer(request).staff.id)
    return await _exceptions_page(
        request, db, flash=f"Refund {refund_id}: stock worth {posting.cost_cents / 100:.2f} is back on the shelf."
    )


# ---------------------------------------------------------------------------------------------- checkout


async def _checkout_page(
    request: Req, db: web.Db, staff_id: int, day: dt.date, *, flash: str | None = None, level: str = "info"
) -> Template:
    viewer = _viewer(request)
    async with db.read() as session:
        summary = await queries.checkout_summary(session, staff_id, day)
        pooled = await queries.active_rule(session) is not None
        people = await queries.servers_of_day(session, day) if viewer.can(Perm.DAY_CLOSE) else []
        person = await session.get(Staff, staff_id)
    return web.page(
        request,
        "closes/checkout.html",
        fragment="closes/_checkout.html",
        summary=summary,
        person=person,
        pooled=pooled,
        people=people,
        day=day,
        flash=flash,
        flash_level=level,
    )


@get("/closes/checkout", permission=Perm.SERVER_CHECKOUT, **PAGE)
async def checkout_page(
    request: Req, db: web.Db, staff_id: FromQuery[int | None] = None, day: FromQuery[str | None] = None
) -> Template:
    """A server's checkout: sales, card tips, cash tips to declare, cash owed to or from the house."""
    viewer = _viewer(request)
    who = staff_id if staff_id is not None and viewer.can(Perm.DAY_CLOSE) else viewer.staff.id or 0
    async with db.read() as session:
        default = await today(session)
    return await _checkout_page(request, db, who, _day(day, default))


class CheckoutForm(DayForm, kw_only=True):
    staff_id: Annotated[int, Meta(title="Server", ge=1, le=2**31 - 1)] | None = None
    cash_tips: Money = ""


@command_post("/closes/checkout", permission=Perm.SERVER_CHECKOUT)
async def checkout_submit(request: Req, db: web.Db, data: Annotated[CheckoutForm, FORM]) -> Template:
    """Check a server out (refused while they hold open checks)."""
    viewer = _viewer(request)
    staff_id = data.staff_id or viewer.staff.id or 0
    day = _day(data.day, _today(request))
    declared = _cents(data.cash_tips, "Declared cash tips", allow_zero=True) if data.cash_tips else 0

    async def work(session: AsyncSession) -> str:
        checkout = await check_out_server(
            session, staff_id=staff_id, day=day, declared_cash_tips_cents=declared, actor=viewer.staff
        )
        owed = checkout.owed_to_house_cents
        if owed >= 0:
            return f"Checked out: {owed / 100:.2f} in cash goes to the house."
        return f"Checked out: the house pays {-owed / 100:.2f} in cash."

    return await _checkout_page(request, db, staff_id, day, flash=await _once(request, db, data, work))


# ---------------------------------------------------------------------------------------------- tips


async def _tips_page(request: Req, db: web.Db, day: dt.date, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        rule = await queries.active_rule(session)
        pool = await queries.tip_pool(session, day, include_cash=bool(rule and rule.include_cash_tips))
        shares = await queries.tip_shares(session, day)
        staff = await queries.active_staff(session)
        hours = await queries.hours_of_day(session, day)
    return web.page(
        request,
        "closes/tips.html",
        fragment="closes/_tips.html",
        day=day,
        rule=rule,
        pool=pool,
        shares=shares,
        staff=staff,
        hours=hours,
        roles=[r.value for r in Role],
        methods=list(PoolMethod),
        flash=flash,
    )


@get("/closes/tips", permission=Perm.DAY_CLOSE, **PAGE)
async def tips_page(request: Req, db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """Tip pooling: the rule, hours worked, the day's pool and each share."""
    async with db.read() as session:
        default = await today(session)
    return await _tips_page(request, db, _day(day, default))


class TipRuleForm(forms.Form, kw_only=True):
    name: Annotated[str, forms.Text(max_length=80, required=False)] = ""
    method: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    include_cash_tips: str = ""
    percent_server: Annotated[int, Meta(title="The server share", ge=0, le=100)] | None = None
    percent_bartender: Annotated[int, Meta(title="The bartender share", ge=0, le=100)] | None = None
    percent_host: Annotated[int, Meta(title="The host share", ge=0, le=100)] | None = None
    percent_cook: Annotated[int, Meta(title="The cook share", ge=0, le=100)] | None = None
    percent_manager: Annotated[int, Meta(title="The manager share", ge=0, le=100)] | None = None
    percent_admin: Annotated[int, Meta(title="The admin share", ge=0, le=100)] | None = None

    def percents(self) -> dict[str, int]:
        """Each role's share that was given, in percent."""
        given = {role.value: getattr(self, f"percent_{role.value}") for role in Role}
        return {role: percent for role, percent in given.items() if percent is not None}


@post("/closes/tips/rule", permission=Perm.DAY_CLOSE, before_request=forms.drop_blanks, **PAGE)
async def tips_rule(request: Req, db: web.Db, data: Annotated[TipRuleForm, FORM]) -> Template:
    """Set the pooling rule."""
    async with db.write() as session:
        rule = await save_tip_rule(
            session,
            name=data.name,
            method=data.method,
            role_percents=data.percents(),
            include_cash_tips=data.include_cash_tips == "on",
            actor=_viewer(request).staff,
        )
        day = await today(session)
    return await _tips_page(request, db, day, flash=f"Tips are pooled {rule.method.label.lower()} from now on.")


@post("/closes/tips/off", permission=Perm.DAY_CLOSE, **PAGE)
async def tips_off(request: Req, db: web.Db) -> Template:
    """Stop pooling tips."""
    async with db.write() as session:
        await stop_pooling(session, actor=_viewer(request).staff)
        day = await today(session)
    return await _tips_page(request, db, day, flash="Tip pooling is off: each server keeps their own tips.")


class HoursForm(DayForm, kw_only=True):
    staff_id: Annotated[int, Meta(title="The person", ge=1, le=2**31 - 1)]
    hours: Annotated[str, forms.Text(max_length=10, required=False)] = ""


@post("/closes/tips/hours", permission=Perm.DAY_CLOSE, before_request=forms.drop_blanks, **PAGE)
async def tips_hours(request: Req, db: web.Db, data: Annotated[HoursForm, FORM]) -> Template:
    """Enter hours worked on a day."""
    day = _day(data.day, _today(request))
    raw = data.hours.replace(",", ".")
    try:
        minutes = round(float(raw) * 60) if raw else -1
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Hours worked must be a number from 0 to 24, like 7.5.")
    async with db.write() as session:
        await record_hours(session, staff_id=data.staff_id, day=day, minutes=minutes, actor=_viewer(request).staff)
    return await _tips_page(request, db, day, flash="Hours saved.")


@post("/closes/tips/share", permission=Perm.DAY_CLOSE, before_request=forms.drop_blanks, **PAGE)
async def tips_share(request: Req, db: web.Db, data: Annotated[DayForm, FORM]) -> Template:
    """Share the day's pool by the rule, to the cent."""
    day = _day(data.day, _today(request))
    async with db.write() as session:
        shares = await distribute_tips(session, day=day, actor=_viewer(request).staff)
    total = sum(s.share_cents for s in shares)
    return await _tips_page(request, db, day, flash=f"Shared {total / 100:.2f} between {len(shares)} people.")


ROUTES: list[Any] = [
    closes_home,
    day_page,
    day_close,
    mappings_page,
    mapping_save,
    mapping_defaults,
    exceptions_page,
    exception_retry,
    refund_return_stock,
    drawers_page,
    drawer_open,
    drawer_loose_cash,
    drawer_move,
    drawer_no_sale,
    drawer_count,
    checkout_page,
    checkout_submit,
    tips_page,
    tips_rule,
    tips_off,
    tips_hours,
    tips_share,
    sales_page,
    adjustments_page,
    kitchen_page,
    stock_page,
    z_page,
    z_print,
]
