"""The morning check: each venue's business days as head office holds them, and the reconciliation of each
venue's Z report with what head office posted for that venue and day.

A day is *waiting* while its records arrive but its Z report has not, *received* once the Z report is held
but some of the day is not yet booked, *posted* when the Z report and every entry of the day are booked,
and an *exception* while any record of the day could not be booked (with the reasons, and a retry).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine
from app.closes.mappings import ROLE_ACCOUNTS
from app.closes.models import MappingKind, PostingMapping
from app.group.books import BOOKED_KINDS, DAY_CLOSED, JOURNAL_ENTRY, tender_label
from app.group.books_models import PostingStatus, VenuePosting
from app.group.models import Venue, VenueRecord

WAITING = "waiting"
RECEIVED = "received"
POSTED = "posted"
EXCEPTION = "exception"


@dataclass
class Statement:
    """One venue's business day at head office."""

    venue: str
    venue_name: str
    day: dt.date
    status: str = WAITING
    entries_posted: int = 0
    stock_moves: int = 0
    z_received: bool = False
    unbooked: int = 0
    exceptions: list[tuple[int, str]] = field(default_factory=list)

    @property
    def reasons(self) -> list[tuple[str, list[int]]]:
        """Each reason once, with the records it holds back."""
        grouped: dict[str, list[int]] = {}
        for sequence, reason in sorted(self.exceptions):
            grouped.setdefault(reason, []).append(sequence)
        return list(grouped.items())

    @property
    def summary(self) -> str:
        """What a manager reads in one line."""
        if self.status == EXCEPTION:
            return f"{len(self.exceptions)} record(s) could not be booked"
        if self.status == WAITING:
            return f"Z report not received yet; {self.entries_posted} entries booked so far"
        if self.status == RECEIVED:
            return f"Z report received; {self.unbooked} record(s) still to book"
        return f"Z report received and {self.entries_posted} entries booked"


