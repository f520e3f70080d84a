"""Pages and endpoints for orders: seating, order entry, hold and fire, voids, transfers, merges, moves.

Every state-changing request carries an idempotency key and runs through `_once`: the first request with a
key does the work and stores its answer in the same transaction; a double tap or a retry gets that answer
again; the same key with a different body is refused. Refusals change nothing and say why in the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from litestar import Litestar, MediaType, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath
from litestar.response import Template
from litestar.template import TemplateEngineProtocol
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import web
from app.lib.errors import InvalidInput, ManagerApprovalRequired, NotFound, StaleVersion
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.menu.models import Course, MenuItem
from app.orders import dialogs, firing, floor_view, live, pacing, queries, seating, services, voids
from app.orders import lines as order_lines
from app.orders.approvals import identify_approver
from app.orders.calculations import MAX_QUANTITY, NOTE_MAX_LENGTH, VOID_REASON_MAX_LENGTH, ModifierQuestion
from app.orders.models import Check, CheckKind, LineState, PacingTrigger
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm
from app.staff.services import PinPolicy

VOID_REASONS = ("Guest changed their mind", "Rung in by mistake", "Kitchen error", "Took too long", "Ran out")
ITEM_BUTTONS_TEMPLATE = "orders/_item_buttons.html"
_TARGET_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,60}$")
ITEM_SHEET = "orders/_item_sheet.html"
LINE_SHEET = "orders/_line_sheet.html"

Work = Callable[[AsyncSession, Staff, Staff | None], Awaitable[Response[Any]]]


# ---------------------------------------------------------------------------------------------- pages


@get("/checks/{check_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def check_page(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Template:
    """Order entry: the check by course on the left, the menu to ring in from on the right."""
    async with db.read() as session:
        view = await _view(session, check_id)
        menu = await queries.entry_menu(session)
    return web.page(
        request, "orders/check.html", fragment="orders/_check_panel.html", v=view, menu=menu, **_panel_context(request)
    )


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
        questions = await queries.modifier_questions(session, item_id)
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
            for tv in await queries.table_views(session)
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
        buttons = await queries.item_buttons(session)
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
                buttons = await queries.item_buttons(session, None if change.everything else sorted(change.items))
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


# ---------------------------------------------------------------------------------------------- seating


@post("/checks", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def open_check(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Seat a table with its covers, or open a bar tab or a takeout; then go to order entry."""
    fields = await web.form_data(request)
    kind = str(fields.get("kind") or CheckKind.TABLE.value)
    table_id = _optional_int(fields, "table_id", label="The table") if kind == CheckKind.TABLE.value else None
    covers = web.field_int(fields, "covers", label="Covers", minimum=1, maximum=99, default=1)
    server_id = _optional_int(fields, "server_id", label="The server")
    tab_name = web.field_text(fields, "tab_name", label="The name", max_length=60, required=False)

    async def work(session: AsyncSession, actor: Staff, _approver: Staff | None) -> Response[Any]:
        server = actor
        if server_id is not None and server_id != actor.id:
            chosen = await session.get(Staff, server_id)
            if chosen is None or chosen.archived_at is not None:
                raise NotFound("That server is not on the staff list.")
            server = chosen
        elif not actor.can(Perm.ORDERS_ENTER):
            raise InvalidInput("Choose the server who will look after this table.")
        if table_id is not None and (table := await session.get(DiningTable, table_id)) is not None:
            await floor_view.refuse_held_table(session, table, confirmed=_flag(fields, "confirm_hold"))
        check = await seating.open_check(
            session, table_id=table_id, covers=covers, server=server, kind=kind, tab_name=tab_name, actor=actor
        )
        return _redirect(request, f"/checks/{check.id}" if server.id == actor.id else "/floor")

    return await _once(request, db, fields, work)


