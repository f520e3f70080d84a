"""Guest pages: find and add guests, one guest's page with their visits, and the check page's guest sheet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.guests import queries, services
from app.guests.models import Guest
from app.lib import forms, web
from app.lib.errors import NotFound
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.manage import FORM
from app.orders.models import Check
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
PAGE: Final[dict[str, Any]] = {"include_in_schema": False}
PAGE_SIZE: Final = 25
SHEET_RESULTS: Final = 8
Work = Callable[[AsyncSession, Staff], Awaitable[str]]


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


class GuestCommand(forms.Form, kw_only=True):
    """What every guest command sends: the request's idempotency key."""

    idempotency_key: str = ""


class DetailsForm(GuestCommand, kw_only=True):
    """A guest's details as typed; the guest services trim and check each one."""

    name: str = ""
    phone: str = ""
    email: str = ""
    allergies: str = ""
    preferences: str = ""
    marketing_consent: str = ""

    def details(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "allergies": self.allergies,
            "preferences": self.preferences,
            "marketing_consent": self.marketing_consent.strip().lower() in {"1", "on", "true", "yes"},
        }


class EraseForm(GuestCommand, kw_only=True):
    """Erasing a guest: ERASE typed to confirm, and the reason."""

    confirm: str = ""
    reason: str = ""

    def check(self) -> None:
        if self.confirm.strip().upper() != "ERASE":
            raise ValueError("Type ERASE to confirm: a guest's details cannot be brought back.")


class CheckGuestForm(GuestCommand, kw_only=True):
    """A command on a check's guest, against the check's version when the page sent it."""

    version: Annotated[int, Meta(title="The check's version", ge=1)] | None = None


class AttachForm(DetailsForm, kw_only=True):
    """A guest on file to attach (with their allergies as confirmed now, when the sheet asked), or a new guest."""

    version: Annotated[int, Meta(title="The check's version", ge=1)] | None = None
    guest_id: Annotated[int, Meta(title="The guest", ge=1)] | None = None
    allergies: str | None = None  # type: ignore[assignment]  # absent: the guest's allergies were not asked about


