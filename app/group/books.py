"""Head office books what the venues sent: each venue journal entry posted once into the group's ledger.

A venue's entry names its own accounts; the venue's mappings say which group account each one lands on
(the same code, by default, when the group chart has it). The posted entry keeps the venue's dimensions
and adds `venue`, so every export and report can tell the venues apart. A record that cannot be booked
(an account with no home in the group chart, a stock location with no warehouse, a locked day) becomes
an exception with its reason, and nothing of it is posted; a retry books it once the cause is fixed.

Posting is idempotent: each (venue, sequence) gets one `group_venue_posting` row, and its entry is posted
under the key `venue:CODE:<record key>`, so running posting again, or twice at once, books nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import and_, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account
from app.accounting.services import EntryToPost, PostingLine, post_entries, post_entry
from app.group.books_models import MapKind, PostingStatus, VenueMapping, VenuePostedMark, VenuePosting
from app.group.models import Venue, VenueRecord
from app.inventory.models import StockLocation
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import DomainError, InvalidInput, NotFound
from app.lib.sql import is_postgres

log = logging.getLogger(__name__)

JOURNAL_ENTRY = "journal.entry"
STOCK_MOVE = "stock.move"
DAY_CLOSED = "day.closed"
# The kinds of record that book something at head office; the rest are kept as sent.
BOOKED_KINDS = (JOURNAL_ENTRY, STOCK_MOVE, DAY_CLOSED)
REASON_MAX = 300


class Unmapped(DomainError):
    """A venue record names something the group's mappings do not place; nothing of it is posted."""

    status_code = 409
    code = "unmapped"


# Mappings -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Maps:
    """A venue's mappings and what head office has to map onto, for one posting run."""

    accounts: Mapping[str, str]
    tenders: Mapping[str, str]
    locations: Mapping[str, str]
    group_accounts: frozenset[str]
    warehouses: frozenset[str]

    def account(self, code: str, tender: str | None) -> str:
        """The group account for a venue line: the tender's, else the account's, else the same code."""
        if tender is not None and tender in self.tenders:
            return self.tenders[tender]
        if code in self.accounts:
            return self.accounts[code]
        if code in self.group_accounts:
            return code
        raise Unmapped(
            f"Venue account {code} is not mapped to the group chart, and the group chart has no live account {code}."
        )

    def warehouse(self, location: str) -> str:
        """The head-office warehouse for a venue stock location: its mapping, else the one of the same name."""
        if location in self.locations:
            return self.locations[location]
        if location in self.warehouses:
            return location
        raise Unmapped(f"Venue stock location {location} is not mapped to a head-office warehouse.")


async def load_maps(session: AsyncSession, venue_id: int) -> Maps:
    """The venue's mappings, the group's live accounts and head office's warehouses."""
    rows = (await session.exec(select(VenueMapping).where(VenueMapping.venue_id == venue_id))).all()
    by_kind: dict[MapKind, dict[str, str]] = {kind: {} for kind in MapKind}
    for row in rows:
        by_kind[row.kind][row.subject] = row.target
    codes = (await session.exec(select(Account.code).where(col(Account.archived_at).is_(None)))).all()
    warehouses = (await session.exec(select(StockLocation.name).where(col(StockLocation.archived_at).is_(None)))).all()
    return Maps(
        accounts=by_kind[MapKind.ACCOUNT],
        tenders=by_kind[MapKind.TENDER],
        locations=by_kind[MapKind.LOCATION],
        group_accounts=frozenset(codes),
        warehouses=frozenset(warehouses),
    )


@dataclass(frozen=True)
class MappingRow:
    """One venue subject as the mapping page shows it: where it lands now, and whether by default."""

    kind: MapKind
    subject: str
    label: str
    target: str | None
    explicit: bool


