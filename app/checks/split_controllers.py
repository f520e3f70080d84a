"""The split page: by seat, by items, a shared item, evenly, by amounts, and undoing the newest split."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import guards, queries, splits
from app.checks.controller_helpers import Req, _approver, _int_list, _once, _settings, _version, _viewer
from app.checks.printing import quantity_text
from app.lib import web
from app.orders.models import CheckStatus
from app.staff.models import Staff
from app.staff.permissions import Perm


async def _split_context(session: AsyncSession, request: Req, check_id: int) -> dict[str, Any]:
    check = await queries.load_check(session, check_id)
    money = await queries.check_money(session, check)
    members = await queries.family(session, check)
    columns: list[dict[str, Any]] = []
    open_columns: list[dict[str, Any]] = []
    for member in members:
        member_money = money if member.id == check.id else await queries.check_money(session, member)
        column = {"check": member, "m": member_money}
        columns.append(column)
        if member.status is CheckStatus.OPEN:
            open_columns.append(column)
    root = await queries.root_of(session, check)
    latest = await queries.latest_split(session, root.id or 0)
    return {
        "check": check,
        "m": money,
        "columns": columns,
        "open_columns": open_columns,
        "latest_split": latest,
        "table_name": await queries.table_name(session, check.table_id),
        "qty": quantity_text,
        "max_ways": splits.MAX_WAYS,
    }


async def _split_page(request: Req, db: web.Db, check_id: int, *, flash: str = "", level: str = "info") -> Template:
    async with db.read() as session:
        context = await _split_context(session, request, check_id)
    return web.page(
        request, "checks/split.html", fragment="checks/_split.html", flash=flash, flash_level=level, **context
    )


@get("/checks/{check_id:int}/split", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)
async def split_page(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
    """The split screen: every check of the split side by side, with the ways to split."""
    return await _split_page(request, db, check_id)


SplitCommand = Callable[[AsyncSession, Req, Mapping[str, Any], int, Staff | None], Awaitable[str]]


def _split_route(path: str, doc: str, command: SplitCommand) -> Any:
    async def handler(request: Req, db: web.Db, check_id: FromPath[int]) -> Template:
        fields = await web.form_data(request)
        approver = await _approver(request, db, fields)

        async def work(session: AsyncSession) -> str:
            return await command(session, request, fields, check_id, approver)

        flash = await _once(request, db, fields, work)
        return await _split_page(request, db, check_id, flash=flash)

    handler.__doc__ = doc
    handler.__name__ = f"split_{path.replace('-', '_')}"
    return post(f"/checks/{{check_id:int}}/split/{path}", permission=Perm.PAYMENTS_TAKE, include_in_schema=False)(
        handler
    )


async def _by_seat(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    checks = await splits.split_by_seat(
        session,
        check_id=check_id,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split by seat into {len(checks)} checks. Nothing was sent to the kitchen."


async def _items(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    to_check = str(fields.get("to_check_id") or "new")
    target = await splits.split_items(
        session,
        check_id=check_id,
        line_ids=_int_list(fields, "line_ids", "The items"),
        to_check_id=None if to_check == "new" else web.field_int(fields, "to_check_id", label="The check", minimum=1),
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Moved to check #{target.number}. Nothing was sent to the kitchen."


async def _share(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    check_ids = _int_list(fields, "check_ids", "The checks")
    ways = None if check_ids else web.field_int(fields, "ways", label="Ways", minimum=2, maximum=splits.MAX_WAYS)
    shares = await splits.share_item(
        session,
        check_id=check_id,
        line_id=web.field_int(fields, "line_id", label="The item", minimum=1),
        ways=ways,
        check_ids=check_ids or None,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Shared {len(shares)} ways; the shares add up exactly to the item."


async def _even(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    ways = web.field_int(fields, "ways", label="Ways", minimum=2, maximum=splits.MAX_WAYS)
    portions = await splits.split_evenly(
        session,
        check_id=check_id,
        ways=ways,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split evenly {len(portions)} ways."


async def _amounts(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    raw = fields.get("amounts")
    texts = [str(v) for v in (raw if isinstance(raw, list) else [raw])] if raw not in (None, "") else []
    texts = [t for t in texts if t.strip()]
    settings = _settings(request)
    amounts = [
        guards.parse_cents(text, label=f"Part {index}", currency=settings.currency)
        for index, text in enumerate(texts, start=1)
    ]
    portions = await splits.split_by_amounts(
        session,
        check_id=check_id,
        amounts=amounts,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split into {len(portions)} parts by amount."


async def _undo(
    session: AsyncSession, request: Req, fields: Mapping[str, Any], check_id: int, approver: Staff | None
) -> str:
    split = await splits.undo_split(
        session,
        check_id=check_id,
        actor=_viewer(request).staff,
        expected_version=_version(fields),
        approver=approver,
    )
    return f"Split {split.kind.label} undone."


split_seat = _split_route("seat", "Split the check by seat.", _by_seat)


split_items = _split_route("items", "Move chosen items to a new or another check of the split.", _items)


split_share = _split_route("share", "Share one item between guests or checks.", _share)


split_even = _split_route("even", "Split what is due evenly N ways.", _even)


split_amounts = _split_route("amounts", "Split what is due into chosen amounts.", _amounts)


split_undo = _split_route("undo", "Undo the newest split while nothing is paid.", _undo)
