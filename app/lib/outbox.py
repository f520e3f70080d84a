"""Durable first, deliver second: side effects are rows written with the change, delivered by a worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, func, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.db import Database, UTCDateTime, after_commit, unreachable

log = logging.getLogger(__name__)


def worker_name(instance: object) -> str:
    """The name a worker writes into the rows it claims: host, process id, and which worker in that process."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(instance):x}"


def holder_is_gone(claimed_by: str | None) -> bool:
    """Whether a claim was made by a process of this host that no longer runs (killed, crashed, restarted).

    Its claims need not wait out their lease. A claim from another host, from this process, or from a
    process we cannot see is left to its lease.
    """
    if not claimed_by:
        return False
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


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
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
) -> OutboxMessage | None:
    """Owe `payload` to `topic`'s deliverer once this transaction commits (not before `available_at`, when given:
    a durable timer); a repeated dedupe key is a no-op."""
    if dedupe_key is not None:
        existing = await session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing.first() is not None:
            return None
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key)
    if available_at is not None:
        message.available_at = available_at
    chain: _Chain | None = session.info.get(_CHAIN)
    if chain is not None and topic in chain.topics and message.available_at <= utcnow():
        # Written by a delivery: its dispatcher takes it on with this commit and delivers it next, sparing a
        # claim of its own (a kitchen fire's card push reaches the screens one write transaction sooner).
        message.claimed_at = utcnow()
        message.claimed_by = chain.worker_id
        chain.messages.append(message)
    session.add(message)
    await session.flush()
    wake: Callable[[], None] | None = session.info.get("outbox_wake")
    if wake is not None and message.claimed_by is None:
        after_commit(session, wake)
    return message


_CHAIN = "outbox_chain"

Hook = Callable[[], Awaitable[None]]


@dataclass
class _Chain:
    """Messages written while one dispatcher delivers another, claimed for it in that same transaction."""

    worker_id: str
    topics: frozenset[str]
    messages: list[OutboxMessage] = field(default_factory=list)
    on_commit: list[tuple[OutboxMessage, Hook]] = field(default_factory=list)

    def owes(self, message: OutboxMessage) -> bool:
        """Whether `message` is still owed by this pass: written by a delivery that did not roll back, and due."""
        return message.claimed_by == self.worker_id and any(owed is message for owed in self.messages)


def when_committed(session: AsyncSession, message: OutboxMessage, hook: Hook) -> bool:
    """Run `hook` once the delivery transaction that wrote `message` has committed, before `message` is delivered.

    Only for a message written during a delivery and claimed for it (False otherwise, and nothing is kept): the
    hook may do the message's work early, say publish what the writing transaction already rendered, while the
    message itself is still delivered as usual. A delivery must then find nothing left to do, or do it again
    harmlessly. The hook is dropped if the delivery that wrote the message rolls back.
    """
    chain: _Chain | None = session.info.get(_CHAIN)
    if chain is None or not chain.owes(message):
        return False
    chain.on_commit.append((message, hook))
    return True


Deliverer = Callable[[AsyncSession, OutboxMessage], Awaitable[None]]


class RetryLater(Exception):
    """A deliverer could not deliver now; the message goes back to the queue after `delay` seconds."""

    def __init__(self, reason: str, delay: float = 5.0) -> None:
        super().__init__(reason)
        self.delay = delay


