"""What one order costs the app, step by step: SQL statements, transactions and CPU per request.

`python -m bench.statements` builds the app on a temporary SQLite database with the demo restaurant, logs a
server in, and drives an order as a tablet does (seat, check page, four items rung in, send, floor page)
through an in-process HTTP client, with the app's background workers off so that everything counted belongs
to the request. It prints, per step, the statements the request issued (every cursor execute, BEGIN
included), the transactions it opened, and the CPU time of the process (the driver's threads included),
as the median of several orders after a warm-up one.

`--database-url postgresql://postgres@127.0.0.1:5432/postgres` measures on PostgreSQL instead, in a
database of its own created there and dropped at the end. `--show-sql STEP` prints that step's statements,
`--profile STEP` where its CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.demo import load_demo
from app.lib.db import Database
from app.lib.settings import Settings
from app.main import create_app
from app.models import metadata
from bench.clients import VERSION, key, log_in
from bench.restaurant import SERVER_PINS, load
from bench.services import drop_postgres_database, recreate_postgres_database

MAX_ORDERS = 21
STEPS = ("seat", "check page", "ring in", "send", "floor page")


@dataclass
class Counter:
    """Statements and transactions seen on the app's engines since the last reset."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0

    def reset(self) -> None:
        self.statements = []
        self.transactions = 0

    def watch(self, engine: AsyncEngine) -> None:
        def on_execute(*args: Any) -> None:
            self.statements.append(" ".join(str(args[2]).split()))

        def on_begin(_conn: Any) -> None:
            self.transactions += 1

        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        event.listen(engine.sync_engine, "begin", on_begin)


@dataclass
class Sample:
    """One request: what it issued and what it cost."""

    statements: int
    transactions: int
    cpu_ms: float
    wall_ms: float
    sql: list[str]


@dataclass
class Order:
    """The samples of every step over the measured orders, and a profile of one step if asked."""

    counter: Counter
    profiled: str | None = None
    profile: cProfile.Profile = field(default_factory=cProfile.Profile)
    measuring: bool = True
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {step: [] for step in STEPS})

    async def measure(self, step: str, request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """Send one request of `step`, counting what it costs."""
        self.counter.reset()
        profiling = self.measuring and step == self.profiled
        if profiling:
            self.profile.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        response = await request()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiling:
            self.profile.disable()
        if response.status_code not in (200, 303):
            raise RuntimeError(f"{response.request.url} answered {response.status_code}: {response.text[:300]}")
        if self.measuring:
            statements = list(self.counter.statements)
            sample = Sample(len(statements), self.counter.transactions, cpu * 1000, wall * 1000, statements)
            self.samples[step].append(sample)
        return response


def _version(html: str) -> int:
    match = VERSION.search(html)
    if match is None:
        raise RuntimeError("the check panel carries no data-version")
    return int(match.group(1))


async def _order(
    client: httpx.AsyncClient, csrf: str, table_id: int, items: list[tuple[int, int]], into: Order
) -> None:
    headers = {"x-csrftoken": csrf, "hx-request": "true"}

    async def post(url: str, data: dict[str, str]) -> httpx.Response:
        return await client.post(url, data={**data, "idempotency_key": key()}, headers=headers)

    seated = await into.measure(
        "seat", lambda: post("/checks", {"kind": "table", "table_id": str(table_id), "covers": "2"})
    )
    check_id = int(seated.headers["hx-redirect"].rsplit("/", 1)[1])
    page = await into.measure("check page", lambda: client.get(f"/checks/{check_id}"))
    version = _version(page.text)
    for item_id, seat in items:
        fields = {
            "menu_item_id": str(item_id),
            "seat": str(seat),
            "course": "auto",
            "quantity": "1",
            "note": "",
            "version": str(version),
        }
        panel = await into.measure("ring in", lambda fields=fields: post(f"/checks/{check_id}/lines", fields))
        version = _version(panel.text)
    await into.measure("send", lambda: post(f"/checks/{check_id}/send", {"version": str(version)}))
    await into.measure("floor page", lambda: client.get("/floor"))


async def run(database_url: str | None, orders: int, profiled: str | None) -> Order:
    with tempfile.TemporaryDirectory(prefix="brigade-statements-") as folder:
        pg_name = f"brigade_statements_{os.getpid()}"
        admin_url = (database_url or "").replace("postgresql+asyncpg://", "postgresql://")
        if admin_url:
            await recreate_postgres_database(admin_url, pg_name)
            parsed = urlparse(admin_url)
            url = parsed._replace(scheme="postgresql+asyncpg", path=f"/{pg_name}").geturl()
        else:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'brigade.db'}"
        try:
            return await _run(url, Path(folder), orders, profiled)
        finally:
            if admin_url:
                await drop_postgres_database(admin_url, pg_name)


