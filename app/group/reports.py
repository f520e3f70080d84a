"""Head office's reports across venues: sales by venue, day, hour and category; checks, covers, average check.

Every figure is read from what the venues sent and head office booked, aggregated in the database:

- Net sales are the group ledger's sales lines of each venue's checks and refunds (revenue by category, less
  discounts and comps; tax, tips and service charge left out), the same definition as a venue's Z report.
- Net sales by category are after discounts and comps, as the Z report's categories: each check's journal entry
  record carries what its posting netted per category (`app/sync/capture.py`). An entry sent before records
  carried it counts its categories gross, with its discounts and comps as bars of their own.
- The day is the venue's business day (its time zone and cutoff hour), as the venue dated the entry; the hour is
  the hour (in the venue's time zone) at which the venue booked it, i.e. the check closed, and hours run from the
  start of the business day, so 01:00 after midnight comes after 23:00.
- Checks and covers are the venue's closed checks that were not reopened, on the business day of their entry.
- Ticket times count each ticket on the venue's business day of its firing, as the venue's own report does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Float, Integer, String, cast, func, literal, or_
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import and_, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine
from app.closes.mappings import ROLE_ACCOUNTS
from app.closes.models import MappingKind, PostingMapping
from app.closes.reports import Bar
from app.group.books_models import PostingStatus, VenuePosting
from app.group.models import Venue, VenueRecord
from app.group.replenish import Level, Purchase, Transfer, suggest
from app.sync.capture import CHECK_CLOSED, CHECK_REOPENED, STOCK_MOVE, TICKET_BUMPED

# The venue's ledger sources whose category, discount and comp lines make up net sales.
SALES_SOURCES = ("check", "refund")
# The house roles whose accounts take sales back down to net sales, with the bar each shows as when a record
# does not carry its categories net.
CONTRA_ROLES = {"discounts": "Discounts", "comps": "Comps", "promotions": "Promotions"}


@dataclass
class VenueSales:
    """One venue's figures over the range."""

    code: str
    name: str
    net_sales_cents: int = 0
    checks: int = 0
    covers: int = 0

    @property
    def average_check_cents(self) -> int:
        """Net sales per check, as a venue's own sales report has it."""
        return self.net_sales_cents // self.checks if self.checks else 0


@dataclass
class GroupSales:
    """Sales across venues over a range of business days, cut by venue, day, hour and category."""

    start: dt.date
    end: dt.date
    venue: str | None
    venues: list[VenueSales] = field(default_factory=list)
    by_day: list[Bar] = field(default_factory=list)
    by_hour: list[Bar] = field(default_factory=list)
    by_category: list[Bar] = field(default_factory=list)

    @property
    def net_sales_cents(self) -> int:
        """The group's net sales (the venues shown)."""
        return sum(v.net_sales_cents for v in self.venues)

    @property
    def checks(self) -> int:
        """Closed checks across the venues shown."""
        return sum(v.checks for v in self.venues)

    @property
    def covers(self) -> int:
        """Guests across the venues shown."""
        return sum(v.covers for v in self.venues)

    @property
    def average_check_cents(self) -> int:
        """Net sales per check across the venues shown."""
        return self.net_sales_cents // self.checks if self.checks else 0

    @property
    def empty(self) -> bool:
        """Nothing sold in the range."""
        return not self.checks and not any(v.net_sales_cents for v in self.venues)


async def _roles(session: AsyncSession) -> dict[str, str]:
    roles = dict(ROLE_ACCOUNTS)
    rows = await session.exec(select(PostingMapping).where(PostingMapping.kind == MappingKind.ACCOUNT))
    for row in rows.all():
        if row.account_code:
            roles[row.subject] = row.account_code
    return roles