async def subjects(session: AsyncSession, venue: Venue) -> list[MappingRow]:
    """Every account, tender and stock location the venue has sent, with where each lands (or None)."""
    maps = await load_maps(session, venue.id or 0)
    seen: dict[tuple[MapKind, str], str] = {}
    records = (
        await session.exec(
            select(VenueRecord.kind, VenueRecord.payload).where(
                VenueRecord.venue_id == venue.id, col(VenueRecord.kind).in_([JOURNAL_ENTRY, STOCK_MOVE])
            )
        )
    ).all()
    for kind, payload in records:
        if kind == STOCK_MOVE:
            name = payload.get("location")
            if isinstance(name, str):
                seen.setdefault((MapKind.LOCATION, name), name)
            continue
        for code in (payload.get("accounts") or {}).values():
            seen.setdefault((MapKind.ACCOUNT, str(code)), "")
        for line in payload.get("lines") or []:
            tender = (line.get("dimensions") or {}).get("tender")
            if tender is not None:
                memo = str(line.get("memo") or "")
                label = tender_label(memo)
                if label or (MapKind.TENDER, str(tender)) not in seen:
                    seen[(MapKind.TENDER, str(tender))] = label or f"Tender {tender}"
    explicit = (await session.exec(select(VenueMapping).where(VenueMapping.venue_id == venue.id))).all()
    for row in explicit:
        seen.setdefault((row.kind, row.subject), row.label)
    rows: list[MappingRow] = []
    for (kind, subject), label in seen.items():
        stored = {MapKind.ACCOUNT: maps.accounts, MapKind.TENDER: maps.tenders, MapKind.LOCATION: maps.locations}
        target: str | None = stored[kind].get(subject)
        is_explicit = target is not None
        if target is None and kind is MapKind.ACCOUNT and subject in maps.group_accounts:
            target = subject
        if target is None and kind is MapKind.LOCATION and subject in maps.warehouses:
            target = subject
        rows.append(MappingRow(kind, subject, label, target, is_explicit))
    order = {MapKind.ACCOUNT: 0, MapKind.TENDER: 1, MapKind.LOCATION: 2}
    return sorted(rows, key=lambda r: (order[r.kind], r.subject.zfill(12)))


def tender_label(memo: str) -> str:
    """A tender's name from the memo of a takings line ('Card', 'Refund: Card'); '' for other memos."""
    if memo.startswith("Refund: "):
        memo = memo.removeprefix("Refund: ")
    return "" if memo in ("", "Takings", "tender", "Tip adjustment") else memo


async def save_mapping(
    session: AsyncSession,
    *,
    venue_code: str,
    kind: MapKind | str,
    subject: str,
    target: str,
    label: str = "",
    actor_id: int | None = None,
) -> VenueMapping | None:
    """Point a venue's account or tender at a group account, or its stock location at a warehouse.

    An empty target removes the mapping (the default applies again). Refused, changing nothing, when the
    target is not a live group account or a head-office warehouse.
    """
    venue = (await session.exec(select(Venue).where(Venue.code == venue_code.strip().upper()))).first()
    if venue is None:
        raise NotFound(f"The group has no venue {venue_code.strip().upper()}.")
    try:
        kind = MapKind(kind)
    except ValueError:
        raise InvalidInput("Unknown kind of mapping.") from None
    subject = subject.strip()
    if not subject or len(subject) > 80:
        raise InvalidInput("Say which venue account, tender or stock location to map.")
    target = target.strip()
    row = (
        await session.exec(
            select(VenueMapping).where(
                VenueMapping.venue_id == venue.id, VenueMapping.kind == kind, VenueMapping.subject == subject
            )
        )
    ).first()
    before = row.target if row else None
    if not target:
        if row is not None:
            await session.delete(row)
        await audit.record(
            session,
            "group.mapping_clear",
            actor_id=actor_id,
            subject=f"venue:{venue.code}:{kind.value}:{subject}",
            before={"target": before},
        )
        return None
    if kind is MapKind.LOCATION:
        warehouse = (
            await session.exec(
                select(StockLocation).where(StockLocation.name == target, col(StockLocation.archived_at).is_(None))
            )
        ).first()
        if warehouse is None:
            raise InvalidInput(f"Head office has no warehouse {target}; add it under stock locations first.")
    else:
        account = (await session.exec(select(Account).where(Account.code == target))).first()
        if account is None or account.archived_at is not None:
            raise InvalidInput(f"Account {target} is not a live account of the group chart; choose another.")
    row = row or VenueMapping(venue_id=venue.id or 0, kind=kind, subject=subject, target=target)
    row.target = target
    row.label = label.strip()[:120] or row.label
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "group.mapping_save",
        actor_id=actor_id,
        subject=f"venue:{venue.code}:{kind.value}:{subject}",
        before={"target": before},
        after={"target": target},
    )
    return row


