"""The kitchen path alone: from a fire's acknowledgement to the boards' cards and the printers' bytes.

`python -m bench.kitchen_path` builds the app on a temporary SQLite database (or, with `--postgres-url`, a fresh
PostgreSQL database) with the demo restaurant, its
Grill and Fry stations printing on fake ESC/POS printers of their own (bench/printer.py), serves it with
uvicorn in this process (lifespan included: the outbox dispatcher and the print worker run as the app runs
them), opens a cook's board websocket on Grill, Fry and Expo, and then fires orders of four items one at a
time, each once the last one's cards and tickets have all arrived, so the path is measured below saturation.

Per fire it reports the time from the send request's response to each board's card and to each printer
holding the ticket's last byte; the statements and transactions spent by the dispatcher and by the print
worker (counted on the app's engines, by the task that issued them); and where the time goes: when the
dispatcher began the transaction that claims and routes the fire, when it committed, when the card push ran
and published, and when the print worker began sending. "process CPU per fire" is the CPU this process spent from
the send until the fire settled: the send's request, the dispatcher and the print worker, and this benchmark's own
clients receiving the cards and the bytes (the same for any version of the app, so a change in it is the app's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import tempfile
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.demo import load_demo
from app.lib.settings import Settings
from app.main import create_app
from app.models import metadata
from app.orders.models import Check
from bench.clients import BoardClient, Tablet, Timings
from bench.printer import FakePrinter
from bench.restaurant import COOK_PIN, ORDER_STATIONS, SERVER_PINS, add_tables, give_stations_printers, load
from bench.services import drop_postgres_database, recreate_postgres_database
from bench.stats import percentile
from tests.support.servers import free_port

PRINTED_STATIONS = ("Grill", "Fry")
DATABASE = "brigade_kitchen_path"
SETTLE_SECONDS = 0.15


def _worker_of(task: asyncio.Task[Any] | None) -> str:
    """Which part of the app a task is: the outbox dispatcher, the print worker, or anything else."""
    if task is None:
        return "other"
    name = getattr(task.get_coro(), "__qualname__", "")
    if name.startswith("OutboxDispatcher."):
        return "dispatcher"
    if name.startswith("PrintWorker."):
        return "printer"
    return "other"


@dataclass
class StatementCounter:
    """Statements and transactions on the app's engines since the last reset, by the worker that issued them."""

    statements: Tally[str] = field(default_factory=Tally)
    transactions: Tally[str] = field(default_factory=Tally)
    sql: dict[str, list[str]] = field(default_factory=dict)

    def reset(self) -> None:
        self.statements = Tally()
        self.transactions = Tally()
        self.sql = {}

    def watch(self, engine: AsyncEngine) -> None:
        def on_execute(*args: Any) -> None:
            worker = _worker_of(_current_task())
            self.statements[worker] += 1
            self.sql.setdefault(worker, []).append(" ".join(str(args[2]).split())[:200])

        def on_begin(_conn: Any) -> None:
            self.transactions[_worker_of(_current_task())] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        event.listen(engine.sync_engine, "begin", on_begin)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # a driver thread, outside the loop
        return None


@dataclass
class Marks:
    """Moments of one fire's journey through the kitchen path (perf_counter seconds), first occurrence each."""

    at: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        self.at.setdefault(name, time.perf_counter())

    def reset(self) -> None:
        self.at = {}


@dataclass
class FireSample:
    """One fire: milliseconds from the send's response to each arrival and mark, and what the workers spent."""

    to_board: dict[str, float]
    to_printer: dict[str, float]
    marks: dict[str, float]
    statements: dict[str, int]
    transactions: dict[str, int]
    send_ms: float
    cpu_ms: float
    """The process's CPU from the send to the settled end of the fire: the send's request, the dispatcher, the print
    worker, and this benchmark's own board and printer clients receiving."""

    @property
    def to_kds(self) -> float:
        """The last board's card."""
        return max(self.to_board.values())

    @property
    def to_print(self) -> float:
        """The last printer's ticket."""
        return max(self.to_printer.values())


