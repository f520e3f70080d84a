"""Durable first, deliver second: side effects are rows written with the change, delivered by a worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, bindparam, func, text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.lib.clock import utcnow
from app.lib.db import Database, Turn, UTCDateTime, after_commit, note_written, unreachable
from app.lib.sql import insert_or_nothing, insert_values, is_postgres, rows_as

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
    now = utcnow()
    values: dict[str, Any] = {
        "topic": topic,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "available_at": available_at or now,
    }
    chain: _Chain | None = session.info.get(_CHAIN)
    # Written by a delivery: its dispatcher takes it on with this commit and delivers it next, sparing a claim of
    # its own (a kitchen fire's card push reaches the screens one write transaction sooner).
    claiming = chain if chain is not None and topic in chain.topics and values["available_at"] <= now else None
    if claiming is not None:
        values |= {"claimed_at": now, "claimed_by": claiming.worker_id}
    if dedupe_key is None:
        message = OutboxMessage(**values)
        session.add(message)
        await session.flush()
    else:
        written = await _insert_once(session, insert_values(OutboxMessage, **values))
        if written is None:
            return None
        message = written
    if claiming is not None:
        claiming.messages.append(message)
    wake: Callable[[], None] | None = session.info.get("outbox_wake")
    if wake is not None and message.claimed_by is None:
        after_commit(session, wake)
    return message


async def _insert_once(session: AsyncSession, params: dict[str, Any]) -> OutboxMessage | None:
    """Write a message (its columns) unless its dedupe key is taken, in one statement; the message written, or None.

    Rows inserted so are noted for whoever follows the session's flushes (the venue's sync capture), as flushed
    ones are."""
    statement = insert_or_nothing(OutboxMessage, postgres=is_postgres(session), conflict_on=("dedupe_key",))
    row = (await session.exec(statement, params=params)).first()
    if row is None:
        return None
    written: OutboxMessage = row[0]
    note_written(session, written)
    return written


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


def _taking_messages() -> Any:
    """UPDATE that claims messages for this dispatcher (`worker`) and marks them delivered (`now`), on the table: the
    ORM's own UPDATE … RETURNING of the entity is rebuilt, and its key derived again, on every execution."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    now = bindparam("now", type_=UTCDateTime())
    return update(table).values(
        claimed_at=now, claimed_by=bindparam("worker"), delivered_at=now, attempts=table.c.attempts + 1
    )


def _returning_messages(taking: Any) -> Select[OutboxMessage]:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return rows_as(OutboxMessage, taking.returning(*table.columns)).execution_options(populate_existing=True)


@cache
def _take_due(*, postgres: bool) -> Select[OutboxMessage]:
    """`_taking_messages` of the first due messages (`limit`) of the dispatcher's `topics`: never delivered, available
    by `now`, and unclaimed, claimed before `stale_before` (a lease run out) or claimed by this dispatcher. Built
    once: a statement built per call costs more CPU than its execution."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    due = (
        select(table.c.id)
        .where(
            table.c.delivered_at.is_(None),
            table.c.available_at <= bindparam("now", type_=UTCDateTime()),
            table.c.claimed_at.is_(None)
            | (table.c.claimed_at < bindparam("stale_before", type_=UTCDateTime()))
            | (table.c.claimed_by == bindparam("worker")),
            table.c.topic.in_(bindparam("topics", expanding=True)),
        )
        .order_by(table.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )
    if postgres:
        due = due.with_for_update(skip_locked=True)
    return _returning_messages(_taking_messages().where(table.c.id.in_(due.scalar_subquery())))


@cache
def _take_owed() -> Select[OutboxMessage]:
    """`_taking_messages` of the messages `owed` that this dispatcher already holds and has not delivered."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    taking = _taking_messages().where(
        table.c.id.in_(bindparam("owed", expanding=True)),
        table.c.claimed_by == bindparam("worker"),
        table.c.delivered_at.is_(None),
    )
    return _returning_messages(taking)