# Posting ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingRun:
    """What one posting run did: records booked, and records that became (or stayed) exceptions."""

    posted: int = 0
    exceptions: int = 0


@dataclass(frozen=True)
class _Booked:
    day: dt.date | None
    entry_id: int | None = None
    warehouse: str | None = None


def _day(value: Any, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Unmapped(f"The record's {label} is not a date.") from None


def _entry_to_post(venue: Venue, record: VenueRecord, maps: Maps) -> EntryToPost:
    """The group entry a venue journal entry becomes, its accounts mapped; `Unmapped` when one has no home."""
    payload = record.payload
    entry = payload.get("entry") or {}
    codes: dict[str, str] = {str(k): str(v) for k, v in (payload.get("accounts") or {}).items()}
    day = _day(entry.get("date"), "date")
    lines: list[PostingLine] = []
    for line in sorted(payload.get("lines") or [], key=lambda item: int(item.get("position") or 0)):
        code = codes.get(str(line.get("account_id")))
        if code is None:
            raise Unmapped(f"The entry does not name the venue account #{line.get('account_id')}; resend it.")
        dimensions = {str(k): str(v) for k, v in (line.get("dimensions") or {}).items()}
        target = maps.account(code, dimensions.get("tender"))
        lines.append(
            PostingLine(
                target, int(line["amount_cents"]), str(line.get("memo") or ""), {**dimensions, "venue": venue.code}
            )
        )
    return EntryToPost(
        date=day,
        description=f"{venue.code}: {entry.get('description') or record.key}"[:200],
        lines=lines,
        source_type=str(entry.get("source_type") or "venue")[:60],
        source_id=f"{venue.code}:{entry.get('source_id') or record.sequence}"[:80],
        idempotency_key=f"venue:{venue.code}:{record.key}"[:200],
    )


async def _book_entry(session: AsyncSession, venue: Venue, record: VenueRecord, maps: Maps) -> _Booked:
    spec = _entry_to_post(venue, record, maps)
    posted = await post_entry(
        session,
        date=spec.date,
        description=spec.description,
        lines=spec.lines,
        source_type=spec.source_type,
        source_id=spec.source_id,
        idempotency_key=spec.idempotency_key,
    )
    return _Booked(spec.date, entry_id=posted.id)


def _local_day(venue: Venue, at: dt.datetime) -> dt.date:
    try:
        return at.astimezone(ZoneInfo(venue.timezone)).date()
    except (ValueError, KeyError):
        return at.date()


async def _book(session: AsyncSession, venue: Venue, record: VenueRecord, maps: Maps) -> _Booked:
    if record.kind == JOURNAL_ENTRY:
        return await _book_entry(session, venue, record, maps)
    if record.kind == STOCK_MOVE:
        location = record.payload.get("location")
        if not isinstance(location, str):
            raise Unmapped("The stock move does not name its venue stock location; resend it.")
        # A stock move carries no business day of its own; only one that cannot be booked shows on a day.
        return _Booked(None, warehouse=maps.warehouse(location))
    business_day = record.payload.get("business_day") or {}
    return _Booked(_day(business_day.get("day"), "business day"))


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:REASON_MAX]


