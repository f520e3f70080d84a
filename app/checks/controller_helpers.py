"""What the check pages share: the viewer, typed fields, the approving manager and idempotent commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.errors import InvalidInput, PermissionDenied
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.orders import approvals
from app.staff import services as staff_services
from app.staff.auth import Viewer
from app.staff.models import Staff

Req = Request[Any, Any, Any]


_PRIVATE_FIELDS = {"manager_pin"}


def _viewer(request: Req) -> Viewer:
    viewer: Viewer = request.user
    return viewer


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _version(fields: Mapping[str, Any]) -> int | None:
    raw = fields.get("version")
    if raw in (None, ""):
        return None
    return web.field_int(fields, "version", label="The check version", minimum=1)


def _optional_int(fields: Mapping[str, Any], name: str, label: str) -> int | None:
    raw = fields.get(name)
    if raw in (None, ""):
        return None
    return web.field_int(fields, name, label=label, minimum=1)


def _int_list(fields: Mapping[str, Any], name: str, label: str) -> list[int]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
    result: list[int] = []
    for value in values:
        try:
            result.append(int(str(value)))
        except ValueError:
            raise InvalidInput(f"{label} must be chosen from the list.") from None
    return result


def _reason(fields: Mapping[str, Any]) -> str:
    chosen = str(fields.get("reason") or "").strip()
    other = str(fields.get("reason_other") or "").strip()
    return other if chosen in ("", "other") else chosen


async def _approver(request: Req, db: web.Db, fields: Mapping[str, Any]) -> Staff | None:
    """The manager whose PIN was typed into this form; a wrong PIN is recorded and refused."""
    pin = str(fields.get("manager_pin") or "").strip()
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


async def _once(
    request: Req, db: web.Db, fields: Mapping[str, Any], work: Callable[[AsyncSession], Awaitable[str]]
) -> str:
    """Run one command once per idempotency key; a repeat gets the first answer and changes nothing."""
    key = check_key(str(fields.get("idempotency_key") or ""))
    public = {name: value for name, value in fields.items() if name not in _PRIVATE_FIELDS}

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    response = await run_once(
        db,
        key=key,
        scope=f"checks:{_viewer(request).staff.id}",
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return response.body
