"""API tokens: bearer tokens for integrations, shown once when issued and found again by their digest."""

from __future__ import annotations

import secrets

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.errors import InvalidInput
from app.staff.models import ApiToken
from app.staff.sessions import hash_token


async def create_api_token(
    session: AsyncSession, *, name: str, scopes: str = "read", actor_id: int | None = None
) -> str:
    """Issue a bearer token for an integration; the plain token is shown once and never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("Give the token a name of at most 80 characters.")
    allowed = {"read", "write"}
    scope_set = {s.strip() for s in scopes.split(",") if s.strip()}
    if not scope_set or not scope_set <= allowed:
        raise InvalidInput("Scopes are 'read' and/or 'write', comma separated.")
    token = "brg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(token), scopes=",".join(sorted(scope_set))))
    await audit.record(session, "api_token.create", actor_id=actor_id, subject=f"api_token:{name}")
    return token


async def api_token_for(session: AsyncSession, token: str) -> ApiToken | None:
    """The live API token behind a bearer value."""
    row = (await session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row
