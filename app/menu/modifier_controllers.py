"""The manager's modifiers page: modifier groups (the questions an item asks) and their answers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, manage, web
from app.lib.errors import NotFound
from app.menu import modifiers, queries
from app.menu.controller_helpers import Req, actor, chosen, currency, form_post
from app.menu.inputs import CHOICES_MAX, NAME_MAX, SORT_MAX, parse_price
from app.menu.modifiers import GroupFields, ModifierFields
from app.staff.permissions import Perm


class GroupForm(forms.Form):
    """A modifier group as submitted: its name and how many answers a server must and may give."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=NAME_MAX)]
    min_choices: Annotated[int, Meta(title="Minimum choices", ge=0, le=CHOICES_MAX)]
    max_choices: Annotated[int, Meta(title="Maximum choices", ge=1, le=CHOICES_MAX)]

    def fields(self) -> GroupFields:
        return GroupFields(name=self.name, min_choices=self.min_choices, max_choices=self.max_choices)


class ModifierForm(forms.Form):
    """An answer as submitted: the price change as typed (blank is none), a station override as chosen."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=NAME_MAX)]
    price_delta: str = "0"
    station_id: Annotated[str, Meta(title="Station override")] = ""
    sort_order: Annotated[int, Meta(title="Order", ge=0, le=SORT_MAX)] = 0

    def check(self) -> None:
        chosen(self.station_id, label="Station override", required=False)

    def fields(self, *, currency: str) -> ModifierFields:
        """The answer the service checks; a price change that is not an amount is refused here."""
        return ModifierFields(
            name=self.name,
            price_delta_cents=parse_price(
                self.price_delta, label="Price change", currency=currency, allow_negative=True
            ),
            station_id=chosen(self.station_id, label="Station override", required=False),
            sort_order=self.sort_order,
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


@form_post("/manage/modifiers")
async def group_create(
    request: Req, db: web.Db, data: Annotated[GroupForm, manage.FORM], archived: FromQuery[bool] = False
) -> Template:
    """Add a modifier group."""
    async with db.write() as session:
        group = await modifiers.create_modifier_group(session, data.fields(), actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Added {group.name}.", opened=group.id)


@form_post("/manage/modifiers/{group_id:int}")
async def group_update(
    request: Req,
    db: web.Db,
    group_id: FromPath[int],
    data: Annotated[GroupForm, manage.FORM],
    archived: FromQuery[bool] = False,
) -> Template:
    """Save a modifier group's form."""
    async with db.write() as session:
        group = await modifiers.update_modifier_group(session, group_id, data.fields(), actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Saved {group.name}.", opened=group_id)


@post("/manage/modifiers/{group_id:int}/archive", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_archive(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Stop asking a modifier group."""
    async with db.write() as session:
        group = await modifiers.archive_modifier_group(session, group_id, actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Archived {group.name}.")


@post("/manage/modifiers/{group_id:int}/restore", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def group_restore(
    request: Req, db: web.Db, group_id: FromPath[int], archived: FromQuery[bool] = False
) -> Template:
    """Ask an archived modifier group again."""
    async with db.write() as session:
        group = await modifiers.restore_modifier_group(session, group_id, actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Restored {group.name}.", opened=group_id)


@form_post("/manage/modifiers/{group_id:int}/modifiers")
async def modifier_create(
    request: Req,
    db: web.Db,
    group_id: FromPath[int],
    data: Annotated[ModifierForm, manage.FORM],
    archived: FromQuery[bool] = False,
) -> Template:
    """Add an answer to a modifier group."""
    fields = data.fields(currency=currency(request))
    async with db.write() as session:
        modifier = await modifiers.create_modifier(session, group_id, fields, actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Added {modifier.name}.", opened=group_id)


async def _modifier_in_group(session: AsyncSession, group_id: int, modifier_id: int) -> None:
    group = await queries.modifier_group(session, group_id)
    if group is None or all(m.id != modifier_id for m in group.modifiers):
        raise NotFound("No such answer in this modifier group.")


@form_post("/manage/modifiers/{group_id:int}/modifiers/{modifier_id:int}")
async def modifier_update(
    request: Req,
    db: web.Db,
    group_id: FromPath[int],
    modifier_id: FromPath[int],
    data: Annotated[ModifierForm, manage.FORM],
    archived: FromQuery[bool] = False,
) -> Template:
    """Save an answer's form."""
    fields = data.fields(currency=currency(request))
    async with db.write() as session:
        await _modifier_in_group(session, group_id, modifier_id)
        modifier = await modifiers.update_modifier(session, modifier_id, fields, actor_id=actor(request))
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
        modifier = await modifiers.archive_modifier(session, modifier_id, actor_id=actor(request))
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
        modifier = await modifiers.restore_modifier(session, modifier_id, actor_id=actor(request))
    return await _modifiers_page(request, db, archived=archived, flash=f"Restored {modifier.name}.", opened=group_id)


ROUTES: list[Any] = [
    modifiers_page,
    group_create,
    group_update,
    group_archive,
    group_restore,
    modifier_create,
    modifier_update,
    modifier_archive,
    modifier_restore,
]
