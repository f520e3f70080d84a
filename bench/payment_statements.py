"""What one card payment costs: SQL statements, transactions and CPU for paying a four-item check in full over
HTTP, and for delivering the sale posting its closing owes.

    .venv/bin/python -m bench.payment_statements                 # 7 repetitions, medians
    .venv/bin/python -m bench.payment_statements --repeat 15 --sql   # and every statement of the last one

Each repetition seats a fresh check on a demo table, rings in the benchmark's four items and sends them
(through the order services, not measured), delivers what the send owes, then measures:

- ``pay``: ``POST /checks/{id}/pay`` by card for what is due, through the in-process HTTP client, as a tablet
  sends it; paid in full, the check closes itself.
- ``posting``: the outbox dispatcher's drain that delivers the closing's sale posting.

Statements are counted with a SQLAlchemy ``before_cursor_execute`` listener on both engines (on SQLite that
includes each transaction's ``BEGIN``), transactions with ``begin`` events, and CPU is the process's CPU time
(the app's thread and aiosqlite's threads), median over the repetitions. The first repetition warms caches
(compiled templates and statements) and is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from app.demo import load_demo
from app.lib.db import Database
from app.lib.settings import Settings
from app.main import create_app
from app.menu.models import MenuItem
from app.models import metadata
from app.orders import firing, seating
from app.orders import lines as order_lines
from app.staff.models import Staff
from bench.clients import log_in
from bench.restaurant import ORDER, load

SERVER_PIN = "1111"
STEPS = ("pay", "posting")


def _key(conn: Any) -> int:
    """The pooled connection a statement runs on: held by one transaction at a time, unlike a facade's id()."""
    fairy = getattr(conn, "connection", None)
    return id(getattr(fairy, "dbapi_connection", None) or conn)


@dataclass
class Counter:
    """Statements and transactions seen on the app's engines while a step runs.

    The venue's sync sender looks up the head-office link on its own clock; those look-ups, and a transaction that
    does nothing else, are not the step's and are left out, so the figures do not depend on where that clock falls.
    """

    active: bool = False
    # (connection, statement or "-- transaction", the connection's transaction it belongs to)
    seen: list[tuple[int, str, int]] = field(default_factory=list)
    current: dict[int, int] = field(default_factory=dict)
    begun_by_statement: set[int] = field(default_factory=set)
    groups: int = 0

    def watch(self, db: Database) -> None:
        for engine in db.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
            event.listen(engine.sync_engine, "begin", self._begin)

    def _start(self, conn: Any) -> None:
        self.current[_key(conn)] = self.groups
        self.groups += 1

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.active:
            return
        # On SQLite the app sends its own BEGIN from the begin event, just before this counter hears of it.
        if statement.lstrip().upper().startswith("BEGIN"):
            self._start(conn)
            self.begun_by_statement.add(_key(conn))
        elif _key(conn) not in self.current:
            self._start(conn)
        self.seen.append((_key(conn), " ".join(statement.split()), self.current[_key(conn)]))

    def _begin(self, conn: Any) -> None:
        if not self.active:
            return
        if _key(conn) in self.begun_by_statement:
            self.begun_by_statement.discard(_key(conn))
        else:
            self._start(conn)
        self.seen.append((_key(conn), "-- transaction", self.current[_key(conn)]))

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.seen, self.current, self.begun_by_statement, self.active = [], {}, set(), True
        try:
            yield
        finally:
            self.active = False

    @property
    def statements(self) -> list[str]:
        """What the step sent, in order, with a "-- transaction" line where each transaction began."""
        polls: dict[int, bool] = {}
        for _conn, text, group in self.seen:
            if text == "-- transaction" or text.upper().startswith("BEGIN"):
                continue
            polls[group] = polls.get(group, True) and " FROM head_office_link" in text
        return [
            text
            for _conn, text, group in self.seen
            if not polls.get(group, False) and " FROM head_office_link" not in text
        ]

    @property
    def statement_count(self) -> int:
        return sum(1 for s in self.statements if s != "-- transaction")

    @property
    def transactions(self) -> int:
        return sum(1 for s in self.statements if s == "-- transaction")


@dataclass
class Sample:
    statements: int
    transactions: int
    cpu_ms: float
    sql: list[str]


async def _measure(counter: Counter, step: Callable[[], Awaitable[None]]) -> Sample:
    with counter.counting():
        started = time.process_time()
        await step()
        cpu_ms = (time.process_time() - started) * 1000
    return Sample(counter.statement_count, counter.transactions, cpu_ms, counter.statements)


