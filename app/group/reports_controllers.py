"""Head office's report page: the group's sales, checks and covers across venues, with charts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlmodel import col, select

from app.closes.charts import bar_chart, column_chart
from app.closes.reports import Bar
from app.group import reports
from app.group.models import Venue
from app.inventory.calculations import format_quantity
from app.lib import web
from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.staff.permissions import Perm

MAX_DAYS = 366


def _day(raw: str | None, default: dt.date, label: str) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{label} {raw} is not a day (YYYY-MM-DD).") from None


@get("/manage/group-reports", permission=Perm.REPORTS_VIEW, include_in_schema=False)
async def group_reports(
    request: Request[Any, Any, Any],
    db: web.Db,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    venue: FromQuery[str | None] = None,
) -> Template:
    """Sales by venue, day, hour and category; checks, covers, average check; stock by warehouse and below par."""
    today = dt.date.today()
    last = _day(end, today, "To")
    first = _day(start, last - dt.timedelta(days=6), "From")
    if first > last:
        raise InvalidInput("From must be on or before To.")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"Choose at most {MAX_DAYS} days.")
    chosen = (venue or "").strip().upper() or None
    async with db.read() as session:
        codes = list((await session.exec(select(Venue.code).order_by(col(Venue.code)))).all())
        if chosen is not None and chosen not in codes:
            raise InvalidInput(f"No venue has the code {chosen}.")
        report = await reports.group_sales(session, first, last, chosen)
        stock = await reports.group_stock(session, chosen)
        timings = await reports.ticket_times(session, first, last, chosen)
    venues = report.venues
    context: dict[str, Any] = {
        "report": report,
        "stock": stock,
        "timings": timings,
        "ticket_chart": bar_chart(
            [Bar(t.label, t.average_s, f"{t.tickets} ticket{'s' if t.tickets != 1 else ''}") for t in timings],
            title="Average ticket time by venue and station",
            unit="seconds",
            empty="No tickets bumped",
        ),
        "qty": format_quantity,
        "warehouse_chart": bar_chart(
            [Bar(w.warehouse, w.value_cents) for w in stock.warehouses],
            title="Stock value by warehouse",
            empty="No stock",
        ),
        "start": first,
        "end": last,
        "venue": chosen,
        "codes": codes,
        "venue_chart": bar_chart(
            [Bar(v.code, v.net_sales_cents) for v in venues], title="Net sales by venue", empty="No sales"
        ),
        "day_chart": column_chart(report.by_day, title="Net sales by day", empty="No sales"),
        "hour_chart": column_chart(report.by_hour, title="Net sales by hour", empty="No sales"),
        "category_chart": bar_chart(report.by_category, title="Net sales by category", empty="No sales"),
        "covers_chart": bar_chart(
            [Bar(v.code, v.covers) for v in venues], title="Covers by venue", unit="count", empty="No covers"
        ),
        "average_chart": bar_chart(
            [Bar(v.code, v.average_check_cents) for v in venues], title="Average check by venue", empty="No checks"
        ),
    }
    return web.page(request, "group/reports.html", fragment="group/_reports.html", **context)


def routes_for(settings: Settings) -> list[Any]:
    """The group's reports live at head office only."""
    return [group_reports] if settings.role == "head_office" else []
