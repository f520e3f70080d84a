"""Guests over the JSON API (/api/v1/guests): list and search with paging, read one, create and update.

Every write needs an `Idempotency-Key` header: a retried request answers what the first one did and changes
nothing. The API writes as the venue's first active admin (else manager), so the audit log names a person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.openapi.spec import SecurityRequirement
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.guests import queries, services
from app.guests.models import Guest
from app.lib import web
from app.lib.errors import InvalidInput
from app.lib.idempotency import StoredResponse, fingerprint, run_once
from app.staff.auth import ApiClient
from app.staff.models import Staff
from app.staff.permissions import Perm, Role

PREFIX: Final = "/api/v1/guests"
TAGS: Final = ["Guests"]
SECURITY: Final[list[SecurityRequirement]] = [{"BearerToken": []}]
READ: Final[dict[str, Any]] = {"api_scope": "read", "tags": TAGS, "security": SECURITY}
WRITE: Final[dict[str, Any]] = {"api_scope": "write", "tags": TAGS, "security": SECURITY}

Query = Annotated[str, QueryParameter(max_length=100, description="Part of a phone number, name or email.")]
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="At most this many guests.")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="Skip this many guests (paging).")]
IdPath = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=100,
        description="Required on every write: send the same key to retry safely.",
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=1000)]


class GuestOut(msgspec.Struct):
    """A guest on file (an erased one has `erased_at` and no personal details)."""

    id: int
    name: str
    phone: str | None
    email: str | None
    allergies: str
    preferences: str
    marketing_consent: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    erased_at: dt.datetime | None


class GuestPage(msgspec.Struct):
    """One page of guests, by name; `next_offset` is null on the last page."""

    items: list[GuestOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None


class GuestIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new guest: a name and a phone number or an email address at least."""

    name: Text
    phone: Text | None = None
    email: Text | None = None
    allergies: Text = ""
    preferences: Text = ""
    marketing_consent: bool = False


class GuestPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a guest: fields left out stay as they are; `phone` or `email` null removes it."""

    name: Text | msgspec.UnsetType = msgspec.UNSET
    phone: Text | msgspec.UnsetType | None = msgspec.UNSET
    email: Text | msgspec.UnsetType | None = msgspec.UNSET
    allergies: Text | msgspec.UnsetType = msgspec.UNSET
    preferences: Text | msgspec.UnsetType = msgspec.UNSET
    marketing_consent: bool | msgspec.UnsetType = msgspec.UNSET


def guest_out(guest: Guest) -> GuestOut:
    """A guest as the API shows it."""
    return GuestOut(
        id=guest.id or 0,
        name=guest.name,
        phone=guest.phone,
        email=guest.email,
        allergies=guest.allergies,
        preferences=guest.preferences,
        marketing_consent=guest.marketing_consent,
        created_at=guest.created_at,
        updated_at=guest.updated_at,
        erased_at=guest.erased_at,
    )


async def _api_actor(session: AsyncSession) -> Staff:
    """Who the API writes as: the venue's first active admin, else its first manager."""
    people = (
        await session.exec(
            select(Staff)
            .where(col(Staff.archived_at).is_(None), col(Staff.role).in_([Role.ADMIN, Role.MANAGER]))
            .order_by(col(Staff.role) != Role.ADMIN, col(Staff.id))
        )
    ).all()
    actor = next((p for p in people if p.can(Perm.GUESTS_MANAGE)), None)
    if actor is None:
        raise InvalidInput("No active manager can keep guest records; add one before writing guests.")
    return actor


async def _write_once(
    request: Request[Any, Any, Any],
    db: web.Db,
    key: str,
    body: Any,
    status_code: int,
    work: Callable[[AsyncSession, Staff], Awaitable[Guest]],
) -> Response[Any]:
    client: ApiClient = request.user
    if any(ord(c) < 32 for c in key):
        raise InvalidInput("Idempotency-Key contains control characters.")

    async def run(session: AsyncSession) -> StoredResponse:
        guest = await work(session, await _api_actor(session))
        return StoredResponse(status_code, msgspec.json.encode(guest_out(guest)).decode(), {})

    result = await run_once(
        db,
        key=key,
        scope=f"{services.API_IDEMPOTENCY_SCOPE}{client.token_id}",
        print_=fingerprint(request.method, request.url.path, {"body": json.dumps(body, sort_keys=True)}),
        work=run,
    )
    return Response(content=json.loads(result.body), status_code=result.status_code)


@get(PREFIX, **READ)
async def list_guests(db: web.Db, q: Query = "", limit: Limit = 50, offset: Offset = 0) -> GuestPage:
    """Guests on file by name, or those whose phone, name or email holds `q`; erased guests are never listed."""
    async with db.read() as session:
        guests = await queries.search_guests(session, q, limit=limit, offset=offset)
        total = await queries.count_guests(session, q)
    following = offset + len(guests)
    return GuestPage(
        items=[guest_out(g) for g in guests],
        total=total,
        offset=offset,
        limit=limit,
        next_offset=following if following < total else None,
    )


@get(f"{PREFIX}/{{guest_id:int}}", **READ)
async def get_guest(db: web.Db, guest_id: IdPath) -> GuestOut:
    """One guest."""
    async with db.read() as session:
        return guest_out(await services.get_guest(session, guest_id))


@post(PREFIX, status_code=201, **WRITE)
async def create_guest(
    request: Request[Any, Any, Any], db: web.Db, data: JSONBody[GuestIn], idempotency_key: IdempotencyKey
) -> Response[Any]:
    """Put a guest on file; a phone number or email already on file is refused (409) with that guest's id."""

    async def work(session: AsyncSession, actor: Staff) -> Guest:
        return await services.create_guest(
            session,
            actor=actor,
            name=data.name,
            phone=data.phone,
            email=data.email,
            allergies=data.allergies,
            preferences=data.preferences,
            marketing_consent=data.marketing_consent,
        )

    return await _write_once(request, db, idempotency_key, msgspec.to_builtins(data), 201, work)


@patch(f"{PREFIX}/{{guest_id:int}}", **WRITE)
async def update_guest(
    request: Request[Any, Any, Any],
    db: web.Db,
    guest_id: IdPath,
    data: JSONBody[GuestPatch],
    idempotency_key: IdempotencyKey,
) -> Response[Any]:
    """Change a guest's details; open checks with the guest follow a change of name or allergies."""

    def given(value: Any) -> Any:
        return None if value is msgspec.UNSET else value

    async def work(session: AsyncSession, actor: Staff) -> Guest:
        return await services.update_guest(
            session,
            guest_id,
            actor=actor,
            name=given(data.name),
            phone=given(data.phone),
            email=given(data.email),
            allergies=given(data.allergies),
            preferences=given(data.preferences),
            marketing_consent=given(data.marketing_consent),
            clear_phone=data.phone is None,
            clear_email=data.email is None,
        )

    body = {"guest_id": guest_id, **msgspec.to_builtins(data)}
    return await _write_once(request, db, idempotency_key, body, 200, work)


ROUTES: list[Any] = [list_guests, get_guest, create_guest, update_guest]