def _timed(marks: Marks, before: str, after: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        marks.mark(before)
        result = await call(*args, **kwargs)
        marks.mark(after)
        return result

    return wrapper


def instrument(runtime: Any, marks: Marks) -> None:
    """Mark the path's moments by wrapping the running app's own objects (nothing in the app changes)."""
    dispatcher = runtime.dispatcher
    deliver = dispatcher._deliver

    async def delivered(owed: list[int] | None = None) -> Any:
        began = time.perf_counter()
        result = await deliver(owed)
        if result[0]:  # it took messages: the fire's claim is the first statement of its delivery
            marks.at.setdefault("claimed", began)
        if "routed" in marks.at:
            marks.mark("routing committed")
        if "pushed" in marks.at:
            marks.mark("push committed")
        return result

    dispatcher._deliver = delivered
    deliverers = dispatcher._deliverers
    deliverers["kitchen.fire"] = _timed(marks, "routing", "routed", deliverers["kitchen.fire"])
    deliverers["kds.push"] = _timed(marks, "pushing", "pushed", deliverers["kds.push"])
    channels = runtime.channels
    publish = channels.try_publish

    async def published(data: str, channels: Any) -> bool:
        # Callers name the channels by keyword or by position, as the plugin's own method takes them.
        ok: bool = await publish(data, channels)
        marks.mark("published")
        return ok

    channels.try_publish = published
    worker = runtime.db.context["print_worker"]
    worker._send = _timed(marks, "print sending", "print sent", worker._send)


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The app under uvicorn on a free loopback port, in this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", ws="websockets-sansio", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


async def _arrived(
    boards: dict[str, BoardClient], printers: dict[str, FakePrinter], check_number: int, within: float
) -> tuple[dict[str, float], dict[str, float]]:
    """When each board first showed a card of this check and each printer received its ticket (perf_counter)."""
    deadline = time.perf_counter() + within
    while True:
        cards = {
            name: min(seen.at for seen in board.first_seen.values() if seen.check_number == check_number)
            for name, board in boards.items()
            if any(seen.check_number == check_number for seen in board.first_seen.values())
        }
        paper = {
            name: min(job.received_at for job in printer.jobs if job.check_number == check_number)
            for name, printer in printers.items()
            if any(job.check_number == check_number for job in printer.jobs)
        }
        if len(cards) == len(boards) and len(paper) == len(printers):
            return cards, paper
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"check {check_number}: boards {sorted(cards)}, printers {sorted(paper)} after {within}s"
            )
        await asyncio.sleep(0.002)


async def run(fires: int, spacing: float, show_sql: bool, postgres_url: str | None = None) -> list[FireSample]:
    with tempfile.TemporaryDirectory(prefix="brigade-kitchen-path-") as folder:
        if postgres_url is None:
            return await _run(
                Path(folder), f"sqlite+aiosqlite:///{Path(folder) / 'brigade.db'}", fires, spacing, show_sql
            )
        await recreate_postgres_database(postgres_url, DATABASE)
        try:
            url = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0]
            return await _run(Path(folder), f"{url}/{DATABASE}", fires, spacing, show_sql)
        finally:
            await drop_postgres_database(postgres_url, DATABASE)


async def _run(folder: Path, url: str, fires: int, spacing: float, show_sql: bool) -> list[FireSample]:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    kitchen = FakePrinter("Kitchen", ["Grill", "Fry", "Cold", "Pastry", "Expo", "NO STATION"])
    bar = FakePrinter("Bar", ["Bar"])
    lines = {name: FakePrinter(f"{name} line", [name]) for name in PRINTED_STATIONS}
    for printer in (kitchen, bar, *lines.values()):
        await printer.start()
    settings = Settings(
        database_url=url,
        var_dir=folder / "var",
        secret_key="kitchen-path-secret-key-0123456789",
        pin_hash_profile="fast",
        redis_url=None,
        demo_kitchen_printer=kitchen.uri,
        demo_bar_printer=bar.uri,
    )
    app = create_app(settings)
    runtime = app.state.runtime
    async with runtime.db.write() as session:
        await load_demo(session, settings)
    await give_stations_printers(runtime.db, {name: printer.uri for name, printer in lines.items()})
    await add_tables(runtime.db, fires + 1)
    restaurant = await load(runtime.db)
    counter = StatementCounter()
    for engine in runtime.db.engines:
        counter.watch(engine)
    marks = Marks()
    samples: list[FireSample] = []
    try:
        async with serving(app) as base_url:
            instrument(runtime, marks)
            ws_url = base_url.replace("http://", "ws://")
            boards = {name: BoardClient(base_url, ws_url, restaurant.stations[name]) for name in ORDER_STATIONS}
            for board in boards.values():
                await board.open(COOK_PIN)
            tablet = Tablet(base_url, Timings())
            await tablet.open(SERVER_PINS[0])
            try:
                tables = restaurant.tables
                for index in range(fires + 1):  # the first fire warms templates and statement caches up
                    check_id = await tablet.seat(tables[index % len(tables)])
                    async with runtime.db.read() as session:
                        check = await session.get(Check, check_id)
                        assert check is not None
                        number = check.number
                    page = await tablet.get(f"/checks/{check_id}", name="check page")
                    version = int(page.text.split('data-version="', 1)[1].split('"', 1)[0])
                    for item_id, seat in restaurant.items:
                        version = await tablet.ring_in(check_id, item_id, version, seat)
                    await asyncio.sleep(spacing)
                    counter.reset()
                    marks.reset()
                    started, cpu_started = time.perf_counter(), time.process_time()
                    await tablet.send(check_id, version)
                    acknowledged = time.perf_counter()
                    cards, paper = await _arrived(boards, lines, number, within=30.0)
                    await asyncio.sleep(SETTLE_SECONDS)
                    cpu = time.process_time() - cpu_started
                    if show_sql and index == fires:
                        for worker in ("dispatcher", "printer"):
                            print(f"{worker}:")
                            for statement in counter.sql.get(worker, []):
                                print(f"  {statement}")
                    if index == 0:
                        continue
                    samples.append(
                        FireSample(
                            to_board={name: (at - acknowledged) * 1000 for name, at in cards.items()},
                            to_printer={name: (at - acknowledged) * 1000 for name, at in paper.items()},
                            marks={name: (at - acknowledged) * 1000 for name, at in marks.at.items()},
                            statements=dict(counter.statements),
                            transactions=dict(counter.transactions),
                            send_ms=(acknowledged - started) * 1000,
                            cpu_ms=cpu * 1000,
                        )
                    )
                duplicates = sum(board.duplicates for board in boards.values())
                printed = Tally((p.name, j.check_number, j.reprint) for p in lines.values() for j in p.jobs)
                doubled = sum(1 for count in printed.values() if count > 1)
                if duplicates or doubled:
                    raise RuntimeError(f"{duplicates} cards shown twice, {doubled} tickets printed twice")
            finally:
                await tablet.close()
                for board in boards.values():
                    await board.close()
    finally:
        for printer in (kitchen, bar, *lines.values()):
            await printer.stop()
        await runtime.db.dispose()
    return samples


