"""Venue-side commands: join a head office, number what is owed, and keep the acknowledged mark."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.group.calculations import backoff_seconds
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict
from app.sync.models import HeadOfficeLink, LinkStatus, SyncRecord

# Records numbered in one go: the sender numbers what committed since its last pass, this many at a time.
NUMBER_AT_ONCE = 5000
# Acknowledged records pruned in one transaction, so pruning a long backlog never holds the venue's writer long.
PRUNE_AT_ONCE = 2000


async def current_link(session: AsyncSession, *, lock: bool = False) -> HeadOfficeLink | None:
    """This venue's link to its head office, if it joined one."""
    query = select(HeadOfficeLink).order_by(col(HeadOfficeLink.id)).limit(1)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def save_link(
    session: AsyncSession, *, url: str, venue_code: str, venue_name: str, credential: str, actor_id: int | None = None
) -> HeadOfficeLink:
    """Keep the credential head office gave this venue. A revoked link is replaced; a live one is refused."""
    link = await current_link(session, lock=True)
    if link is not None and link.status is LinkStatus.LINKED:
        raise Conflict(f"This venue is already linked to {link.url} as {link.venue_code}.")
    if link is None:
        link = HeadOfficeLink(url=url, venue_code=venue_code, venue_name=venue_name, credential=credential)
    else:
        # A new enrolment is a new venue at head office, whose records start at sequence 1: send them all again.
        link.url, link.venue_code, link.venue_name, link.credential = url, venue_code, venue_name, credential
        link.status = LinkStatus.LINKED
        link.joined_at = utcnow()
        link.acked_sequence = 0
        link.last_error = link.last_error_at = link.next_attempt_at = None
        link.failures = 0
        # What the venue still keeps is numbered again from 1 (records pruned after the old head office held
        # them are not sent again), so the new enrolment's sequence has no hole.
        table: Any = SyncRecord.__table__  # type: ignore[attr-defined]
        await (await session.connection()).execute(update(table).values(sequence=None))
        link.numbered_sequence = 0
    session.add(link)
    await session.flush()
    await audit.record(
        session, "sync.join", actor_id=actor_id, subject=f"head_office:{url}", after={"venue": venue_code}
    )
    return link


async def number_records(session: AsyncSession, link: HeadOfficeLink) -> int:
    """Give the records committed since the last pass their sequence numbers, in the order they were written.

    Numbers are handed out here, under the link's row lock (SQLite's one writer), not when the records are
    written: two transactions that commit in either order still leave numbers without a gap, and a number,
    once committed, never changes, so a resend carries the same one.
    """
    ids = (
        await session.exec(
            select(SyncRecord.id)
            .where(col(SyncRecord.sequence).is_(None))
            .order_by(col(SyncRecord.id))
            .limit(NUMBER_AT_ONCE)
        )
    ).all()
    if not ids:
        return 0
    first = link.numbered_sequence + 1
    table: Any = SyncRecord.__table__  # type: ignore[attr-defined]
    statement = update(table).where(table.c.id == bindparam("record_id")).values(sequence=bindparam("number"))
    connection = await session.connection()
    await connection.execute(
        statement, [{"record_id": ident, "number": first + offset} for offset, ident in enumerate(ids)]
    )
    link.numbered_sequence = first + len(ids) - 1
    session.add(link)
    return len(ids)


async def batch_after(session: AsyncSession, acked: int, size: int) -> list[SyncRecord]:
    """The next records to send: those after `acked`, in sequence order."""
    return list(
        (
            await session.exec(
                select(SyncRecord)
                .where(col(SyncRecord.sequence) > acked)
                .order_by(col(SyncRecord.sequence))
                .limit(size)
            )
        ).all()
    )


async def acknowledged(session: AsyncSession, link_id: int, acked: int, *, sent_after: int) -> None:
    """Head office holds every record up to `acked` (its answer to a batch sent after `sent_after`): resume after it.

    Two senders (a web process each, or `brigade sync now` beside the server) may answer out of order; the mark
    only moves forward then. An answer below what this batch started from means head office lost records (a
    restore from a backup): the mark goes back, and they are sent again.
    """
    link = await session.get(HeadOfficeLink, link_id, with_for_update=True)
    if link is None:
        return
    link.acked_sequence = acked if acked < sent_after else max(link.acked_sequence, acked)
    link.last_contact_at = utcnow()
    link.last_error = None
    link.failures = 0
    link.next_attempt_at = None
    session.add(link)


async def failed(session: AsyncSession, link_id: int, error: str, *, revoked: bool = False) -> None:
    """A send failed: say why, and wait longer before each new try (a revoked venue stops trying)."""
    link = await session.get(HeadOfficeLink, link_id, with_for_update=True)
    if link is None:
        return
    now = utcnow()
    link.last_error = error[:2000]
    link.last_error_at = now
    link.failures += 1
    link.next_attempt_at = now + timedelta(seconds=backoff_seconds(link.failures))
    if revoked:
        link.status = LinkStatus.REVOKED
        link.next_attempt_at = None
    session.add(link)


async def prune(session: AsyncSession, *, before: datetime, limit: int = PRUNE_AT_ONCE) -> int:
    """Delete up to `limit` records head office acknowledged that were written before `before`; how many went.

    Only while linked, and only at or below the acknowledged mark: a record head office does not hold yet (queued,
    unnumbered, or above a gap) is never touched. Head office keeps every record it received (the system of
    record); the venue keeps the recent ones, so a head office restored from a backup of the last days can
    still be sent what it lost.
    """
    link = await current_link(session, lock=True)
    if link is None or link.status is not LinkStatus.LINKED or link.acked_sequence < 1:
        return 0
    ids = (
        await session.exec(
            select(SyncRecord.id)
            .where(
                col(SyncRecord.sequence).is_not(None),
                col(SyncRecord.sequence) <= link.acked_sequence,
                col(SyncRecord.created_at) < before,
            )
            .order_by(col(SyncRecord.sequence))
            .limit(limit)
        )
    ).all()
    if not ids:
        return 0
    await session.exec(delete(SyncRecord).where(col(SyncRecord.id).in_(list(ids))))
    return len(ids)


async def lowest_kept(session: AsyncSession) -> int | None:
    """The lowest sequence this venue still keeps (None when it keeps no numbered record)."""
    found = (await session.exec(select(func.min(SyncRecord.sequence)))).one()
    return int(found) if found is not None else None
