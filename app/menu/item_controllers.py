"""The manager's menu page: every item by category, and the forms to add, change, archive and restore one."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, manage, web
from app.lib.errors import NotFound
from app.menu import items, queries
from app.menu.controller_helpers import Req, actor, chosen, chosen_ids, currency, form_post
from app.menu.inputs import DESCRIPTION_MAX, ITEM_NAME_MAX, PREP_MAX_MINUTES, SKU_MAX, SORT_MAX, parse_price
from app.menu.items import ItemFields
from app.staff.permissions import Perm


class ItemForm(forms.Form):
    """A menu item as submitted: the price as typed, the category, station and modifier groups as chosen."""

    sku: Annotated[str, Meta(title="SKU"), forms.Text(max_length=SKU_MAX)]
    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=ITEM_NAME_MAX)]
    price: str = ""
    category_id: Annotated[str, Meta(title="Category")] = ""
    station_id: Annotated[str, Meta(title="Station override")] = ""
    description: Annotated[str, Meta(title="Description"), forms.Text(max_length=DESCRIPTION_MAX, required=False)] = ""
    group_ids: Annotated[list[str] | str, Meta(title="Modifier groups")] = msgspec.field(default_factory=list)
    sort_order: Annotated[int, Meta(title="Order", ge=0, le=SORT_MAX)] = 0
    prep_minutes: Annotated[int, Meta(title="Prep time (minutes)", ge=0, le=PREP_MAX_MINUTES)] = 0

    def check(self) -> None:
        chosen(self.category_id, label="Category")
        chosen(self.station_id, label="Station override", required=False)
        chosen_ids(self.group_ids, label="Modifier group")

    def fields(self, *, currency: str) -> ItemFields:
        """The item the service checks; a price that is not an amount is refused here."""
        return ItemFields(
            sku=self.sku,
            name=self.name,
            price_cents=parse_price(self.price, currency=currency),
            category_id=chosen(self.category_id, label="Category") or 0,
            station_id=chosen(self.station_id, label="Station override", required=False),
            description=self.description,
            group_ids=chosen_ids(self.group_ids, label="Modifier group"),
            sort_order=self.sort_order,
            prep_minutes=self.prep_minutes,
        )


async def _menu_context(
    session: AsyncSession,
    *,
    category: int | None,
    archived: bool,
    editing: int | None = None,
    flash: str | None = None,
) -> dict[str, Any]:
    query = {k: v for k, v in (("category", category), ("archived", 1 if archived else None)) if v}
    editing_fields = await items.item_fields(session, editing) if editing else None
    return {
        "sections": await queries.menu_sections(session, category_id=category, include_archived=archived),
        "categories": await queries.categories(session),
        "stations": await queries.stations(session),
        "groups": await queries.modifier_groups(session, include_archived=True),
        "category": category,
        "archived": archived,
        "view_qs": f"?{urlencode(query)}" if query else "",
        "editing": editing,
        "editing_fields": editing_fields,
        "flash": flash,
    }


async def _menu_page(
    request: Req,
    db: web.Db,
    *,
    category: int | None,
    archived: bool,
    fragment: str = "menu/_menu.html",
    editing: int | None = None,
    flash: str | None = None,
    **extra: Any,
) -> Template:
    async with db.read() as session:
        context = await _menu_context(session, category=category, archived=archived, editing=editing, flash=flash)
    return web.page(request, "menu/menu.html", fragment=fragment, **context, **extra)


@get("/manage/menu", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def menu_page(
    request: Req,
    db: web.Db,
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Every item by category, with the forms to add and change them."""
    return await _menu_page(request, db, category=category, archived=archived)


@form_post("/manage/menu/items")
async def item_create(
    request: Req,
    db: web.Db,
    data: Annotated[ItemForm, manage.FORM],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Put a new item on the menu."""
    fields = data.fields(currency=currency(request))
    async with db.write() as session:
        item = await items.create_item(session, fields, actor_id=actor(request))
    return await _menu_page(request, db, category=category, archived=archived, flash=f"Added {item.name}.")


@get("/manage/menu/items/{item_id:int}/edit", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_edit(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """An item's row turned into its form."""
    async with db.read() as session:
        row = await queries.item_row(session, item_id)
        if row is None:
            raise NotFound("No such menu item.")
    return await _menu_page(
        request, db, category=category, archived=archived, fragment="menu/_item_form.html", editing=item_id, row=row
    )


@get("/manage/menu/items/{item_id:int}", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_show(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """An item's row as the menu shows it (the edit form cancelled)."""
    async with db.read() as session:
        row = await queries.item_row(session, item_id)
        if row is None:
            raise NotFound("No such menu item.")
    return await _menu_page(request, db, category=category, archived=archived, fragment="menu/_item_row.html", row=row)


@form_post("/manage/menu/items/{item_id:int}")
async def item_update(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    data: Annotated[ItemForm, manage.FORM],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Save an item's form."""
    fields = data.fields(currency=currency(request))
    async with db.write() as session:
        item = await items.update_item(session, item_id, fields, actor_id=actor(request))
    return await _menu_page(request, db, category=category, archived=archived, flash=f"Saved {item.name}.")


@post("/manage/menu/items/{item_id:int}/archive", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_archive(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Take an item off the menu (history keeps it)."""
    async with db.write() as session:
        item = await items.archive_item(session, item_id, actor_id=actor(request))
    return await _menu_page(request, db, category=category, archived=archived, flash=f"Archived {item.name}.")


@post("/manage/menu/items/{item_id:int}/restore", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_restore(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Put an archived item back on the menu."""
    async with db.write() as session:
        item = await items.restore_item(session, item_id, actor_id=actor(request))
    return await _menu_page(request, db, category=category, archived=archived, flash=f"Restored {item.name}.")


ROUTES: list[Any] = [menu_page, item_create, item_edit, item_show, item_update, item_archive, item_restore]