async def _once(request: Req, db: web.Db, data: GuestCommand, work: Work) -> Response[Any]:
    """Run one command once per idempotency key, then go where it says; a repeat goes there again, changing nothing.

    What is stored with the key is only where to go (a guest's or a check's page), never what was typed about the guest.
    """
    key = check_key(data.idempotency_key)
    public = msgspec.structs.asdict(data)
    viewer = _viewer(request)

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session, viewer.staff), {})

    result = await run_once(
        db,
        key=key,
        scope=f"guests:{viewer.staff.id}",
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return web.hx_redirect(request, result.body)


def _command(path: str, *, permission: Perm = Perm.GUESTS_MANAGE) -> Callable[[Any], HTTPRouteHandler]:
    """A guest command's POST: its form typed, blank fields taking their defaults before Litestar decodes it."""
    return post(path, permission=permission, before_request=forms.drop_blanks, **PAGE)


# ---------------------------------------------------------------------------------------------- guest pages


@get("/guests", permission=Perm.GUESTS_MANAGE, **PAGE)
async def guest_list(request: Req, db: web.Db, q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    """Guests on file, searched by phone, name or email, a page at a time."""
    page = max(1, page)
    async with db.read() as session:
        guests = await queries.search_guests(session, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        total = await queries.count_guests(session, q)
    return web.page(
        request,
        "guests/list.html",
        fragment="guests/_results.html",
        guests=guests,
        q=q,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


@_command("/guests")
async def create_guest(request: Req, db: web.Db, data: Annotated[DetailsForm, FORM]) -> Response[Any]:
    """Put a new guest on file and show their page."""

    async def work(session: AsyncSession, actor: Staff) -> str:
        guest = await services.create_guest(session, actor=actor, **data.details())
        return f"/guests/{guest.id}"

    return await _once(request, db, data, work)


async def _guest_or_404(session: AsyncSession, guest_id: int) -> Guest:
    guest = await session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"Guest {guest_id} does not exist.")
    return guest


@get("/guests/{guest_id:int}", permission=Perm.GUESTS_MANAGE, **PAGE)
async def guest_page(request: Req, db: web.Db, guest_id: FromPath[int]) -> Template:
    """One guest: contact, allergies, preferences, consent; their visits, spend and favourite items."""
    async with db.read() as session:
        guest = await _guest_or_404(session, guest_id)
        history = await queries.guest_history(session, guest_id)
    return web.page(request, "guests/guest.html", guest=guest, history=history)


@_command("/guests/{guest_id:int}")
async def update_guest(
    request: Req, db: web.Db, guest_id: FromPath[int], data: Annotated[DetailsForm, FORM]
) -> Response[Any]:
    """Save changes to a guest's details."""
    details = data.details()

    async def work(session: AsyncSession, actor: Staff) -> str:
        await services.update_guest(
            session,
            guest_id,
            actor=actor,
            **details,
            clear_phone=not details["phone"].strip(),
            clear_email=not details["email"].strip(),
        )
        return f"/guests/{guest_id}"

    return await _once(request, db, data, work)


@_command("/guests/{guest_id:int}/erase", permission=Perm.GUESTS_ERASE)
async def erase_guest(
    request: Req, db: web.Db, guest_id: FromPath[int], data: Annotated[EraseForm, FORM]
) -> Response[Any]:
    """Erase a guest's personal data on their request (a manager, with the reason)."""

    async def work(session: AsyncSession, actor: Staff) -> str:
        await services.erase_guest(session, guest_id, actor=actor, reason=data.reason)
        return f"/guests/{guest_id}"

    return await _once(request, db, data, work)


# ---------------------------------------------------------------------------------------------- on a check


def _back_to(actor: Staff, check_id: int) -> str:
    """The check page for those who take orders on it; the floor for a host."""
    return f"/checks/{check_id}" if actor.can(Perm.ORDERS_ENTER) else "/floor"


async def _check_or_404(session: AsyncSession, check_id: int) -> Check:
    check = await session.get(Check, check_id)
    if check is None:
        raise NotFound(f"Check {check_id} does not exist.")
    return check


@get("/checks/{check_id:int}/guest", permission=Perm.GUESTS_MANAGE, **PAGE)
async def guest_sheet(request: Req, db: web.Db, check_id: FromPath[int], q: FromQuery[str] = "") -> Template:
    """The check's guest: find one by phone or name and attach them, or take a new guest's details."""
    async with db.read() as session:
        check = await _check_or_404(session, check_id)
        guests = await queries.search_guests(session, q, limit=SHEET_RESULTS) if q.strip() else []
        attached = await session.get(Guest, check.guest_id) if check.guest_id else None
    return web.page(
        request,
        "guests/sheet_page.html",
        fragment="guests/_sheet.html",
        check=check,
        attached=attached,
        guests=guests,
        q=q,
    )


@get("/checks/{check_id:int}/guest/search", permission=Perm.GUESTS_MANAGE, **PAGE)
async def guest_sheet_search(request: Req, db: web.Db, check_id: FromPath[int], q: FromQuery[str] = "") -> Template:
    """The sheet's matches for what has been typed so far."""
    async with db.read() as session:
        check = await _check_or_404(session, check_id)
        guests = await queries.search_guests(session, q, limit=SHEET_RESULTS) if q.strip() else []
    return Template(template_name="guests/_sheet_results.html", context={"check": check, "guests": guests, "q": q})


@_command("/checks/{check_id:int}/guest")
async def attach_guest(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[AttachForm, FORM]
) -> Response[Any]:
    """Attach a guest on file (with their allergies as confirmed now), or a new guest, to the check."""

    async def work(session: AsyncSession, actor: Staff) -> str:
        if data.guest_id is not None:
            guest_id, allergies = data.guest_id, data.allergies
        else:
            details = {**data.details(), "allergies": data.allergies or ""}
            guest = await services.find_or_create_guest(session, actor=actor, **details)
            guest_id, allergies = guest.id or 0, None
        await services.attach_guest_to_check(
            session, check_id, guest_id, actor, allergies=allergies, expected_version=data.version
        )
        return _back_to(actor, check_id)

    return await _once(request, db, data, work)


@_command("/checks/{check_id:int}/guest/detach")
async def detach_guest(
    request: Req, db: web.Db, check_id: FromPath[int], data: Annotated[CheckGuestForm, FORM]
) -> Response[Any]:
    """Take the guest off the check."""

    async def work(session: AsyncSession, actor: Staff) -> str:
        await services.detach_guest_from_check(session, check_id, actor, expected_version=data.version)
        return _back_to(actor, check_id)

    return await _once(request, db, data, work)


ROUTES: list[Any] = [
    guest_list,
    create_guest,
    guest_page,
    update_guest,
    erase_guest,
    guest_sheet,
    guest_sheet_search,
    attach_guest,
    detach_guest,
]
