"""What the host's pages share: the venue's clock, typed forms with their idempotency key, running a command once,
and answering with a redirect.

Every state-changing request carries an idempotency key (a double tap books once). Its form is decoded by Litestar
into a `HostForm`, so a missing or malformed field is refused in one place, with one message format, before
anything changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.reservations.models import (
    ALLERGIES_MAX_LENGTH,
    MAX_PARTY,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    PHONE_MAX_LENGTH,
)
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
Work = Callable[[AsyncSession, Staff], Awaitable[Response[Any]]]
"""(session, the person logged in) → the answer, kept for a repeat of the same request."""

ID_MAX = 2**31 - 1
ChosenId = Annotated[int, Meta(ge=1, le=ID_MAX)]
"""A chosen row's id (a table, a server)."""


class HostForm(forms.Form, kw_only=True):
    """What every command on the host's pages sends: the request's idempotency key."""

    idempotency_key: str = ""


class PartyForm(HostForm, kw_only=True):
    """A party as the host types it: how many, and who."""

    party_size: Annotated[int, Meta(title="The party size", ge=1, le=MAX_PARTY)]
    name: Annotated[str, Meta(title="The name"), forms.Text(max_length=NAME_MAX_LENGTH)]
    phone: Annotated[str, Meta(title="The phone"), forms.Text(max_length=PHONE_MAX_LENGTH, required=False)] = ""
    notes: Annotated[str, Meta(title="Notes"), forms.Text(max_length=NOTES_MAX_LENGTH, required=False)] = ""
    allergies: Annotated[str, Meta(title="Allergies"), forms.Text(max_length=ALLERGIES_MAX_LENGTH, required=False)] = ""


def host_post(path: str, *, permission: Perm = Perm.CHECKS_OPEN) -> Callable[[Any], HTTPRouteHandler]:
    """A host page's POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
    return post(path, permission=permission, include_in_schema=False, before_request=forms.drop_blanks)


def settings_of(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def zone(request: Req) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


def today(request: Req) -> date:
    return datetime.now(zone(request)).date()


def parse_day(raw: str) -> date | None:
    """A date from the date picker; None when blank; ValueError with the host's words when it is not a date."""
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"“{raw[:20]}” is not a date; use the date picker.") from None


def parse_clock(raw: str, refusal: str) -> time:
    """A time of day such as 19:30, or ValueError(refusal)."""
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(refusal) from None


def day_of(request: Req, raw: str | None) -> date:
    """The day a page asks for (today when none); a query that is not a date is refused."""
    try:
        chosen = parse_day(raw or "")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return chosen if chosen is not None else today(request)


async def once(request: Req, db: web.Db, data: HostForm, work: Work) -> Response[Any]:
    """Run `work` once per idempotency key, as the person logged in; a repeat gets the first answer."""
    viewer: Viewer = request.user
    key = check_key(data.idempotency_key)
    print_ = fingerprint(request.method, request.url.path, msgspec.structs.asdict(data))

    async def stored(session: AsyncSession) -> StoredResponse:
        actor = await session.merge(viewer.staff, load=False)
        response = await work(session, actor)
        body = response.content if isinstance(response.content, str) else ""
        headers = {k: v for k, v in response.headers.items() if k.lower() in {"hx-redirect", "location"}}
        return StoredResponse(response.status_code or 200, body, headers)

    result = await run_once(db, key=key, scope=f"reservations:{viewer.staff.id}", print_=print_, work=stored)
    return Response(
        content=result.body, status_code=result.status_code, headers=result.headers, media_type=MediaType.HTML
    )


def go(request: Req, url: str) -> Response[Any]:
    """Send the browser on to `url` (htmx follows HX-Redirect; a plain form a 303)."""
    if web.is_htmx(request):
        return Response(content="", media_type=MediaType.HTML, headers={"HX-Redirect": url})
    return Response(content="", status_code=303, headers={"location": url})


def render(request: Req, template: str, **context: Any) -> str:
    engine = request.app.template_engine
    assert engine is not None, "the app renders templates"
    full = Template(template_name=template, context=context).create_template_context(request)
    return str(engine.get_template(template).render(**full))
