"""Head office's catalog page (publish, list releases) and the endpoint venues pull releases from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template
from msgspec import Meta

from app.checks.guards import parse_cents
from app.group import catalog, queries, services
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

CATALOG_PATH = "/api/group/v1/catalog"

VENUE_ENDPOINT: dict[str, Any] = {
    "public": True,
    "venue_credential": True,
    "exclude_from_auth": True,
    "exclude_from_csrf": True,
    "include_in_schema": False,
}


def _number(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{name} must be a whole number or null.")
    return value


def parse_day(raw: str | None) -> dt.date | None:
    """An effective business day from a form or the command line (empty: none)."""
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("The effective day is a date, YYYY-MM-DD.") from None


@post(CATALOG_PATH, **VENUE_ENDPOINT, status_code=200)
async def venue_catalog(request: Request[Any, Any, Any], db: web.Db) -> dict[str, Any]:
    """A venue says which release it trades on (and which failed, and why); it gets the releases it lacks."""
    try:
        body = await request.json()
    except Exception:  # a body that is not JSON is the venue's mistake, said plainly
        raise InvalidInput("The body must be JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput('Send {"applied": N, "received": N, "failed": N, "error": "..."}.')
    applied = _number(body.get("applied"), "applied")
    received = _number(body.get("received"), "received")
    failed = _number(body.get("failed"), "failed")
    error = body.get("error")
    async with db.write() as session:
        venue = await services.venue_for_credential(session, request.headers.get("authorization"))
        await catalog.report(
            session, venue, applied=applied, failed=failed, error=str(error) if error is not None else None
        )
        after = max(applied or 0, received or 0)
        releases = await catalog.releases_after(session, after)
        latest = await catalog.latest_number(session)
        code = venue.code
    return {"latest": latest, "releases": [catalog.venue_view(r, code) for r in releases]}


async def _context(db: web.Db, **extra: Any) -> dict[str, Any]:
    async with db.read() as session:
        return {
            "releases": await catalog.releases(session),
            "venues": await queries.venues(session),
            "states": await catalog.venue_states(session),
            "assortments": await catalog.assortments(session),
            **extra,
        }


@get("/manage/catalog", permission=Perm.MENU_MANAGE, include_in_schema=False)
async def catalog_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """The group's catalog releases, and where each venue stands with them; publish the next."""
    return web.page(request, "group/catalog.html", fragment="group/_catalog.html", **await _context(db))


class PublishForm(forms.Form, kw_only=True):
    note: Annotated[str, forms.Text(max_length=500, required=False)] = ""
    effective_day: Annotated[str, forms.Text(max_length=10, required=False)] = ""
    local_items: str = ""


class AssortmentForm(forms.Form, kw_only=True):
    venue: Annotated[str, forms.Text(max_length=20)]
    sku: Annotated[str, forms.Text(max_length=40), Meta(title="SKU")]
    sold: str = "yes"
    price: Annotated[str, forms.Text(max_length=20, required=False)] = ""


def _typed_post(path: str, permission: Perm) -> Callable[[Any], HTTPRouteHandler]:
    """A head-office POST whose form is typed (blank fields take their defaults)."""
    return post(path, permission=permission, include_in_schema=False, before_request=forms.drop_blanks)


@_typed_post("/manage/catalog/publish", Perm.MENU_MANAGE)
async def catalog_publish(request: Request[Any, Any, Any], db: web.Db, data: Annotated[PublishForm, FORM]) -> Template:
    """Publish the catalog as it stands as the next release."""
    viewer: Viewer = request.user
    async with db.write() as session:
        release = await catalog.publish(
            session,
            note=data.note,
            effective_day=parse_day(data.effective_day),
            allow_local_items=data.local_items == "allowed",
            actor_id=viewer.staff.id,
        )
        number = release.number
    context = await _context(db, flash=f"Release {number} published; venues take it on their next pass.")
    return Template(template_name="group/_catalog.html", context=context)


@_typed_post("/manage/catalog/assortment", Perm.MENU_MANAGE)
async def catalog_assortment(
    request: Request[Any, Any, Any], db: web.Db, data: Annotated[AssortmentForm, FORM]
) -> Template:
    """Say whether a venue sells a dish, and at its own price (empty: the group's); the next release carries it."""
    settings: Settings = request.app.state.settings
    venue_code, sku, sold = data.venue, data.sku, data.sold != "no"
    price = parse_cents(data.price, label="Price", currency=settings.currency) if sold and data.price else None
    async with db.write() as session:
        await catalog.set_assortment(session, venue_code=venue_code, sku=sku, sold=sold, price_cents=price)
    where = "not sold" if not sold else ("at its own price" if price is not None else "at the group's price")
    context = await _context(db, flash=f"{venue_code.upper()}: {sku} {where} from the next release.")
    return Template(template_name="group/_catalog.html", context=context)


@get("/manage/catalog/venues", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def catalog_venues(db: web.Db) -> Template:
    """Each venue's catalog: the release it trades on, and a release it could not apply (for the venues page)."""
    return Template(template_name="group/_catalog_venues.html", context=await _context(db))


ROUTES = [venue_catalog, catalog_page, catalog_publish, catalog_assortment, catalog_venues]


def routes_for(settings: Settings) -> list[Any]:
    """Head office's catalog routes; a venue has none of them."""
    return ROUTES if settings.role == "head_office" else []
