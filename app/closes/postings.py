"""The restaurant's posting rules: closed checks, reopenings, refunds, tip adjustments and voids into the books.

Each outbox message posts once: its source key ("close:<check>:<n>", "reopen:<check>:<n>", "refund:<id>",
"tip:<payment>:<message>", "void-waste:<line>") is unique on `check_posting`, the journal entry carries
the same key, and stock moves are keyed the same way. The stockroom's own deliveries, counts and waste post
under "stock:<operation>", the key of their journal entry. A posting that cannot be made (a missing mapping,
a locked day, figures that do not add up) is rolled back to its savepoint and kept as a posting exception
with its reason; the manager fixes the cause and retries, which posts once. A day that is already closed
sends what arrives for it to the next open day, and the posting says so (`late`).

This module routes each topic to its rule and keeps the exceptions; the rules live by what they post:
`sales_postings` (closings, reopenings), `refund_postings` (refunds, tip adjustments), `stock_postings`
(voids as waste, stockroom operations, purchasing), over `posting_base` (keys, the posting day, accounts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import String, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.closes.models import CheckPosting, ExceptionStatus, PostingException
from app.closes.posting_base import (
    CLOSED_TOPIC,
    PURCHASING_TOPIC,
    REFUNDED_TOPIC,
    REOPENED_TOPIC,
    STOCK_TOPIC,
    TIP_ADJUSTED_TOPIC,
    source_key,
)
from app.closes.refund_postings import post_refund, post_tip_adjustment
from app.closes.sales_postings import post_closing, post_reopening
from app.closes.stock_postings import post_purchase, post_stock_operation
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import DomainError
from app.lib.outbox import OutboxDispatcher, OutboxMessage, RetryLater
from app.lib.settings import Settings


class _Runtime(Protocol):
    settings: Settings
    db: Database
    dispatcher: OutboxDispatcher


def wire(runtime: _Runtime) -> None:
    """Post closed checks, reopenings, refunds, tip adjustments and stockroom operations as they are delivered."""
    runtime.dispatcher.register(CLOSED_TOPIC, deliver)
    runtime.dispatcher.register(REOPENED_TOPIC, deliver)
    runtime.dispatcher.register(REFUNDED_TOPIC, deliver)
    runtime.dispatcher.register(TIP_ADJUSTED_TOPIC, deliver)
    runtime.dispatcher.register(STOCK_TOPIC, deliver)
    runtime.dispatcher.register(PURCHASING_TOPIC, deliver)


async def deliver(session: AsyncSession, message: OutboxMessage) -> None:
    """The outbox deliverer for every check topic: post, or keep the problem as an exception."""
    payload = dict(message.payload)
    if message.topic == TIP_ADJUSTED_TOPIC:
        payload.setdefault("message_id", message.id)
    await attempt(session, message.topic, payload)


async def attempt(session: AsyncSession, topic: str, payload: dict[str, Any], *, actor_id: int | None = None) -> bool:
    """Post one message's effects in a savepoint; on a refusal keep (or update) its exception. True when posted."""
    key = source_key(topic, payload)
    posted, exception = await _standing(session, key)
    if posted:
        await _resolve(session, exception, actor_id)
        return True
    try:
        async with session.begin_nested():
            await RULES[topic](session, payload)
    except RetryLater:
        raise
    except DomainError as exc:
        await _record_exception(session, key, topic, payload, exc.message)
        return False
    await _resolve(session, exception, actor_id)
    return True


def _standing_statement() -> Any:
    wanted = select(bindparam("source_key", type_=String()).label("source_key")).subquery()
    return (
        select(CheckPosting.id, PostingException)
        .select_from(wanted)
        .outerjoin(CheckPosting, col(CheckPosting.source_key) == wanted.c.source_key)
        .outerjoin(PostingException, col(PostingException.source_key) == wanted.c.source_key)
    )


# Read by every posting: built once (a statement built per call costs more CPU than its execution).
_STANDING = _standing_statement()


async def _standing(session: AsyncSession, key: str) -> tuple[bool, PostingException | None]:
    """Whether the source key was posted already, and its exception if it has one: one read for both."""
    row = (await session.exec(_STANDING, params={"source_key": key})).one()
    return row[0] is not None, row[1]


async def _record_exception(session: AsyncSession, key: str, topic: str, payload: dict[str, Any], reason: str) -> None:
    # Read again rather than reusing the row read before the rule: the rule's savepoint was rolled back.
    existing = (await session.exec(select(PostingException).where(PostingException.source_key == key))).first()
    now = utcnow()
    if existing is None:
        check_id = payload.get("check_id")
        session.add(
            PostingException(
                source_key=key,
                topic=topic,
                payload=payload,
                check_id=check_id if isinstance(check_id, int) else None,
                reason=reason[:1000],
            )
        )
    else:
        existing.reason = reason[:1000]
        existing.status = ExceptionStatus.OPEN
        existing.attempts += 1
        existing.last_tried_at = now
        session.add(existing)
    await session.flush()


async def _resolve(session: AsyncSession, existing: PostingException | None, actor_id: int | None) -> None:
    if existing is not None and existing.status is ExceptionStatus.OPEN:
        existing.status = ExceptionStatus.RESOLVED
        existing.resolved_at = utcnow()
        existing.resolved_by = actor_id
        existing.last_tried_at = existing.resolved_at
        session.add(existing)
        await session.flush()


Rule = Callable[[AsyncSession, Mapping[str, Any]], Awaitable[Any]]


RULES: dict[str, Rule] = {
    CLOSED_TOPIC: post_closing,
    REOPENED_TOPIC: post_reopening,
    REFUNDED_TOPIC: post_refund,
    TIP_ADJUSTED_TOPIC: post_tip_adjustment,
    STOCK_TOPIC: post_stock_operation,
    PURCHASING_TOPIC: post_purchase,
}