async def post_pending(
    session: AsyncSession, *, venue_id: int | None = None, retry: bool = False, limit: int = 5000
) -> PostingRun:
    """Book every held record not yet booked (with `retry`, the exceptions too), in sequence order.

    Only records at or below a venue's acknowledged mark are booked, so a day is booked in the order it
    happened. Each record is booked whole in its own savepoint, or not at all and noted as an exception.
    """
    venues = {v.id: v for v in (await session.exec(select(Venue))).all()}
    marks = {m.venue_id: m.sequence for m in (await session.exec(select(VenuePostedMark))).all()}
    posting = VenuePosting
    query = (
        select(VenueRecord, posting)
        .join(Venue, col(Venue.id) == col(VenueRecord.venue_id))
        .outerjoin(
            posting,
            and_(
                col(posting.venue_id) == col(VenueRecord.venue_id), col(posting.sequence) == col(VenueRecord.sequence)
            ),
        )
        .where(col(VenueRecord.kind).in_(BOOKED_KINDS), col(VenueRecord.sequence) <= col(Venue.acked_sequence))
        .order_by(col(VenueRecord.venue_id), col(VenueRecord.sequence))
        .limit(limit)
    )
    if retry:
        query = query.where(col(posting.id).is_(None) | (col(posting.status) == PostingStatus.EXCEPTION))
    else:
        query = query.where(col(posting.id).is_(None))
    if venue_id is not None:
        query = query.where(VenueRecord.venue_id == venue_id)
    if not retry and venue_id is not None:
        # Only what lies above the venue's mark: one index range, however long the venue's history.
        query = query.where(col(VenueRecord.sequence) > marks.get(venue_id, 0))
    elif not retry:
        query = query.outerjoin(VenuePostedMark, col(VenuePostedMark.venue_id) == col(VenueRecord.venue_id)).where(
            col(VenueRecord.sequence) > func.coalesce(col(VenuePostedMark.sequence), 0)
        )
    rows: Sequence[tuple[VenueRecord, VenuePosting | None]] = (await session.exec(query)).all()
    maps: dict[int, Maps] = {}
    posted = exceptions = 0
    # Records booked for the first time are booked together: their journal entries in one bulk posting, and every
    # posting row (posted or exception) in one statement. An exception booked again goes one by one below.
    fresh: list[dict[str, Any]] = []
    entries: list[tuple[Venue, VenueRecord, EntryToPost]] = []
    for record, existing in rows:
        venue = venues[record.venue_id]
        if record.venue_id not in maps:
            maps[record.venue_id] = await load_maps(session, record.venue_id)
        if existing is None:
            try:
                if record.kind == JOURNAL_ENTRY:
                    entries.append((venue, record, _entry_to_post(venue, record, maps[record.venue_id])))
                    continue
                booked = await _book(session, venue, record, maps[record.venue_id])
            except DomainError as error:
                fresh.append(_exception_row(venue, record, _reason(error)))
                continue
            fresh.append(_posted_row(record, booked))
            continue
        try:
            async with session.begin_nested():
                booked = await _book(session, venue, record, maps[record.venue_id])
                existing.status = PostingStatus.POSTED
                existing.reason = ""
                existing.business_day = booked.day
                existing.entry_id = booked.entry_id
                existing.warehouse = booked.warehouse
                existing.attempts += 1
                existing.updated_at = utcnow()
                session.add(existing)
                await session.flush()
            posted += 1
        except DomainError as error:
            exceptions += 1
            await _note_exception(session, venue, record, existing, _reason(error))
    if entries:
        outcomes = await post_entries(session, [spec for _, _, spec in entries])
        for (venue, record, spec), outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                fresh.append(_exception_row(venue, record, _reason(outcome)))
            else:
                fresh.append(_posted_row(record, _Booked(spec.date, entry_id=outcome)))
    if fresh:
        # One statement for them all; a (venue, sequence) a concurrent run booked first keeps its row.
        fresh.sort(key=lambda row: (row["venue_id"], row["sequence"]))
        table = VenuePosting.__table__  # type: ignore[attr-defined]
        builder = postgresql.insert if is_postgres(session) else sqlite.insert
        statement = builder(table).on_conflict_do_nothing(index_elements=["venue_id", "sequence"])
        for (status,) in (await session.exec(statement.returning(table.c.status), params=fresh)).all():
            if status == PostingStatus.POSTED:
                posted += 1
            else:
                exceptions += 1
    if not retry:
        await _advance_marks(session, venues, marks, rows, venue_id=venue_id, limit=limit)
    return PostingRun(posted=posted, exceptions=exceptions)


