"""Head office's group reports: each venue's net sales, checks and covers equal that venue's own Z report."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from sqlmodel import col, select

from app.accounting.services import PostingLine, post_entry
from app.checks.services import business_day
from app.closes import reports as closes_reports
from app.closes.reports import z_report
from app.group import reports
from app.group.replenish import suggest
from app.inventory.models import StockItem, StockLevel, StockMove
from app.lib.clock import utcnow
from app.lib.settings import Settings
from app.sync.models import SyncRecord
from app.sync.sender import SyncSender
from tests.integration.group.test_books import _day_closed, _group_chart, _join, _sell_a_day, south_app, venue_demo
from tests.support.services import DemoSnapshots

__all__ = ["south_app", "venue_demo"]


def _early_morning_zone() -> str:
    """A time zone where it is two in the morning now: before the venues' 05:00 cutoff, still yesterday's service."""
    offset = (2 - utcnow().hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """Every venue trades past midnight: its business day (cutoff 05:00, its own time zone) is not the calendar's."""
    return settings.model_copy(update={"timezone": _early_morning_zone(), "business_day_cutoff_hour": 5})


async def _two_days_sent(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    pars: dict[str, Callable[[int], int]] | None = None,
) -> dt.date:
    south = south_app.state.runtime
    await demo_snapshots.load(south.db, south.settings)
    await _group_chart(runtime, venue)
    await _join(runtime, venue, "NORTH", to_head_office)
    await _join(runtime, south, "SOUTH", to_head_office)
    for code, db in (("NORTH", venue.db), ("SOUTH", south.db)):
        if pars and code in pars:
            # The venue's own par per item and location, from what it holds before the day.
            async with db.write() as session:
                for level in (await session.exec(select(StockLevel))).all():
                    level.par_milli = pars[code](level.on_hand_milli)
                    session.add(level)
    await _sell_a_day(venue_app, 5, seed=3)
    await _sell_a_day(south_app, 4, seed=11)
    for db in (venue.db, south.db):
        outcome = await SyncSender(db, transport=to_head_office, batch_size=9).send_all()
        assert outcome.error is None
    return await _day_closed(runtime)


