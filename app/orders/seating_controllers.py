"""Opening a check, clearing the table, covers, transfer, merge and move."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import web
from app.lib.errors import InvalidInput, NotFound
from app.orders import floor_view, queries, seating
from app.orders.controller_helpers import (
    _flag,
    _int_list,
    _once,
    _optional_int,
    _redirect,
    _required_int,
    _sheet_done,
    _updated,
    _version,
)
from app.orders.models import CheckKind
from app.staff.models import Staff
from app.staff.permissions import Perm


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

        async def unless_held(table: DiningTable) -> None:
            await floor_view.refuse_held_table(session, table, confirmed=_flag(fields, "confirm_hold"))

        check = await seating.open_check(
            session,
            table_id=table_id,
            covers=covers,
            server=server,
            kind=kind,
            tab_name=tab_name,
            actor=actor,
            before_seating=unless_held,
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
