"""The split page: by seat, by items, a shared item, evenly, by amounts, and undoing the newest split."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import guards, queries, splits
from app.checks.controller_helpers import CheckForm, Id, Req, _settings, actor, command, command_post
from app.checks.printing import quantity_text
from app.lib import forms, web
from app.lib.manage import FORM
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


class ItemsForm(CheckForm, kw_only=True):
    line_ids: Annotated[list[Id], Meta(title="The items")] = []
    to_check_id: Annotated[str, forms.Text(max_length=20, required=False)] = "new"

    def check(self) -> None:
        if self.to_check_id != "new" and not (self.to_check_id.isdigit() and int(self.to_check_id) >= 1):
            raise ValueError("The check must be chosen from the list.")

    @property
    def target(self) -> int | None:
        """The check of the split to move to, or None for a new one."""
        return None if self.to_check_id == "new" else int(self.to_check_id)


class ShareForm(CheckForm, kw_only=True):
    line_id: Annotated[int, Meta(title="The item", ge=1)]
    check_ids: Annotated[list[Id], Meta(title="The checks")] = []
    ways: Annotated[int, Meta(title="Ways", ge=2, le=splits.MAX_WAYS)] | None = None

    def check(self) -> None:
        if not self.check_ids and self.ways is None:
            raise ValueError("Ways is required.")


class EvenForm(CheckForm, kw_only=True):
    ways: Annotated[int, Meta(title="Ways", ge=2, le=splits.MAX_WAYS)]


class AmountsForm(CheckForm, kw_only=True):
    amounts: Annotated[list[str], Meta(title="The amounts")] = []


SplitCommand = Callable[[AsyncSession, Req, Any, int, Staff | None], Awaitable[str]]


def _split_route(path: str, doc: str, form: type[CheckForm], split: SplitCommand) -> Any:
    async def handler(request: Req, db: web.Db, check_id: FromPath[int], data: Any) -> Template:
        async def work(session: AsyncSession, approver: Staff | None) -> str:
            return await split(session, request, data, check_id, approver)

        return await _split_page(request, db, check_id, flash=await command(request, db, data, work))

    handler.__annotations__["data"] = Annotated[form, FORM]
    handler.__doc__ = doc
    handler.__name__ = f"split_{path.replace('-', '_')}"
    return command_post(f"/checks/{{check_id:int}}/split/{path}", permission=Perm.PAYMENTS_TAKE)(handler)


async def _by_seat(session: AsyncSession, request: Req, data: CheckForm, check_id: int, approver: Staff | None) -> str:
    checks = await splits.split_by_seat(
        session, check_id=check_id, actor=actor(request), expected_version=data.version, approver=approver
    )
    return f"Split by seat into {len(checks)} checks. Nothing was sent to the kitchen."


async def _items(session: AsyncSession, request: Req, data: ItemsForm, check_id: int, approver: Staff | None) -> str:
    target = await splits.split_items(
        session,
        check_id=check_id,
        line_ids=data.line_ids,
        to_check_id=data.target,
        actor=actor(request),
        expected_version=data.version,
        approver=approver,
    )
    return f"Moved to check #{target.number}. Nothing was sent to the kitchen."


async def _share(session: AsyncSession, request: Req, data: ShareForm, check_id: int, approver: Staff | None) -> str:
    shares = await splits.share_item(
        session,
        check_id=check_id,
        line_id=data.line_id,
        ways=None if data.check_ids else data.ways,
        check_ids=data.check_ids or None,
        actor=actor(request),
        expected_version=data.version,
        approver=approver,
    )
    return f"Shared {len(shares)} ways; the shares add up exactly to the item."


async def _even(session: AsyncSession, request: Req, data: EvenForm, check_id: int, approver: Staff | None) -> str:
    portions = await splits.split_evenly(
        session,
        check_id=check_id,
        ways=data.ways,
        actor=actor(request),
        expected_version=data.version,
        approver=approver,
    )
    return f"Split evenly {len(portions)} ways."


async def _amounts(
    session: AsyncSession, request: Req, data: AmountsForm, check_id: int, approver: Staff | None
) -> str:
    currency = _settings(request).currency
    amounts = [
        guards.parse_cents(text, label=f"Part {index}", currency=currency)
        for index, text in enumerate((t for t in data.amounts if t.strip()), start=1)
    ]
    portions = await splits.split_by_amounts(
        session,
        check_id=check_id,
        amounts=amounts,
        actor=actor(request),
        expected_version=data.version,
        approver=approver,
    )
    return f"Split into {len(portions)} parts by amount."


async def _undo(session: AsyncSession, request: Req, data: CheckForm, check_id: int, approver: Staff | None) -> str:
    split = await splits.undo_split(
        session, check_id=check_id, actor=actor(request), expected_version=data.version, approver=approver
    )
    return f"Split {split.kind.label} undone."


split_seat = _split_route("seat", "Split the check by seat.", CheckForm, _by_seat)


split_items = _split_route("items", "Move chosen items to a new or another check of the split.", ItemsForm, _items)


split_share = _split_route("share", "Share one item between guests or checks.", ShareForm, _share)


split_even = _split_route("even", "Split what is due evenly N ways.", EvenForm, _even)


split_amounts = _split_route("amounts", "Split what is due into chosen amounts.", AmountsForm, _amounts)


split_undo = _split_route("undo", "Undo the newest split while nothing is paid.", CheckForm, _undo)
