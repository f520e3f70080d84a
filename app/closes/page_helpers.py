"""What the end-of-day pages share: the viewer, the business day, date ranges, typed forms and run-once commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.guards import parse_cents
from app.checks.services import business_day
from app.lib import commands, forms, web
from app.lib.clock import utcnow
from app.lib.commands import KeyedForm
from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]


PAGE: Final[dict[str, Any]] = {"include_in_schema": False}


MAX_RANGE_DAYS: Final = 92


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _today(request: Req) -> dt.date:
    return business_day(_settings(request), utcnow())


def _day(raw: str | None, default: dt.date, label: str = "Day") -> dt.date:
    if raw is None or not str(raw).strip():
        return default
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


def _range(request: Req, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    today = _today(request)
    last = _day(end, today, "To")
    first = _day(start, last, "From")
    if first > last:
        raise InvalidInput("The first day comes after the last; swap them.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"Show at most {MAX_RANGE_DAYS} days at a time.")
    return first, last


class CommandForm(KeyedForm, kw_only=True):
    """A command on an end-of-day page: run once per idempotency key."""


class DayForm(CommandForm, kw_only=True):
    """A command about one business day (blank: today's)."""

    day: Annotated[str, forms.Text(max_length=10, required=False)] = ""


Money = Annotated[str, forms.Text(max_length=20, required=False)]
"""An amount as typed ("12.50"), read with `_cents` in the page's currency rules."""


def command_post(path: str, *, permission: Perm) -> Callable[[Any], HTTPRouteHandler]:
    """An end-of-day POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
    return post(path, permission=permission, before_request=forms.drop_blanks, **PAGE)


async def _once(request: Req, db: web.Db, data: KeyedForm, work: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run one command once per idempotency key; a repeat answers the same and changes nothing."""
    return await commands.once(request, db, data, work, scope=f"closes:{_viewer(request).staff.id}")


def _cents(raw: str, label: str, *, allow_zero: bool = False) -> int:
    return parse_cents(raw, label=label, allow_zero=allow_zero)
