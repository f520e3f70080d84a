"""The manager's promotions page: create, edit, archive and restore price rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.lib import web
from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.promotions import calculations as calc
from app.promotions import queries, services
from app.promotions.services import SET_MENU_COURSES, PromotionInput
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _values(fields: Mapping[str, Any], name: str) -> list[str]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else [raw]
    return [str(value).strip() for value in values if value is not None and str(value).strip()]


def _ids(fields: Mapping[str, Any], name: str, *, label: str) -> tuple[int, ...]:
    ids = []
    for text in _values(fields, name):
        if not text.isdigit() or len(text) > 12:
            raise InvalidInput(f"{label}: unknown {label.lower()}; reload the page.")
        ids.append(int(text))
    return tuple(ids)


def _form(fields: Mapping[str, Any]) -> PromotionInput:
    category = _ids(fields, "category_id", label="Category")
    return PromotionInput(
        name=str(fields.get("name") or ""),
        kind=str(fields.get("kind") or ""),
        percent=str(fields.get("percent") or ""),
        price=str(fields.get("price") or ""),
        deal_size=str(fields.get("deal_size") or ""),
        category_id=category[0] if category else None,
        item_ids=_ids(fields, "item_ids", label="Item"),
        set_menu={course.value: _ids(fields, f"menu_{course.value}", label="Dish") for course in SET_MENU_COURSES},
        weekdays=_ids(fields, "weekdays", label="Weekday"),
        start=str(fields.get("start") or ""),
        end=str(fields.get("end") or ""),
        first_day=str(fields.get("first_day") or ""),
        last_day=str(fields.get("last_day") or ""),
    )


async def _page(request: Req, db: web.Db, *, archived: bool = False, flash: str | None = None) -> Template:
    settings = _settings(request)
    async with db.read() as session:
        rows = await queries.promotion_rows(session, archived=archived, timezone=settings.timezone)
        categories, items = await queries.menu_choices(session)
    return web.page(
        request,
        "promotions/promotions.html",
        fragment="promotions/_promotions.html",
        rows=rows,
        categories=categories,
        items=items,
        kinds=list(calc.RuleKind),
        courses=SET_MENU_COURSES,
        weekday_names=calc.WEEKDAY_NAMES,
        clock=calc.clock_text,
        archived=archived,
        timezone=settings.timezone,
        flash=flash,
    )


def _actor(request: Req) -> Any:
    viewer: Viewer = request.user
    return viewer.staff


@get("/manage/promotions", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def promotions_page(request: Req, db: web.Db, archived: FromQuery[bool] = False) -> Template:
    """Happy hours, quantity deals and set menus, with when they run."""
    return await _page(request, db, archived=archived)


@post("/manage/promotions", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def promotion_create(request: Req, db: web.Db) -> Template:
    """Add a promotion."""
    form = _form(await web.form_data(request))
    async with db.write() as session:
        promotion = await services.create_promotion(
            session, form, actor=_actor(request), currency=_settings(request).currency
        )
    return await _page(request, db, flash=f"Added {promotion.name}.")


@post("/manage/promotions/{promotion_id:int}", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def promotion_update(request: Req, db: web.Db, promotion_id: FromPath[int]) -> Template:
    """Save a promotion's form; lines already rung in keep their price."""
    form = _form(await web.form_data(request))
    async with db.write() as session:
        promotion = await services.update_promotion(
            session, promotion_id, form, actor=_actor(request), currency=_settings(request).currency
        )
    return await _page(request, db, flash=f"Saved {promotion.name}.")


@post("/manage/promotions/{promotion_id:int}/archive", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def promotion_archive(request: Req, db: web.Db, promotion_id: FromPath[int]) -> Template:
    """Stop a promotion."""
    async with db.write() as session:
        promotion = await services.archive_promotion(session, promotion_id, actor=_actor(request))
    return await _page(request, db, flash=f"Archived {promotion.name}; checks already rung in keep it.")


@post("/manage/promotions/{promotion_id:int}/restore", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def promotion_restore(request: Req, db: web.Db, promotion_id: FromPath[int]) -> Template:
    """Run an archived promotion again."""
    async with db.write() as session:
        promotion = await services.restore_promotion(session, promotion_id, actor=_actor(request))
    return await _page(request, db, archived=True, flash=f"Restored {promotion.name}.")


ROUTES = [promotions_page, promotion_create, promotion_update, promotion_archive, promotion_restore]
