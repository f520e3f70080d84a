"""What the check pages share: the viewer, typed forms, the approving manager and idempotent commands.

A command on a check page is a POST whose form Litestar decodes into a `CheckForm` (the check's version, the
request's idempotency key and a manager's PIN where one is needed, plus the command's own fields), refused in one
place when a field is missing or malformed. The handler then calls `command(...)`: the PIN is checked, the work
runs once per idempotency key in one write transaction, and the flash it returns is shown on the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import commands, forms, web
from app.lib.errors import PermissionDenied
from app.lib.settings import Settings
from app.orders import approvals
from app.staff import services as staff_services
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]

_PRIVATE_FIELDS = {"manager_pin"}

Id = Annotated[int, Meta(ge=1)]
"""A chosen row's id (a line, a check, a payment…)."""


class CheckForm(commands.KeyedForm, kw_only=True):
    """What every command on a check sends besides its own fields."""

    version: Annotated[int, Meta(title="The check version", ge=1)] | None = None
    manager_pin: str = ""


class ReasonForm(CheckForm, kw_only=True):
    """A command that needs a reason: one chosen from the list, or typed under "other"."""

    reason: str = ""
    reason_other: str = ""

    @property
    def why(self) -> str:
        chosen, other = self.reason.strip(), self.reason_other.strip()
        return other if chosen in ("", "other") else chosen


class UnsentForm(CheckForm, kw_only=True):
    """A command that may take payment for items the kitchen never had, once the server ticks that it may."""

    unsent_confirmed: str = ""

    @property
    def confirmed(self) -> bool:
        return self.unsent_confirmed in ("1", "on", "true")


def command_post(path: str, *, permission: Perm) -> Callable[[Any], HTTPRouteHandler]:
    """A check page's POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
    return post(path, permission=permission, include_in_schema=False, before_request=forms.drop_blanks)


def actor(request: Req) -> Staff:
    """The person logged in on this device, who does the command."""
    return _viewer(request).staff


Work = Callable[[AsyncSession, "Staff | None"], Awaitable[str]]
"""(session, the approving manager or None) → the flash to show."""


async def command(request: Req, db: web.Db, data: CheckForm, work: Work, *, approve: bool = True) -> str:
    """Check the manager's PIN if one was typed (for a command a manager may approve), then run `work` once per
    idempotency key; its flash."""
    approver = await approver_for(request, db, data.manager_pin) if approve else None

    async def run(session: AsyncSession) -> str:
        return await work(session, approver)

    return await commands.once(
        request, db, data, run, scope=f"checks:{_viewer(request).staff.id}", private=_PRIVATE_FIELDS
    )


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def approver_for(request: Req, db: web.Db, pin: str) -> Staff | None:
    """The manager whose PIN was typed into this form; a wrong PIN is recorded and refused."""
    pin = pin.strip()
    if not pin:
        return None
    settings = _settings(request)
    policy = staff_services.PinPolicy(
        throttle_after=settings.pin_throttle_after,
        lockout_after=settings.pin_lockout_after,
        window=timedelta(minutes=settings.pin_window_minutes),
        throttle_delay=timedelta(seconds=settings.pin_throttle_seconds),
    )
    async with db.write() as session:
        outcome = await approvals.identify_approver(
            session, pin=pin, device_id=_viewer(request).device_id, policy=policy
        )
    if outcome.approver_id is None:
        raise PermissionDenied(outcome.message)
    async with db.read() as session:
        return await session.get(Staff, outcome.approver_id)