async def _run(url: str, folder: Path, orders: int, profiled: str | None) -> Order:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    settings = Settings(
        database_url=url,
        var_dir=folder / "var",
        secret_key="statements-secret-key-0123456789",
        pin_hash_profile="fast",
        run_workers=False,
    )
    app = create_app(settings)
    db: Database = app.state.runtime.db
    async with db.write() as session:
        await load_demo(session, settings)
    restaurant = await load(db)
    # tables of the floor GET /floor shows first, so the floor page draws the orders' checks
    tables = restaurant.tables[: orders + 1]
    counter = Counter()
    for engine in db.engines:
        counter.watch(engine)
    order = Order(counter, profiled)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            csrf = await log_in(client, SERVER_PINS[0])
            order.measuring = False  # the first order warms templates and statement caches up
            await _order(client, csrf, tables[0], restaurant.items, order)
            order.measuring = True
            for table_id in tables[1:]:
                await _order(client, csrf, table_id, restaurant.items, order)
    await db.dispose()
    return order


def report(order: Order, backend: str) -> None:
    print(f"{'step (' + backend + ')':<22}{'statements':>11}{'transactions':>14}{'CPU ms':>9}{'wall ms':>9}")
    for step in STEPS:
        samples = order.samples[step]
        statements = sorted({s.statements for s in samples})
        transactions = sorted({s.transactions for s in samples})
        shown = str(statements[0]) if len(statements) == 1 else f"{statements[0]}-{statements[-1]}"
        shown_tx = str(transactions[0]) if len(transactions) == 1 else f"{transactions[0]}-{transactions[-1]}"
        cpu = statistics.median(s.cpu_ms for s in samples)
        wall = statistics.median(s.wall_ms for s in samples)
        print(f"{step:<22}{shown:>11}{shown_tx:>14}{cpu:>9.1f}{wall:>9.1f}")
    per_order = {
        "statements": sum(
            statistics.median(s.statements for s in order.samples[step]) * _times(step) for step in STEPS
        ),
        "cpu_ms": sum(statistics.median(s.cpu_ms for s in order.samples[step]) * _times(step) for step in STEPS),
    }
    print(f"{'one order':<22}{per_order['statements']:>11.0f}{'':>14}{per_order['cpu_ms']:>9.1f}")


def _times(step: str) -> int:
    return 4 if step == "ring in" else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=9, help="orders measured after the warm-up one (9)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL; SQLite in a temporary folder when omitted")
    parser.add_argument("--show-sql", choices=STEPS, help="print the statements of this step (last order)")
    parser.add_argument("--profile", choices=STEPS, help="print where this step's CPU goes (cProfile, main thread)")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= MAX_ORDERS:
        parser.error(f"--orders must be between 1 and {MAX_ORDERS} (the demo's dining room has 22 tables)")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    order = asyncio.run(run(args.database_url, args.orders, args.profile))
    if args.show_sql:
        for statement in order.samples[args.show_sql][-1].sql:
            print(f"  {statement[:300]}")
    if args.profile:
        pstats.Stats(order.profile).sort_stats("tottime").print_stats(40)
    report(order, "postgres" if args.database_url else "sqlite")


if __name__ == "__main__":
    main()
