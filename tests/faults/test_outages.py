"""Redis and PostgreSQL going away during service, with real server processes on loopback.

Redis stopped: two app processes share PostgreSQL and their Redis dies; tablets keep seating,
ringing in and firing, and when Redis is back every kitchen screen on the other process catches up
with what was fired meanwhile. PostgreSQL stopped: every request is refused with a clear 503 that
says nothing was saved (a flash for htmx, a page, JSON for the API), and once it is back the same
process serves again, with nothing half-written and every side effect delivered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, func, select

from app.kitchen.models import KitchenTicket
from app.lib.db import Database, unreachable
from app.lib.outbox import OutboxMessage
from app.orders.models import CheckLine, KitchenFire
from tests.faults.harness import (
    AppServer,
    BoardWatcher,
    Tablet,
    Waiter,
    api_token,
    app_env,
    floor_plan,
    log_in,
    paper_of,
    pending_outbox,
    prepare_restaurant,
    printers,
    reader,
    set_printer_uri,
    station_ids,
    ticket_ids_in,
    tickets_in_db,
    unfinished_print_jobs,
    wait_until,
)
from tests.support.fake_printer import FakeNetworkPrinter
from tests.support.servers import PostgresServer, RedisServer, free_port

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

STARTERS_AND_DRINKS = ("ST-BUR", "BR-CID")
PRINTED = ("Cold", "Bar")  # Expo has no printer
DATABASE_DOWN = "The database is not reachable; nothing was saved. Try again in a moment."


async def _printed_once(paper: dict[str, FakeNetworkPrinter], db: Database) -> None:
    """Every ticket of a station with a printer came out once, unmarked: no reprints were needed."""
    expected = {(str(t.check_number), t.station) for t in await tickets_in_db(db) if t.station in PRINTED}
    copies: dict[tuple[str, str], list[bool]] = {}
    for printer in paper.values():
        for ticket in paper_of(printer).tickets:
            copies.setdefault((ticket.check_number, ticket.station), []).append(ticket.reprint)
    assert set(copies) == expected
    assert all(marks == [False] for marks in copies.values()), copies


# ---------------------------------------------------------------------------------------------- Redis


@pytest.mark.redis
async def test_tablets_keep_working_while_redis_is_down_and_the_other_process_screens_catch_up(
    tmp_path: Path, shared_postgres_database: str, own_redis: RedisServer
) -> None:
    with printers("Kitchen", "Bar") as paper:
        env = app_env(tmp_path / "var", shared_postgres_database, redis_url=own_redis.url)
        await prepare_restaurant(env)
        db = reader(env)
        for name, printer in paper.items():
            await set_printer_uri(db, name, printer.uri)
        stations = {name: sid for name, sid in (await station_ids(db)).items() if name in ("Cold", "Bar", "Expo")}
        tables, items = await floor_plan(db)
        front, back = AppServer(env, tmp_path / "front.log"), AppServer(env, tmp_path / "back.log")
        await asyncio.gather(asyncio.to_thread(front.start), asyncio.to_thread(back.start))
        try:
            async with contextlib.AsyncExitStack() as stack:
                waiter = Waiter(await log_in(front.url, "1111"), tables, items)
                stack.push_async_callback(waiter.tablet.aclose)
                cook = await log_in(back.url, "3333")
                stack.push_async_callback(cook.aclose)
                # The screens come on together, as they all do when the back process (re)starts.
                watchers = [BoardWatcher(back.url, cook, sid) for sid in stations.values()]
                await asyncio.gather(*(stack.enter_async_context(w) for w in watchers))
                screens = dict(zip(stations, watchers, strict=True))
                await _redis_outage(db, waiter, cook, screens, stations, own_redis)
            await _printed_once(paper, db)
        finally:
            front.stop()
            back.stop()
            await db.dispose()


async def _redis_outage(
    db: Database,
    waiter: Waiter,
    cook: Tablet,
    screens: dict[str, BoardWatcher],
    stations: dict[str, int],
    redis: RedisServer,
) -> None:
    async def on_screens(check_ids: set[int], within: float) -> None:
        async def routed() -> bool:
            return {t.check_id for t in await tickets_in_db(db)} >= check_ids

        await wait_until(routed, within, f"checks {sorted(check_ids)} to reach the kitchen")
        tickets = [t for t in await tickets_in_db(db) if t.check_id in check_ids and t.station in screens]
        for name, screen in screens.items():
            await screen.wait_for_tickets({t.id for t in tickets if t.station == name}, within)

    # Before: a ticket fired through one process reaches the other's screens over Redis.
    before = await waiter.order_and_send("1", STARTERS_AND_DRINKS)
    await on_screens({before}, within=20)

    redis.stop()
    during: set[int] = set()
    outage_started = len(waiter.seconds)
    for table in ("2", "3", "4"):
        during.add(await waiter.order_and_send(table, STARTERS_AND_DRINKS))
    slowest = max(waiter.seconds[outage_started:])

    # The kitchen has them in the database already; the screens follow once Redis is back.
    async def routed() -> bool:
        return {t.check_id for t in await tickets_in_db(db)} >= during

    await wait_until(routed, 20, "the tickets fired during the outage to be routed")
    redis.start()
    await on_screens(during, within=30)

    after = await waiter.order_and_send("5", STARTERS_AND_DRINKS)
    await on_screens({after}, within=20)

    # Nothing lost: every ticket is on its board page, and every side effect was delivered.
    async def caught_up() -> bool:
        return not await pending_outbox(db) and not await unfinished_print_jobs(db)

    await wait_until(caught_up, 60, "the outbox and the print queue to catch up")
    tickets = await tickets_in_db(db)
    assert {t.check_id for t in tickets if t.station in screens} == {before, *during, after}
    for name, station in stations.items():
        page = await cook.get(f"/kds/{station}")
        assert page.status_code == 200
        assert {t.id for t in tickets if t.station == name} <= ticket_ids_in(page.text)
    print(f"\nredis outage: slowest tablet request while Redis was down {slowest:.2f}s")
    assert slowest < 5.0, f"a tablet waited {slowest:.1f}s for an answer while Redis was down"


# ---------------------------------------------------------------------------------------------- PostgreSQL


async def test_a_postgresql_restart_refuses_requests_clearly_and_recovers_without_restarting_the_app(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    with printers("Kitchen", "Bar") as paper:
        env = app_env(tmp_path / "var", own_postgres.url)
        await prepare_restaurant(env)
        token = await api_token(env)
        db = reader(env)
        for name, printer in paper.items():
            await set_printer_uri(db, name, printer.uri)
        tables, items = await floor_plan(db)
        server = AppServer(env, tmp_path / "server.log")
        await asyncio.to_thread(server.start)
        try:
            async with contextlib.AsyncExitStack() as stack:
                waiter = Waiter(await log_in(server.url, "1111"), tables, items)
                stack.push_async_callback(waiter.tablet.aclose)
                api = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=server.url, headers={"authorization": f"Bearer {token}"}, timeout=30)
                )
                await _postgres_outage(db, server, waiter, api, own_postgres)
            await _printed_once(paper, db)
        finally:
            server.stop()
            await db.dispose()
    answered = [line for line in server.log_tail(1_000_000).splitlines() if '" 500' in line]
    assert answered == [], "requests were answered 500 during the outage"


def _refused_clearly(response: httpx.Response, message: str, *, htmx: bool) -> None:
    """A 503 that says what happened, as a flash (htmx) or a page, with no traceback."""
    assert response.status_code == 503, response.text[:2000]
    assert message in response.text, response.text[:2000]
    assert "Traceback" not in response.text
    assert response.headers.get("retry-after") == "2"
    assert response.headers["content-type"].startswith("text/html")
    if htmx:
        assert response.headers.get("hx-retarget") == "#flash"


async def _postgres_outage(
    db: Database, server: AppServer, waiter: Waiter, api: httpx.AsyncClient, postgres: PostgresServer
) -> None:
    served = await waiter.order_and_send("1", STARTERS_AND_DRINKS)
    seated = await waiter.seat("2")
    assert seated.status_code == 200
    check_id = waiter.check_of(seated)
    busy = await waiter.seat("6")
    assert busy.status_code == 200
    busy_id = waiter.check_of(busy)
    bread = waiter.line_form(busy_id, "ST-BRD")
    soup = waiter.line_form(check_id, "ST-SOU")
    # fired just before the database goes: its delivery may be cut off halfway, and must still happen once
    fired_late = await waiter.order_and_send("3", STARTERS_AND_DRINKS)
    await db.dispose()

    # A line is being rung in as the database dies: the check gets it whole or not at all.
    landed, _ = await asyncio.gather(
        waiter.tablet.post(f"/checks/{busy_id}/lines", bread), asyncio.to_thread(postgres.stop)
    )
    assert landed.status_code in (200, 503), landed.text[:2000]
    started = time.monotonic()
    _refused_clearly(await waiter.tablet.post(f"/checks/{check_id}/lines", soup), DATABASE_DOWN, htmx=True)
    _refused_clearly(await waiter.seat("4"), DATABASE_DOWN, htmx=True)
    _refused_clearly(await waiter.send(check_id), DATABASE_DOWN, htmx=True)
    page = await waiter.tablet.get("/floor")
    _refused_clearly(page, "The database is not reachable", htmx=False)
    assert "<html" in page.text.lower()
    answer = await api.get("/api/v1/checks")
    assert answer.status_code == 503, answer.text
    assert answer.json() == {
        "error": "database_unavailable",
        "message": "The database is not reachable. Try again in a moment.",
    }
    health = await api.get("/healthz")
    assert health.status_code == 503
    refused_for = time.monotonic() - started
    assert refused_for < 15, f"the refusals took {refused_for:.1f}s"

    postgres.start()

    # The same process serves again; the refused line was not written, and sending it again adds it once.
    async def serving() -> bool:
        return (await api.get("/healthz")).status_code == 200

    await wait_until(serving, 30, "the app to reach the database again")
    async with db.read() as session:
        breads = (await session.exec(select(func.count()).where(CheckLine.check_id == busy_id))).one()
    assert breads == 1 if landed.status_code == 200 else breads in (0, 1)
    retried = await waiter.tablet.post(f"/checks/{busy_id}/lines", bread)
    assert retried.status_code == 200, retried.text[:1000]
    async with db.read() as session:
        breads = (await session.exec(select(func.count()).where(CheckLine.check_id == busy_id))).one()
    assert breads == 1, "the line rung in as the database died was lost or doubled"
    again = await waiter.tablet.post(f"/checks/{check_id}/lines", soup)
    assert again.status_code == 200, again.text[:1000]
    twice = await waiter.tablet.post(f"/checks/{check_id}/lines", soup)
    assert twice.text == again.text, "a repeated request did not get the first answer"
    waiter.note_version(check_id, again)
    sent = await waiter.send(check_id)
    assert sent.status_code == 200, sent.text[:1000]
    after = await waiter.order_and_send("5", STARTERS_AND_DRINKS)
    answer = await api.get("/api/v1/checks")
    assert answer.status_code == 200, answer.text

    async def caught_up() -> bool:
        return not await pending_outbox(db) and not await unfinished_print_jobs(db)

    await wait_until(caught_up, 20, "the outbox and the print queue to catch up after the restart")
    async with db.read() as session:
        lines = (await session.exec(select(CheckLine.name).where(CheckLine.check_id == check_id))).all()
        fires = (await session.exec(select(func.count()).select_from(KitchenFire))).one()
        tickets = (await session.exec(select(KitchenTicket))).all()
        undelivered = (await session.exec(select(func.count()).where(col(OutboxMessage.delivered_at).is_(None)))).one()
    assert lines == ["Soup of the Day"], "the refused line was lost or written twice"
    assert fires == 7  # drinks and starters for tables 1, 3 and 5; the soup alone for table 2
    per_fire = {(t.fire_id, t.station_id) for t in tickets}
    assert len(per_fire) == len(tickets), "a fire was delivered to the kitchen twice"
    assert {t.check_id for t in tickets} == {served, check_id, fired_late, after}  # nothing sent for table 6
    assert undelivered == 0


# ---------------------------------------------------------------------------------------------- telling them apart


async def test_only_a_database_that_cannot_be_reached_reads_as_an_outage(tmp_path: Path) -> None:
    async def failure(url: str, sql: str = "SELECT 1") -> BaseException:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        except Exception as exc:
            return exc
        finally:
            await engine.dispose()
        raise AssertionError(f"{sql} on {url} did not fail")

    refused = await failure(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/brigade")
    missing_folder = await failure(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    bad_query = await failure(f"sqlite+aiosqlite:///{tmp_path / 'there.db'}", "SELECT * FROM no_such_table")
    try:
        raise ConnectionRefusedError(111, "a printer refused")  # not from a database driver
    except OSError as exc:
        printer = exc

    assert unreachable(refused), repr(refused)
    assert unreachable(missing_folder), repr(missing_folder)
    assert not unreachable(bad_query), repr(bad_query)
    assert not unreachable(printer)