def _line(name: str, values: list[float]) -> str:
    return (
        f"{name:<28}{percentile(values, 50):>8.1f}{percentile(values, 95):>8.1f}"
        f"{percentile(values, 99):>8.1f}{max(values):>8.1f}"
    )


def report(samples: list[FireSample]) -> dict[str, Any]:
    """Print the per-stage table; return the summary as data."""
    print(f"{len(samples)} fires, ms after the send's response{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    print(_line("send request itself", [s.send_ms for s in samples]))
    order = ["claimed", "routing", "routed", "routing committed", "pushing", "published", "pushed", "push committed"]
    order += ["print sending", "print sent"]
    for mark in order:
        values = [s.marks[mark] for s in samples if mark in s.marks]
        if values:
            print(_line(f"  {mark}", values))
    for name in ORDER_STATIONS:
        print(_line(f"card on {name}", [s.to_board[name] for s in samples]))
    for name in PRINTED_STATIONS:
        print(_line(f"ticket on {name} line", [s.to_printer[name] for s in samples]))
    print(_line("fire -> KDS (last board)", [s.to_kds for s in samples]))
    print(_line("fire -> print (last printer)", [s.to_print for s in samples]))
    print(_line("process CPU per fire, ms", [s.cpu_ms for s in samples]))
    per_fire: dict[str, Any] = {}
    for worker in ("dispatcher", "printer"):
        statements = [s.statements.get(worker, 0) for s in samples]
        transactions = [s.transactions.get(worker, 0) for s in samples]
        per_fire[worker] = {
            "statements": statistics.median(statements),
            "statements_range": [min(statements), max(statements)],
            "transactions": statistics.median(transactions),
        }
        print(
            f"{worker:<12} statements per fire median {statistics.median(statements):.0f} "
            f"({min(statements)}-{max(statements)}), transactions {statistics.median(transactions):.0f} "
            f"({min(transactions)}-{max(transactions)})"
        )

    def points(values: list[float]) -> dict[str, float]:
        return {
            "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1),
            "max": round(max(values), 1),
        }

    return {
        "fires": len(samples),
        "fire_to_kds_ms": points([s.to_kds for s in samples]),
        "fire_to_print_ms": points([s.to_print for s in samples]),
        "cpu_ms_per_fire": {
            "p50": round(percentile([s.cpu_ms for s in samples], 50), 1),
            "min": round(min(s.cpu_ms for s in samples), 1),
        },
        "per_fire": per_fire,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fires", type=int, default=50, help="fires measured after a warm-up one (50)")
    parser.add_argument("--spacing", type=float, default=0.3, help="seconds between one fire's arrival and the next")
    parser.add_argument("--show-sql", action="store_true", help="print the workers' statements of the last fire")
    parser.add_argument(
        "--postgres-url",
        help=f"run on PostgreSQL instead of SQLite: a plain postgresql:// URL of a server where the database "
        f"{DATABASE} is created for the run and dropped after it (channels stay in-process)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    samples = asyncio.run(run(args.fires, args.spacing, args.show_sql, args.postgres_url))
    summary = report(samples)
    print("KITCHEN_PATH " + json.dumps(summary))


if __name__ == "__main__":
    main()
