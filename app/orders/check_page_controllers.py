"""The check page, its panel, item and line sheets, actions, menu buttons and live updates."""

from __future__ import annotations

from typing import Any

from litestar import Request, WebSocket, get, websocket
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import revisions, web
from app.lib.db import Database
from app.lib.errors import NotFound
from app.menu.models import MENU_REVISION, MenuItem
from app.orders import dialogs, floor_queries, live, menu_queries, queries
from app.orders.controller_helpers import (
    ITEM_BUTTONS_TEMPLATE,
    ITEM_SHEET,
    LINE_SHEET,
    _drawn,
    _engine,
    _item_dialog,
    _line_dialog,
    _panel_context,
    _view,
)
from app.orders.models import Check
from app.staff.permissions import Perm

PAD_TEMPLATE = "orders/_menu_pad.html"


@get("/checks/{check_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def check_page(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Template:
    """Order entry: the check by course on the left, the menu to ring in from on the right."""
    # The check and the menu are read each as it stands (no rule ties the two together; both redraw live). The
    # order pad is drawn once per menu revision, which comes with the check: a page on an unchanged menu reads
    # nothing more.
    pad = Markup()
    async with db.read(snapshot=False) as session:
        view, menu_revision = await queries.check_view_and_revision(session, check_id, MENU_REVISION)
        if view is None:
            raise NotFound(f"Check {check_id} does not exist.")
        if view.is_open and not web.is_htmx(request):
            pad = await _order_pad(request, db, session, menu_revision)
    return web.page(
        request,
        "orders/check.html",
        fragment="orders/_check_panel.html",
        v=view,
        menu_pad=pad.replace(_CHECK_SLOT, str(view.check.id)),
        **_panel_context(request),
    )


# Where the kept order pad names its check in each button's address. Autoescaping writes "<" in any text of the
# menu as "&lt;", so nothing a manager types can match it.
_CHECK_SLOT = Markup("<check>")


async def _order_pad(
    request: Request[Any, Any, Any], db: Database, session: AsyncSession, revision: int | None
) -> Markup:
    """The order pad's HTML at this menu revision, with `_CHECK_SLOT` for the check: kept, or drawn now."""
    kept = revisions.kept(db.kept, "order pad")
    pad: Markup | None = kept.at(revision)
    if pad is None:
        menu = await menu_queries.entry_menu(session)
        pad = kept.keep(revision, _drawn(request.app, PAD_TEMPLATE, menu=menu, check_id=_CHECK_SLOT))
    return pad


@get("/checks/{check_id:int}/panel", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def check_panel(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Template:
    """The check panel alone, as it stands now (a tablet refreshes it when another tablet changed the check)."""
    async with db.read() as session:
        view = await _view(session, check_id)
    return Template(template_name="orders/_check_panel.html", context={"v": view, **_panel_context(request)})


@get("/checks/{check_id:int}/items/{item_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def item_sheet(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], item_id: FromPath[int]
) -> Template:
    """The choices an item asks before it is rung in: forced ones marked, paid extras priced."""
    async with db.read() as session:
        view = await _view(session, check_id)
        item = await session.get(MenuItem, item_id)
        if item is None or item.archived_at is not None:
            raise NotFound("That item is not on the menu; pick it again from the menu.")
        questions = await menu_queries.modifier_questions(session, item_id)
    return web.page(
        request,
        "orders/sheet_page.html",
        fragment=ITEM_SHEET,
        sheet=ITEM_SHEET,
        v=view,
        **_item_dialog(item, questions, dialogs.ItemDraft()),
    )


@get("/checks/{check_id:int}/lines/{line_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def line_sheet(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Template:
    """One line: change it while unsent; repeat it; remove it, or void it after send with a reason."""
    async with db.read() as session:
        view = await _view(session, check_id)
        line_view = next((lv for c in view.courses for lv in c.lines if lv.line.id == line_id), None)
        if line_view is None:
            raise NotFound("That item is not on this check (any more); reload the check.")
    return web.page(
        request,
        "orders/sheet_page.html",
        fragment=LINE_SHEET,
        sheet=LINE_SHEET,
        v=view,
        **_line_dialog(request, line_view, dialogs.LineDraft.of(line_view.line)),
    )


@get("/checks/{check_id:int}/actions", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def actions_sheet(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Template:
    """Transfer to a table or a server, merge another check in, move items to another check."""
    async with db.read() as session:
        view = await _view(session, check_id)
        free_tables = [
            tv
            for tv in await floor_queries.table_views(session)
            if not tv.open_check_ids and tv.table.id != view.check.table_id
        ]
        people = [p for p in await queries.servers(session) if p.id != view.check.server_id]
        others = await queries.open_checks(session, exclude_id=check_id)
    return web.page(
        request,
        "orders/sheet_page.html",
        fragment="orders/_actions_sheet.html",
        sheet="orders/_actions_sheet.html",
        v=view,
        free_tables=free_tables,
        people=people,
        others=others,
    )


@get("/checks/{check_id:int}/menu", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def menu_buttons(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Template:
    """Every item button as it stands now, each replacing its own (a tablet reloads them when its live link opens)."""
    async with db.read() as session:
        buttons = await menu_queries.item_buttons(session)
    return Template(template_name=ITEM_BUTTONS_TEMPLATE, context={"buttons": buttons, "check_id": check_id})


@websocket("/checks/{check_id:int}/live", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def check_live(socket: WebSocket[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> None:
    """Tells a tablet showing a check that it changed (its new version, or the kitchen made food ready), so it
    refreshes; and redraws the buttons of items 86'd or back on sale."""
    channels: ChannelsPlugin = socket.app.state.channels
    engine = _engine(socket.app)
    buttons_template = engine.get_template(ITEM_BUTTONS_TEMPLATE)

    async def render(change: live.Change) -> str | None:
        parts: list[str] = []
        if change.items or change.everything:
            async with db.read() as session:
                buttons = await menu_queries.item_buttons(session, None if change.everything else sorted(change.items))
            if buttons:
                parts.append(buttons_template.render(buttons=buttons, check_id=check_id))
        if change.names_check(check_id):
            async with db.read() as session:
                check = await session.get(Check, check_id)
            if check is not None:
                # the kitchen's progress does not change the check's version: the tablet must redraw anyway
                kitchen = " data-kitchen" if change.everything or check_id in change.kitchen else ""
                parts.append(
                    f'<div id="check-sync" hidden data-version="{check.version}"'
                    f' data-status="{check.status.value}"{kitchen}></div>'
                )
        return "".join(parts) or None

    channel_names = [live.check_channel(check_id), live.menu_channel()]
    await live.stream(socket, channels, channel_names, render, everything=live.Change.all())
