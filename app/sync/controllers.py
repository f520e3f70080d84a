"""The venue's head-office page: the link, what is queued for head office, the last error; join, send now."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.response import Template
from msgspec import Meta

from app.lib import forms, web
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm
from app.sync import catalog, queries, sender


async def _context(db: web.Db, **extra: Any) -> dict[str, Any]:
    async with db.read() as session:
        status = await queries.sync_status(session)
    return {"sync": status, **extra}


@get("/manage/head-office", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def head_office_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """This venue's link to its head office and how sending stands."""
    return web.page(request, "sync/head_office.html", fragment="sync/_link.html", **await _context(db))


class JoinForm(forms.Form, kw_only=True):
    url: Annotated[str, Meta(title="Head office address"), forms.Text(max_length=300)]
    token: Annotated[str, Meta(title="Enrolment token"), forms.Text(max_length=200)]


@post(
    "/manage/head-office/join",
    permission=Perm.DEVICES_MANAGE,
    include_in_schema=False,
    before_request=forms.drop_blanks,
)
async def head_office_join(request: Request[Any, Any, Any], db: web.Db, data: Annotated[JoinForm, FORM]) -> Template:
    """Exchange head office's enrolment token for this venue's credential."""
    viewer: Viewer = request.user
    code = await sender.join(db, data.url, data.token, actor_id=viewer.staff.id)
    context = await _context(db, flash=f"Joined head office as venue {code}.")
    return Template(template_name="sync/_link.html", context=context)


@post("/manage/head-office/send", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def head_office_send(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Send what is queued now, without waiting for the sender's next turn."""
    settings: Settings = request.app.state.settings
    outcome = await sender.SyncSender(db, batch_size=settings.sync_batch_size).send_all(max_batches=20)
    message = (
        f"Sending failed: {outcome.error}"
        if outcome.error
        else f"Sent {outcome.sent} records; head office holds everything up to {outcome.acked}."
    )
    if not outcome.error:
        pulled = await catalog.pull(db, settings, actor_id=request.user.staff.id)
        message += "".join(f" Catalog release {n} applied." for n in pulled.applied)
    return Template(template_name="sync/_link.html", context=await _context(db, flash=message))


ROUTES = [head_office_page, head_office_join, head_office_send]


def routes_for(settings: Settings) -> list[Any]:
    """A venue's routes for its link; head office has none of them."""
    return ROUTES if settings.role == "venue" else []