class OutboxDispatcher:
    """Claims due messages and delivers them in that same transaction, a few at a time: one conditional UPDATE
    (SKIP LOCKED on PostgreSQL) takes them and marks them delivered, so a delivery that fails or dies takes its
    claim down with it."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = 60.0,
        per_transaction: int = 10,
    ) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
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
            taken, done, owed = await self._deliver()
            delivered += done
            while owed:
                batch, owed = owed[: self.per_transaction], owed[self.per_transaction :]
                _taken, done, more = await self._deliver(batch)
                delivered += done
                owed.extend(more)
            # A short batch took every due message; only a commit since (a wake) can have owed more.
            if not taken or (taken < self.per_transaction and not self._wake.is_set()):
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

    def _taking(self, owed: list[int] | None) -> tuple[Any, dict[str, Any]]:
        """The one statement that claims messages and marks them delivered, returning them, with its parameters:
        the due ones (`owed` None), or those this dispatcher's own deliveries wrote and claimed for it."""
        now = utcnow()
        params: dict[str, Any] = {"now": now, "worker": self.worker_id}
        if owed is None:
            # Our own earlier claims are taken again, so a message whose delivery and release both failed (the
            # database went away) does not wait out the lease.
            params.update(stale_before=now - self.lease, topics=self.topics, limit=self.per_transaction)
            return _take_due(postgres=not self.db.is_sqlite), params
        return _take_owed(), {**params, "owed": owed}

    async def _deliver(self, owed: list[int] | None = None) -> tuple[int, int, list[int]]:
        """Claim messages and deliver them in one transaction (the due ones, or the `owed` ones this dispatcher
        holds); how many were taken, how many delivered, and the messages their deliveries owed in turn.

        The claim is the first statement of the delivering transaction, so a crash or a failure before the commit
        leaves the message as it was, unclaimed. Several messages are delivered each in a savepoint of their own,
        so a failure puts back only its message; a lone one needs none. One transaction for a backlog of
        messages, not one each: on SQLite every writer queues for the one write lock, and a dispatcher that took a
        turn per message would fall behind the tablets it serves.
        """
        if not self._deliverers:
            return 0, 0, []
        taken: list[int] = []
        failed: list[tuple[int, Exception]] = []
        try:
            async with self.db.write(turn=Turn.DELIVERY) as session:
                taking, params = self._taking(owed)
                result = await session.exec(taking, params=params)
                messages = sorted(result.scalars().all(), key=lambda message: message.id or 0)
                taken = [message.id or 0 for message in messages]
                chain = _Chain(self.worker_id, frozenset(self._deliverers))
                session.info[_CHAIN] = chain
                if len(messages) == 1:
                    await self._deliverers[messages[0].topic](session, messages[0])
                else:
                    for message_id, message in zip(taken, messages, strict=True):
                        attempts, owed_before = message.attempts, len(chain.messages)
                        try:
                            async with session.begin_nested():
                                await self._deliverers[message.topic](session, message)
                        except Exception as exc:  # a failed delivery is retried, never dropped
                            if unreachable(exc):
                                raise
                            del chain.messages[owed_before:]
                            failed.append((message_id, exc))
                            await self._put_back(session, message_id, attempts, exc)
                now = utcnow()
                for written in chain.messages:
                    if written.available_at > now:
                        # not due yet: a claim takes it when it is
                        written.claimed_at = None
                        written.claimed_by = None
                        session.add(written)
            owed_ids = [written.id or 0 for written in chain.messages if written.claimed_by == self.worker_id]
            for written, hook in chain.on_commit:
                if chain.owes(written):
                    try:
                        await hook()
                    except Exception:  # the message's own delivery still follows
                        log.exception("early work for outbox message %s failed", written.id)
            return len(taken), len(taken) - len(failed), owed_ids
        except Exception as exc:  # the transaction itself failed: nothing in it happened, the claim neither
            unclaimed = taken or owed or []
            if unreachable(exc):
                log.warning("outbox messages %s not delivered: the database is not reachable (%r)", unclaimed, exc)
                return len(unclaimed), 0, []
            if not unclaimed:
                raise
            for message_id in unclaimed:
                _log_failure(message_id, exc)
                await self._release(message_id, *_retry(exc))
            return len(unclaimed), 0, []

    async def _put_back(self, session: AsyncSession, message_id: int, attempts: int, error: Exception) -> None:
        """A failed delivery in a shared transaction: its message is owed again after a backoff."""
        _log_failure(message_id, error)
        reason, delay = _retry(error)
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(
                delivered_at=None,
                claimed_at=None,
                claimed_by=None,
                available_at=utcnow() + timedelta(seconds=_backoff(delay, attempts)),
                last_error=reason[:2000],
            )
            .execution_options(synchronize_session=False)
        )

    async def _release(self, message_id: int, error: str, delay: float) -> None:
        async with self.db.write(turn=Turn.DELIVERY) as session:
            message = await session.get(OutboxMessage, message_id)
            if message is None or message.delivered_at is not None:
                return
            message.attempts += 1
            message.available_at = utcnow() + timedelta(seconds=_backoff(delay, message.attempts))
            message.claimed_at = None
            message.claimed_by = None
            message.last_error = error[:2000]
            session.add(message)


def _retry(error: Exception) -> tuple[str, float]:
    """What a failed delivery records, and the delay before its backoff."""
    if isinstance(error, RetryLater):
        return str(error), error.delay
    return repr(error), 2.0


def _log_failure(message_id: int, error: Exception) -> None:
    if not isinstance(error, RetryLater):
        log.error("outbox message %s failed", message_id, exc_info=error)


def _backoff(delay: float, attempts: int) -> float:
    return min(300.0, delay * 2.0 ** min(attempts - 1, 6))


async def pending_count(session: AsyncSession) -> int:
    """How many side effects are still owed (a business day cannot close while any are)."""
    result = await session.exec(
        select(func.count()).where(OutboxMessage.delivered_at.is_(None))  # type: ignore[union-attr]
    )
    return int(result.one())
