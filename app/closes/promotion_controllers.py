"""The per-promotion report: uses, what each promotion gave, and the sales it brought."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from app.closes import charts
from app.closes.page_helpers import PAGE, _range
from app.closes.promotion_postings import promotion_report
from app.closes.report_controllers import _report_context
from app.closes.reports import Bar
from app.lib import web
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


@get("/reports/promotions", permission=Perm.REPORTS_VIEW, **PAGE)
async def promotions_report_page(
    request: Req, db: web.Db, start: FromQuery[str | None] = None, end: FromQuery[str | None] = None
) -> Template:
    """Per promotion: checks and items sold under it, discount given, its sales and the rest of those checks."""
    first, last = _range(request, start, end)
    async with db.read() as session:
        rows = await promotion_report(session, first, last)
    return web.page(
        request,
        "reports/promotions.html",
        fragment="reports/_promotions.html",
        rows=rows,
        given=sum(row.discount_cents for row in rows),
        sold=sum(row.promoted_net_cents for row in rows),
        chart=charts.bar_chart(
            [Bar(row.name, row.discount_cents) for row in rows], title="Discount given by promotion"
        ),
        **_report_context(request, first, last),
    )


ROUTES = [promotions_report_page]
