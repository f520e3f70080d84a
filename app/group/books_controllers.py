"""Head office's pages for the group's books: the morning check, a venue's mappings, the reconciliation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlmodel import col, select

from app.accounting.models import Account
from app.group import books, statements
from app.group.books_models import MapKind
from app.group.models import Venue
from app.inventory.models import StockLocation
from app.lib import forms, web
from app.lib.errors import InvalidInput, NotFound
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm


def _day(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{raw} is not a day (YYYY-MM-DD).") from None


async def _morning(db: web.Db, **extra: Any) -> dict[str, Any]:
    async with db.read() as session:
        rows = await statements.statements(session)
    return {"statements": rows, **extra}


@get("/manage/books", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def morning_check(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Each venue's business days: waiting, received, posted, or an exception with its reason and a retry."""
    context = await _morning(db)
    return web.page(request, "group/books/morning.html", fragment="group/books/_morning.html", **context)


class RetryForm(forms.Form, kw_only=True):
    venue: Annotated[str, forms.Text(max_length=20, required=False)] = ""


class VenueMappingForm(forms.Form, kw_only=True):
    kind: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    subject: Annotated[str, forms.Text(max_length=120, required=False)] = ""
    target: Annotated[str, forms.Text(max_length=120, required=False)] = ""
    label: Annotated[str, forms.Text(max_length=120, required=False)] = ""


def _typed_post(path: str, permission: Perm) -> Callable[[Any], HTTPRouteHandler]:
    """A head-office POST whose form is typed (blank fields take their defaults)."""
    return post(path, permission=permission, include_in_schema=False, before_request=forms.drop_blanks)


@_typed_post("/manage/books/retry", Perm.ACCOUNTING_MANAGE)
async def retry(request: Request[Any, Any, Any], db: web.Db, data: Annotated[RetryForm, FORM]) -> Template:
    """Book the exceptions again (one venue's, or all)."""
    viewer: Viewer = request.user
    async with db.write() as session:
        run = await books.retry(session, venue_code=data.venue or None, actor_id=viewer.staff.id)
    flash = f"{run.posted} record(s) booked" + (
        f"; {run.exceptions} still could not be booked." if run.exceptions else "; no exceptions left."
    )
    context = await _morning(db, flash=flash)
    return Template(template_name="group/books/_morning.html", context=context)


async def _mapping_context(db: web.Db, code: str, **extra: Any) -> dict[str, Any]:
    async with db.read() as session:
        venue = (await session.exec(select(Venue).where(Venue.code == code.strip().upper()))).first()
        if venue is None:
            raise NotFound(f"The group has no venue {code.strip().upper()}.")
        rows = await books.subjects(session, venue)
        accounts = (
            await session.exec(select(Account).where(col(Account.archived_at).is_(None)).order_by(col(Account.code)))
        ).all()
        warehouses = (
            await session.exec(
                select(StockLocation.name)
                .where(col(StockLocation.archived_at).is_(None))
                .order_by(col(StockLocation.name))
            )
        ).all()
    return {"venue": venue, "rows": rows, "accounts": accounts, "warehouses": warehouses, "kinds": MapKind, **extra}


@get("/manage/venues/{code:str}/mappings", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def mappings_page(request: Request[Any, Any, Any], db: web.Db, code: FromPath[str]) -> Template:
    """Where a venue's accounts, tenders and stock locations land in the group's books."""
    context = await _mapping_context(db, code)
    return web.page(request, "group/books/mappings.html", fragment="group/books/_mappings.html", **context)


@_typed_post("/manage/venues/{code:str}/mappings", Perm.ACCOUNTING_MANAGE)
async def mapping_save(
    request: Request[Any, Any, Any], db: web.Db, code: FromPath[str], data: Annotated[VenueMappingForm, FORM]
) -> Template:
    """Map one venue account, tender or stock location (an empty choice goes back to the default)."""
    viewer: Viewer = request.user
    async with db.write() as session:
        await books.save_mapping(
            session,
            venue_code=code,
            kind=data.kind,
            subject=data.subject,
            target=data.target,
            label=data.label,
            actor_id=viewer.staff.id,
        )
    context = await _mapping_context(db, code, flash=f"{data.subject} saved. Retry the exceptions to book what waited.")
    return Template(template_name="group/books/_mappings.html", context=context)


@get("/manage/books/reconcile", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def reconcile_page(request: Request[Any, Any, Any], db: web.Db, day: FromQuery[str | None] = None) -> Template:
    """Each venue's Z report beside what head office posted for it, with every difference."""
    chosen = _day(day)
    async with db.read() as session:
        if chosen is None:
            recent = await statements.statements(session)
            chosen = recent[0].day if recent else dt.date.today()
        result = await statements.reconcile(session, chosen)
    return web.page(request, "group/books/reconcile.html", result=result)


ROUTES = [morning_check, retry, mappings_page, mapping_save, reconcile_page]


def routes_for(settings: Settings) -> list[Any]:
    """Head office's books pages; a venue has none of them."""
    return ROUTES if settings.role == "head_office" else []
