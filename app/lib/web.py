"""Web helpers shared by every domain: page-or-fragment rendering, filters, errors, form parsing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions.responses import create_debug_response, create_exception_response
from litestar.response import Redirect, Template

from app.lib.db import Database, unreachable
from app.lib.errors import DatabaseUnavailable, DomainError, InvalidInput

log = logging.getLogger(__name__)

DATABASE_DOWN = "The database is not reachable; nothing was saved. Try again in a moment."
DATABASE_DOWN_PAGE = "The database is not reachable, so this page cannot be shown. Try again in a moment."
DATABASE_DOWN_READ = "The database is not reachable. Try again in a moment."


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """Whether htmx sent the request (and wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Template:
    """Render the whole page, or only `fragment` when htmx asks; both from the same context."""
    name = fragment if fragment is not None and is_htmx(request) else template
    return Template(template_name=name, context=context, status_code=status_code, headers=dict(headers or {}))


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The address of the machine on the other end (forwarded-address headers are not trusted)."""
    client = connection.client
    return client.host[:64] if client is not None and client.host else None


def hx_redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """Send the browser to `url`: a header for htmx, a 303 otherwise."""
    if is_htmx(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": url})
    return Redirect(path=url, status_code=303)


def new_key() -> str:
    """A fresh idempotency key for a form about to be shown."""
    return uuid.uuid4().hex


def money(cents: int | None, symbol: str = "€") -> str:
    """Integer cents as a price a guest reads: 1250 → '€12.50'."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def local_time(value: datetime | None, tz: str = "Europe/Amsterdam", fmt: str = "%H:%M") -> str:
    """An aware instant shown in the restaurant's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def minutes_since(value: datetime | None, now: datetime) -> int:
    """Whole minutes from `value` to `now`."""
    if value is None:
        return 0
    return max(0, int((now - value).total_seconds() // 60))


def error_response(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A refused request, shown where the person is: a flash in the page, an error page, or JSON."""
    if request.url.path.startswith("/api/"):
        return Response(content={"error": exc.code, "message": exc.message, **exc.detail}, status_code=exc.status_code)
    if is_htmx(request):
        return Template(
            template_name="_flash.html",
            context={"message": exc.message, "level": "error"},
            status_code=exc.status_code,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return Template(
        template_name="error.html",
        context={"message": exc.message, "status_code": exc.status_code},
        status_code=exc.status_code,
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any error nothing else handled: a database outage says so (503, nothing saved); the rest stay a 500."""
    if unreachable(exc):
        log.warning("%s %s: the database is not reachable: %r", request.method, request.url.path, exc)
        if request.method not in ("GET", "HEAD"):
            message = DATABASE_DOWN
        else:
            message = DATABASE_DOWN_READ if request.url.path.startswith("/api/") else DATABASE_DOWN_PAGE
        response = error_response(request, DatabaseUnavailable(message))
        response.headers["Retry-After"] = "2"
        return response
    # The one place an unforeseen failure is seen: keep its traceback in the log, whatever the debug setting.
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    if request.app.debug:
        return create_debug_response(request, exc)
    return create_exception_response(request, exc)


async def form_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The submitted form as a dict of strings (repeated fields as lists)."""
    form = await request.form()
    result: dict[str, Any] = {}
    for key in form:
        values = form.getall(key)
        result[key] = values if len(values) > 1 else values[0]
    return result


def field_int(
    fields: Mapping[str, Any],
    name: str,
    *,
    label: str,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
) -> int:
    """An integer form field, or a clear refusal."""
    raw = fields.get(name)
    if raw in (None, "") and default is not None:
        return default
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a whole number.") from None
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{label} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{label} must be at most {maximum}.")
    return value


def field_text(fields: Mapping[str, Any], name: str, *, label: str, max_length: int, required: bool = True) -> str:
    """A text form field, trimmed, or a clear refusal."""
    value = str(fields.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"{label} is required.")
    if len(value) > max_length:
        raise InvalidInput(f"{label} is {len(value)} characters; the limit is {max_length}.")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidInput(f"{label} contains control characters.")
    return value


Db: TypeAlias = NamedDependency[Database]
"""The database, as a handler parameter: `db: Db`."""
