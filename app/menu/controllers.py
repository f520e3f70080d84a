"""Manager pages for the menu: items, categories, modifier groups, tax rates; the 86 board."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, manage, web
from app.lib.errors import InvalidInput, NotFound
from app.lib.settings import Settings
from app.menu import availability, categories, inputs, items, modifiers, queries, tax_rates
from app.menu.categories import CategoryFields
from app.menu.items import ItemFields
from app.menu.models import Course, MenuItem
from app.menu.modifiers import GroupFields, ModifierFields
from app.menu.tax_rates import TaxRateFields
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
EIGHTY_SIX_REASONS = ("Sold out", "Out of stock", "Quality issue", "Equipment down", "Prep not ready")


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


def _currency(request: Req) -> str:
    settings: Settings = request.app.state.settings
    return settings.currency


def _id(fields: Mapping[str, Any], name: str, *, label: str, required: bool = True) -> int | None:
    """A record id chosen in a form: blank is "none" (or a refusal when one is required)."""
    raw = str(fields.get(name) or "").strip()
    if not raw:
        if required:
            raise InvalidInput(f"Choose a {label.lower()}.")
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput(f"{label}: unknown {label.lower()}.")
    return int(raw)


def _ids(fields: Mapping[str, Any], name: str, *, label: str) -> tuple[int, ...]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else [raw]
    ids = []
    for value in values:
        text = str(value or "").strip()
        if not text:
            continue
        if not text.isdigit() or len(text) > 12:
            raise InvalidInput(f"{label}: unknown {label.lower()}.")
        ids.append(int(text))
    return tuple(ids)


def _order(fields: Mapping[str, Any]) -> int:
    return web.field_int(fields, "sort_order", label="Order", minimum=0, maximum=inputs.SORT_MAX, default=0)


# Items ------------------------------------------------------------------------------------------


def _item_fields(request: Req, fields: Mapping[str, Any]) -> ItemFields:
    return ItemFields(
        sku=web.field_text(fields, "sku", label="SKU", max_length=inputs.SKU_MAX),
        name=web.field_text(fields, "name", label="Name", max_length=inputs.ITEM_NAME_MAX),
        price_cents=inputs.parse_price(str(fields.get("price") or ""), currency=_currency(request)),
        category_id=_id(fields, "category_id", label="Category") or 0,
        station_id=_id(fields, "station_id", label="Station override", required=False),
        description=web.field_text(
            fields, "description", label="Description", max_length=inputs.DESCRIPTION_MAX, required=False
        ),
        group_ids=_ids(fields, "group_ids", label="Modifier group"),
        sort_order=_order(fields),
        prep_minutes=web.field_int(
            fields, "prep_minutes", label="Prep time (minutes)", minimum=0, maximum=inputs.PREP_MAX_MINUTES, default=0
        ),
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


@post("/manage/menu/items", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_create(
    request: Req, db: web.Db, category: FromQuery[int | None] = None, archived: FromQuery[bool] = False
) -> Template:
    """Put a new item on the menu."""
    fields = _item_fields(request, await web.form_data(request))
    async with db.write() as session:
        item = await items.create_item(session, fields, actor_id=_actor(request))
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


@post("/manage/menu/items/{item_id:int}", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def item_update(
    request: Req,
    db: web.Db,
    item_id: FromPath[int],
    category: FromQuery[int | None] = None,
    archived: FromQuery[bool] = False,
) -> Template:
    """Save an item's form."""
    fields = _item_fields(request, await web.form_data(request))
    async with db.write() as session:
        item = await items.update_item(session, item_id, fields, actor_id=_actor(request))
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
        item = await items.archive_item(session, item_id, actor_id=_actor(request))
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
        item = await items.restore_item(session, item_id, actor_id=_actor(request))
    return await _menu_page(request, db, category=category, archived=archived, flash=f"Restored {item.name}.")


# Categories -------------------------------------------------------------------------------------


def _category_fields(fields: Mapping[str, Any]) -> CategoryFields:
    course = str(fields.get("course") or "")
    if course not in {c.value for c in Course}:
        raise InvalidInput(f"Course must be one of {', '.join(c.label for c in Course)}.")
    return CategoryFields(
        name=web.field_text(fields, "name", label="Name", max_length=inputs.NAME_MAX),
        course=Course(course),
        station_id=_id(fields, "station_id", label="Kitchen station"),
        tax_rate_id=_id(fields, "tax_rate_id", label="Tax rate") or 0,
        color=str(fields.get("color") or ""),
        sort_order=_order(fields),
    )


async def _categories_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        sections = await queries.menu_sections(session, include_archived=True)
        context: dict[str, Any] = {
            "sections": sections,
            "stations": await queries.stations(session),
            "taxes": await queries.tax_rates(session),
            "courses": list(Course),
            "flash": flash,
        }
    return web.page(request, "menu/categories.html", fragment="menu/_categories.html", **context)


