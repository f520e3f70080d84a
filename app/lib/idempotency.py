"""Idempotency keys: a double tap or a retried request has exactly one effect and gets the same answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import JSON, Column, Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.db import Database, UTCDateTime
from app.lib.errors import IdempotencyMismatch, InvalidInput

KEY_MAX_LENGTH = 100


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to one idempotency key, stored in the transaction that had the effect."""

    __tablename__ = "idempotency_record"

    key: str = Field(primary_key=True, max_length=KEY_MAX_LENGTH)
    scope: str = Field(primary_key=True, max_length=80)
    fingerprint: str = Field(max_length=64)
    status_code: int = 200
    body: str = ""
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


@dataclass(frozen=True)
class StoredResponse:
    """A response to give again, byte for byte."""

    status_code: int
    body: str
    headers: dict[str, str]


def fingerprint(method: str, path: str, fields: Mapping[str, Any]) -> str:
    """A stable digest of what a request asks for, ignoring the key and the CSRF token."""
    ignored = {"idempotency_key", "_csrf_token"}
    canonical = json.dumps(
        {"m": method, "p": path, "f": {k: fields[k] for k in sorted(fields) if k not in ignored}},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    """The key, or a clear refusal when it is missing or malformed."""
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise InvalidInput("This request has no valid idempotency key; reload the page and try again.")
    return key


Work = Callable[[AsyncSession], Awaitable[StoredResponse]]


async def run_once(db: Database, *, key: str, scope: str, print_: str, work: Work) -> StoredResponse:
    """Run `work` in one write transaction unless `key` already ran; then answer what it answered."""
    check_key(key)
    try:
        async with db.write() as session:
            existing = await session.get(IdempotencyRecord, (key, scope))
            if existing is not None:
                return _replay(existing, print_)
            # Claim the key before working: a concurrent twin blocks on this row, then fails and replays.
            record = IdempotencyRecord(key=key, scope=scope, fingerprint=print_)
            session.add(record)
            await session.flush()
            response = await work(session)
            record.status_code = response.status_code
            record.body = response.body
            record.headers = dict(response.headers)
            session.add(record)
            return response
    except IntegrityError:
        async with db.read() as session:
            existing = await session.get(IdempotencyRecord, (key, scope))
            if existing is None:
                raise
            return _replay(existing, print_)


def _replay(record: IdempotencyRecord, print_: str) -> StoredResponse:
    if record.fingerprint != print_:
        raise IdempotencyMismatch(
            "This request was already sent with different details; reload the page and try again."
        )
    return StoredResponse(record.status_code, record.body, dict(record.headers))
