"""Head office books what the venues sent: mapped, posted once, reconciled with each venue's Z report."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.accounts import create_account
from app.accounting.exports import export_ledger
from app.accounting.models import Account, JournalEntry, JournalLine
from app.accounting.services import PostingLine, post_entry
from app.checks.delivery import payment_terminal
from app.cli import main as cli
from app.closes.simulation import simulate
from app.group import books, statements
from app.group import services as head_office
from app.group.books_models import PostingStatus, VenuePosting
from app.group.models import Venue, VenueRecord
from app.inventory.models import StockLocation
from app.lib.settings import Settings
from app.main import create_app
from app.sync.models import SyncRecord
from app.sync.sender import SyncSender, join
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.closes.arrange import print_all
from tests.support.services import DemoSnapshots, SqliteTemplate

HEAD_OFFICE = "http://head-office.test"


@pytest.fixture
async def south_app(tmp_path: Path, sqlite_template: SqliteTemplate, settings: Settings) -> AsyncIterator[Litestar]:
    """A second venue on its own SQLite file."""
    south_settings = settings.model_copy(
        update={
            "role": "venue",
            "database_url": sqlite_template.fresh(tmp_path / "south.db"),
            "redis_url": None,
            "var_dir": tmp_path / "south-var",
            "run_workers": False,
        }
    )
    application = create_app(south_settings)
    yield application
    await application.state.runtime.db.dispose()


async def _group_chart(runtime: Any, venue: Any, *, warehouses: bool = True) -> None:
    """Head office's chart and warehouses: the venue's chart and stock locations, as a group usually starts."""
    async with venue.db.read() as session:
        accounts = (await session.exec(select(Account).order_by(col(Account.id)))).all()
        parents = {a.id: a.code for a in accounts}
        locations = (await session.exec(select(StockLocation.name))).all()
    async with runtime.db.write() as session:
        held = set((await session.exec(select(Account.code))).all())
        for account in accounts:
            if account.code in held:
                continue
            await create_account(
                session,
                code=account.code,
                name=account.name,
                type=account.type,
                parent_code=parents.get(account.parent_id) if account.parent_id else None,
            )
        held_warehouses = set((await session.exec(select(StockLocation.name))).all())
        for name in locations if warehouses else []:
            if name not in held_warehouses:
                session.add(StockLocation(name=name))


async def _join(runtime: Any, venue: Any, code: str, transport: httpx.AsyncBaseTransport) -> int:
    """Enrol the venue and return the last journal entry id it held before (its books from then on go up)."""
    async with runtime.db.write() as session:
        added = await head_office.add_venue(
            session, code=code, name=f"Brigade {code.title()}", timezone="UTC", currency="EUR"
        )
    await join(venue.db, HEAD_OFFICE, added.token, transport=transport)
    async with venue.db.read() as session:
        return int((await session.exec(select(func.coalesce(func.max(JournalEntry.id), 0)))).one())


async def _sell_a_day(application: Litestar, checks: int, seed: int) -> None:
    runtime = application.state.runtime
    async with application.lifespan():
        result = await simulate(
            runtime.db,
            runtime.dispatcher,
            payment_terminal(runtime.db),
            checks_count=checks,
            close=True,
            seed=seed,
            drain_prints=lambda: print_all(runtime),
        )
        assert result.closed, result.blockers
        await runtime.dispatcher.drain()


async def _balances(db: Any, *, after_entry: int = 0, venue: str | None = None) -> dict[str, int]:
    """Signed balance per account code, over entries after `after_entry` (of one venue, by its dimension)."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(Account.code, JournalLine.amount_cents, JournalLine.dimensions)
                .join(JournalLine, col(JournalLine.account_id) == col(Account.id))
                .where(col(JournalLine.entry_id) > after_entry)
            )
        ).all()
    totals: dict[str, int] = defaultdict(int)
    for code, cents, dims in rows:
        if venue is None or dims.get("venue") == venue:
            totals[code] += cents
    return {code: cents for code, cents in totals.items() if cents}


async def _day_closed(runtime: Any) -> dt.date:
    async with runtime.db.read() as session:
        record = (await session.exec(select(VenueRecord).where(VenueRecord.kind == "day.closed"))).first()
    assert record is not None
    return dt.date.fromisoformat(record.payload["business_day"]["day"])


async def _count(db: Any, model: Any) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.fixture
async def venue_demo(venue: Any, demo_snapshots: DemoSnapshots) -> None:
    await demo_snapshots.load(venue.db, venue.settings)


