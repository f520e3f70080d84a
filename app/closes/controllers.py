"""Pages for the end of the day (close, drawers, checkout, tips, exceptions, mappings) and the reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.guards import parse_cents
from app.checks.models import Refund, RefundStatus
from app.checks.services import business_day
from app.closes import charts, queries, refund_postings, reports
from app.closes.checkouts import check_out_server
from app.closes.day_close import DayNotReady, close_day, print_z_again
from app.closes.drawers import close_drawer, move_cash, no_sale, open_drawer, put_loose_cash_in_drawer
from app.closes.guards import today
from app.closes.mappings import retry_exception, save_mapping, seed_posting_mappings
from app.closes.models import CheckPosting, MappingKind, MovementKind, PoolMethod
from app.closes.tip_pools import distribute_tips, record_hours, save_tip_rule, stop_pooling
from app.inventory import queries as inventory_queries
from app.lib import web
from app.lib.clock import utcnow
from app.lib.errors import InvalidInput
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm, Role

Req = Request[Any, Any, Any]
PAGE: Final[dict[str, Any]] = {"include_in_schema": False}
MAX_RANGE_DAYS: Final = 92


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _today(request: Req) -> dt.date:
    return business_day(_settings(request), utcnow())


def _day(raw: str | None, default: dt.date, label: str = "Day") -> dt.date:
    if raw is None or not str(raw).strip():
        return default
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


def _range(request: Req, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    today = _today(request)
    last = _day(end, today, "To")
    first = _day(start, last, "From")
    if first > last:
        raise InvalidInput("The first day comes after the last; swap them.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"Show at most {MAX_RANGE_DAYS} days at a time.")
    return first, last


async def _once(
    request: Req, db: web.Db, fields: Mapping[str, Any], work: Callable[[AsyncSession], Awaitable[str]]
) -> str:
    """Run one command once per idempotency key; a repeat answers the same and changes nothing."""
    key = check_key(str(fields.get("idempotency_key") or ""))
    public = {k: v for k, v in fields.items() if k not in ("idempotency_key", "_csrf_token")}

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    response = await run_once(
        db,
        key=key,
        scope=f"closes:{_viewer(request).staff.id}",
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return response.body


def _int(fields: Mapping[str, Any], name: str, label: str) -> int:
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _cents(fields: Mapping[str, Any], name: str, label: str, *, allow_zero: bool = False) -> int:
    return parse_cents(str(fields.get(name) or ""), label=label, allow_zero=allow_zero)


# ---------------------------------------------------------------------------------------------- day close


async def _day_page(
    request: Req, db: web.Db, day: dt.date, *, flash: str | None = None, level: str = "info"
) -> Template:
    async with db.read() as session:
        state = await queries.day_state(session, day)
        blockers = [] if state.closed else await queries.close_blockers(session, day)
        z = await reports.z_report(session, day)
        drawers = await queries.drawers(session, day)
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


@post("/closes/day/close", permission=Perm.DAY_CLOSE, **PAGE)
async def day_close(request: Req, db: web.Db) -> Template:
    """Close the business day; refused with the list of what is still open or owed."""
    fields = await web.form_data(request)
    day = _day(str(fields.get("day") or ""), _today(request))
    viewer = _viewer(request)

    async def work(session: AsyncSession) -> str:
        await close_day(session, day=day, actor=viewer.staff, device_id=viewer.device_id)
        return f"{day.isoformat()} is closed: the Z report was printed and the books are locked."

    try:
        message = await _once(request, db, fields, work)
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


@post("/closes/mappings", permission=Perm.ACCOUNTING_MANAGE, **PAGE)
async def mapping_save(request: Req, db: web.Db) -> Template:
    """Map one subject to an account (or a station to a stock location)."""
    fields = await web.form_data(request)
    kind = str(fields.get("kind") or "")
    location = str(fields.get("stock_location_id") or "").strip()
    async with db.write() as session:
        row = await save_mapping(
            session,
            kind=kind,
            subject=str(fields.get("subject") or ""),
            actor=_viewer(request).staff,
            account_code=str(fields.get("account_code") or "") or None,
            stock_location_id=web.field_int(fields, "stock_location_id", label="Stock location", minimum=1)
            if location
            else None,
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


# ---------------------------------------------------------------------------------------------- drawers


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


@post("/closes/checkout", permission=Perm.SERVER_CHECKOUT, **PAGE)
async def checkout_submit(request: Req, db: web.Db) -> Template:
    """Check a server out (refused while they hold open checks)."""
    fields = await web.form_data(request)
    viewer = _viewer(request)
    staff_id = _int(fields, "staff_id", "Server") if fields.get("staff_id") else viewer.staff.id or 0
    day = _day(str(fields.get("day") or ""), _today(request))
    declared = _cents(fields, "cash_tips", "Declared cash tips", allow_zero=True) if fields.get("cash_tips") else 0

    async def work(session: AsyncSession) -> str:
        checkout = await check_out_server(
            session, staff_id=staff_id, day=day, declared_cash_tips_cents=declared, actor=viewer.staff
        )
        owed = checkout.owed_to_house_cents
        if owed >= 0:
            return f"Checked out: {owed / 100:.2f} in cash goes to the house."
        return f"Checked out: the house pays {-owed / 100:.2f} in cash."

    return await _checkout_page(request, db, staff_id, day, flash=await _once(request, db, fields, work))


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


@post("/closes/tips/rule", permission=Perm.DAY_CLOSE, **PAGE)
async def tips_rule(request: Req, db: web.Db) -> Template:
    """Set the pooling rule."""
    fields = await web.form_data(request)
    percents: dict[str, int] = {}
    for role in Role:
        raw = str(fields.get(f"percent_{role.value}") or "").strip()
        if raw:
            percents[role.value] = web.field_int(
                fields, f"percent_{role.value}", label=f"The {role.value} share", minimum=0, maximum=100
            )
    async with db.write() as session:
        rule = await save_tip_rule(
            session,
            name=str(fields.get("name") or ""),
            method=str(fields.get("method") or ""),
            role_percents=percents,
            include_cash_tips=str(fields.get("include_cash_tips") or "") == "on",
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


@post("/closes/tips/hours", permission=Perm.DAY_CLOSE, **PAGE)
async def tips_hours(request: Req, db: web.Db) -> Template:
    """Enter hours worked on a day."""
    fields = await web.form_data(request)
    day = _day(str(fields.get("day") or ""), _today(request))
    staff_id = _int(fields, "staff_id", "The person")
    raw = str(fields.get("hours") or "").strip().replace(",", ".")
    try:
        minutes = round(float(raw) * 60) if raw else -1
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Hours worked must be a number from 0 to 24, like 7.5.")
    async with db.write() as session:
        await record_hours(session, staff_id=staff_id, day=day, minutes=minutes, actor=_viewer(request).staff)
    return await _tips_page(request, db, day, flash="Hours saved.")


@post("/closes/tips/share", permission=Perm.DAY_CLOSE, **PAGE)
async def tips_share(request: Req, db: web.Db) -> Template:
    """Share the day's pool by the rule, to the cent."""
    fields = await web.form_data(request)
    day = _day(str(fields.get("day") or ""), _today(request))
    async with db.write() as session:
        shares = await distribute_tips(session, day=day, actor=_viewer(request).staff)
    total = sum(s.share_cents for s in shares)
    return await _tips_page(request, db, day, flash=f"Shared {total / 100:.2f} between {len(shares)} people.")


