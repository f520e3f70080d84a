"""Reversing posted entries, and finding the entries a source posted."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine
from app.accounting.services import DESCRIPTION_MAX, REASON_MAX, PostingLine, _post, _require_date, entry_lines
from app.lib import audit
from app.lib.errors import Conflict, NotFound
from app.lib.inputs import clean_text


async def reversal_of(session: AsyncSession, entry_id: int) -> JournalEntry | None:
    """The entry that reversed `entry_id`, if any."""
    return (await session.exec(select(JournalEntry).where(JournalEntry.reverses_id == entry_id))).first()


async def reverse_entry(
    session: AsyncSession,
    entry_id: int,
    reason: str,
    *,
    date: dt.date | None = None,
    actor_id: int | None = None,
) -> JournalEntry:
    """Cancel a posted entry with its mirror image, dated `date` (default: the original's day).

    The original stays as it was; the reversal points at it. Reversing an entry twice returns the
    first reversal; a reversal itself cannot be reversed (post a fresh entry instead).
    """
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX)
    original = await session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound(f"There is no journal entry #{entry_id}.")
    if original.reverses_id is not None:
        raise Conflict(
            f"Entry #{entry_id} is itself the reversal of #{original.reverses_id}; post a new entry instead."
        )
    existing = await reversal_of(session, entry_id)
    if existing is not None:
        return existing
    day = _require_date(date) if date is not None else original.date
    accounts = {
        a.id: a.code
        for a in (
            await session.exec(
                select(Account).where(
                    col(Account.id).in_(select(JournalLine.account_id).where(JournalLine.entry_id == entry_id))
                )
            )
        ).all()
    }
    mirror = [
        PostingLine(
            account=accounts[line.account_id],
            amount_cents=-line.amount_cents,
            memo=line.memo,
            dimensions=dict(line.dimensions),
        )
        for line in await entry_lines(session, entry_id)
    ]
    description = f"Reversal of #{entry_id}: {original.description}"[:DESCRIPTION_MAX]
    entry = await _post(
        session,
        day=day,
        description=description,
        lines=mirror,
        source_type=original.source_type,
        source_id=original.source_id,
        key=f"reversal:{entry_id}",
        actor_id=actor_id,
        reverses=original,
        reason=reason,
    )
    await audit.record(
        session,
        "accounting.entry.reverse",
        actor_id=actor_id,
        subject=f"journal_entry:{entry_id}",
        reason=reason,
        after={"reversal_id": entry.id, "date": day.isoformat()},
    )
    return entry


async def entries_for_source(session: AsyncSession, source_type: str, source_id: str | int) -> list[JournalEntry]:
    """Every entry posted for one source (originals and reversals), oldest first."""
    return list(
        (
            await session.exec(
                select(JournalEntry)
                .where(JournalEntry.source_type == source_type, JournalEntry.source_id == str(source_id))
                .order_by(col(JournalEntry.id))
            )
        ).all()
    )
