"""The manager's promotions page: create, edit, archive and restore price rules."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.lib import forms, web
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.menu.models import Course
from app.promotions import calculations as calc
from app.promotions import queries, services
from app.promotions.services import SET_MENU_COURSES, PromotionInput
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _ids(values: list[str], *, label: str) -> tuple[int, ...]:
    ids = []
    for text in (value.strip() for value in values):
        if not text.isdigit() or len(text) > 12:
            raise ValueError(f"{label}: unknown {label.lower()}; reload the page.")
        ids.append(int(text))
    return tuple(ids)


class PromotionForm(forms.Form, kw_only=True):
    """A promotion as a manager submits it; the choices of the menu are ids, the rest is checked by the service
    (percent, price and times are read in the venue's currency and zone there)."""

    name: str = ""
    kind: str = ""
    percent: str = ""
    price: str = ""
    deal_size: str = ""
    category_id: list[str] = []
    item_ids: list[str] = []
    menu_starters: list[str] = []
    menu_mains: list[str] = []
    menu_dessert: list[str] = []
    weekdays: list[str] = []
    start: str = ""
    end: str = ""
    first_day: str = ""
    last_day: str = ""

    def check(self) -> None:
        self.promotion()

    def promotion(self) -> PromotionInput:
        category = _ids(self.category_id, label="Category")
        set_menu = {
            Course.STARTERS.value: self.menu_starters,
            Course.MAINS.value: self.menu_mains,
            Course.DESSERT.value: self.menu_dessert,
        }
        return PromotionInput(
            name=self.name,
            kind=self.kind,
            percent=self.percent,
            price=self.price,
            deal_size=self.deal_size,
            category_id=category[0] if category else None,
            item_ids=_ids(self.item_ids, label="Item"),
            set_menu={course.value: _ids(set_menu[course.value], label="Dish") for course in SET_MENU_COURSES},
            weekdays=_ids(self.weekdays, label="Weekday"),
            start=self.start,
            end=self.end,
            first_day=self.first_day,
            last_day=self.last_day,
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


@post("/manage/promotions", permission=Perm.MENU_MANAGE, include_in_schema=False, before_request=forms.drop_blanks)
async def promotion_create(request: Req, db: web.Db, data: Annotated[PromotionForm, FORM]) -> Template:
    """Add a promotion."""
    form = data.promotion()
    async with db.write() as session:
        promotion = await services.create_promotion(
            session, form, actor=_actor(request), currency=_settings(request).currency
        )
    return await _page(request, db, flash=f"Added {promotion.name}.")


@post(
    "/manage/promotions/{promotion_id:int}",
    permission=Perm.MENU_MANAGE,
    include_in_schema=False,
    before_request=forms.drop_blanks,
)
async def promotion_update(
    request: Req, db: web.Db, promotion_id: FromPath[int], data: Annotated[PromotionForm, FORM]
) -> Template:
    """Save a promotion's form; lines already rung in keep their price."""
    form = data.promotion()
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
