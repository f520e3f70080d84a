"""The append-only audit log: every sensitive action, hash-chained so an edit or a deletion shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlmodel import JSON, Column, Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime
from app.lib.sql import is_postgres

GENESIS = "0" * 64
# The head this transaction locked and appended to: later entries of the same transaction append to it without
# reading it again (the lock holds until the commit). Dropped on any commit or rollback, a savepoint's included.
_HEAD_KEY = "audit_head"


class AuditEntry(SQLModel, table=True):
    """One audited action: who, approved by whom, what, why, before and after, from which device."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, index=True)
    approver_id: int | None = None
    action: str = Field(max_length=80, index=True)
    subject: str = Field(default="", max_length=120)
    reason: str | None = Field(default=None, max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    device: str | None = Field(default=None, max_length=80)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's newest link; locking it orders appends and catches a deleted tail."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_entry_id: int = 0
    last_hash: str = Field(default=GENESIS, max_length=64)
    count: int = 0


def entry_hash(entry: AuditEntry) -> str:
    """The digest of an entry's content and its predecessor's digest."""
    content = {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "approver_id": entry.approver_id,
        "action": entry.action,
        "subject": entry.subject,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "device": entry.device,
        "prev_hash": entry.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


async def _head(session: AsyncSession) -> AuditHead:
    held: AuditHead | None = session.info.get(_HEAD_KEY)
    if held is not None and held in session and not inspect(held).unloaded:
        return held
    head = await _lock_head(session)
    session.info[_HEAD_KEY] = head
    return head


def _forget_head(session: Session, *_args: Any) -> None:
    session.info.pop(_HEAD_KEY, None)


event.listen(Session, "after_commit", _forget_head)
event.listen(Session, "after_soft_rollback", _forget_head)


# Read by every audited change: built once (a statement built per call costs more CPU than its execution).
_HEAD = select(AuditHead).where(AuditHead.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()


async def _lock_head(session: AsyncSession) -> AuditHead:
    """The chain's head, locked for this transaction (FOR UPDATE; SQLite's writer lock is the transaction's)."""
    postgres = is_postgres(session)
    query = _HEAD_LOCKED if postgres else _HEAD
    head = (await session.exec(query)).first()
    if head is not None:
        return head
    if postgres:
        # Two processes writing a fresh database's first entry both find no head: one inserts it, the other's
        # insert waits for that one and does nothing, and both then lock the one row.
        fresh = AuditHead()
        await session.exec(
            pg_insert(AuditHead)
            .values(id=fresh.id, last_entry_id=fresh.last_entry_id, last_hash=fresh.last_hash, count=fresh.count)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return (await session.exec(query)).one()
    head = AuditHead()
    session.add(head)
    await session.flush()
    return head


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor_id: int | None,
    subject: str = "",
    approver_id: int | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    device: str | None = None,
) -> AuditEntry:
    """Append an entry to the chain, in the caller's transaction."""
    head = await _head(session)
    entry = AuditEntry(
        id=head.last_entry_id + 1,
        at=utcnow(),
        actor_id=actor_id,
        approver_id=approver_id,
        action=action,
        subject=subject,
        reason=reason,
        before=before,
        after=after,
        device=device,
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    head.last_entry_id = entry.id or 0
    head.last_hash = entry.hash
    head.count += 1
    session.add(head)
    await session.flush()
    return entry


@dataclass(frozen=True)
class AuditProblem:
    """A place where the stored chain does not hold."""

    entry_id: int
    problem: str


async def verify(session: AsyncSession) -> list[AuditProblem]:
    """Walk the chain; report edited, inserted, reordered or deleted entries."""
    problems: list[AuditProblem] = []
    previous_hash = GENESIS
    expected_id = 1
    count = 0
    entries = await session.exec(select(AuditEntry).order_by(AuditEntry.id))  # type: ignore[arg-type]
    for entry in entries:
        count += 1
        if entry.id != expected_id:
            problems.append(AuditProblem(expected_id, f"entries {expected_id}..{(entry.id or 1) - 1} are missing"))
        if entry.prev_hash != previous_hash:
            problems.append(AuditProblem(entry.id or 0, "does not link to the entry before it"))
        if entry_hash(entry) != entry.hash:
            problems.append(AuditProblem(entry.id or 0, "content does not match its hash (edited)"))
        previous_hash = entry.hash
        expected_id = (entry.id or 0) + 1
    head = (await session.exec(select(AuditHead).where(AuditHead.id == 1))).first()
    if head is not None:
        if head.count != count or head.last_hash != previous_hash:
            problems.append(AuditProblem(head.last_entry_id, "the newest entries were deleted or replaced"))
    elif count:
        problems.append(AuditProblem(0, "the chain head is missing"))
    return problems