# ---------------------------------------------------------------------------------------------- reports


def _report_context(request: Req, first: dt.date, last: dt.date) -> dict[str, Any]:
    return {"start": first, "end": last, "today": _today(request)}


@get("/reports", permission=Perm.REPORTS_VIEW, **PAGE)
async def sales_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Sales by hour, category and server; tenders; taxes; tips."""
    first, last = _range(request, start, end)
    async with db.read() as session:
        report = await reports.sales_report(session, _settings(request), first, last)
    return web.page(
        request,
        "reports/sales.html",
        fragment="reports/_sales.html",
        report=report,
        hour_chart=charts.column_chart(report.by_hour, title="Net sales by hour", empty="No sales in these hours"),
        day_chart=(
            charts.column_chart(report.by_day, title="Net sales by day", empty="No sales on these days")
            if len(report.by_day) > 1
            else None
        ),
        category_chart=charts.bar_chart(report.by_category, title="Net sales by category", empty="No sales"),
        server_chart=charts.bar_chart(report.by_server, title="Net sales by server"),
        tender_chart=charts.bar_chart(reports.money_bars(report.tenders), title="Takings by tender"),
        tips_chart=charts.bar_chart(report.tips_by_server, title="Tips by server"),
        tax_rounded_per_line=_settings(request).tax_rounding == "per_line",
        **_report_context(request, first, last),
    )


@get("/reports/adjustments", permission=Perm.REPORTS_VIEW, **PAGE)
async def adjustments_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Voids after send, comps and discounts with their reasons and who approved them."""
    first, last = _range(request, start, end)
    async with db.read() as session:
        report = await reports.adjustments_report(session, _settings(request), first, last)
    return web.page(
        request,
        "reports/adjustments.html",
        fragment="reports/_adjustments.html",
        report=report,
        reason_chart=charts.bar_chart(report.by_reason, title="Voids, comps and discounts by reason", unit="count"),
        **_report_context(request, first, last),
    )