@post("/checks/{check_id:int}/clear", permission=Perm.CHECKS_OPEN, include_in_schema=False)
async def clear_table(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """A paid table has been bussed: it shows free again."""
    fields = await web.form_data(request)

    async def work(session: AsyncSession, actor: Staff, _approver: Staff | None) -> Response[Any]:
        check = await seating.clear_table(session, check_id, actor)
        table = await session.get(DiningTable, check.table_id) if check.table_id else None
        return _sheet_done(request, f"Table {table.name if table else ''} is free.")

    return await _once(request, db, fields, work)


# ---------------------------------------------------------------------------------------------- ringing in


@post("/checks/{check_id:int}/lines", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def add_line(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Ring in an item with its choices, quantity, seat, course and note."""
    fields = await web.form_data(request)
    line = order_lines.LineRequest(
        menu_item_id=_required_int(fields, "menu_item_id", label="The item"),
        quantity=web.field_int(fields, "quantity", label="Quantity", default=1),
        seat=_seat(fields),
        course=_course(fields.get("course")),
        note=web.field_text(fields, "note", label="The note", max_length=NOTE_MAX_LENGTH, required=False),
        modifier_ids=tuple(
            web.field_int({"choice": value}, "choice", label="A choice", minimum=1, maximum=2**31 - 1)
            for value in dialogs.chosen_values(fields)
        ),
        hold=_flag(fields, "hold"),
    )
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        added = await order_lines.add_line(
            session, check_id=check_id, request=line, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"{added.name} added.", quiet=True)

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def update_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Change an unsent line: quantity, seat, course, note, hold, rush."""
    fields = await web.form_data(request)
    seat_given = "seat" in fields
    seat = _seat(fields) if seat_given else None
    change = order_lines.LineChange(
        quantity=web.field_int(fields, "quantity", label="Quantity") if "quantity" in fields else None,
        seat=seat,
        shared=seat_given and seat is None,
        course=_course(fields.get("course")) if fields.get("course") else None,
        note=web.field_text(fields, "note", label="The note", max_length=NOTE_MAX_LENGTH, required=False)
        if "note" in fields
        else None,
        held=_flag(fields, "hold") if "hold" in fields else None,
        rush=_flag(fields, "rush") if "rush" in fields else None,
    )
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        line = await order_lines.update_line(
            session,
            check_id=check_id,
            line_id=line_id,
            change=change,
            actor=actor,
            expected_version=version,
            approver=approver,
        )
        return await _updated(request, session, check_id, f"{line.name} changed.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}/repeat", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def repeat_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Ring the same item in again, with the same choices."""
    fields = await web.form_data(request)
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        line = await order_lines.repeat_line(
            session, check_id=check_id, line_id=line_id, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(request, session, check_id, f"Another {line.name} added.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/lines/{line_id:int}/void", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def void_line(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], line_id: FromPath[int]
) -> Response[Any]:
    """Remove an unsent line, or void a sent one with a reason (and a manager's PIN where the role needs it)."""
    fields = await web.form_data(request)
    reason = web.field_text(fields, "reason", label="The reason", max_length=VOID_REASON_MAX_LENGTH, required=False)
    quantity = web.field_int(fields, "quantity", label="Void quantity") if fields.get("quantity") else None
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        result = await voids.void_line(
            session,
            check_id=check_id,
            line_id=line_id,
            actor=actor,
            expected_version=version,
            reason=reason,
            quantity=quantity,
            approver=approver,
        )
        message = f"{result.line.name} voided; the kitchen is told." if result.fire else f"{result.line.name} removed."
        return await _updated(request, session, check_id, message)

    return await _once(request, db, fields, work, check_id=check_id)


# ---------------------------------------------------------------------------------------------- hold and fire


@post("/checks/{check_id:int}/send", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def send(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Send every unheld course to the kitchen."""
    fields = await web.form_data(request)
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        fires = await firing.send(session, check_id=check_id, actor=actor, expected_version=version, approver=approver)
        names = ", ".join(f.course.label for f in fires if f.course)
        return await _updated(request, session, check_id, f"Sent to the kitchen: {names}.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/courses/{course:str}/{action:str}", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def course_action(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], course: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    """Hold, fire or rush one course; pace it (fire it by itself later), or push its pacing back."""
    fields = await web.form_data(request)
    chosen = _course(course)
    if chosen is None or action not in {"hold", "fire", "rush", "pace", "later"}:
        raise NotFound("No such course action.")
    version = _version(fields)
    trigger = _pacing_trigger(fields) if action == "pace" else None
    minutes = web.field_int(fields, "minutes", label="Minutes", minimum=0, maximum=pacing.MAX_MINUTES, default=0)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        common: dict[str, Any] = {
            "check_id": check_id,
            "course": chosen,
            "actor": actor,
            "expected_version": version,
            "approver": approver,
        }
        if action == "hold":
            count = await firing.hold_course(session, **common)
            message = f"{chosen.label} held ({count} item{'s' if count != 1 else ''}); fire when ready."
        elif action == "fire":
            await firing.fire_course(session, **common)
            message = f"{chosen.label} fired."
        elif action == "pace":
            assert trigger is not None
            rule = await pacing.pace_course(session, trigger=trigger, minutes=minutes, **common)
            when = f" (about {web.local_time(rule.due_at, _zone(request))})" if rule.due_at else ""
            message = f"{chosen.label} will fire {rule.rule}{when}."
        elif action == "later":
            rule = await pacing.push_back(session, minutes=minutes, **common)
            message = f"{chosen.label} pushed back {minutes} min."
        else:
            fire = await firing.rush_course(session, **common)
            message = f"{chosen.label}: rush sent to the kitchen." if fire else f"{chosen.label} will go out as rush."
        return await _updated(request, session, check_id, message)

    return await _once(request, db, fields, work, check_id=check_id)


# ---------------------------------------------------------------------------------------------- check moves


@post("/checks/{check_id:int}/covers", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def set_covers(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Change the number of guests."""
    fields = await web.form_data(request)
    covers = web.field_int(fields, "covers", label="Covers")
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        check = await seating.set_covers(
            session, check_id=check_id, covers=covers, actor=actor, expected_version=version, approver=approver
        )
        return await _updated(
            request,
            session,
            check_id,
            f"{check.covers} cover{'s' if check.covers != 1 else ''}.",
            quiet=True,
            seats_changed=True,
            selected_seat=covers,
        )

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/transfer", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def transfer(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Move the check to another table, or hand it to another server."""
    fields = await web.form_data(request)
    to_table = _optional_int(fields, "to_table_id", label="The table")
    to_server = _optional_int(fields, "to_server_id", label="The server")
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        check = await seating.transfer_check(
            session,
            check_id=check_id,
            actor=actor,
            expected_version=version,
            to_table_id=to_table,
            to_server_id=to_server,
            approver=approver,
        )
        label = await queries.check_label(session, check)
        owner = await session.get(Staff, check.server_id)
        message = f"Transferred: now {label}, {owner.name if owner else ''}'s. Nothing was sent to the kitchen."
        if check.server_id != actor.id and not actor.can(Perm.CHECKS_EDIT_ANY):
            return _sheet_done(request, message, redirect="/floor")
        return await _updated(request, session, check_id, message)

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/merge", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def merge(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Bring another open check's items onto this one (tables pushed together)."""
    fields = await web.form_data(request)
    source = _required_int(fields, "from_check_id", label="The check to merge")
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        await seating.merge_checks(
            session,
            into_check_id=check_id,
            from_check_id=source,
            actor=actor,
            into_version=version,
            approver=approver,
        )
        return await _updated(request, session, check_id, "Checks merged. Nothing was sent to the kitchen.")

    return await _once(request, db, fields, work, check_id=check_id)


@post("/checks/{check_id:int}/move", permission=Perm.ORDERS_ENTER, include_in_schema=False)
async def move(request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int]) -> Response[Any]:
    """Move chosen items to another open check."""
    fields = await web.form_data(request)
    line_ids = _int_list(fields, "line_id", label="An item")
    target = _required_int(fields, "to_check_id", label="The check to move to")
    version = _version(fields)

    async def work(session: AsyncSession, actor: Staff, approver: Staff | None) -> Response[Any]:
        moved = await seating.move_lines(
            session,
            line_ids=line_ids,
            from_check_id=check_id,
            to_check_id=target,
            actor=actor,
            approver=approver,
            from_version=version,
        )
        count = len(moved)
        message = f"{count} item{'s' if count != 1 else ''} moved. Nothing was sent to the kitchen."
        return await _updated(request, session, check_id, message)

    return await _once(request, db, fields, work, check_id=check_id)


# ---------------------------------------------------------------------------------------------- plumbing


async def _once(
    request: Request[Any, Any, Any],
    db: web.Db,
    fields: Mapping[str, Any],
    work: Work,
    *,
    check_id: int | None = None,
) -> Response[Any]:
    """Run `work` once per idempotency key; a stale tablet gets the fresh check, a missing PIN the PIN pad."""
    viewer: Viewer = request.user
    key = check_key(str(fields.get("idempotency_key") or ""))
    print_ = fingerprint(request.method, request.url.path, _fingerprint_fields(fields))
    try:
        approver_id = await _approver_from_pin(request, db, fields)

        async def stored(session: AsyncSession) -> StoredResponse:
            # The person was read with the login a moment ago; staff rows are archived, never deleted.
            actor = await session.merge(viewer.staff, load=False)
            approver = await session.get(Staff, approver_id) if approver_id is not None else None
            response = await work(session, actor, approver)
            body = response.content if isinstance(response.content, str) else ""
            headers = {k: v for k, v in response.headers.items() if k.lower() in {"hx-redirect", "location"}}
            return StoredResponse(response.status_code or 200, body, headers)

        result = await run_once(db, key=key, scope=f"orders:{viewer.staff.id}", print_=print_, work=stored)
    except StaleVersion as exc:
        if check_id is None:
            raise
        return await _stale(request, db, check_id, exc, fields)
    except ManagerApprovalRequired as exc:
        if "manager_pin" in fields:
            # The form already has its PIN pad: the refusal is said there, never on a second pad.
            return web.error_response(request, exc)
        return _approval_sheet(request, fields, exc.message)
    return Response(
        content=result.body, status_code=result.status_code, headers=result.headers, media_type=MediaType.HTML
    )


async def _approver_from_pin(request: Request[Any, Any, Any], db: web.Db, fields: Mapping[str, Any]) -> int | None:
    pin = str(fields.get("manager_pin") or "").strip()
    if not pin:
        return None
    settings: Settings = request.app.state.settings
    viewer: Viewer = request.user
    policy = PinPolicy(
        throttle_after=settings.pin_throttle_after,
        lockout_after=settings.pin_lockout_after,
        window=timedelta(minutes=settings.pin_window_minutes),
        throttle_delay=timedelta(seconds=settings.pin_throttle_seconds),
    )
    # Its own transaction: a wrong PIN is counted against the device even though the action is refused.
    async with db.write() as session:
        outcome = await identify_approver(session, pin=pin, device_id=viewer.device_id, policy=policy)
    if outcome.approver_id is None:
        raise ManagerApprovalRequired(outcome.message)
    return outcome.approver_id


def _fingerprint_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    # A PIN never goes into a stored digest; whether one was given is enough to tell requests apart.
    cleaned = {k: v for k, v in fields.items() if k != "manager_pin"}
    cleaned["manager_pin_given"] = bool(fields.get("manager_pin"))
    return cleaned


async def _stale(
    request: Request[Any, Any, Any], db: web.Db, check_id: int, exc: StaleVersion, fields: Mapping[str, Any]
) -> Response[Any]:
    if not web.is_htmx(request):
        return Template(
            template_name="error.html", context={"message": exc.message, "status_code": 409}, status_code=409
        )
    async with db.read() as session:
        view = await _view(session, check_id)
        dialog = await _dialog_kept(request, session, view, fields, exc.message)
    # From a dialog, the refusal is said in the dialog, redrawn on the fresh check with what was typed kept.
    context = {**_panel_context(request), **dialog}
    body = _render(
        request, "orders/_check_update.html", v=view, message=exc.message, level="error", quiet=bool(dialog), **context
    )
    return Response(
        content=body.content,
        status_code=409,
        media_type=MediaType.HTML,
        headers={"HX-Retarget": "#check-panel", "HX-Reswap": "outerHTML"},
    )


async def _dialog_kept(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    view: queries.CheckView,
    fields: Mapping[str, Any],
    message: str,
) -> dict[str, Any]:
    """The dialog a stale request came from, on the fresh check, keeping what was typed; {} when there is none."""
    trigger = request.headers.get("hx-trigger") or ""
    if trigger == dialogs.ITEM_DIALOG:
        item = await session.get(MenuItem, _required_int(fields, "menu_item_id", label="The item"))
        if item is None or item.archived_at is not None:
            return {}
        questions = await queries.modifier_questions(session, item.id or 0)
        return {
            "sheet": ITEM_SHEET,
            **_item_dialog(item, questions, dialogs.ItemDraft.typed(fields), stale=message),
        }
    if trigger not in (dialogs.LINE_DIALOG, dialogs.VOID_DIALOG):
        return {}
    line_id = request.path_params.get("line_id")
    line_view = next((lv for c in view.courses for lv in c.lines if lv.line.id == line_id), None)
    if line_view is None or line_view.line.state == LineState.VOIDED:
        return {}
    fresh = dialogs.LineDraft.of(line_view.line)
    draft = fresh.with_changes(fields) if trigger == dialogs.LINE_DIALOG else fresh.with_void(fields)
    return {"sheet": LINE_SHEET, **_line_dialog(request, line_view, draft, stale=message)}


def _item_dialog(
    item: MenuItem, questions: list[ModifierQuestion], draft: dialogs.ItemDraft, *, stale: str | None = None
) -> dict[str, Any]:
    """What the item dialog shows: the item, its questions, its fields, and a refusal it must explain."""
    return {
        "item": item,
        "questions": questions,
        "draft": draft,
        "choice_field": dialogs.CHOICE_FIELD,
        "stale": stale,
        "note_limit": NOTE_MAX_LENGTH,
        "quantity_max": MAX_QUANTITY,
    }


def _line_dialog(
    request: Request[Any, Any, Any], lv: queries.LineView, draft: dialogs.LineDraft, *, stale: str | None = None
) -> dict[str, Any]:
    """What the line dialog shows: the line, its fields, and, after a stale refusal, the line as it stands now."""
    viewer: Viewer = request.user
    unsent = lv.line.state in services.UNSENT
    fresh = dialogs.LineDraft.of(lv.line)
    # A change typed for an unsent line the kitchen has since been sent cannot be saved; it is still shown.
    lost = draft.summary() if stale and not unsent and draft.changes() != fresh.changes() else None
    return {
        "lv": lv,
        "draft": draft,
        "fresh": fresh,
        "stale": stale,
        "now_on_the_check": dialogs.now_on_the_check(lv) if stale else "",
        "not_saved": lost,
        "courses": list(Course),
        "unsent": unsent,
        "needs_pin": not viewer.can(Perm.VOID_AFTER_SEND),
        "reasons": VOID_REASONS,
        "note_limit": NOTE_MAX_LENGTH,
        "reason_limit": VOID_REASON_MAX_LENGTH,
        "quantity_max": MAX_QUANTITY,
    }


def _approval_sheet(request: Request[Any, Any, Any], fields: Mapping[str, Any], message: str) -> Response[Any]:
    target = request.headers.get("hx-target") or "check-panel"
    carried = [
        (key, value)
        for key, values in fields.items()
        if key not in {"manager_pin", "_csrf_token"}
        for value in (values if isinstance(values, list) else [values])
    ]
    body = _render(
        request,
        "orders/_approval_sheet.html",
        message=message,
        action=request.url.path,
        carried=carried,
        target=target if _TARGET_ID.match(target) else "check-panel",
    )
    if not web.is_htmx(request):
        return Template(template_name="error.html", context={"message": message, "status_code": 403}, status_code=403)
    return Response(
        content=body.content,
        status_code=403,
        media_type=MediaType.HTML,
        headers={"HX-Retarget": "#sheet", "HX-Reswap": "innerHTML"},
    )


async def _updated(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    check_id: int,
    message: str,
    *,
    quiet: bool = False,
    seats_changed: bool = False,
    selected_seat: int | None = None,
) -> Response[Any]:
    """The answer to a change: the fresh check panel (htmx), or back to the check page."""
    if not web.is_htmx(request):
        return Response(content="", status_code=303, headers={"location": f"/checks/{check_id}"})
    await session.flush()
    view = await _view(session, check_id)
    return _render(
        request,
        "orders/_check_update.html",
        v=view,
        message=message,
        level="info",
        quiet=quiet,
        seats_changed=seats_changed,
        selected_seat=selected_seat,
        **_panel_context(request),
    )


def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Response[Any]:
    """A template rendered now, so its HTML can be stored with the idempotency key."""
    full = Template(template_name=template, context=context).create_template_context(request)
    html = _engine(request.app).get_template(template).render(**full)
    return Response(content=html, media_type=MediaType.HTML)


def _engine(app: Litestar) -> TemplateEngineProtocol[Any, Any]:
    engine: TemplateEngineProtocol[Any, Any] | None = app.template_engine
    if engine is None:
        raise RuntimeError("the app has no template engine")
    return engine


def _redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """Go to `url`: a header htmx follows, or a 303 (both storable with the idempotency key)."""
    if web.is_htmx(request):
        return Response(content="", media_type=MediaType.HTML, headers={"HX-Redirect": url})
    return Response(content="", status_code=303, headers={"location": url})


def _sheet_done(request: Request[Any, Any, Any], message: str, *, redirect: str | None = None) -> Response[Any]:
    """Close the sheet and say what happened; optionally go elsewhere."""
    if not web.is_htmx(request):
        return Response(content="", status_code=303, headers={"location": redirect or "/floor"})
    response = _render(request, "orders/_sheet_done.html", message=message)
    if redirect:
        response.headers["HX-Redirect"] = redirect
    return response


def _panel_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    viewer: Viewer = request.user
    return {
        "me": viewer.staff.id,
        "can_edit_any": viewer.can(Perm.CHECKS_EDIT_ANY),
        "can_void": viewer.can(Perm.VOID_AFTER_SEND),
        "courses": list(Course),
        "LineState": LineState,
    }


async def _view(session: AsyncSession, check_id: int) -> queries.CheckView:
    view = await queries.check_view(session, check_id)
    if view is None:
        raise NotFound(f"Check {check_id} does not exist.")
    return view


def _pacing_trigger(fields: Mapping[str, Any]) -> PacingTrigger:
    try:
        return PacingTrigger(str(fields.get("trigger") or ""))
    except ValueError:
        raise InvalidInput(
            "Choose when the course fires: when the course before is ready, after some minutes, "
            "or as the course before is cleared."
        ) from None


def _zone(request: Request[Any, Any, Any]) -> str:
    settings: Settings = request.app.state.settings
    return settings.timezone


def _version(fields: Mapping[str, Any]) -> int:
    return web.field_int(fields, "version", label="The check version", minimum=1)


def _required_int(fields: Mapping[str, Any], name: str, *, label: str) -> int:
    if fields.get(name) in (None, ""):
        raise InvalidInput(f"{label} is missing.")
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _optional_int(fields: Mapping[str, Any], name: str, *, label: str) -> int | None:
    if fields.get(name) in (None, ""):
        return None
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _int_list(fields: Mapping[str, Any], name: str, *, label: str) -> list[int]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    return [web.field_int({name: value}, name, label=label, minimum=1, maximum=2**31 - 1) for value in values]


def _seat(fields: Mapping[str, Any]) -> int | None:
    raw = str(fields.get("seat") or "").strip().lower()
    if raw in ("", "shared", "0"):
        return None
    return web.field_int(fields, "seat", label="The seat", minimum=1, maximum=99)


def _course(raw: Any) -> Course | None:
    value = str(raw or "").strip().lower()
    if value in ("", "auto"):
        return None
    try:
        return Course(value)
    except ValueError:
        raise InvalidInput(
            f"There is no course {str(raw)[:20]!r}; choose drinks, starters, mains or dessert."
        ) from None


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    return str(fields.get(name) or "").strip().lower() in {"1", "on", "true", "yes"}


ROUTES: list[Any] = [
    *floor_view.ROUTES,
    check_page,
    check_panel,
    item_sheet,
    line_sheet,
    actions_sheet,
    menu_buttons,
    check_live,
    open_check,
    clear_table,
    add_line,
    update_line,
    repeat_line,
    void_line,
    send,
    course_action,
    set_covers,
    transfer,
    merge,
    move,
]
