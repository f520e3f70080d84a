"""Brigade's benchmark: `python -m bench.run [--mode sqlite|postgres|both]`.

Each mode starts real app processes on free loopback ports against a fresh database with the demo restaurant,
fake ESC/POS printers on local TCP ports, kitchen boards on websockets and tablets over HTTP; fires orders at a set
rate, pays them, closes the business day, then checks in the database that nothing was lost or doubled. Each mode
ends with one line `BENCH {json}` on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from app.checks.services import RECOVERY_TOPIC
from app.kitchen.models import PrintJob, PrintJobState
from app.lib import heap
from app.lib.db import Database
from app.lib.outbox import OutboxMessage
from bench import bare
from bench.clients import BenchError, BoardClient, Tablet, Timings
from bench.cpu import CpuMeter, per_order
from bench.load import FireLoad, FirePlan, pay_all
from bench.printer import FakePrinter
from bench.restaurant import (
    COOK_PIN,
    MANAGER_PIN,
    SERVER_PINS,
    Restaurant,
    add_tables,
    give_stations_printers,
    load,
)
from bench.services import (
    BENCH_DATABASE,
    PYTHON,
    ROOT,
    AppCluster,
    bench_env,
    brigade,
    drop_postgres_database,
    flush_redis_db,
    recreate_postgres_database,
)
from bench.stats import summary
from bench.verify import verify
from tests.support.servers import RedisServer, free_port, wait_for_port

MODES = ("sqlite", "postgres")
DEFAULTS: dict[str, dict[str, float]] = {
    "sqlite": {"rate": 20, "duration": 30, "tablets": 12, "processes": 1},
    "postgres": {"rate": 200, "duration": 30, "tablets": 16, "processes": 2},
}
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DRAIN_TIMEOUT_S = 60.0


def say(message: str) -> None:
    """Progress, on stderr so stdout carries only the BENCH lines."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Options:
    """One mode's knobs."""

    mode: str
    rate: float
    duration: float
    tablets: int
    boards: int
    processes: int
    delivery_process: bool
    day_checks: int
    bare_messages: int
    redis_url: str | None
    postgres_admin: str
    keep: bool