async def test_group_sales_equal_each_venues_z_report_and_the_page_shows_them(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    day = await _two_days_sent(runtime, venue, venue_app, south_app, demo_snapshots, to_head_office)
    zs = {}
    for code, db in (("NORTH", venue.db), ("SOUTH", south_app.state.runtime.db)):
        async with db.read() as session:
            zs[code] = await z_report(session, day)

    async with runtime.db.read() as session:
        group = await reports.group_sales(session, day, day)
        north = await reports.group_sales(session, day, day, "NORTH")
    figures = {v.code: (v.net_sales_cents, v.checks, v.covers) for v in group.venues}
    assert figures == {code: (z.net_sales_cents, z.checks, z.covers) for code, z in zs.items()}
    assert all(z.net_sales_cents > 0 and z.checks > 0 for z in zs.values())
    # Two in the morning at the venue: its calendar has turned, its business day has not.
    local_date = utcnow().astimezone(ZoneInfo(venue.settings.timezone)).date()
    assert day == business_day(venue.settings, utcnow()) < local_date, "the service runs past midnight"
    # Each category net of its discounts and comps, as the venues' Z reports have them, summed across venues.
    assert sum(z.discounts.cents + z.comps.cents for z in zs.values()) > 0, "the day had discounts or comps"
    z_categories: dict[str, int] = defaultdict(int)
    for z in zs.values():
        for named in z.categories:
            z_categories[named.label] += named.cents
    assert {b.label: b.value for b in group.by_category} == {k: v for k, v in z_categories.items() if v}
    assert not {"Discounts", "Comps"} & {b.label for b in group.by_category}
    assert {b.label: b.value for b in north.by_category} == {
        c.label: c.cents for c in zs["NORTH"].categories if c.cents
    }
    total = sum(z.net_sales_cents for z in zs.values())
    assert group.net_sales_cents == total
    # Every cut adds up to the same net sales.
    assert sum(b.value for b in group.by_day) == total
    assert sum(b.value for b in group.by_hour) == total
    assert sum(b.value for b in group.by_category) == total
    assert group.average_check_cents == total // (zs["NORTH"].checks + zs["SOUTH"].checks)
    assert [v.code for v in north.venues] == ["NORTH"]
    assert north.net_sales_cents == zs["NORTH"].net_sales_cents

    # A day before the range holds nothing.
    async with runtime.db.read() as session:
        before = await reports.group_sales(session, day - dt.timedelta(days=3), day - dt.timedelta(days=1))
    assert before.empty
    assert before.net_sales_cents == 0

    page = await manager.get(f"/manage/group-reports?start={day}&end={day}")
    assert page.status_code == 200
    assert "Group reports" in page.text
    assert "<svg" in page.text
    assert "<html" in page.text
    assert "Net sales by venue" in page.text
    assert "Average check by venue" in page.text
    fragment = await manager.get(f"/manage/group-reports?start={day}&end={day}&venue=SOUTH", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "SOUTH" in fragment.text
    assert "NORTH ·" not in fragment.text


async def test_the_group_reports_page_says_when_nothing_was_sold_and_refuses_bad_input(manager: Any) -> None:
    page = await manager.get("/manage/group-reports?start=2026-01-01&end=2026-01-07")
    assert page.status_code == 200
    assert "No sales from 2026-01-01 to 2026-01-07" in page.text
    assert 'href="/manage/group-reports"' in page.text
    bad = await manager.get("/manage/group-reports?start=2026-01-09&end=2026-01-07")
    assert bad.status_code == 422
    assert "From must be on or before To" in bad.text
    unknown = await manager.get("/manage/group-reports?venue=EAST")
    assert unknown.status_code == 422
    assert "EAST" in unknown.text


async def _moved(db: Any) -> set[tuple[int, int]]:
    """The (item, location) pairs that moved since the venue joined (its demo stock was loaded before)."""
    async with db.read() as session:
        keys = (await session.exec(select(SyncRecord.key).where(SyncRecord.kind == "stock.move"))).all()
        ids = [int(key.rsplit(":", 1)[1]) for key in keys]
        rows = (
            await session.exec(select(StockMove.stock_item_id, StockMove.location_id).where(col(StockMove.id).in_(ids)))
        ).all()
    return set(rows)


async def _venue_levels(db: Any, code: str) -> dict[tuple[str, str], tuple[int, int]]:
    """The venue's own levels with a par, per item, over the locations the item moved at since it joined."""
    moved = await _moved(db)
    async with db.read() as session:
        rows = (
            await session.exec(
                select(StockItem.name, StockLevel).join(StockLevel, col(StockLevel.stock_item_id) == col(StockItem.id))
            )
        ).all()
    levels: dict[tuple[str, str], tuple[int, int]] = {}
    for name, level in rows:
        if level.par_milli is None or (level.stock_item_id, level.location_id) not in moved:
            continue
        held, par = levels.get((code, name), (0, 0))
        levels[(code, name)] = (held + level.on_hand_milli, par + level.par_milli)
    return levels


async def _venue_stock_value(db: Any) -> int:
    """The venue's own stock value over the items and locations that moved since it joined."""
    moved = await _moved(db)
    async with db.read() as session:
        levels = (await session.exec(select(StockLevel))).all()
    return sum(lv.value_cents for lv in levels if (lv.stock_item_id, lv.location_id) in moved)


async def test_group_stock_values_and_par_levels_equal_the_venues_own(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    day = await _two_days_sent(runtime, venue, venue_app, south_app, demo_snapshots, to_head_office)
    south = south_app.state.runtime
    async with runtime.db.read() as session:
        stock = await reports.group_stock(session)
        north = await reports.group_stock(session, "NORTH")
    assert stock.warehouses
    assert stock.value_cents == await _venue_stock_value(venue.db) + await _venue_stock_value(south.db)
    assert north.value_cents == await _venue_stock_value(venue.db)
    expected = await _venue_levels(venue.db, "NORTH") | await _venue_levels(south.db, "SOUTH")
    assert expected
    assert {(lv.venue, lv.item): (lv.on_hand_milli, lv.par_milli) for lv in stock.levels} == expected
    assert (stock.transfers, stock.purchases) == suggest(stock.levels)

    page = await manager.get(f"/manage/group-reports?start={day}&end={day}")
    assert "Stock value by warehouse" in page.text
    assert "Suggested transfers" in page.text


async def test_ticket_times_by_venue_and_station_equal_each_venues_kitchen_report(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    day = await _two_days_sent(runtime, venue, venue_app, south_app, demo_snapshots, to_head_office)
    first, last = day - dt.timedelta(days=2), day + dt.timedelta(days=2)
    expected = {}
    for code, runtime_of in (("NORTH", venue), ("SOUTH", south_app.state.runtime)):
        # The venue's own kitchen report for that business day: from its cutoff, in its time zone.
        async with runtime_of.db.read() as session:
            for timing in await closes_reports.ticket_times(session, runtime_of.settings, day, day):
                expected[(code, timing.station_name)] = (timing.tickets, timing.average_s, timing.longest_s)
    assert expected
    async with runtime.db.read() as session:
        timings = await reports.ticket_times(session, day, day)
        south = await reports.ticket_times(session, first, last, "SOUTH")
        before = await reports.ticket_times(session, first - dt.timedelta(days=9), first - dt.timedelta(days=3))
        calendar_day = await reports.ticket_times(session, day + dt.timedelta(days=1), last)
    assert {(t.venue, t.station): (t.tickets, t.average_s, t.longest_s) for t in timings} == expected
    assert calendar_day == [], "fired after midnight, before the cutoff: the day before's service"
    assert {t.venue for t in south} == {"SOUTH"}
    assert before == []

    page = await manager.get(f"/manage/group-reports?start={first}&end={last}")
    assert "Average ticket time by venue and station" in page.text
    empty = await manager.get("/manage/group-reports?start=2026-01-01&end=2026-01-02", htmx=True)
    assert "No tickets bumped from 2026-01-01 to 2026-01-02" in empty.text


async def test_a_venue_below_par_gets_transfers_from_one_above_and_purchases_for_the_rest(
    runtime: Any,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    # NORTH keeps a par of one unit (plenty spare); SOUTH wants ten times what it holds (short everywhere).
    pars = {"NORTH": lambda held: 1000, "SOUTH": lambda held: max(held, 1000) * 10}
    day = await _two_days_sent(runtime, venue, venue_app, south_app, demo_snapshots, to_head_office, pars)
    async with runtime.db.read() as session:
        stock = await reports.group_stock(session)
    short = {lv.item for lv in stock.below_par}
    assert short
    assert {lv.venue for lv in stock.below_par} == {"SOUTH"}
    assert stock.transfers
    assert {(t.source, t.target) for t in stock.transfers} == {("NORTH", "SOUTH")}
    assert all(t.quantity_milli % 1000 == 0 and t.quantity_milli > 0 for t in stock.transfers)
    assert stock.purchases
    assert {p.venue for p in stock.purchases} == {"SOUTH"}
    # Each shortfall is covered, to the whole unit above it at most.
    for level in stock.below_par:
        covered = sum(t.quantity_milli for t in stock.transfers if t.item == level.item)
        covered += sum(p.quantity_milli for p in stock.purchases if p.item == level.item)
        assert level.short_milli <= covered < level.short_milli + 1000

    page = await manager.get(f"/manage/group-reports?start={day}&end={day}")
    assert "No venue is below par" not in page.text
    assert "Nothing to buy" not in page.text


async def test_sales_by_hour_run_through_the_service_past_midnight(
    runtime: Any, venue: Any, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _group_chart(runtime, venue)
    await _join(runtime, venue, "NORTH", to_head_office)
    day = dt.date(2026, 12, 4)
    for number, cents in ((1, 1250), (2, 800)):
        async with venue.db.write() as session:
            await post_entry(
                session,
                date=day,
                description=f"Check #{number} closed",
                lines=[PostingLine("1010", cents), PostingLine("4010", -cents, "Mains", {"category": "1"})],
                source_type="check",
                source_id=f"{number}:1",
            )
    # Closed at 22:30 and, past midnight, at 01:30: both on the business day of the 4th.
    async with venue.db.write() as session:
        records = (await session.exec(select(SyncRecord).order_by(col(SyncRecord.id)))).all()
        for record, at in zip(records, ("2026-12-04T22:30:00+00:00", "2026-12-05T01:30:00+00:00"), strict=True):
            record.occurred_at = dt.datetime.fromisoformat(at)
            session.add(record)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is None
    async with runtime.db.read() as session:
        sales = await reports.group_sales(session, day, day)
    assert [(b.label, b.value) for b in sales.by_hour] == [("22", 1250), ("01", 800)]