async def _create_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


@asynccontextmanager
async def _running_app(folder: Path) -> AsyncIterator[Any]:
    url = f"sqlite+aiosqlite:///{folder / 'brigade.db'}"
    await _create_schema(url)
    settings = Settings(
        database_url=url,
        var_dir=folder / "var",
        secret_key=uuid.uuid4().hex * 2,
        run_workers=False,
        redis_url=None,
    )
    app = create_app(settings)
    runtime = app.state.runtime
    async with runtime.db.write() as session:
        await load_demo(session, settings)
    async with app.lifespan():
        yield app
    await runtime.db.dispose()


async def _seat_and_send(db: Database, table_id: int) -> tuple[int, int]:
    """A check on `table_id` with the four items sent; its id and version."""
    async with db.read() as session:
        server = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        by_sku = {item.sku: item.id or 0 for item in (await session.exec(select(MenuItem))).all()}
    async with db.write() as session:
        check = await seating.open_check(session, table_id=table_id, covers=2, server=server, kind="table")
        for sku, seat in ORDER:
            await order_lines.add_line(
                session,
                check_id=check.id or 0,
                request=order_lines.LineRequest(menu_item_id=by_sku[sku], seat=seat),
                actor=server,
                expected_version=None,
            )
        await firing.send(session, check_id=check.id or 0, actor=server, expected_version=None)
        return check.id or 0, check.version


async def run(repeat: int) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {step: [] for step in STEPS}
    with tempfile.TemporaryDirectory(prefix="brigade-payment-") as folder:
        async with _running_app(Path(folder)) as app:
            runtime = app.state.runtime
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
            counter = Counter()
            counter.watch(runtime.db)
            restaurant = await load(runtime.db)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
                csrf = await log_in(client, SERVER_PIN)
                for index in range(repeat + 1):
                    check_id, version = await _seat_and_send(runtime.db, restaurant.tables[index])
                    await runtime.dispatcher.drain()

                    async def pay(check_id: int = check_id, version: int = version) -> None:
                        response = await client.post(
                            f"/checks/{check_id}/pay",
                            data={
                                "tender_id": str(restaurant.card_tender),
                                "amount": "",
                                "tip": "",
                                "version": str(version),
                                "idempotency_key": uuid.uuid4().hex,
                            },
                            headers={"x-csrftoken": csrf, "hx-request": "true"},
                        )
                        if response.status_code != 200 or "Check closed" not in response.text:
                            raise RuntimeError(f"paying answered {response.status_code}: {response.text[:300]}")

                    async def posting() -> None:
                        if await runtime.dispatcher.drain() < 1:
                            raise RuntimeError("the closing owed no delivery")

                    paid = await _measure(counter, pay)
                    posted = await _measure(counter, posting)
                    if index:  # the first repetition warms caches
                        samples["pay"].append(paid)
                        samples["posting"].append(posted)
    return samples


def summary(samples: dict[str, list[Sample]]) -> dict[str, dict[str, Any]]:
    """Per step: statements and transactions (of the last repetition; min-max if they varied), median CPU ms."""
    result: dict[str, dict[str, Any]] = {}
    for step, runs in samples.items():
        statements = sorted({s.statements for s in runs})
        transactions = sorted({s.transactions for s in runs})
        result[step] = {
            "statements": runs[-1].statements if len(statements) == 1 else f"{statements[0]}-{statements[-1]}",
            "transactions": runs[-1].transactions
            if len(transactions) == 1
            else f"{transactions[0]}-{transactions[-1]}",
            "cpu_ms_median": round(statistics.median(s.cpu_ms for s in runs), 1),
            "cpu_ms_min": round(min(s.cpu_ms for s in runs), 1),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="measured repetitions (one more warms up)")
    parser.add_argument("--sql", "--show-sql", action="store_true", help="print every statement of the last repetition")
    args = parser.parse_args()
    samples = asyncio.run(run(max(args.repeat, 1)))
    table = summary(samples)
    print(f"{'step':<10}{'statements':>12}{'transactions':>14}{'CPU ms (median)':>17}{'CPU ms (min)':>14}")
    for step, row in table.items():
        print(
            f"{step:<10}{row['statements']!s:>12}{row['transactions']!s:>14}"
            f"{row['cpu_ms_median']:>17}{row['cpu_ms_min']:>14}"
        )
    if args.sql:
        for step, runs in samples.items():
            print(f"\n== {step}")
            for statement in runs[-1].sql:
                print(statement[:300])
    print("PAYMENT " + json.dumps(table))


if __name__ == "__main__":
    main()