class Run:
    """One mode from a fresh database to the BENCH line."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.folder = Path(tempfile.mkdtemp(prefix=f"brigade-bench-{options.mode}-"))
        self.kitchen = FakePrinter("Kitchen", ["Grill", "Fry", "Cold", "Pastry", "Expo", "NO STATION"])
        self.bar = FakePrinter("Bar", ["Bar"])
        # each station of the order prints on a printer of its own, as a big kitchen's line does
        self.lines = {name: FakePrinter(f"{name} line", [name]) for name in ("Grill", "Fry")}
        self.redis: RedisServer | None = None
        self.cluster: AppCluster | None = None
        self.database_url = ""
        self.redis_url: str | None = None
        self.db: Database | None = None
        self.timings = Timings()
        self.tablets: list[Tablet] = []
        self.boards: list[BoardClient] = []
        self.report: dict[str, Any] = {}
        self.started = time.perf_counter()
        self.prepared_s = 0.0
        self.torn_down = False

    # ------------------------------------------------------------------------------------------ setup

    @property
    def printers(self) -> list[FakePrinter]:
        return [self.kitchen, self.bar, *self.lines.values()]

    async def setup(self) -> Restaurant:
        options = self.options
        for printer in self.printers:
            await printer.start()
        if options.mode == "postgres":
            if options.redis_url:
                self.redis_url = options.redis_url
                await flush_redis_db(self.redis_url)
            else:
                self.redis = RedisServer()
                await asyncio.to_thread(self.redis.start)
                self.redis_url = self.redis.url
            await recreate_postgres_database(options.postgres_admin, BENCH_DATABASE)
            host_part = options.postgres_admin.split("://", 1)[1].rsplit("/", 1)[0]
            self.database_url = f"postgresql+asyncpg://{host_part}/{BENCH_DATABASE}"
        else:
            self.database_url = f"sqlite+aiosqlite:///{self.folder / 'brigade.db'}"
        settings: dict[str, str] = {
            "var_dir": str(self.folder),
            "database_url": self.database_url,
            "secret_key": secrets.token_urlsafe(48),
            "demo_kitchen_printer": self.kitchen.uri,
            "demo_bar_printer": self.bar.uri,
        }
        if self.redis_url:
            settings["redis_url"] = self.redis_url
        self.env = bench_env(dict(os.environ), **settings)
        say(f"{options.mode}: fresh database, demo restaurant")
        await asyncio.to_thread(brigade, self.env, "db", "upgrade")
        await asyncio.to_thread(brigade, self.env, "demo")
        self.db = Database(self.database_url)
        restaurant = await load(self.db)
        await give_stations_printers(self.db, {name: printer.uri for name, printer in self.lines.items()})
        planned = int(options.rate * options.duration)
        extra = planned + max(20, planned // 10) - len(restaurant.tables)
        await add_tables(self.db, extra)
        return await load(self.db)

    async def measure_bare(self) -> dict[str, float]:
        """Publish → websocket receive on the same channels setup, no database: the floor under the app."""
        port = free_port()
        env = {**self.env, "BRIGADE_VAR_DIR": str(self.folder / "bare")}
        with (self.folder / "bare.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                PYTHON, "-m", "bench.bare", str(port), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            await asyncio.to_thread(wait_for_port, port)
            return await bare.measure(f"ws://127.0.0.1:{port}", count=self.options.bare_messages)
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()

    async def start_apps(self, restaurant: Restaurant) -> None:
        options = self.options
        extra = " and a delivery process" if options.delivery_process else ""
        say(f"{options.mode}: starting {options.processes} app process(es){extra}")
        self.cluster = AppCluster(env=self.env, folder=self.folder)
        await asyncio.to_thread(self.cluster.start, options.processes, delivery_process=options.delivery_process)
        apps = self.cluster.processes
        for index in range(options.tablets):
            app = apps[index % len(apps)]
            tablet = Tablet(app.base_url, self.timings)
            await tablet.open(SERVER_PINS[index % len(SERVER_PINS)])
            self.tablets.append(tablet)
        stations = restaurant.board_stations
        for index in range(options.boards):
            app = apps[index % len(apps)]
            board = BoardClient(app.base_url, app.ws_url, stations[index % len(stations)])
            await board.open(COOK_PIN)
            self.boards.append(board)

    # ------------------------------------------------------------------------------------------ the night

    async def fire(self, restaurant: Restaurant) -> FireLoad:
        options = self.options
        limit = min(int(options.rate * options.duration), len(restaurant.tables))
        say(f"{options.mode}: firing up to {limit} orders at {options.rate:g}/s for {options.duration:g} s")
        load_ = FireLoad(self.tablets, restaurant, FirePlan(options.rate, options.duration, limit))
        # The tablets, boards and printers here stand for devices of their own. A full collection of this process's
        # heap (150 ms with the day's checks prepared) would hold their clocks back and be counted as the app's
        # latency: what the run has built so far is kept out of the collector's way, as the app keeps its own.
        heap.freeze()
        await load_.run()
        result = load_.result
        say(f"{options.mode}: {len(result.fired)} fired, {result.orders_per_s:.1f}/s, {len(result.errors)} errors")
        return load_

    def cpu_meter(self) -> CpuMeter:
        """A meter of the night's CPU: the app's processes, the database server, Redis and these clients."""
        assert self.cluster is not None
        pids = {
            "web" if self.options.mode == "postgres" else "app": [
                a.process.pid for a in self.cluster.processes if a.process
            ],
            "bench": [os.getpid()],
        }
        if self.cluster.delivery:
            pids["delivery"] = [a.process.pid for a in self.cluster.delivery if a.process]
        if self.redis is not None and self.redis.process is not None:
            pids["redis"] = [self.redis.process.pid]
        return CpuMeter(pids, with_database_server=self.options.mode == "postgres")

    async def wait_for_kitchen(self, fired: dict[int, float], printed_per_order: int) -> float:
        """Wait until every board showed, and the printer printed, the tickets of every fired order."""
        started = time.perf_counter()
        deadline = started + DRAIN_TIMEOUT_S
        while time.perf_counter() < deadline:
            shown = all(
                sum(1 for seen in board.first_seen.values() if seen.check_number in fired) >= len(fired)
                for board in self.boards
            )
            printed = sum(1 for p in self.printers for job in p.jobs if job.check_number in fired and not job.reprint)
            if shown and printed >= printed_per_order * len(fired):
                break
            await asyncio.sleep(0.2)
        return time.perf_counter() - started

    async def wait_for_outbox(self, within_s: float = 120.0) -> None:
        """Wait until every outbox message and print job is delivered (a day cannot close before)."""
        assert self.db is not None
        deadline = time.perf_counter() + within_s
        while time.perf_counter() < deadline:
            async with self.db.read() as session:
                pending = (
                    await session.exec(
                        select(func.count()).where(
                            col(OutboxMessage.delivered_at).is_(None), OutboxMessage.topic != RECOVERY_TOPIC
                        )
                    )
                ).one()
                prints = (
                    await session.exec(
                        select(func.count()).where(
                            col(PrintJob.state).in_([PrintJobState.PENDING, PrintJobState.PRINTING])
                        )
                    )
                ).one()
            if not pending and not prints:
                return
            await asyncio.sleep(0.25)
        raise BenchError(f"the outbox did not drain within {within_s:.0f} s")

    async def serve_earlier(self, count: int, tables: list[int]) -> float:
        """The rest of the day's checks, rung in and paid through the services by `processes` workers at once."""
        workers = self.options.processes
        say(f"{self.options.mode}: {count} more checks of the day through the order and check services")
        started = time.perf_counter()
        processes = []
        for index in range(workers):
            share = count // workers + (1 if index < count % workers else 0)
            mine = tables[index::workers][:40]
            if not share:
                continue
            with (self.folder / f"earlier-{index + 1}.log").open("ab") as log:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        PYTHON,
                        "-m",
                        "bench.restaurant",
                        str(share),
                        ",".join(str(t) for t in mine),
                        env=self.env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        codes = [await process.wait() for process in processes]
        if any(codes):
            logs = "\n".join((self.folder / f"earlier-{i + 1}.log").read_text()[-2000:] for i in range(workers))
            raise BenchError(f"serving the earlier checks failed:\n{logs}")
        return time.perf_counter() - started

    async def close_day(self, restaurant: Restaurant) -> float:
        """The manager checks the servers out and closes the business day; the seconds the close took."""
        assert self.cluster is not None
        manager = Tablet(self.cluster.processes[0].base_url, self.timings)
        await manager.open(MANAGER_PIN)
        try:
            for staff_id in restaurant.servers:
                response = await manager.post(
                    "/closes/checkout",
                    {"staff_id": str(staff_id), "cash_tips": "0", "idempotency_key": secrets.token_hex(16)},
                    name="checkout",
                )
                if response.status_code != 200 or "Checked out" not in response.text:
                    raise BenchError(f"checking out staff {staff_id} failed: {response.status_code}")
            started = time.perf_counter()
            response = await manager.post(
                "/closes/day/close", {"day": "", "idempotency_key": secrets.token_hex(16)}, name="day_close"
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or "is closed:" not in response.text:
                raise BenchError(f"the day did not close: {_flash(response.text)}")
            return elapsed
        finally:
            await manager.close()

    # ------------------------------------------------------------------------------------------ the run

    async def prepare(self) -> Restaurant:
        """A fresh database with the demo restaurant and the day's earlier checks, before anything is timed."""
        self.started = time.perf_counter()
        restaurant = await self.setup()
        earlier = self.options.day_checks
        # the banquet tables at the end of the list: the load seats tables from the start
        self.report["earlier_checks"] = earlier
        self.report["earlier_checks_s"] = round(await self.serve_earlier(earlier, restaurant.tables[-40:]), 1)
        await self.wait_for_outbox()
        self.prepared_s = time.perf_counter() - self.started
        say(f"{self.options.mode}: ready after {self.prepared_s:.0f} s")
        return restaurant

    async def run(self, restaurant: Restaurant) -> dict[str, Any]:
        """The timed part: bare channels, the night's load, payments, the day close, then the checks."""
        options = self.options
        started = time.perf_counter()
        try:
            say(f"{options.mode}: bare channels ({options.bare_messages} messages)")
            bare_ms = await self.measure_bare()
            await self.start_apps(restaurant)
            lag = LoopLag()
            lag.start()
            meter = self.cpu_meter()
            meter.start()
            load_ = await self.fire(restaurant)
            fired = {o.check_id: o.fire_sent_at for o in load_.result.fired}
            kitchen_wait = await self.wait_for_kitchen(fired, printed_per_order=2)
            cpu = per_order(await meter.stop(), len(fired), meter.seconds)
            if cpu:
                roles = ", ".join(f"{role} {ms}" for role, ms in cpu["ms_per_order"].items())
                total, busy = cpu["ms_per_order_all"], cpu["cores_busy"]
                say(f"{options.mode}: CPU per fired order {total} ms ({roles}); {busy} cores busy")
            lag_ms = await lag.stop()
            say(f"{options.mode}: kitchen caught up {kitchen_wait:.1f} s after the last fire; paying")
            pay_started = time.perf_counter()
            paid, pay_errors = await pay_all(self.tablets, load_.by_tablet, restaurant.card_tender)
            pay_s = time.perf_counter() - pay_started
            say(f"{options.mode}: {len(paid)} paid in {pay_s:.1f} s")
            await self.wait_for_outbox()
            say(f"{options.mode}: closing the day")
            day_close_s = await self.close_day(restaurant)
            await self.wait_for_outbox()
            assert self.db is not None
            ledger = await verify(
                self.db,
                fired=fired,
                paid=paid,
                expected_stations={restaurant.stations[n]: n for n in ("Grill", "Fry", "Expo")},
                printed_stations={restaurant.stations[n]: n for n in ("Grill", "Fry")},
                boards=self.boards,
                printers=self.printers,
            )
            kds = [
                (seen.at - fired[seen.check_number]) * 1000
                for board in self.boards
                for seen in board.first_seen.values()
                if seen.check_number in fired
            ]
            prints = [
                (job.received_at - fired[job.check_number]) * 1000
                for printer in self.printers
                for job in printer.jobs
                if job.check_number in fired and job.station is not None and not job.reprint
            ]
            kds_summary = summary(kds)
            report: dict[str, Any] = {
                "mode": options.mode,
                "cores": os.cpu_count(),
                "processes": options.processes + (1 if options.delivery_process else 0),
                "web_processes": options.processes,
                "delivery_process": options.delivery_process,
                "orders_per_s": round(load_.result.orders_per_s, 1),
                "target_orders_per_s": options.rate,
                "fired": len(fired),
                "fire_to_kds_ms": kds_summary,
                "fire_to_print_ms": summary(prints),
                "bare_ws_ms": bare_ms,
                "ratio_app_bare": {
                    p: round(kds_summary[p] / bare_ms[p], 1) if bare_ms.get(p) else None for p in ("p50", "p99")
                },
                "floor_page_ms": summary(self.timings.samples.get("floor_page", []), (50, 95)),
                "check_page_ms": summary(self.timings.samples.get("check_page", []), (50, 95)),
                "fire_request_ms": summary(self.timings.samples.get("fire", []), (50, 95, 99)),
                # how late the benchmark's own event loop ran (its screens and printers time what they receive)
                "bench_loop_lag_ms": lag_ms,
                # the CPU of the night (seating to the kitchen's last card and ticket) per fired order, by process
                "cpu": cpu,
                "kitchen_caught_up_s": round(kitchen_wait, 1),
                "day_close_s": round(day_close_s, 2),
                "closed_checks": len(paid) + int(self.report.get("earlier_checks", 0)),
                "prepare_s": round(self.prepared_s, 1),
                **ledger.as_report(),
                "errors": len(load_.result.errors) + len(pay_errors),
                "tablets": options.tablets,
                "kds_clients": options.boards,
                "duration_s": options.duration,
                "pay_s": round(pay_s, 1),
                "load_average": _load_average(),
                **self.report,
                "run_s": round(time.perf_counter() - started, 1),
            }
            for error in (load_.result.errors + pay_errors)[:5]:
                say(f"{options.mode}: error: {error}")
            for note in ledger.notes:
                say(f"{options.mode}: {note}")
            dropped = [b for b in self.boards if b.dropped]
            if dropped:
                report["boards_dropped"] = len(dropped)
                # why the server ended them (the close code and reason, or the error)
                report["boards_dropped_why"] = sorted({str(b.failure)[:200] for b in dropped})
            if self.cluster is not None:
                problems = self.cluster.errors()
                report["app_errors_logged"] = len(problems)
                for problem in problems[:5]:
                    say(f"{options.mode}: app log: {problem}")
            return report
        finally:
            await self.teardown()

    async def teardown(self) -> None:
        if self.torn_down:
            return
        self.torn_down = True
        for board in self.boards:
            await board.close()
        for tablet in self.tablets:
            await tablet.close()
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.stop)
        if self.db is not None:
            await self.db.dispose()
        for printer in self.printers:
            await printer.stop()
        if self.options.mode == "postgres":
            with contextlib.suppress(Exception):
                await drop_postgres_database(self.options.postgres_admin, BENCH_DATABASE)
            if self.redis is not None:
                await asyncio.to_thread(self.redis.stop, graceful=True)
            elif self.redis_url:
                with contextlib.suppress(Exception):
                    await flush_redis_db(self.redis_url)
        if self.options.keep:
            say(f"{self.options.mode}: files kept in {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


class LoopLag:
    """How late this process's event loop wakes a sleeper: the benchmark's own delay in noticing a message."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.samples.append((time.perf_counter() - started - 0.01) * 1000)

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return summary(self.samples)


def _flash(html: str) -> str:
    import re

    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)</', html, re.S)
    return (found.group(1) if found else html[:300]).strip()


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def options_for(mode: str, args: argparse.Namespace) -> Options:
    defaults = DEFAULTS[mode]
    return Options(
        mode=mode,
        rate=args.rate if args.rate is not None else defaults["rate"],
        duration=args.duration if args.duration is not None else defaults["duration"],
        tablets=args.tablets if args.tablets is not None else int(defaults["tablets"]),
        boards=args.kds_clients,
        processes=args.processes if args.processes is not None and mode == "postgres" else int(defaults["processes"]),
        delivery_process=mode == "postgres" and not args.no_delivery_process,
        day_checks=args.day_checks,
        bare_messages=args.bare_messages,
        redis_url=args.redis_url,
        postgres_admin=args.postgres_url,
        keep=args.keep,
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--rate", type=float, help="fired orders per second to offer (sqlite 20, postgres 200)")
    parser.add_argument("--duration", type=float, help="seconds of firing (default 30)")
    parser.add_argument("--tablets", type=int, help="simulated tablets (sqlite 12, postgres 16)")
    parser.add_argument("--kds-clients", type=int, default=6, help="kitchen boards on websockets (default 6)")
    parser.add_argument("--processes", type=int, help="app processes in postgres mode (default 2)")
    parser.add_argument(
        "--no-delivery-process",
        action="store_true",
        help="postgres: every app process runs the dispatcher and print worker, none is set apart for them",
    )
    parser.add_argument("--day-checks", type=int, default=2000, help="closed checks the day close works on")
    parser.add_argument("--bare-messages", type=int, default=500, help="messages for the bare channels floor")
    parser.add_argument("--redis-url", help="a running Redis to use (its db is flushed); default: a private one")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN, help="PostgreSQL server to create the db on")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, SQLite file)")
    args = parser.parse_args(argv)
    for name in ("rate", "duration"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name} must be more than zero")
    for name in ("tablets", "kds_clients", "processes", "day_checks", "bare_messages"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


async def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # the app's logging setup would otherwise report every request the tablets make
    logging.getLogger("httpx").setLevel(logging.WARNING)
    modes = MODES if args.mode == "both" else (args.mode,)
    runs = [Run(options_for(mode, args)) for mode in modes]
    failed = False
    try:
        # The day's earlier checks of every mode are served at once, before anything is timed: they take the
        # longest, and the SQLite writer and PostgreSQL can work side by side.
        restaurants = await asyncio.gather(*(run.prepare() for run in runs))
        for run, restaurant in zip(runs, restaurants, strict=True):
            report = await run.run(restaurant)
            print("BENCH " + json.dumps(report), flush=True)
            failed = failed or bool(report["lost"] or report["duplicated"])
    finally:
        for run in runs:
            await run.teardown()
    return 1 if failed else 0


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        sys.exit(runner.run(main()))
