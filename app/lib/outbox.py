"""Durable first, deliver second: side effects are rows written with the change, delivered by a worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, func, text
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.db import Database, UTCDateTime, after_commit

log = logging.getLogger(__name__)


class OutboxMessage(SQLModel, table=True):
    """A side effect owed to the world (a KDS push, a print, a posting), written with its cause."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=64, index=True)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=80)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)


async def enqueue(
    session: AsyncSession, topic: str, payload: dict[str, Any], *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Owe `payload` to `topic`'s deliverer once this transaction commits; a repeated dedupe key is a no-op."""
    if dedupe_key is not None:
        existing = await session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing.first() is not None:
            return None
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key)
    session.add(message)
    await session.flush()
    wake: Callable[[], None] | None = session.info.get("outbox_wake")
    if wake is not None:
        after_commit(session, wake)
    return message


Deliverer = Callable[[AsyncSession, OutboxMessage], Awaitable[None]]


class RetryLater(Exception):
    """A deliverer could not deliver now; the message goes back to the queue after `delay` seconds."""

    def __init__(self, reason: str, delay: float = 5.0) -> None:
        super().__init__(reason)
        self.delay = delay


class OutboxDispatcher:
    """Claims due messages (conditional UPDATE; SKIP LOCKED on PostgreSQL), delivers each in its own transaction."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = 60.0,
        batch_size: int = 50,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._deliverers: dict[str, Deliverer] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    def register(self, topic: str, deliverer: Deliverer) -> None:
        """Deliver messages of `topic` with `deliverer(session, message)`, inside the marking transaction."""
        self._deliverers[topic] = deliverer

    @property
    def topics(self) -> list[str]:
        """The topics this dispatcher delivers."""
        return sorted(self._deliverers)

    def wake(self) -> None:
        """Deliver now instead of at the next poll (called after a commit that enqueued)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current message and leave the loop."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped: at once when woken, otherwise every poll interval."""
        while not self._stopping:
            try:
                await self.drain()
            except Exception:  # the loop must outlive a database outage
                log.exception("outbox delivery pass failed; retrying")
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def drain(self) -> int:
        """Deliver every message that is due now; return how many were delivered."""
        delivered = 0
        while True:
            ids = await self._claim()
            if not ids:
                return delivered
            for message_id in ids:
                if await self._deliver(message_id):
                    delivered += 1

    async def _claim(self) -> list[int]:
        now = utcnow()
        skip_locked = "" if self.db.is_sqlite else " FOR UPDATE SKIP LOCKED"
        topics = self.topics
        if not topics:
            return []
        placeholders = ", ".join(f":t{i}" for i in range(len(topics)))
        # Only bind-parameter names are formatted in; every value is bound.
        statement = text(
            "UPDATE outbox_message SET claimed_at = :now, claimed_by = :me "  # noqa: S608
            "WHERE id IN (SELECT id FROM outbox_message WHERE delivered_at IS NULL "
            "AND available_at <= :now AND (claimed_at IS NULL OR claimed_at < :expired) "
            f"AND topic IN ({placeholders}) ORDER BY id LIMIT :n{skip_locked}) RETURNING id"
        ).bindparams(**{f"t{i}": topic for i, topic in enumerate(topics)})
        params = {"now": now, "me": self.worker_id, "expired": now - self.lease, "n": self.batch_size}
        params = {k: (_bind_time(self.db, v) if isinstance(v, datetime) else v) for k, v in params.items()}
        async with self.db.write() as session:
            result = await session.exec(statement.bindparams(**params))  # type: ignore[call-overload]
            return sorted(row[0] for row in result.all())

    async def _deliver(self, message_id: int) -> bool:
        try:
            async with self.db.write() as session:
                query = select(OutboxMessage).where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.claimed_by == self.worker_id,
                    OutboxMessage.delivered_at.is_(None),  # type: ignore[union-attr]
                )
                if not self.db.is_sqlite:
                    query = query.with_for_update()
                message = (await session.exec(query)).first()
                if message is None:
                    return False
                await self._deliverers[message.topic](session, message)
                message.delivered_at = utcnow()
                message.attempts += 1
                session.add(message)
            return True
        except Exception as exc:  # a failed delivery is retried, never dropped
            if isinstance(exc, RetryLater):
                await self._release(message_id, str(exc), exc.delay)
            else:
                log.exception("outbox message %s failed", message_id)
                await self._release(message_id, repr(exc), 2.0)
            return False

    async def _release(self, message_id: int, error: str, delay: float) -> None:
        async with self.db.write() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is None or message.delivered_at is not None:
                return
            message.attempts += 1
            backoff = min(300.0, delay * (2 ** min(message.attempts - 1, 6)))
            message.available_at = utcnow() + timedelta(seconds=backoff)
            message.claimed_at = None
            message.claimed_by = None
            message.last_error = error[:2000]
            session.add(message)


def _bind_time(db: Database, value: datetime) -> Any:
    # Raw SQL bypasses UTCDateTime, so bind what that type would store.
    return value.replace(tzinfo=None) if db.is_sqlite else value


async def pending_count(session: AsyncSession) -> int:
    """How many side effects are still owed (a business day cannot close while any are)."""
    result = await session.exec(
        select(func.count()).where(OutboxMessage.delivered_at.is_(None))  # type: ignore[union-attr]
    )
    return int(result.one())