async def _advance_marks(
    session: AsyncSession,
    venues: Mapping[int | None, Venue],
    marks: Mapping[int, int],
    rows: Sequence[tuple[VenueRecord, VenuePosting | None]],
    *,
    venue_id: int | None,
    limit: int,
) -> None:
    """Move each venue's mark up to what this run has seen booked.

    The run read every unbooked record up to each venue's acknowledged mark (read before it looked), so all of
    them now have their posting row; a run cut short by `limit` has seen its last venue only up to its last row.
    """
    last = rows[-1][0] if len(rows) >= limit and rows else None
    ahead: dict[int, int] = {}
    for vid, venue in venues.items():
        if vid is None or (venue_id is not None and vid != venue_id):
            continue
        if last is None or vid < last.venue_id:
            high = venue.acked_sequence
        elif vid == last.venue_id:
            high = last.sequence
        else:
            continue
        if high > marks.get(vid, 0):
            ahead[vid] = high
    if not ahead:
        return
    table = VenuePostedMark.__table__  # type: ignore[attr-defined]
    builder = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = builder(table).values([{"venue_id": vid, "sequence": high} for vid, high in sorted(ahead.items())])
    # A concurrent run that saw further keeps its mark.
    statement = statement.on_conflict_do_update(
        index_elements=["venue_id"],
        set_={
            "sequence": case(
                (statement.excluded.sequence > table.c.sequence, statement.excluded.sequence), else_=table.c.sequence
            )
        },
    )
    await session.exec(statement)


def _posted_row(record: VenueRecord, booked: _Booked) -> dict[str, Any]:
    return {
        "venue_id": record.venue_id,
        "sequence": record.sequence,
        "kind": record.kind,
        "business_day": booked.day,
        "status": PostingStatus.POSTED,
        "reason": "",
        "entry_id": booked.entry_id,
        "warehouse": booked.warehouse,
        "attempts": 1,
        "updated_at": utcnow(),
    }


def _exception_row(venue: Venue, record: VenueRecord, reason: str) -> dict[str, Any]:
    return {
        "venue_id": record.venue_id,
        "sequence": record.sequence,
        "kind": record.kind,
        "business_day": _record_day(venue, record),
        "status": PostingStatus.EXCEPTION,
        "reason": reason,
        "entry_id": None,
        "warehouse": None,
        "attempts": 1,
        "updated_at": utcnow(),
    }


def _record_day(venue: Venue, record: VenueRecord) -> dt.date | None:
    """The business day a record that could not be booked shows on, when it names one."""
    if record.kind == JOURNAL_ENTRY:
        raw = (record.payload.get("entry") or {}).get("date")
    elif record.kind == DAY_CLOSED:
        raw = (record.payload.get("business_day") or {}).get("day")
    else:
        raw = _local_day(venue, record.occurred_at).isoformat()
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        return None


async def _note_exception(
    session: AsyncSession, venue: Venue, record: VenueRecord, existing: VenuePosting, reason: str
) -> None:
    """An exception booked again that still cannot be booked: its row says why, now."""
    existing.status = PostingStatus.EXCEPTION
    existing.reason = reason
    existing.business_day = _record_day(venue, record)
    existing.entry_id = None
    existing.attempts += 1
    existing.updated_at = utcnow()
    session.add(existing)
    await session.flush()


async def retry(session: AsyncSession, *, venue_code: str | None = None, actor_id: int | None = None) -> PostingRun:
    """Book the exceptions again (one venue's, or every venue's), after their cause was fixed."""
    venue_id: int | None = None
    if venue_code:
        venue = (await session.exec(select(Venue).where(Venue.code == venue_code.strip().upper()))).first()
        if venue is None:
            raise NotFound(f"The group has no venue {venue_code.strip().upper()}.")
        venue_id = venue.id
    run = await post_pending(session, venue_id=venue_id, retry=True)
    await audit.record(
        session,
        "group.posting_retry",
        actor_id=actor_id,
        subject=f"venue:{venue_code.upper()}" if venue_code else "group",
        after={"posted": run.posted, "exceptions": run.exceptions},
    )
    return run


async def venue_id(session: AsyncSession, code: str) -> int:
    """The id of the venue with this code, or a refusal naming it."""
    venue = (await session.exec(select(Venue).where(Venue.code == code.strip().upper()))).first()
    if venue is None:
        raise NotFound(f"The group has no venue {code.strip().upper()}.")
    return venue.id or 0


async def venue_entries(session: AsyncSession, code: str) -> tuple[Any, str]:
    """A query of the group entries booked for one venue, and a title for its books."""
    venue = (await session.exec(select(Venue).where(Venue.code == code.strip().upper()))).first()
    if venue is None:
        raise NotFound(f"The group has no venue {code.strip().upper()}.")
    only = select(VenuePosting.entry_id).where(
        VenuePosting.venue_id == venue.id, col(VenuePosting.entry_id).is_not(None)
    )
    return only, f"{venue.name} ({venue.code})"
