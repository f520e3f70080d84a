"""Idempotency keys: a double tap or a retried request has exactly one effect and gets the same answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import JSON, Column, Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.db import Database, Turn, UTCDateTime
from app.lib.errors import DomainError, IdempotencyMismatch, InvalidInput
from app.lib.sql import insert_values, is_postgres

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


_RECORDS: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
# Built once, with the values bound at each use: deriving SQLAlchemy's cache key costs more for a new statement.
_SQLITE_CLAIM = (
    sqlite_insert(_RECORDS).on_conflict_do_nothing(index_elements=["key", "scope"]).returning(_RECORDS.c.key)
)
_PG_CLAIM = pg_insert(_RECORDS).on_conflict_do_nothing(index_elements=["key", "scope"]).returning(_RECORDS.c.key)
_ANSWER = update(_RECORDS).where(
    _RECORDS.c.key == bindparam("record_key"), _RECORDS.c.scope == bindparam("record_scope")
)


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


async def run_once(
    db: Database,
    *,
    key: str,
    scope: str,
    print_: str,
    work: Work,
    claim_first: bool = True,
    turn: Turn = Turn.REQUEST,
) -> StoredResponse:
    """Run `work` in one write transaction unless `key` already ran; then answer what it answered.

    `claim_first=False` is for work that only changes the database (no terminal, printer or message leaves during
    it): the key and its answer are written after the work, in one statement instead of a claim and an update.
    A key already answered, or a twin that answered first, is found then and the work rolled back; work that
    fails first (a replayed change now refused as stale, say) looks for the answer before giving its refusal.
    `turn`: the work's place among writers waiting for SQLite's one writer.
    """
    check_key(key)
    if not claim_first:
        return await _run_then_record(db, key=key, scope=scope, print_=print_, work=work, turn=turn)
    try:
        async with db.write(turn=turn) as session:
            if not await _claim(session, _record(key, scope, print_)):
                existing = await session.get(IdempotencyRecord, (key, scope))
                if existing is None:
                    raise RuntimeError(f"idempotency key {key!r} was neither claimed nor found")
                return _replay(existing, print_)
            response = await work(session)
            answer = {"status_code": response.status_code, "body": response.body, "headers": dict(response.headers)}
            await session.exec(_ANSWER, params={"record_key": key, "record_scope": scope, **answer})
            return response
    except IntegrityError as exc:
        return await _answered(db, key, scope, print_, raising=exc)


class _AnsweredBefore(Exception):
    """The key was answered by an earlier request (or a twin that committed first): roll this one back."""


async def _run_then_record(
    db: Database, *, key: str, scope: str, print_: str, work: Work, turn: Turn
) -> StoredResponse:
    try:
        async with db.write(turn=turn) as session:
            response = await work(session)
            record = _record(key, scope, print_, response)
            # On PostgreSQL a twin's uncommitted key holds this insert until the twin ends, then it does nothing.
            if not await _claim(session, record):
                raise _AnsweredBefore
            return response
    except _AnsweredBefore:
        missing = RuntimeError(f"idempotency key {key!r} was neither recorded nor found")
        return await _answered(db, key, scope, print_, raising=missing)
    except (DomainError, IntegrityError) as exc:
        return await _answered(db, key, scope, print_, raising=exc)


async def _answered(db: Database, key: str, scope: str, print_: str, *, raising: BaseException) -> StoredResponse:
    """The stored answer to `key`; without one, `raising` goes on up."""
    async with db.read() as session:
        existing = await session.get(IdempotencyRecord, (key, scope))
    if existing is None:
        raise raising
    return _replay(existing, print_)


def _record(key: str, scope: str, print_: str, answer: StoredResponse | None = None) -> dict[str, Any]:
    """An `IdempotencyRecord`'s columns as the claim binds them: the model's defaults fill in what is not given,
    without its validation (about 100 µs a request against 30), since every value here is ours. The fields with a
    default factory are given, since pydantic inspects a factory's signature on every use."""
    answered: dict[str, Any] = {"headers": {}}
    if answer is not None:
        answered = {"status_code": answer.status_code, "body": answer.body, "headers": dict(answer.headers)}
    return insert_values(IdempotencyRecord, key=key, scope=scope, fingerprint=print_, created_at=utcnow(), **answered)


async def _claim(session: AsyncSession, record: dict[str, Any]) -> bool:
    """Claim the key (before working, or with the answer after it) in one statement: whether this request is the
    first to hold it.

    A concurrent twin's insert waits on the claimed row until the first commits (PostgreSQL; SQLite runs one
    writer at a time), then does nothing and replays; a key already answered does nothing at once.
    """
    claim = _PG_CLAIM if is_postgres(session) else _SQLITE_CLAIM
    return (await session.exec(claim, params=record)).first() is not None


def _replay(record: IdempotencyRecord, print_: str) -> StoredResponse:
    if record.fingerprint != print_:
        raise IdempotencyMismatch(
            "This request was already sent with different details; reload the page and try again."
        )
    return StoredResponse(record.status_code, record.body, dict(record.headers))