async def test_two_venues_days_are_posted_once_balance_and_reconcile_to_zero(
    runtime: Any,
    settings: Settings,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    south_app: Litestar,
    demo_snapshots: DemoSnapshots,
    to_head_office: httpx.AsyncBaseTransport,
    api: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    south = south_app.state.runtime
    await demo_snapshots.load(south.db, south.settings)
    await _group_chart(runtime, venue)
    north_from = await _join(runtime, venue, "NORTH", to_head_office)
    south_from = await _join(runtime, south, "SOUTH", to_head_office)
    await _sell_a_day(venue_app, 5, seed=3)
    await _sell_a_day(south_app, 4, seed=11)
    for db in (venue.db, south.db):
        outcome = await SyncSender(db, transport=to_head_office, batch_size=9).send_all()
        assert outcome.error is None
    day = await _day_closed(runtime)

    # Every venue journal entry is in the group's ledger once, with the venue as its dimension.
    sent = {code: await _count(db, SyncRecord) for code, db in (("NORTH", venue.db), ("SOUTH", south.db))}
    async with runtime.db.read() as session:
        postings = (await session.exec(select(VenuePosting))).all()
    assert {p.status for p in postings} == {PostingStatus.POSTED}
    entries = [p.entry_id for p in postings if p.kind == "journal.entry"]
    assert len(entries) == len(set(entries)) > 0
    assert await _count(runtime.db, JournalEntry) == len(entries)

    # Posting again, and every record sent again, books nothing twice.
    async with runtime.db.write() as session:
        again = await books.post_pending(session, retry=True)
    assert (again.posted, again.exceptions) == (0, 0)
    async with runtime.db.read() as session:
        held = (await session.exec(select(VenueRecord).order_by(col(VenueRecord.sequence)))).all()
    north_records = [r for r in held if r.venue_id == held[0].venue_id]
    async with venue.db.read() as session:
        from app.sync.models import HeadOfficeLink

        credential = (await session.exec(select(HeadOfficeLink))).one().credential
    batch = {
        "records": [
            {
                "sequence": r.sequence,
                "kind": r.kind,
                "key": r.key,
                "occurred_at": r.occurred_at.isoformat(),
                "payload": r.payload,
            }
            for r in reversed(north_records[:50])
        ]
    }
    resent = await api.post("/api/group/v1/records", json=batch, headers={"Authorization": f"Bearer {credential}"})
    assert resent.status_code == 200, resent.text
    assert resent.json()["stored"] == 0
    assert await _count(runtime.db, JournalEntry) == len(entries)
    assert sum(sent.values()) == len(held)

    # The group's trial balance is the sum of the venues' books since they joined, to the cent.
    north = await _balances(venue.db, after_entry=north_from)
    south_books = await _balances(south.db, after_entry=south_from)
    group = await _balances(runtime.db)
    summed: dict[str, int] = defaultdict(int)
    for books_of_one in (north, south_books):
        for code, cents in books_of_one.items():
            summed[code] += cents
    assert group == {code: cents for code, cents in summed.items() if cents}
    assert sum(group.values()) == 0
    assert await _balances(runtime.db, venue="NORTH") == north
    assert await _balances(runtime.db, venue="SOUTH") == south_books

    # The morning check: both venues' day is posted.
    async with runtime.db.read() as session:
        rows = await statements.statements(session)
        result = await statements.reconcile(session, day)
    assert {(s.venue, s.status) for s in rows if s.day == day} == {("NORTH", "posted"), ("SOUTH", "posted")}
    # Reconciliation: each Z report agrees with what head office posted, figure by figure.
    assert [v.venue for v in result.venues] == ["NORTH", "SOUTH"]
    assert result.differences == []
    north_figures = {name: (z, posted) for name, z, posted in result.venues[0].figures}
    assert (north_figures["Net sales"][0] or 0) > 0
    assert any(name.startswith("Tender: ") for name in north_figures)

    # Every export of the group, and of one venue, passes bean-check and hledger check --strict.
    async with runtime.db.read() as session:
        for code in (None, "NORTH", "SOUTH"):
            only = None if code is None else (await books.venue_entries(session, code))[0]
            name = code or "group"
            beancount = await export_ledger(session, start=day, end=day, fmt="beancount", only=only, title=name)
            (tmp_path / f"{name}.beancount").write_text(beancount)
            hledger = await export_ledger(session, start=day, end=day, fmt="hledger", only=only, title=name)
            (tmp_path / f"{name}.journal").write_text(hledger)
            checked = bean_check(tmp_path / f"{name}.beancount")
            assert checked.returncode == 0, checked.stdout + checked.stderr
            checked = hledger_check(tmp_path / f"{name}.journal")
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert ("venue: " + (code or "NORTH")) in beancount or f'venue: "{code or "NORTH"}"' in beancount
    assert "SOUTH" not in (tmp_path / "NORTH.beancount").read_text().split("option")[-1].split("\n", 1)[1]

    # The command line says the same: zero differences.
    env = {
        "BRIGADE_DATABASE_URL": settings.resolved_database_url(),
        "BRIGADE_VAR_DIR": str(settings.var_dir),
        "BRIGADE_ROLE": "head_office",
    }
    printed = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reconcile", "--day", day.isoformat(), "--json"], env=env
    )
    assert printed.exit_code == 0, printed.output
    answer = json.loads(printed.output)
    assert answer["differences"] == []
    assert [v["venue"] for v in answer["venues"]] == ["NORTH", "SOUTH"]