def _hour_bucket(dialect: str, column: Any) -> Any:
    """The UTC hour a timestamp falls in, as text the database groups by."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


async def group_sales(session: AsyncSession, start: dt.date, end: dt.date, venue: str | None = None) -> GroupSales:
    """Net sales by venue, business day, hour and category; checks, covers and average check per venue."""
    report = GroupSales(start=start, end=end, venue=venue)
    venue_query = select(Venue).order_by(col(Venue.code))
    if venue:
        venue_query = venue_query.where(Venue.code == venue)
    venues = list((await session.exec(venue_query)).all())
    if not venues:
        return report
    by_id = {v.id: VenueSales(code=v.code, name=v.name) for v in venues}
    zones = {v.id: ZoneInfo(v.timezone) for v in venues}
    report.venues = list(by_id.values())
    roles = await _roles(session)
    # Contra revenue: the accounts of the house roles that take sales back down to net (promotions, where kept).
    contra = {roles[role]: label for role, label in CONTRA_ROLES.items() if role in roles}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"

    dimensions: Any = col(JournalLine.dimensions)
    category = dimensions["category"].as_string()
    hour = _hour_bucket(dialect, VenueRecord.occurred_at)
    record: Any = col(VenueRecord.payload)
    netted = record["sales"]["kind"].as_string().is_not(None)
    posted_sales = and_(
        col(VenuePosting.venue_id).in_(list(by_id)),
        col(VenuePosting.status) == PostingStatus.POSTED,
        col(JournalEntry.date) >= start,
        col(JournalEntry.date) <= end,
        col(JournalEntry.source_type).in_(SALES_SOURCES),
        col(JournalEntry.source_id).not_like("%:stock"),
    )
    of_record = and_(
        col(VenueRecord.venue_id) == col(VenuePosting.venue_id),
        col(VenueRecord.sequence) == col(VenuePosting.sequence),
    )
    sales = (
        core_select(
            col(VenuePosting.venue_id),
            col(JournalEntry.date),
            hour.label("hour"),
            category.label("category"),
            func.max(JournalLine.memo).label("memo"),
            col(Account.code),
            netted.label("netted"),
            func.sum(JournalLine.amount_cents).label("cents"),
        )
        .join(JournalEntry, col(JournalEntry.id) == col(VenuePosting.entry_id))
        .join(JournalLine, col(JournalLine.entry_id) == col(JournalEntry.id))
        .join(Account, col(Account.id) == col(JournalLine.account_id))
        .join(VenueRecord, of_record)
        .where(
            posted_sales,
            category.is_not(None) | col(Account.code).in_(list(contra)),
        )
        .group_by(col(VenuePosting.venue_id), col(JournalEntry.date), hour, category, col(Account.code), netted)
    )
    days: dict[dt.date, int] = defaultdict(int)
    hours: dict[int, int] = defaultdict(int)
    # Where each hour falls in the service: hours after midnight that belong to the day before come last.
    hour_rank: dict[int, int] = {}
    categories: dict[str, int] = defaultdict(int)
    for venue_id, day, bucket, category_id, memo, code, is_netted, cents in (
        await session.exec(sales)  # type: ignore[call-overload]
    ).all():
        net = -int(cents or 0)
        by_id[venue_id].net_sales_cents += net
        days[day] += net
        at = dt.datetime.strptime(str(bucket), "%Y-%m-%d %H").replace(tzinfo=dt.UTC).astimezone(zones[venue_id])
        hours[at.hour] += net
        rank = (at.date() - day).days * 24 + at.hour
        hour_rank[at.hour] = max(hour_rank.get(at.hour, rank), rank)
        if is_netted:
            continue  # its categories come net, below
        if category_id is None:
            label = contra.get(code, "Discounts")
        else:
            # A refund line names its category as "Refund: <category>"; it counts against that category.
            label = str(memo or f"Category {category_id}").removeprefix("Refund: ")
        categories[label] += net

    # Net sales by category, after discounts and comps, as each check's posting at the venue netted them.
    net_by_category = (
        core_select(record["sales"]["net_by_category"])
        .select_from(VenuePosting)
        .join(JournalEntry, col(JournalEntry.id) == col(VenuePosting.entry_id))
        .join(VenueRecord, of_record)
        .where(posted_sales, netted)
    )
    for (split,) in (await session.exec(net_by_category)).all():  # type: ignore[call-overload]
        for label, cents in (split or {}).items():
            categories[str(label)] += int(cents)

    # A closing counts while it stands: one later reopened is taken back, as the Z report takes back its sale.
    reopened = aliased(VenueRecord)
    payload: Any = col(VenueRecord.payload)
    closed_key = func.substr(VenueRecord.key, len(CHECK_CLOSED) + 2)
    checks = (
        select(
            VenueRecord.venue_id,
            func.count(col(VenueRecord.id)),
            func.coalesce(func.sum(cast(payload["check"]["covers"].as_string(), Integer)), 0),
        )
        .join(Venue, col(Venue.id) == col(VenueRecord.venue_id))
        .join(
            JournalEntry,
            and_(
                JournalEntry.source_type == "check",
                col(JournalEntry.source_id) == cast(Venue.code, String) + literal(":") + closed_key,
            ),
        )
        .outerjoin(
            reopened,
            and_(
                col(reopened.venue_id) == col(VenueRecord.venue_id),
                reopened.kind == CHECK_REOPENED,
                col(reopened.key) == literal(CHECK_REOPENED + ":") + closed_key,
            ),
        )
        .where(
            col(VenueRecord.venue_id).in_(list(by_id)),
            VenueRecord.kind == CHECK_CLOSED,
            col(reopened.id).is_(None),
            col(JournalEntry.date) >= start,
            col(JournalEntry.date) <= end,
        )
        .group_by(col(VenueRecord.venue_id))
    )
    for venue_id, count, covers in (await session.exec(checks)).all():
        by_id[venue_id].checks = int(count)
        by_id[venue_id].covers = int(covers or 0)

    day = start
    while day <= end:
        report.by_day.append(Bar(day.strftime("%a %d"), days.get(day, 0)))
        day += dt.timedelta(days=1)
    report.by_hour = [Bar(f"{h:02d}", hours[h]) for h in sorted(hours, key=lambda h: hour_rank[h])]
    report.by_category = [
        Bar(label, cents) for label, cents in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0])) if cents
    ]
    return report


@dataclass
class WarehouseValue:
    """What head office holds in one warehouse: the value of every move booked to it."""

    warehouse: str
    value_cents: int


@dataclass
class GroupStock:
    """Stock across venues: value by warehouse, and each venue's items below par with what would restore them."""

    venue: str | None
    warehouses: list[WarehouseValue] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)

    @property
    def value_cents(self) -> int:
        """Stock value across the warehouses shown."""
        return sum(w.value_cents for w in self.warehouses)

    @property
    def below_par(self) -> list[Level]:
        """The venues' items under par, the furthest below first."""
        return sorted((lv for lv in self.levels if lv.short_milli), key=lambda lv: (-lv.short_milli, lv.venue, lv.item))


