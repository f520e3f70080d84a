"""Head office's pages for managers (the venues) and the endpoints venues call (enrol, send records)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Response, Template

from app.group import posting_worker, queries, services
from app.group.protocol import ENROL_PATH, RECORDS_PATH, STATUS_PATH, parse_batch
from app.lib import forms, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

# Venues authenticate with their own credential, in the handler; staff sessions and API tokens play no part.
VENUE_ENDPOINT: dict[str, Any] = {
    "public": True,
    "venue_credential": True,
    "exclude_from_auth": True,
    "exclude_from_csrf": True,
    "include_in_schema": False,
}


async def _venues_fragment(db: web.Db, settings: Settings, **extra: Any) -> dict[str, Any]:
    async with db.read() as session:
        rows = await queries.venues(session)
    return {"venues": rows, "settings": settings, **extra}


@get("/manage/venues", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def venues_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """The group's venues: status, what each has sent, when it was last heard from; add or revoke."""
    settings: Settings = request.app.state.settings
    context = await _venues_fragment(db, settings)
    return web.page(request, "group/venues.html", fragment="group/_venues.html", **context)


class VenueForm(forms.Form, kw_only=True):
    code: Annotated[str, forms.Text(max_length=20, required=False)] = ""
    name: Annotated[str, forms.Text(max_length=120, required=False)] = ""
    timezone: Annotated[str, forms.Text(max_length=64, required=False)] = ""
    currency: Annotated[str, forms.Text(max_length=10, required=False)] = ""


@post("/manage/venues", permission=Perm.DEVICES_MANAGE, include_in_schema=False, before_request=forms.drop_blanks)
async def venue_add(request: Request[Any, Any, Any], db: web.Db, data: Annotated[VenueForm, FORM]) -> Template:
    """Add a venue; its enrolment token is shown this once."""
    viewer: Viewer = request.user
    settings: Settings = request.app.state.settings
    async with db.write() as session:
        added = await services.add_venue(
            session,
            code=data.code,
            name=data.name,
            timezone=data.timezone or settings.timezone,
            currency=data.currency or settings.currency,
            actor_id=viewer.staff.id,
        )
    context = await _venues_fragment(db, settings, added=added)
    return Template(template_name="group/_venues.html", context=context)


@post("/manage/venues/{code:str}/revoke", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def venue_revoke(request: Request[Any, Any, Any], db: web.Db, code: FromPath[str]) -> Template:
    """Refuse a venue from now on; what it sent stays."""
    viewer: Viewer = request.user
    settings: Settings = request.app.state.settings
    async with db.write() as session:
        venue = await services.revoke_venue(session, code=code, actor_id=viewer.staff.id)
    context = await _venues_fragment(db, settings, flash=f"Venue {venue.code} is revoked.")
    return Template(template_name="group/_venues.html", context=context)


async def _json(request: Request[Any, Any, Any]) -> Any:
    try:
        return await request.json()
    except Exception:  # a body that is not JSON is the venue's mistake, said plainly
        raise InvalidInput("The body must be JSON.") from None


@post(ENROL_PATH, **VENUE_ENDPOINT, status_code=200)
async def venue_enrol(request: Request[Any, Any, Any], db: web.Db) -> dict[str, Any]:
    """A venue exchanges its enrolment token for its credential (the token works once)."""
    body = await _json(request)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise InvalidInput('Send {"token": "..."}.')
    async with db.write() as session:
        enrolment = await services.enrol(session, token=token)
    venue = enrolment.venue
    return {
        "venue": {"code": venue.code, "name": venue.name, "timezone": venue.timezone, "currency": venue.currency},
        "credential": enrolment.credential,
    }


@post(RECORDS_PATH, **VENUE_ENDPOINT, status_code=200)
async def receive_records(request: Request[Any, Any, Any], db: web.Db) -> Response[dict[str, Any]]:
    """A batch of a venue's records: each sequence stored once; the answer is the highest contiguous one held.

    What was new is booked into the group's ledger once the answer is on its way, so a venue never waits on it.
    """
    records = parse_batch(await _json(request))
    async with db.write() as session:
        venue = await services.venue_for_credential(session, request.headers.get("authorization"), lock=True)
        receipt = await services.ingest(session, venue, records)
    # A process that runs the workers books the batch once the answer is on its way; web processes that do not
    # (`BRIGADE_RUN_WORKERS=false`) leave it to the posting worker of the process that does.
    settings: Settings = request.app.state.settings
    inline = receipt.stored and settings.run_workers
    booking = BackgroundTask(posting_worker.post_after_ingest, db, venue.id or 0) if inline else None
    return Response(
        {"acked": receipt.acked, "stored": receipt.stored, "duplicates": receipt.duplicates}, background=booking
    )


@get(STATUS_PATH, **VENUE_ENDPOINT)
async def venue_status(request: Request[Any, Any, Any], db: web.Db) -> dict[str, Any]:
    """Where head office stands with the calling venue: the highest contiguous sequence it holds."""
    async with db.read() as session:
        venue = await services.venue_for_credential(session, request.headers.get("authorization"))
    return {"venue": venue.code, "acked": venue.acked_sequence, "highest": venue.highest_sequence}


MANAGE_ROUTES = [venues_page, venue_add, venue_revoke]
VENUE_ROUTES = [venue_enrol, receive_records, venue_status]


def routes_for(settings: Settings) -> list[Any]:
    """Head office's routes; a venue has none of them."""
    return [*MANAGE_ROUTES, *VENUE_ROUTES] if settings.role == "head_office" else []