async def statements(
    session: AsyncSession, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[Statement]:
    """Every venue's business days from `start` to `end` (by default, the last 14 days with records), newest first.

    Counted in the database, so the page costs the same after a year of trading as after a day.
    """
    if start is None and end is None:
        days = (
            await session.exec(
                select(col(VenuePosting.business_day))
                .where(col(VenuePosting.business_day).is_not(None))
                .distinct()
                .order_by(col(VenuePosting.business_day).desc())
                .limit(14)
            )
        ).all()
        if not days:
            return []
        start = min(day for day in days if day is not None)
    window: list[Any] = [col(VenuePosting.business_day).is_not(None)]
    if start is not None:
        window.append(col(VenuePosting.business_day) >= start)
    if end is not None:
        window.append(col(VenuePosting.business_day) <= end)
    counts = (
        await session.exec(
            select(col(VenuePosting.venue_id), col(VenuePosting.business_day), col(VenuePosting.kind), func.count())
            .where(*window, VenuePosting.status == PostingStatus.POSTED)
            .group_by(col(VenuePosting.venue_id), col(VenuePosting.business_day), col(VenuePosting.kind))
        )
    ).all()
    failed = (
        await session.exec(
            select(
                col(VenuePosting.venue_id),
                col(VenuePosting.business_day),
                col(VenuePosting.sequence),
                col(VenuePosting.reason),
            ).where(*window, VenuePosting.status == PostingStatus.EXCEPTION)
        )
    ).all()
    venues = {v.id: v for v in (await session.exec(select(Venue))).all()}
    unbooked = await _unbooked(session)
    found: dict[tuple[int, dt.date], Statement] = {}

    def statement(venue_id: int, day: dt.date | None) -> Statement:
        assert day is not None
        venue = venues[venue_id]
        return found.setdefault((venue_id, day), Statement(venue.code, venue.name, day))

    for venue_id, day, kind, count in counts:
        item = statement(venue_id, day)
        if kind == DAY_CLOSED:
            item.z_received = True
        elif kind == JOURNAL_ENTRY:
            item.entries_posted += int(count)
        else:
            item.stock_moves += int(count)
    for venue_id, day, sequence, reason in failed:
        statement(venue_id, day).exceptions.append((sequence, reason))
    for (venue_id, _day), item in found.items():
        item.unbooked = unbooked.get(venue_id, 0) if item.z_received else 0
        if item.exceptions:
            item.status = EXCEPTION
        elif not item.z_received:
            item.status = WAITING
        elif item.unbooked:
            item.status = RECEIVED
        else:
            item.status = POSTED
    return sorted(found.values(), key=lambda s: (-s.day.toordinal(), s.venue))


async def _unbooked(session: AsyncSession) -> dict[int, int]:
    """Per venue, how many held records that book something have no booking yet."""
    rows = (
        await session.exec(
            select(VenueRecord.venue_id, func.count())
            .outerjoin(
                VenuePosting,
                (col(VenuePosting.venue_id) == col(VenueRecord.venue_id))
                & (col(VenuePosting.sequence) == col(VenueRecord.sequence)),
            )
            .where(col(VenueRecord.kind).in_(BOOKED_KINDS), col(VenuePosting.id).is_(None))
            .group_by(col(VenueRecord.venue_id))
        )
    ).all()
    return {int(venue_id): int(count) for venue_id, count in rows}


# Reconciliation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One figure of one venue's day where the Z report and head office's books disagree."""

    venue: str
    figure: str
    z_cents: int | None
    posted_cents: int | None

    @property
    def difference_cents(self) -> int:
        """Posted less the Z report (a missing side counts as zero)."""
        return (self.posted_cents or 0) - (self.z_cents or 0)

    def as_json(self) -> dict[str, Any]:
        """The difference as `brigade reconcile --json` prints it."""
        return {
            "venue": self.venue,
            "figure": self.figure,
            "z_cents": self.z_cents,
            "posted_cents": self.posted_cents,
            "difference_cents": self.difference_cents,
        }


@dataclass
class VenueDay:
    """One venue's day: its Z report's figures beside what head office posted, and every difference."""

    venue: str
    venue_name: str
    z_received: bool
    figures: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Reconciliation:
    """The group's day, venue by venue."""

    day: dt.date
    venues: list[VenueDay] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        """Every difference of every venue."""
        return [d for v in self.venues for d in v.differences]

    def as_json(self) -> dict[str, Any]:
        """What `brigade reconcile --json` prints."""
        return {
            "day": self.day.isoformat(),
            "venues": [
                {
                    "venue": v.venue,
                    "z_received": v.z_received,
                    "figures": [{"figure": f, "z_cents": z, "posted_cents": p} for f, z, p in v.figures],
                    "differences": [d.as_json() for d in v.differences],
                }
                for v in self.venues
            ],
            "differences": [d.as_json() for d in self.differences],
        }


async def _roles(session: AsyncSession) -> dict[str, str]:
    """The group chart's house accounts (head office's own mappings, else the standard chart's)."""
    roles = dict(ROLE_ACCOUNTS)
    for row in (await session.exec(select(PostingMapping).where(PostingMapping.kind == MappingKind.ACCOUNT))).all():
        if row.account_code:
            roles[row.subject] = row.account_code
    return roles


def _z_figures(z: dict[str, Any]) -> dict[str, int]:
    figures = {
        "Net sales": int(z.get("net_sales_cents") or 0),
        "Service charge": int(z.get("service_charge_cents") or 0),
        "Tax": int(z.get("tax_cents") or 0),
        "Tips": int(z.get("tips_cents") or 0),
        "Over/short": int(z.get("over_short_cents") or 0),
        "COGS": int(z.get("cost_cents") or 0),
    }
    for label, _count, cents in z.get("tenders") or []:
        figures[f"Tender: {label}"] = figures.get(f"Tender: {label}", 0) + int(cents)
    return figures


async def _posted_figures(session: AsyncSession, venue_id: int, day: dt.date, roles: dict[str, str]) -> dict[str, int]:
    entry_ids = select(VenuePosting.entry_id).where(
        VenuePosting.venue_id == venue_id,
        VenuePosting.business_day == day,
        VenuePosting.status == PostingStatus.POSTED,
        col(VenuePosting.entry_id).is_not(None),
    )
    rows = (
        await session.exec(
            select(JournalEntry.source_type, JournalEntry.source_id, JournalLine, Account.code)
            .join(JournalLine, col(JournalLine.entry_id) == col(JournalEntry.id))
            .join(Account, col(Account.id) == col(JournalLine.account_id))
            .where(col(JournalEntry.id).in_(entry_ids))
        )
    ).all()
    net = tax = tips = cogs = over_short = service = 0
    tenders: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    for source_type, source_id, line, code in rows:
        dims = line.dimensions or {}
        if source_type == "drawer":
            if code == roles.get("over_short"):
                over_short -= line.amount_cents
            continue
        if source_type not in ("check", "refund") or source_id.endswith(":stock"):
            continue
        if "category" in dims or code in (roles.get("discounts"), roles.get("comps"), roles.get("promotions")):
            net -= line.amount_cents
        if "tax" in dims:
            tax -= line.amount_cents
        if code == roles.get("tips_payable"):
            tips -= line.amount_cents
        if code == roles.get("service_charge") and "category" not in dims:
            service -= line.amount_cents
        if code == roles.get("cogs"):
            cogs += line.amount_cents
        if "tender" in dims:
            tender = dims["tender"]
            tenders[tender] += line.amount_cents
            label = tender_label(line.memo)
            if label:
                names.setdefault(tender, label)
    figures = {
        "Net sales": net,
        "Service charge": service,
        "Tax": tax,
        "Tips": tips,
        "Over/short": over_short,
        "COGS": cogs,
    }
    for tender, cents in tenders.items():
        key = f"Tender: {names.get(tender, f'Tender {tender}')}"
        figures[key] = figures.get(key, 0) + cents
    return figures


async def reconcile(session: AsyncSession, day: dt.date) -> Reconciliation:
    """Each venue's Z report for `day` beside what head office posted for that venue and day."""
    roles = await _roles(session)
    result = Reconciliation(day=day)
    venue_ids = set(
        (await session.exec(select(VenuePosting.venue_id).where(VenuePosting.business_day == day).distinct())).all()
    )
    venues = (await session.exec(select(Venue).order_by(col(Venue.code)))).all()
    for venue in venues:
        if venue.id not in venue_ids:
            continue
        z_record = (
            await session.exec(
                select(VenueRecord)
                .join(
                    VenuePosting,
                    (col(VenuePosting.venue_id) == col(VenueRecord.venue_id))
                    & (col(VenuePosting.sequence) == col(VenueRecord.sequence)),
                )
                .where(
                    VenueRecord.venue_id == venue.id,
                    VenueRecord.kind == DAY_CLOSED,
                    VenuePosting.business_day == day,
                )
                .order_by(col(VenueRecord.sequence).desc())
            )
        ).first()
        item = VenueDay(venue.code, venue.name, z_received=z_record is not None)
        posted = await _posted_figures(session, venue.id or 0, day, roles)
        if z_record is None:
            item.differences.append(Difference(venue.code, "Z report not received", None, None))
            item.figures = [(name, None, cents) for name, cents in posted.items()]
        else:
            z = _z_figures((z_record.payload.get("business_day") or {}).get("z_report") or {})
            for name in [*z, *(k for k in posted if k not in z)]:
                z_cents, posted_cents = z.get(name), posted.get(name)
                if not z_cents and not posted_cents:
                    continue
                item.figures.append((name, z_cents, posted_cents))
                if (z_cents or 0) != (posted_cents or 0):
                    item.differences.append(Difference(venue.code, name, z_cents, posted_cents))
        result.venues.append(item)
    return result