async def test_an_unmapped_account_is_an_exception_with_a_retry_and_nothing_half_posted(
    runtime: Any,
    app: Litestar,
    venue: Any,
    venue_demo: None,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    await _group_chart(runtime, venue)
    await _join(runtime, venue, "NORTH", to_head_office)
    async with venue.db.write() as session:
        await create_account(session, code="4990", name="Truffle sales", type="income", parent_code="4000")
        await post_entry(
            session,
            date=dt.date(2026, 12, 5),
            description="Truffle supper",
            lines=[PostingLine("1010", 9000, "Cash"), PostingLine("4990", -6000), PostingLine("4010", -3000)],
            source_type="test",
            source_id="truffle",
        )
        await post_entry(
            session,
            date=dt.date(2026, 12, 5),
            description="Cash sale",
            lines=[PostingLine("1010", 1250), PostingLine("4010", -1250)],
            source_type="test",
            source_id="plain",
        )
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is None

    # The truffle entry could not be booked: an exception with its reason; the other entry is posted.
    async with runtime.db.read() as session:
        rows = await statements.statements(session)
    (statement,) = rows
    assert statement.status == "exception"
    assert "4990" in statement.exceptions[0][1]
    assert "not mapped" in statement.exceptions[0][1]
    # Nothing of the truffle entry is posted, not even its mapped lines.
    assert await _balances(runtime.db, venue="NORTH") == {"1010": 1250, "4010": -1250}

    page = await manager.get("/manage/books")
    assert page.status_code == 200
    assert "exception" in page.text
    assert "Venue account 4990 is not mapped" in page.text
    assert "Retry" in page.text

    # A retry before the cause is fixed changes nothing and says so.
    retried = await manager.post("/manage/books/retry", {"venue": "NORTH"})
    assert retried.status_code == 200
    assert "still could not be booked" in retried.text

    # Map 4990 to the group's 4040 Other sales on the venue's mapping page, then retry: booked once.
    mappings = await manager.get("/manage/venues/NORTH/mappings")
    assert mappings.status_code == 200
    assert "4990" in mappings.text
    assert "not mapped" in mappings.text
    refused = await manager.post(
        "/manage/venues/NORTH/mappings", {"kind": "account", "subject": "4990", "target": "9999"}
    )
    assert refused.status_code in (400, 422)
    saved = await manager.post(
        "/manage/venues/NORTH/mappings", {"kind": "account", "subject": "4990", "target": "4040"}
    )
    assert saved.status_code == 200, saved.text
    retried = await manager.post("/manage/books/retry", {"venue": "NORTH"})
    assert "1 record(s) booked" in retried.text
    assert "no exceptions left" in retried.text
    again = await manager.post("/manage/books/retry", {"venue": "NORTH"})
    assert "0 record(s) booked" in again.text
    assert await _balances(runtime.db, venue="NORTH") == {"1010": 10250, "4040": -6000, "4010": -4250}
    async with runtime.db.read() as session:
        booked = (await session.exec(select(VenuePosting.entry_id))).all()
    assert len(booked) == len(set(booked)) == 2


async def test_reconciliation_shows_a_difference_when_the_books_disagree_with_the_z_report(
    runtime: Any,
    settings: Settings,
    venue: Any,
    venue_app: Litestar,
    venue_demo: None,
    to_head_office: httpx.AsyncBaseTransport,
    manager: Any,
) -> None:
    await _group_chart(runtime, venue)
    await _join(runtime, venue, "NORTH", to_head_office)
    # Head office maps the venue's tips payable onto accounts payable: the books no longer show the tips.
    async with runtime.db.write() as session:
        await books.save_mapping(session, venue_code="NORTH", kind="account", subject="2020", target="2030")
    await _sell_a_day(venue_app, 4, seed=5)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is None
    day = await _day_closed(runtime)
    async with runtime.db.read() as session:
        result = await statements.reconcile(session, day)
    figures = {d.figure: d for d in result.differences}
    assert set(figures) == {"Tips"}
    assert (figures["Tips"].z_cents or 0) > 0
    assert figures["Tips"].posted_cents == 0
    assert figures["Tips"].difference_cents == -figures["Tips"].z_cents

    page = await manager.get(f"/manage/books/reconcile?day={day.isoformat()}")
    assert page.status_code == 200
    assert "1 difference(s)" in page.text
    assert "Tips" in page.text

    # A day whose Z report has not arrived is waiting, and reconciliation says the Z report is missing.
    async with venue.db.write() as session:
        await post_entry(
            session,
            date=day + dt.timedelta(days=1),
            description="Next day sale",
            lines=[PostingLine("1010", 500), PostingLine("4010", -500)],
            source_type="test",
            source_id="next",
        )
    await SyncSender(venue.db, transport=to_head_office).send_all()
    async with runtime.db.read() as session:
        waiting = [s for s in await statements.statements(session) if s.day == day + dt.timedelta(days=1)]
        missing = await statements.reconcile(session, day + dt.timedelta(days=1))
    assert [s.status for s in waiting] == ["waiting"]
    assert [d.figure for d in missing.differences] == ["Z report not received"]


async def test_a_stock_location_without_a_warehouse_waits_until_it_is_mapped(
    runtime: Any, venue: Any, venue_app: Litestar, venue_demo: None, to_head_office: httpx.AsyncBaseTransport
) -> None:
    await _group_chart(runtime, venue, warehouses=False)
    await _join(runtime, venue, "NORTH", to_head_office)
    await _sell_a_day(venue_app, 3, seed=9)
    assert (await SyncSender(venue.db, transport=to_head_office).send_all()).error is None
    async with runtime.db.read() as session:
        moves = (await session.exec(select(VenuePosting).where(VenuePosting.kind == "stock.move"))).all()
        held = (await session.exec(select(VenueRecord).where(VenueRecord.kind == "stock.move"))).all()
        (north,) = (await session.exec(select(Venue))).all()
        rows = await books.subjects(session, north)
    assert moves
    assert len(moves) == len(held)
    assert {m.status for m in moves} == {PostingStatus.EXCEPTION}
    locations = {r.payload["location"] for r in held}
    assert all("not mapped to a head-office warehouse" in m.reason for m in moves)
    assert {(r.subject, r.target) for r in rows if r.kind.value == "location"} == {(name, None) for name in locations}
    async with runtime.db.read() as session:
        (statement,) = [s for s in await statements.statements(session) if s.exceptions]
    assert statement.status == "exception"

    async with runtime.db.write() as session:
        session.add(StockLocation(name="Central kitchen"))
        await session.flush()
        for name in locations:
            await books.save_mapping(
                session, venue_code="NORTH", kind="location", subject=name, target="Central kitchen"
            )
        run = await books.retry(session, venue_code="NORTH")
    assert (run.posted, run.exceptions) == (len(moves), 0)
    async with runtime.db.read() as session:
        booked = (await session.exec(select(VenuePosting).where(VenuePosting.kind == "stock.move"))).all()
    assert {(m.status, m.warehouse) for m in booked} == {(PostingStatus.POSTED, "Central kitchen")}
    assert len(booked) == len(moves)


async def test_two_posting_runs_at_once_book_each_venue_entry_once(runtime: Any) -> None:
    from app.accounting.chart import seed_chart
    from app.group.protocol import IncomingRecord

    async with runtime.db.write() as session:
        await seed_chart(session)
        added = await head_office.add_venue(session, code="NORTH", name="North", timezone="UTC", currency="EUR")
        records = [
            IncomingRecord(
                number,
                "journal.entry",
                f"journal.entry:{number}",
                dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC),
                {
                    "entry": {"date": "2026-12-05", "description": f"Sale {number}", "source_type": "check"},
                    "lines": [
                        {"account_id": 1, "amount_cents": 100 * number, "position": 0, "memo": "", "dimensions": {}},
                        {"account_id": 2, "amount_cents": -100 * number, "position": 1, "memo": "", "dimensions": {}},
                    ],
                    "accounts": {"1": "1010", "2": "4010"},
                },
            )
            for number in range(1, 21)
        ]
        await head_office.ingest(session, added.venue, records)

    async def run() -> books.PostingRun:
        async with runtime.db.write() as session:
            return await books.post_pending(session)

    first, second = await asyncio.gather(run(), run())
    assert first.posted + second.posted == 20
    async with runtime.db.read() as session:
        keys = (await session.exec(select(JournalEntry.idempotency_key))).all()
        postings = (await session.exec(select(VenuePosting))).all()
    assert sorted(keys) == sorted(f"venue:NORTH:journal.entry:{n}" for n in range(1, 21))
    assert len(postings) == 20
    assert await _balances(runtime.db, venue="NORTH") == {"1010": 21000, "4010": -21000}
