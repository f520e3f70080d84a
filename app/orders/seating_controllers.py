"""Opening a check, clearing the table, covers, transfer, merge and move."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import FromPath
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib import forms, web
from app.lib.errors import InvalidInput, NotFound
from app.lib.manage import FORM
from app.orders import floor_view, queries, seating
from app.orders.controller_helpers import (
    CheckChange,
    Id,
    OrderForm,
    _once,
    _redirect,
    _sheet_done,
    _updated,
    on,
    order_post,
)
from app.orders.models import CheckKind
from app.staff.models import Staff
from app.staff.permissions import Perm


class OpenCheckForm(OrderForm, kw_only=True):
    """Seating a table (or opening a bar tab or a takeout): its covers, and the server if not the one seating."""

    kind: str = CheckKind.TABLE.value
    table_id: Annotated[Id, Meta(title="The table")] | None = None
    covers: Annotated[int, Meta(title="Covers", ge=1, le=99)] = 1
    server_id: Annotated[Id, Meta(title="The server")] | None = None
    tab_name: Annotated[str, Meta(title="The name"), forms.Text(max_length=60, required=False)] = ""
    confirm_hold: str = ""


class CoversForm(CheckChange, kw_only=True):
    covers: Annotated[int, Meta(title="Covers")]


class TransferForm(CheckChange, kw_only=True):
    to_table_id: Annotated[Id, Meta(title="The table")] | None = None
    to_server_id: Annotated[Id, Meta(title="The server")] | None = None


class MergeForm(CheckChange, kw_only=True):
    from_check_id: Annotated[Id, Meta(title="The check to merge")]


class MoveForm(CheckChange, kw_only=True):
    line_id: Annotated[list[Id], Meta(title="An item")] = []
    to_check_id: Annotated[Id, Meta(title="The check to move to")]


@order_post("/checks", permission=Perm.CHECKS_OPEN)
async def open_check(
    request: Request[Any, Any, Any], db: web.Db, data: Annotated[OpenCheckForm, FORM]
) -> Response[Any]:
    """Seat a table with its covers, or open a bar tab or a takeout; then go to order entry."""
    kind = data.kind
    table_id = data.table_id if kind == CheckKind.TABLE.value else None
    covers, server_id, tab_name = data.covers, data.server_id, data.tab_name

    async def work(session: AsyncSession, actor: Staff, _approver: Staff | None) -> Response[Any]:
        server = actor
        if server_id is not None and server_id != actor.id:
            chosen = await session.get(Staff, server_id)
            if chosen is None or chosen.archived_at is not None:
                raise NotFound("That server is not on the staff list.")
            server = chosen
        elif not actor.can(Perm.ORDERS_ENTER):
            raise InvalidInput("Choose the server who will look after this table.")

        async def unless_held(table: DiningTable, booked: bool) -> None:
            await floor_view.refuse_held_table(session, table, confirmed=on(data.confirm_hold), booked=booked)

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

    return await _once(request, db, data, work)


@order_post("/checks/{check_id:int}/clear", permission=Perm.CHECKS_OPEN)
async def clear_table(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[OrderForm, FORM]
) -> Response[Any]:
    """A paid table has been bussed: it shows free again."""

    async def work(session: AsyncSession, actor: Staff, _approver: Staff | None) -> Response[Any]:
        check = await seating.clear_table(session, check_id, actor)
        table = await session.get(DiningTable, check.table_id) if check.table_id else None
        return _sheet_done(request, f"Table {table.name if table else ''} is free.")

    return await _once(request, db, data, work)


@order_post("/checks/{check_id:int}/covers", permission=Perm.ORDERS_ENTER)
async def set_covers(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[CoversForm, FORM]
) -> Response[Any]:
    """Change the number of guests."""
    covers, version = data.covers, data.expected_version

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

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/transfer", permission=Perm.ORDERS_ENTER)
async def transfer(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[TransferForm, FORM]
) -> Response[Any]:
    """Move the check to another table, or hand it to another server."""
    to_table, to_server, version = data.to_table_id, data.to_server_id, data.expected_version

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

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/merge", permission=Perm.ORDERS_ENTER)
async def merge(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[MergeForm, FORM]
) -> Response[Any]:
    """Bring another open check's items onto this one (tables pushed together)."""
    source, version = data.from_check_id, data.expected_version

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

    return await _once(request, db, data, work, check_id=check_id)


@order_post("/checks/{check_id:int}/move", permission=Perm.ORDERS_ENTER)
async def move(
    request: Request[Any, Any, Any], db: web.Db, check_id: FromPath[int], data: Annotated[MoveForm, FORM]
) -> Response[Any]:
    """Move chosen items to another open check."""
    line_ids, target, version = data.line_id, data.to_check_id, data.expected_version

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

    return await _once(request, db, data, work, check_id=check_id)