class OutboxDispatcher:
    """Claims due messages (conditional UPDATE; SKIP LOCKED on PostgreSQL), delivers a few per transaction, each
    in a savepoint of its own."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = 60.0,
        batch_size: int = 50,
        per_transaction: int = 10,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.per_transaction = per_transaction
        self.worker_id = worker_name(self)
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
        released = False
        while not self._stopping:
            try:
                if not released:
                    await self.release_abandoned()
                    released = True
                await self.drain()
            except Exception as exc:  # the loop must outlive a database outage
                if unreachable(exc):
                    log.warning("outbox: the database is not reachable (%r); retrying", exc)
                else:
                    log.exception("outbox delivery pass failed; retrying")
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def drain(self) -> int:
        """Deliver every message that is due now; return how many were delivered."""
        delivered = 0
        while True:
            if not self._stopping:
                self._wake.clear()
            ids = await self._claim()
            if not ids:
                return delivered
            due = deque(ids)
            while due:
                batch = [due.popleft() for _ in range(min(len(due), self.per_transaction))]
                done, chained = await self._deliver(batch)
                delivered += done
                due.extend(chained)
            # A short batch took every due message; only a commit since (a wake) can have owed more.
            if len(ids) < self.batch_size and not self._wake.is_set():
                return delivered

    async def release_abandoned(self) -> int:
        """Put back the messages claimed by processes of this host that died before delivering them.

        A restarted process would otherwise wait out the dead one's lease (a kitchen ticket a minute
        late). Releasing is safe even if the holder lived: a delivery only counts while its claim is
        still the deliverer's own.
        """
        async with self.db.read() as session:
            holders = (
                await session.exec(
                    select(OutboxMessage.claimed_by)
                    .where(
                        col(OutboxMessage.delivered_at).is_(None),
                        col(OutboxMessage.claimed_by).is_not(None),
                    )
                    .distinct()
                )
            ).all()
        gone = [holder for holder in holders if holder is not None and holder_is_gone(holder)]
        released = 0
        for holder in gone:
            async with self.db.write() as session:
                result = await session.exec(  # type: ignore[call-overload]
                    text(
                        "UPDATE outbox_message SET claimed_at = NULL, claimed_by = NULL "
                        "WHERE claimed_by = :holder AND delivered_at IS NULL"
                    ).bindparams(holder=holder)
                )
                released += result.rowcount or 0
        if released:
            log.warning("released %d outbox messages claimed by stopped processes %s", released, ", ".join(gone))
        return released

    async def _claim(self) -> list[int]:
        now = utcnow()
        skip_locked = "" if self.db.is_sqlite else " FOR UPDATE SKIP LOCKED"
        topics = self.topics
        if not topics:
            return []
        placeholders = ", ".join(f":t{i}" for i in range(len(topics)))
        # Our own earlier claims are taken again, so a message whose delivery and release both failed (the
        # database went away) does not wait out the lease. Taking one that is being delivered right now is
        # harmless: a delivery marks the message under its row lock and counts only if it was undelivered.
        # Only bind-parameter names are formatted in; every value is bound.
        statement = text(
            "UPDATE outbox_message SET claimed_at = :now, claimed_by = :me "  # noqa: S608
            "WHERE id IN (SELECT id FROM outbox_message WHERE delivered_at IS NULL "
            "AND available_at <= :now AND (claimed_at IS NULL OR claimed_at < :expired OR claimed_by = :me) "
            f"AND topic IN ({placeholders}) ORDER BY id LIMIT :n{skip_locked}) RETURNING id"
        ).bindparams(**{f"t{i}": topic for i, topic in enumerate(topics)})
        params = {"now": now, "me": self.worker_id, "expired": now - self.lease, "n": self.batch_size}
        params = {k: (_bind_time(self.db, v) if isinstance(v, datetime) else v) for k, v in params.items()}
        async with self.db.write(priority=True) as session:
            result = await session.exec(statement.bindparams(**params))  # type: ignore[call-overload]
            return sorted(row[0] for row in result.all())

    async def _deliver(self, message_ids: list[int]) -> tuple[int, list[int]]:
        """Deliver claimed messages in one transaction, each in a savepoint of its own so a failure puts back only
        its message; how many were delivered, and the messages their deliveries owed in turn.

        One transaction for a backlog of messages, not one each: on SQLite every writer queues for the one write
        lock, and a dispatcher that took a turn per message would fall behind the tablets it serves.
        """
        failed: list[tuple[int, Exception]] = []
        try:
            async with self.db.write(priority=True) as session:
                query = (
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.id).in_(message_ids),
                        OutboxMessage.claimed_by == self.worker_id,
                        col(OutboxMessage.delivered_at).is_(None),
                    )
                    .order_by(col(OutboxMessage.id))
                )
                if not self.db.is_sqlite:
                    query = query.with_for_update()
                messages = list((await session.exec(query)).all())
                chain = _Chain(self.worker_id, frozenset(self._deliverers))
                session.info[_CHAIN] = chain
                for message in messages:
                    owed_before = len(chain.messages)
                    try:
                        async with session.begin_nested():
                            await self._deliverers[message.topic](session, message)
                            message.delivered_at = utcnow()
                            message.attempts += 1
                            session.add(message)
                    except Exception as exc:  # a failed delivery is retried, never dropped
                        if unreachable(exc):
                            raise
                        del chain.messages[owed_before:]
                        failed.append((message.id or 0, exc))
                now = utcnow()
                for owed in chain.messages:
                    if owed.available_at > now:
                        # not due yet: a claim takes it when it is
                        owed.claimed_at = None
                        owed.claimed_by = None
                        session.add(owed)
            delivered = len(messages) - len(failed)
            owed_ids = [owed.id or 0 for owed in chain.messages if owed.claimed_by == self.worker_id]
            for owed, hook in chain.on_commit:
                if chain.owes(owed):
                    try:
                        await hook()
                    except Exception:  # the message's own delivery still follows
                        log.exception("early work for outbox message %s failed", owed.id)
        except Exception as exc:  # the transaction itself failed: nothing in it happened
            if unreachable(exc):
                log.warning("outbox messages %s not delivered: the database is not reachable (%r)", message_ids, exc)
                return 0, []
            failed = [(message_id, exc) for message_id in message_ids]
            delivered, owed_ids = 0, []
        for message_id, error in failed:
            if isinstance(error, RetryLater):
                await self._release(message_id, str(error), error.delay)
            else:
                log.error("outbox message %s failed", message_id, exc_info=error)
                await self._release(message_id, repr(error), 2.0)
        return delivered, owed_ids

    async def _release(self, message_id: int, error: str, delay: float) -> None:
        async with self.db.write(priority=True) as session:
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