async def _show_categories(request: Req, db: web.Db, flash: str | None) -> Template:
    return await _categories_page(request, db, flash=flash)


CATEGORIES: manage.Managed[CategoryFields] = manage.Managed(
    path="/manage/menu/categories",
    name="category",
    permission=Perm.MENU_MANAGE,
    show=_show_categories,
    actor=_actor,
    parse=_category_fields,
    create=lambda session, fields, actor: categories.create_category(session, fields, actor_id=actor),
    update=lambda session, category_id, fields, actor: categories.update_category(
        session, category_id, fields, actor_id=actor
    ),
    archive=lambda session, category_id, actor: categories.archive_category(session, category_id, actor_id=actor),
    restore=lambda session, category_id, actor: categories.restore_category(session, category_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Menu categories: their course, kitchen station, tax rate, colour and order.",
)


# Modifier groups and modifiers -------------------------------------------------------------------


def _group_fields(fields: Mapping[str, Any]) -> GroupFields:
    return GroupFields(
        name=web.field_text(fields, "name", label="Name", max_length=inputs.NAME_MAX),
        min_choices=web.field_int(
            fields, "min_choices", label="Minimum choices", minimum=0, maximum=inputs.CHOICES_MAX
        ),
        max_choices=web.field_int(
            fields, "max_choices", label="Maximum choices", minimum=1, maximum=inputs.CHOICES_MAX
        ),
    )


def _modifier_fields(request: Req, fields: Mapping[str, Any]) -> ModifierFields:
    delta_text = str(fields.get("price_delta") or "").strip() or "0"
    return ModifierFields(
        name=web.field_text(fields, "name", label="Name", max_length=inputs.NAME_MAX),
        price_delta_cents=inputs.parse_price(
            delta_text, label="Price change", currency=_currency(request), allow_negative=True
        ),
        station_id=_id(fields, "station_id", label="Station override", required=False),
        sort_order=_order(fields),
    )


async def _modifiers_page(
    request: Req, db: web.Db, *, archived: bool = False, flash: str | None = None, opened: int | None = None
) -> Template:
    async with db.read() as session:
        context: dict[str, Any] = {
            "groups": await queries.modifier_groups(session, include_archived=archived),
            "stations": await queries.stations(session),
            "station_names": await queries.station_names(session),
            "archived": archived,
            "view_qs": "?archived=1" if archived else "",
            "flash": flash,
            "opened": opened,
        }
    return web.page(request, "menu/modifiers.html", fragment="menu/_modifiers.html", **context)


@get("/manage/modifiers", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def modifiers_page(request: Req, db: web.Db, archived: FromQuery[bool] = False) -> Template:
    """Modifier groups with their answers."""
    return await _modifiers_page(request, db, archived=archived)


@post("/manage/modifiers", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_create(request: Req, db: web.Db, archived: FromQuery[bool] = False) -> Template:
    """Add a modifier group."""
    fields = _group_fields(await web.form_data(request))
    async with db.write() as session:
        group = await modifiers.create_modifier_group(session, fields, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Added {group.name}.", opened=group.id)


@post("/manage/modifiers/{group_id:int}", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_update(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Save a modifier group's form."""
    fields = _group_fields(await web.form_data(request))
    async with db.write() as session:
        group = await modifiers.update_modifier_group(session, group_id, fields, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Saved {group.name}.", opened=group_id)


@post("/manage/modifiers/{group_id:int}/archive", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_archive(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Stop asking a modifier group."""
    async with db.write() as session:
        group = await modifiers.archive_modifier_group(session, group_id, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Archived {group.name}.")


@post("/manage/modifiers/{group_id:int}/restore", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_restore(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Ask an archived modifier group again."""
    async with db.write() as session:
        group = await modifiers.restore_modifier_group(session, group_id, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Restored {group.name}.", opened=group_id)


@post("/manage/modifiers/{group_id:int}/modifiers", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def modifier_create(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Add an answer to a modifier group."""
    fields = _modifier_fields(request, await web.form_data(request))
    async with db.write() as session:
        modifier = await modifiers.create_modifier(session, group_id, fields, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Added {modifier.name}.", opened=group_id)


async def _modifier_in_group(session: AsyncSession, group_id: int, modifier_id: int) -> None:
    group = await queries.modifier_group(session, group_id)
    if group is None or all(m.id != modifier_id for m in group.modifiers):
        raise NotFound("No such answer in this modifier group.")


@post(
    "/manage/modifiers/{group_id:int}/modifiers/{modifier_id:int}",
    permission=Perm.MENU_MANAGE,
    include_in_schema=False,
)
async def modifier_update(
    request: Req, db: web.Db, group_id: FromPath[int], modifier_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Save an answer's form."""
    fields = _modifier_fields(request, await web.form_data(request))
    async with db.write() as session:
        await _modifier_in_group(session, group_id, modifier_id)
        modifier = await modifiers.update_modifier(session, modifier_id, fields, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Saved {modifier.name}.", opened=group_id)


@post(
    "/manage/modifiers/{group_id:int}/modifiers/{modifier_id:int}/archive",
    permission=Perm.MENU_MANAGE,
    include_in_schema=False,
)
async def modifier_archive(
    request: Req, db: web.Db, group_id: FromPath[int], modifier_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Stop offering an answer."""
    async with db.write() as session:
        await _modifier_in_group(session, group_id, modifier_id)
        modifier = await modifiers.archive_modifier(session, modifier_id, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Archived {modifier.name}.", opened=group_id)


@post(
    "/manage/modifiers/{group_id:int}/modifiers/{modifier_id:int}/restore",
    permission=Perm.MENU_MANAGE,
    include_in_schema=False,
)
async def modifier_restore(
    request: Req, db: web.Db, group_id: FromPath[int], modifier_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Offer an archived answer again."""
    async with db.write() as session:
        await _modifier_in_group(session, group_id, modifier_id)
        modifier = await modifiers.restore_modifier(session, modifier_id, actor_id=_actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Restored {modifier.name}.", opened=group_id)


# Tax rates --------------------------------------------------------------------------------------


class TaxRateForm(forms.Form):
    """A tax rate as submitted: a name and a percentage ("9" or "20.5")."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=inputs.NAME_MAX)]
    rate: str = ""

    def fields(self) -> TaxRateFields:
        return TaxRateFields(name=self.name, rate_bp=inputs.parse_percent(self.rate))


async def _taxes_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        rows = await queries.tax_rate_rows(session)
    return web.page(request, "menu/taxes.html", fragment="menu/_taxes.html", rows=rows, flash=flash)


async def _show_taxes(request: Req, db: web.Db, flash: str | None) -> Template:
    return await _taxes_page(request, db, flash=flash)


TAXES: manage.Managed[TaxRateFields] = manage.Managed(
    path="/manage/taxes",
    name="tax",
    permission=Perm.MENU_MANAGE,
    show=_show_taxes,
    actor=_actor,
    form=TaxRateForm,
    create=lambda session, fields, actor: tax_rates.create_tax_rate(session, fields, actor_id=actor),
    update=lambda session, tax_id, fields, actor: tax_rates.update_tax_rate(session, tax_id, fields, actor_id=actor),
    archive=lambda session, tax_id, actor: tax_rates.archive_tax_rate(session, tax_id, actor_id=actor),
    restore=lambda session, tax_id, actor: tax_rates.restore_tax_rate(session, tax_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Tax rates and the categories that charge them.",
)


# 86 ---------------------------------------------------------------------------------------------


async def _eighty_six_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        sections = [s for s in await queries.menu_sections(session) if s.items]
        out = await queries.eighty_sixed_items(session)
    return web.page(
        request,
        "menu/eighty_six.html",
        fragment="menu/_eighty_six.html",
        sections=sections,
        out=out,
        reasons=EIGHTY_SIX_REASONS,
        flash=flash,
    )


@get("/manage/86", permission=Perm.EIGHTY_SIX, include_in_schema=False)
async def eighty_six_page(request: Req, db: web.Db) -> Template:
    """What the kitchen has run out of, and a toggle per item."""
    return await _eighty_six_page(request, db)


@post("/manage/86/{item_id:int}", permission=Perm.EIGHTY_SIX, include_in_schema=False)
async def eighty_six_item(request: Req, db: web.Db, item_id: FromPath[int]) -> Template:
    """86 an item: servers can no longer ring it in, and see why."""
    fields = await web.form_data(request)
    reason = web.field_text(fields, "reason", label="Reason", max_length=inputs.REASON_MAX)
    async with db.write() as session:
        item: MenuItem = await availability.eighty_six(session, item_id, reason, _actor(request))
    return await _eighty_six_page(request, db, flash=f"86'd {item.name}.")


@post("/manage/86/{item_id:int}/back", permission=Perm.EIGHTY_SIX, include_in_schema=False)
async def un_eighty_six_item(request: Req, db: web.Db, item_id: FromPath[int]) -> Template:
    """Put an 86'd item back on sale."""
    fields = await web.form_data(request)
    reason = web.field_text(fields, "reason", label="Reason", max_length=inputs.REASON_MAX, required=False)
    async with db.write() as session:
        item = await availability.un_eighty_six(session, item_id, reason or None, _actor(request))
    return await _eighty_six_page(request, db, flash=f"{item.name} is back on sale.")


ROUTES: list[Any] = [
    menu_page,
    item_create,
    item_edit,
    item_show,
    item_update,
    item_archive,
    item_restore,
    *CATEGORIES.routes(),
    modifiers_page,
    group_create,
    group_update,
    group_archive,
    group_restore,
    modifier_create,
    modifier_update,
    modifier_archive,
    modifier_restore,
    *TAXES.routes(),
    eighty_six_page,
    eighty_six_item,
    un_eighty_six_item,
]