async def group_stock(session: AsyncSession, venue: str | None = None) -> GroupStock:
    """Stock value by warehouse, and par levels with transfers and purchases, as the venues last sent them.

    Each stock move a venue sends carries the level it left (on hand, value at cost, par) for its item and
    location; the latest one per venue, location and item is what head office knows. Value sums them by the
    warehouse the venue's location maps to. Par levels leave out locations without a par. Items match across
    venues by name. An item that has not moved at a location since its venue joined is not known yet.
    """
    report = GroupStock(venue=venue)
    payload: Any = col(VenueRecord.payload)
    scope: list[Any] = [col(VenueRecord.kind) == STOCK_MOVE]
    if venue:
        scope.append(col(VenueRecord.venue_id).in_(select(Venue.id).where(Venue.code == venue)))

    item = payload["item"]["name"].as_string()
    location = payload["location"].as_string()
    latest = (
        core_select(col(VenueRecord.venue_id).label("venue_id"), func.max(col(VenueRecord.sequence)).label("sequence"))
        .where(*scope, item.is_not(None))
        .group_by(col(VenueRecord.venue_id), location, item)
        .subquery()
    )
    latest_record = and_(latest.c.venue_id == col(VenueRecord.venue_id), latest.c.sequence == VenueRecord.sequence)
    value = cast(payload["level"]["value_cents"].as_string(), BigInteger)
    warehouses = (
        core_select(col(VenuePosting.warehouse), func.coalesce(func.sum(value), 0))
        .select_from(VenueRecord)
        .join(latest, latest_record)
        .join(
            VenuePosting,
            and_(
                col(VenuePosting.venue_id) == col(VenueRecord.venue_id),
                col(VenuePosting.sequence) == col(VenueRecord.sequence),
            ),
        )
        .where(col(VenuePosting.status) == PostingStatus.POSTED, col(VenuePosting.warehouse).is_not(None))
        .group_by(col(VenuePosting.warehouse))
        .order_by(col(VenuePosting.warehouse))
    )
    report.warehouses = [
        WarehouseValue(str(name), int(cents or 0))
        for name, cents in (await session.exec(warehouses)).all()  # type: ignore[call-overload]
    ]

    on_hand = cast(payload["level"]["on_hand_milli"].as_string(), BigInteger)
    par = cast(payload["level"]["par_milli"].as_string(), BigInteger)
    levels = (
        core_select(
            col(Venue.code),
            item.label("item"),
            func.max(payload["item"]["unit"].as_string()),
            func.sum(on_hand),
            func.sum(par),
        )
        .select_from(VenueRecord)
        .join(latest, latest_record)
        .join(Venue, col(Venue.id) == col(VenueRecord.venue_id))
        .where(par.is_not(None))
        .group_by(col(Venue.code), item)
        .order_by(col(Venue.code), item)
    )
    rows = (await session.exec(levels)).all()  # type: ignore[call-overload]
    report.levels = [
        Level(venue=str(code), item=str(name), unit=str(unit or ""), on_hand_milli=int(held or 0), par_milli=int(p))
        for code, name, unit, held, p in rows
    ]
    report.transfers, report.purchases = suggest(report.levels)
    return report


