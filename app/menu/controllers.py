"""Manager pages for the menu: categories, tax rates and the 86 board here; the menu page with its items in
item_controllers.py, modifier groups and their answers in modifier_controllers.py. ROUTES lists them all.

Every form is typed (app/lib/forms.py): a missing or malformed field is refused before a handler runs, with the
same 422 and wording as any other refusal, and nothing is changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from app.lib import forms, manage, web
from app.menu import availability, categories, item_controllers, modifier_controllers, queries, tax_rates
from app.menu.categories import CategoryFields
from app.menu.controller_helpers import Req, actor, chosen, form_post
from app.menu.inputs import NAME_MAX, REASON_MAX, SORT_MAX, parse_percent
from app.menu.models import Course
from app.menu.tax_rates import TaxRateFields
from app.staff.permissions import Perm

EIGHTY_SIX_REASONS = ("Sold out", "Out of stock", "Quality issue", "Equipment down", "Prep not ready")


# Categories -------------------------------------------------------------------------------------


class CategoryForm(forms.Form):
    """A menu category as submitted: its course, the kitchen station and tax rate as chosen, its colour."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=NAME_MAX)]
    course: str = ""
    station_id: Annotated[str, Meta(title="Kitchen station")] = ""
    tax_rate_id: Annotated[str, Meta(title="Tax rate")] = ""
    color: str = ""
    sort_order: Annotated[int, Meta(title="Order", ge=0, le=SORT_MAX)] = 0

    def check(self) -> None:
        if self.course not in {c.value for c in Course}:
            raise ValueError(f"Course must be one of {', '.join(c.label for c in Course)}.")
        chosen(self.station_id, label="Kitchen station")
        chosen(self.tax_rate_id, label="Tax rate")

    def fields(self) -> CategoryFields:
        return CategoryFields(
            name=self.name,
            course=Course(self.course),
            station_id=chosen(self.station_id, label="Kitchen station"),
            tax_rate_id=chosen(self.tax_rate_id, label="Tax rate") or 0,
            color=self.color,
            sort_order=self.sort_order,
        )


async def _show_categories(request: Req, db: web.Db, flash: str | None) -> Template:
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


CATEGORIES: manage.Managed[CategoryFields] = manage.Managed(
    path="/manage/menu/categories",
    name="category",
    permission=Perm.MENU_MANAGE,
    show=_show_categories,
    actor=actor,
    form=CategoryForm,
    create=lambda session, fields, actor: categories.create_category(session, fields, actor_id=actor),
    update=lambda session, category_id, fields, actor: categories.update_category(
        session, category_id, fields, actor_id=actor
    ),
    archive=lambda session, category_id, actor: categories.archive_category(session, category_id, actor_id=actor),
    restore=lambda session, category_id, actor: categories.restore_category(session, category_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Menu categories: their course, kitchen station, tax rate, colour and order.",
)


# Tax rates --------------------------------------------------------------------------------------


class TaxRateForm(forms.Form):
    """A tax rate as submitted: a name and a percentage ("9" or "20.5")."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=NAME_MAX)]
    rate: str = ""

    def fields(self) -> TaxRateFields:
        return TaxRateFields(name=self.name, rate_bp=parse_percent(self.rate))


async def _show_taxes(request: Req, db: web.Db, flash: str | None) -> Template:
    async with db.read() as session:
        rows = await queries.tax_rate_rows(session)
    return web.page(request, "menu/taxes.html", fragment="menu/_taxes.html", rows=rows, flash=flash)


TAXES: manage.Managed[TaxRateFields] = manage.Managed(
    path="/manage/taxes",
    name="tax",
    permission=Perm.MENU_MANAGE,
    show=_show_taxes,
    actor=actor,
    form=TaxRateForm,
    create=lambda session, fields, actor: tax_rates.create_tax_rate(session, fields, actor_id=actor),
    update=lambda session, tax_id, fields, actor: tax_rates.update_tax_rate(session, tax_id, fields, actor_id=actor),
    archive=lambda session, tax_id, actor: tax_rates.archive_tax_rate(session, tax_id, actor_id=actor),
    restore=lambda session, tax_id, actor: tax_rates.restore_tax_rate(session, tax_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Tax rates and the categories that charge them.",
)


# 86 ---------------------------------------------------------------------------------------------


class EightySixForm(forms.Form):
    """Why the kitchen is out of an item; servers see it."""

    reason: Annotated[str, Meta(title="Reason"), forms.Text(max_length=REASON_MAX)]


class BackOnSaleForm(forms.Form):
    """Why an item is on sale again, if anyone says."""

    reason: Annotated[str, Meta(title="Reason"), forms.Text(max_length=REASON_MAX, required=False)] = ""


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


@form_post("/manage/86/{item_id:int}", permission=Perm.EIGHTY_SIX)
async def eighty_six_item(
    request: Req, db: web.Db, item_id: FromPath[int], data: Annotated[EightySixForm, manage.FORM]
) -> Template:
    """86 an item: servers can no longer ring it in, and see why."""
    async with db.write() as session:
        item = await availability.eighty_six(session, item_id, data.reason, actor(request))
    return await _eighty_six_page(request, db, flash=f"86'd {item.name}.")


@form_post("/manage/86/{item_id:int}/back", permission=Perm.EIGHTY_SIX)
async def un_eighty_six_item(
    request: Req, db: web.Db, item_id: FromPath[int], data: Annotated[BackOnSaleForm, manage.FORM]
) -> Template:
    """Put an 86'd item back on sale."""
    async with db.write() as session:
        item = await availability.un_eighty_six(session, item_id, data.reason or None, actor(request))
    return await _eighty_six_page(request, db, flash=f"{item.name} is back on sale.")


ROUTES: list[Any] = [
    *item_controllers.ROUTES,
    *CATEGORIES.routes(),
    *modifier_controllers.ROUTES,
    *TAXES.routes(),
    eighty_six_page,
    eighty_six_item,
    un_eighty_six_item,
]
