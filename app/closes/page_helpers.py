"""What the end-of-day pages share: the viewer, the business day, date ranges, fields and run-once commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.guards import parse_cents
from app.checks.services import business_day
from app.lib import web
from app.lib.clock import utcnow
from app.lib.errors import InvalidInput
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.staff.auth import Viewer

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


async def _once(
    request: Req, db: web.Db, fields: Mapping[str, Any], work: Callable[[AsyncSession], Awaitable[str]]
) -> str:
    """Run one command once per idempotency key; a repeat answers the same and changes nothing."""
    key = check_key(str(fields.get("idempotency_key") or ""))
    public = {k: v for k, v in fields.items() if k not in ("idempotency_key", "_csrf_token")}

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    response = await run_once(
        db,
        key=key,
        scope=f"closes:{_viewer(request).staff.id}",
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return response.body


def _int(fields: Mapping[str, Any], name: str, label: str) -> int:
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _cents(fields: Mapping[str, Any], name: str, label: str, *, allow_zero: bool = False) -> int:
    return parse_cents(str(fields.get(name) or ""), label=label, allow_zero=allow_zero)