@dataclass(frozen=True)
class StationTimes:
    """One venue's station: how many tickets were bumped and how long they took from fire to bump."""

    venue: str
    station: str
    tickets: int
    average_s: int
    longest_s: int

    @property
    def label(self) -> str:
        """The bar's label: the venue and its station."""
        return f"{self.venue} · {self.station}"


async def ticket_times(
    session: AsyncSession, start: dt.date, end: dt.date, venue: str | None = None
) -> list[StationTimes]:
    """Fire-to-bump times per venue and station, for tickets fired on the venues' business days start..end.

    Each bumped ticket a venue sends carries its station's name and its seconds from fire to bump; a ticket
    bumped again after a recall counts once, with its latest bump (as the venue's own report has it).
    """
    query = select(Venue).order_by(col(Venue.code))
    if venue:
        query = query.where(Venue.code == venue)
    venues = list((await session.exec(query)).all())
    if not venues:
        return []
    payload: Any = col(VenueRecord.payload)
    fired = payload["ticket"]["fired_at"].as_string()
    day = payload["business_day"].as_string()
    # Each ticket carries the venue's business day of its firing (its time zone and cutoff hour); one sent before
    # tickets carried it falls back to the calendar day of its firing in the venue's time zone.
    windows = [day.is_not(None) & (day >= start.isoformat()) & (day <= end.isoformat())]
    for v in venues:
        zone = ZoneInfo(v.timezone)
        begin = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC).isoformat()
        finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC).isoformat()
        windows.append(and_(col(VenueRecord.venue_id) == v.id, day.is_(None), fired >= begin, fired < finish))
    scope = col(VenueRecord.venue_id).in_([v.id for v in venues])
    ticket_id = payload["ticket"]["id"].as_string()
    latest = (
        core_select(col(VenueRecord.venue_id).label("venue_id"), func.max(col(VenueRecord.sequence)).label("sequence"))
        .where(col(VenueRecord.kind) == TICKET_BUMPED, scope, or_(*windows))
        .group_by(col(VenueRecord.venue_id), ticket_id)
        .subquery()
    )
    seconds = cast(payload["seconds"].as_string(), Float)
    station = payload["station"].as_string()
    rows = (
        core_select(col(Venue.code), station, func.count(), func.avg(seconds), func.max(seconds))
        .select_from(VenueRecord)
        .join(latest, and_(latest.c.venue_id == col(VenueRecord.venue_id), latest.c.sequence == VenueRecord.sequence))
        .join(Venue, col(Venue.id) == col(VenueRecord.venue_id))
        .where(payload["ticket"]["kind"].as_string() != "void")
        .group_by(col(Venue.code), station)
        .order_by(col(Venue.code), station)
    )
    return [
        StationTimes(str(code), str(name or "?"), int(count), round(float(avg or 0)), round(float(longest or 0)))
        for code, name, count, avg, longest in (await session.exec(rows)).all()  # type: ignore[call-overload]
    ]
