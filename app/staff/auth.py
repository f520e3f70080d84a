"""Who is asking: staff sessions from the cookie, integrations from a bearer token; and the route guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.settings import Settings
from app.lib.web import client_address
from app.staff import api_tokens, sessions
from app.staff.models import Staff
from app.staff.permissions import Perm
from app.staff.session_cache import SessionCache

SESSION_COOKIE = "brigade_session"
DEVICE_COOKIE = "brigade_device"
TOUCH_EVERY = timedelta(seconds=20)


@dataclass(frozen=True)
class Viewer:
    """A staff member logged in on a device."""

    staff: Staff
    session_id: int
    device_id: int | None

    def can(self, perm: Perm) -> bool:
        """Whether the person holds `perm`."""
        return self.staff.can(perm)


@dataclass(frozen=True)
class ApiClient:
    """An integration calling the JSON API with a bearer token."""

    token_id: int
    name: str
    scopes: frozenset[str]


class BrigadeAuthMiddleware(AbstractAuthenticationMiddleware):
    """Attach the Viewer (cookie) or ApiClient (bearer) to every request and websocket."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        db: Database = connection.app.state.db
        settings: Settings = connection.app.state.settings
        if connection.url.path.startswith("/api/"):
            header = connection.headers.get("authorization", "")
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value:
                raise NotAuthorizedException("A bearer token is required.")
            async with db.read() as session:
                token = await api_tokens.api_token_for(session, value.strip())
            if token is None:
                raise NotAuthorizedException("Unknown or revoked token.")
            client = ApiClient(token.id or 0, token.name, frozenset(token.scopes.split(",")))
            return AuthenticationResult(user=client, auth=token)
        raw = connection.cookies.get(SESSION_COOKIE)
        if not raw:
            raise NotAuthorizedException("Log in with your PIN.")
        idle = timedelta(seconds=settings.idle_lock_seconds)
        max_age = timedelta(hours=settings.session_max_hours)
        now = utcnow()
        token_hash = sessions.hash_token(raw)
        cache: SessionCache = connection.app.state.session_cache
        active = cache.get(token_hash)
        # Remembered only while the idle clock needs no refresh: a request that must touch it reads it first.
        if active is None or now - active.last_seen_at > min(TOUCH_EVERY, idle) or now - active.created_at > max_age:
            generation = cache.generation
            async with db.lookup() as session:
                active = await sessions.active_session(session, token_hash, idle=idle, max_age=max_age, now=now)
            if active is None:
                raise NotAuthorizedException("Locked: enter your PIN.")
            # Refreshing the idle clock costs a write; a coarse step keeps pages read-only most of the time.
            if now - active.last_seen_at > TOUCH_EVERY and connection.scope["type"] == ScopeType.HTTP:
                async with db.write() as session:
                    await sessions.touch_session(
                        session,
                        active.session_id,
                        now,
                        device_id=active.device_id,
                        address=client_address(connection),
                    )
            else:
                cache.put(token_hash, active, generation=generation)
        return AuthenticationResult(user=Viewer(active.staff, active.session_id, active.device_id), auth=raw)


async def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Fail closed: a route must name the permission it needs (or be public, or an API scope).

    A coroutine, though it awaits nothing: Litestar runs a plain function guard on a worker thread, a hand-off
    (and back) on every request that costs more than the check itself."""
    opt = handler.opt
    # The API's own description is public, and CORS preflights carry no credentials.
    if opt.get("public") or connection.url.path.startswith("/schema") or connection.scope.get("method") == "OPTIONS":
        return
    user = connection.scope.get("user")
    if isinstance(user, ApiClient):
        scope = opt.get("api_scope")
        if scope is None or scope not in user.scopes:
            raise PermissionDeniedException("This token may not use this endpoint.")
        return
    if opt.get("authenticated") and isinstance(user, Viewer):
        return
    required = required_permissions(opt)
    if not required:
        raise PermissionDeniedException("This page names no permission, so nobody may use it.")
    if not isinstance(user, Viewer) or not any(user.can(perm) for perm in required):
        raise PermissionDeniedException("Your role does not allow this. Ask a manager.")


def required_permissions(opt: Mapping[str, Any]) -> frozenset[Perm]:
    """The permissions a route accepts: `permission=Perm.X`, or a tuple of them meaning any one will do."""
    permission = opt.get("permission")
    if permission is None:
        return frozenset()
    if isinstance(permission, (tuple, list, set, frozenset)):
        return frozenset(Perm(p) for p in permission)
    return frozenset({Perm(permission)})