@get("/reports/kitchen", permission=Perm.REPORTS_VIEW, **PAGE)
async def kitchen_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Ticket times per station, fire to bump."""
    first, last = _range(request, start, end)
    async with db.read() as session:
        timings = await reports.ticket_times(session, _settings(request), first, last)
    bars = [reports.Bar(t.station_name, t.average_s, f"{t.tickets} tickets") for t in timings]
    p90 = [reports.Bar(t.station_name, t.p90_s) for t in timings]
    return web.page(
        request,
        "reports/kitchen.html",
        fragment="reports/_kitchen.html",
        timings=timings,
        average_chart=charts.bar_chart(bars, title="Average ticket time per station", unit="seconds"),
        p90_chart=charts.bar_chart(p90, title="90th percentile ticket time per station", unit="seconds"),
        **_report_context(request, first, last),
    )


@get("/reports/stock", permission=Perm.REPORTS_VIEW, **PAGE)
async def stock_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Stock valuation per location and item, and variance (count differences and waste)."""
    first, last = _range(request, start, end)
    async with db.read() as session:
        valuation = await inventory_queries.valuation(session)
        variance = await reports.stock_variance(session, _settings(request), first, last)
    by_place = [reports.Bar(p.name, valuation.location_total_cents(p.id or 0)) for p in valuation.places]
    top = sorted(valuation.rows, key=lambda r: -r.value_cents)[:12]
    by_item = [reports.Bar(r.item.name, r.value_cents) for r in top]
    variance_bars = [reports.Bar(f"{v.item} ({v.kind.lower()})", v.value_cents) for v in variance[:12]]
    return web.page(
        request,
        "reports/stock.html",
        fragment="reports/_stock.html",
        valuation=valuation,
        variance=variance,
        place_chart=charts.bar_chart(by_place, title="Stock value by location"),
        item_chart=charts.bar_chart(by_item, title="Most valuable stock items"),
        variance_chart=charts.bar_chart(variance_bars, title="Variance and waste at cost"),
        **_report_context(request, first, last),
    )


@get("/reports/z", permission=Perm.REPORTS_VIEW, **PAGE)
async def z_page(request: Req, db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """The Z report of a day: as it stands, or as stored when the day closed."""
    return await _z_page(request, db, _day(day, _today(request)))


async def _z_page(request: Req, db: web.Db, day: dt.date, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        z = await reports.z_report(session, day)
        state = await queries.day_state(session, day)
        ledger = await reports.ledger_day(session, day)
    return web.page(
        request,
        "reports/z.html",
        fragment="reports/_z.html",
        z=z,
        state=state,
        ledger=ledger,
        category_chart=charts.bar_chart(
            [reports.Bar(c.label, c.cents) for c in z.categories], title="Net sales by category", empty="No sales"
        ),
        tender_chart=charts.bar_chart(reports.money_bars(z.tenders), title="Takings by tender"),
        tax_rounded_per_line=_settings(request).tax_rounding == "per_line",
        day=day,
        start=day,
        end=day,
        today=_today(request),
        flash=flash,
    )


@post("/reports/z/print", permission=Perm.REPORTS_VIEW, **PAGE)
async def z_print(request: Req, db: web.Db) -> Template:
    """Print a closed day's Z report again."""
    fields = await web.form_data(request)
    day = _day(str(fields.get("day") or ""), _today(request))
    viewer = _viewer(request)
    async with db.write() as session:
        await print_z_again(session, day=day, actor=viewer.staff, device_id=viewer.device_id)
    return await _z_page(request, db, day, flash=f"The Z report of {day.isoformat()} is on its way to the printer.")


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
