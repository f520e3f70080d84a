"""Report pages: sales, adjustments, kitchen, stock and the Z report with its reprint."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template

from app.closes import charts, queries, reports
from app.closes.day_close import print_z_again
from app.closes.page_helpers import PAGE, DayForm, Req, _day, _range, _settings, _today, _viewer, command_post
from app.inventory import queries as inventory_queries
from app.lib import web
from app.lib.manage import FORM
from app.staff.permissions import Perm


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


@command_post("/reports/z/print", permission=Perm.REPORTS_VIEW)
async def z_print(request: Req, db: web.Db, data: Annotated[DayForm, FORM]) -> Template:
    """Print a closed day's Z report again."""
    day = _day(data.day, _today(request))
    viewer = _viewer(request)
    async with db.write() as session:
        await print_z_again(session, day=day, actor=viewer.staff, device_id=viewer.device_id)
    return await _z_page(request, db, day, flash=f"The Z report of {day.isoformat()} is on its way to the printer.")
