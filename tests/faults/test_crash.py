"""kill -9 at each step of fire, pay and close, with tablets busy: after every restart nothing acknowledged is lost.

Lena's and Milo's tablets seat tables, ring in four items for two stations (Cold prints on Kitchen,
Bar on Bar), send, pay half by card and the rest in cash (which closes the check). At planned moments the
server is killed (at once, while the request is in flight, or after its answer, while the outbox and
the print worker are at work) and started again. A tablet whose request got no answer sends the
same request again (same idempotency key) once the server is back, as a tablet does.

After each restart every acknowledged request must be in the database and no check may be closed
without being paid or paid without being closed. Once the day is served: every ticket is on its
board (the page and a kitchen screen's websocket) and on its printer once (a second copy only
marked REPRINT), every closed check has exactly one closing posting, and the ledger balances.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from app.checks.models import Payment, PaymentAttempt
from app.floor.models import DiningTable
from app.lib.db import Database
from app.lib.idempotency import IdempotencyRecord
from app.menu.models import MenuItem
from app.orders.models import Check, CheckLine, CheckStatus, KitchenFire, LineState
from tests.faults.harness import (
    NO_ANSWER,
    AppServer,
    BoardWatcher,
    Tablet,
    app_env,
    fresh_database,
    half_closed_checks,
    key,
    ledger_out_of_balance,
    log_in,
    open_house_drawer,
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
    version_in,
    wait_until,
)
from tests.support.fake_printer import FakeNetworkPrinter
from tests.support.services import postgres_url, require_service

pytestmark = pytest.mark.faults

# Four items with no forced choices: two starters for Cold (Kitchen printer), two drinks for Bar (Bar printer).
ORDER = ("ST-BUR", "ST-SOU", "BR-CID", "WN-RGL")
# After a restart, what the dead process owed (deliveries, prints) is done within this many seconds; the
# claims it held must not wait out their lease (a minute or more).
RECOVERY_S = 20.0


@dataclass(frozen=True)
class Shift:
    """Which tables each server's tablet serves, and where in which step the server dies.

    A kill is (step, seconds after the tablet starts that step's request): 0 dies before the request
    lands, 0.02 while it is being handled, 0.25 after its answer, while the outbox and the print worker
    deliver its effects. A restart costs seconds on this machine, so each plan covers the moments
    rather than every combination.
    """

    tables: dict[str, tuple[str, ...]]
    kills: tuple[tuple[str, float], ...]

    def plan(self) -> dict[tuple[str, str, str], float]:
        """Each (pin, table, step) that is killed, and when, alternating between the tablets."""
        lena, milo = ([(pin, table) for table in tables] for pin, tables in self.tables.items())
        slots = [slot for pair in zip(lena, milo, strict=True) for slot in pair]
        return {(pin, table, step): delay for (pin, table), (step, delay) in zip(slots, self.kills, strict=False)}

    @property
    def checks(self) -> int:
        return sum(len(tables) for tables in self.tables.values())


SHIFTS = {
    # The embedded deployment: each step dies at two of the three moments, each moment twice.
    "sqlite": Shift(
        {"1111": ("1", "2", "3", "4"), "4444": ("7", "8", "9", "10")},
        (("fire", 0.0), ("pay", 0.02), ("close", 0.25), ("fire", 0.25), ("pay", 0.0), ("close", 0.02)),
    ),
    # On PostgreSQL (the killed process's connections are dropped mid-transaction): each step once.
    "postgres": Shift(
        {"1111": ("1", "2"), "4444": ("7", "8")},
        (("fire", 0.02), ("pay", 0.25), ("close", 0.0)),
    ),
}


@dataclass(frozen=True)
class Ack:
    """A request the server answered with success, and what it must have left in the database."""

    step: str
    check_id: int
    key: str
    lines: int = 0


@dataclass
class Floor:
    """The server process, its crashes, and every acknowledged request."""

    server: AppServer
    db: Database
    acks: list[Ack] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kills: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    up: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _crashes: list[asyncio.Task[None]] = field(default_factory=list)
    _recoveries: list[asyncio.Task[None]] = field(default_factory=list)

    def kill_in(self, delay: float) -> None:
        """kill -9 the server `delay` seconds from now, then start it again and audit the database."""
        self._crashes.append(asyncio.create_task(self._crash(delay)))

    async def _crash(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            self.up.clear()
            self.server.kill()
            self.kills += 1
            started = time.monotonic()
            await asyncio.to_thread(self.server.start)
            self.restart_seconds.append(time.monotonic() - started)
            self.problems += [f"after kill {self.kills}: {p}" for p in await lost(self.db, list(self.acks))]
            self.problems += [
                f"after kill {self.kills}: {p}" for p in await half_closed_checks(self.db, postings=False)
            ]
            owed = ({m.id for m in await pending_outbox(self.db)}, {j.id for j in await unfinished_print_jobs(self.db)})
            self._recoveries.append(asyncio.create_task(self._recovers(self.kills, *owed)))
            self.up.set()

    async def _recovers(self, kill: int, messages: set[int | None], jobs: set[int | None]) -> None:
        """What was owed when the server came back is delivered and printed soon, not after a lease runs out."""
        deadline = time.monotonic() + RECOVERY_S
        while time.monotonic() < deadline:
            left = (
                messages & {m.id for m in await pending_outbox(self.db, due_only=False)},
                jobs & {j.id for j in await unfinished_print_jobs(self.db)},
            )
            if not any(left):
                return
            await asyncio.sleep(0.2)
        self.problems.append(
            f"after kill {kill}: outbox messages {sorted(left[0])} and print jobs {sorted(left[1])} "
            f"still owed {RECOVERY_S:.0f}s after the restart"
        )

    async def settle(self) -> None:
        """Wait for the planned crashes, and their recoveries, to be over."""
        await asyncio.gather(*self._crashes)
        await asyncio.gather(*self._recoveries)

    async def call(
        self, tablet: Tablet, method: str, url: str, data: dict[str, Any] | None = None, *, kill: float | None = None
    ) -> httpx.Response:
        """One request, sent again (identically) after a crash until it gets an answer."""
        deadline = time.monotonic() + 180
        while True:
            await self.up.wait()
            if kill is not None:
                self.kill_in(kill)
                kill = None
            try:
                if method == "GET":
                    response = await tablet.get(url, htmx=True)
                else:
                    response = await tablet.post(url, data)
            except NO_ANSWER as exc:
                if self.up.is_set():
                    self.problems.append(f"{method} {url} got no answer while the server was up: {exc!r}")
                assert time.monotonic() < deadline, f"{method} {url} never got an answer"
                await asyncio.sleep(0.05)
                continue
            assert response.status_code < 500, f"{method} {url}: {response.status_code}\n{response.text[:2000]}"
            return response


async def lost(db: Database, acks: list[Ack]) -> list[str]:
    """Acknowledged requests whose effect the database does not hold."""
    problems: list[str] = []
    async with db.read() as session:
        keys = set((await session.exec(select(IdempotencyRecord.key))).all())
        for ack in acks:
            check = await session.get(Check, ack.check_id)
            if check is None:
                problems.append(f"{ack.step} of check {ack.check_id} was acknowledged; the check is gone")
                continue
            if ack.step in ("seat", "line", "fire") and ack.key not in keys:
                problems.append(f"{ack.step} {ack.key} on check {check.number} was acknowledged and is not recorded")
            if ack.step == "line":
                count = (await session.exec(select(func.count()).where(CheckLine.check_id == ack.check_id))).one()
                if count < ack.lines:
                    problems.append(f"check {check.number} has {count} lines; {ack.lines} were acknowledged")
            if ack.step == "fire":
                fires = (await session.exec(select(KitchenFire).where(KitchenFire.check_id == ack.check_id))).all()
                states = (await session.exec(select(CheckLine.state).where(CheckLine.check_id == ack.check_id))).all()
                if not fires or any(state is not LineState.SENT for state in states):
                    problems.append(f"the send of check {check.number} was acknowledged; its lines are {states}")
            if ack.step in ("pay", "close"):
                attempt = (
                    await session.exec(select(PaymentAttempt).where(PaymentAttempt.idempotency_key == ack.key))
                ).first()
                payment = (
                    (await session.exec(select(Payment).where(Payment.attempt_id == attempt.id))).first()
                    if attempt
                    else None
                )
                if attempt is None:
                    problems.append(f"payment {ack.key} on check {check.number} was acknowledged and is not recorded")
                elif ack.step == "close" and (payment is None or check.status is not CheckStatus.CLOSED):
                    problems.append(
                        f"the closing payment on check {check.number} was acknowledged; it is {check.status}"
                    )
    return problems


async def serve_table(floor: Floor, tablet: Tablet, table: str, plan: dict[tuple[str, str, str], float]) -> None:
    """Seat, ring in, send, pay half by card, pay the rest in cash; some of these steps die with the server."""
    async with floor.db.read() as session:
        table_id = (await session.exec(select(DiningTable.id).where(DiningTable.name == table))).one()
        items = {sku: i for sku, i in (await session.exec(select(MenuItem.sku, MenuItem.id))).all()}

    def kill(step: str) -> float | None:
        return plan.get((tablet.pin, table, step))

    seat_key = key()
    seated = await floor.call(
        tablet,
        "POST",
        "/checks",
        {"kind": "table", "table_id": str(table_id), "covers": "2", "idempotency_key": seat_key},
    )
    assert seated.status_code == 200, seated.text
    check_id = int(seated.headers["hx-redirect"].rsplit("/", 1)[1])
    floor.acks.append(Ack("seat", check_id, seat_key))

    panel = await floor.call(tablet, "GET", f"/checks/{check_id}/panel")
    version = version_in(panel.text)
    for count, sku in enumerate(ORDER, start=1):
        line_key = key()
        added = await floor.call(
            tablet,
            "POST",
            f"/checks/{check_id}/lines",
            {
                "menu_item_id": str(items[sku]),
                "quantity": "1",
                "seat": "shared",
                "course": "auto",
                "note": "",
                "version": str(version),
                "idempotency_key": line_key,
            },
        )
        assert added.status_code == 200, added.text
        floor.acks.append(Ack("line", check_id, line_key, lines=count))
        version = version_in(added.text)

    fire_key = key()
    sent = await floor.call(
        tablet,
        "POST",
        f"/checks/{check_id}/send",
        {"version": str(version), "idempotency_key": fire_key},
        kill=kill("fire"),
    )
    assert sent.status_code == 200, sent.text
    assert "Sent to the kitchen" in sent.text, sent.text
    floor.acks.append(Ack("fire", check_id, fire_key))

    settle = await floor.call(tablet, "GET", f"/checks/{check_id}/settle")
    due = _due(settle.text)
    half = (due // 2) // 100 * 100  # whole euros: the simulated terminal reads odd cents as test cards
    settle = await _pay(
        floor, tablet, check_id, settle, "Card", lambda _due: {"amount": f"{half / 100:.2f}"}, "pay", kill("pay")
    )
    assert _due(settle.text) == due - half, settle.text[:2000]
    settle = await _pay(
        floor, tablet, check_id, settle, "Cash", lambda due: {"tendered": f"{due / 100:.2f}"}, "close", kill("close")
    )
    assert "Closed" in settle.text, settle.text[:2000]


async def _pay(
    floor: Floor,
    tablet: Tablet,
    check_id: int,
    settle: httpx.Response,
    tender: str,
    amount: Callable[[int], dict[str, str]],
    step: str,
    kill: float | None,
) -> httpx.Response:
    """Take one payment from the settle page; a payment the crash left without the terminal's answer is resolved,
    and one the terminal never saw is taken again."""
    due = _due(settle.text)
    while True:
        payment_key = key()
        paid = await floor.call(
            tablet,
            "POST",
            f"/checks/{check_id}/pay",
            {
                "tender_id": _tender_id(settle.text, tender),
                "version": str(version_in(settle.text)),
                "idempotency_key": payment_key,
                **amount(due),
            },
            kill=kill,
        )
        kill = None
        assert paid.status_code == 200, paid.text
        floor.acks.append(Ack(step, check_id, payment_key))
        while (attempt := _pending_attempt(paid.text)) is not None:
            paid = await floor.call(tablet, "POST", f"/checks/{check_id}/pay/attempts/{attempt}/resolve")
            assert paid.status_code == 200, paid.text
        if "Closed" in paid.text or _due(paid.text) < due:
            return paid
        settle = paid


def _due(html: str) -> int:
    match = re.search(r'data-due="(-?\d+)"', html)
    assert match, html[:2000]
    return int(match.group(1))


def _tender_id(html: str, name: str) -> str:
    match = re.search(r'name="tender_id" value="(\d+)">' + re.escape(name) + "<", html)
    assert match, f"no {name} tender on the settle page"
    return match.group(1)


def _pending_attempt(html: str) -> int | None:
    match = re.search(r"/pay/attempts/(\d+)/resolve", html)
    return int(match.group(1)) if match else None


async def _tickets_on_boards(cook: Tablet, stations: dict[str, int]) -> dict[str, set[int]]:
    boards = {}
    for name, station in stations.items():
        page = await cook.get(f"/kds/{station}")
        assert page.status_code == 200, page.text[:500]
        boards[name] = ticket_ids_in(page.text)
    return boards


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(kind, URL): a SQLite file of the test's own, or a fresh database on the shared PostgreSQL."""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite+aiosqlite:///{tmp_path / 'brigade.db'}"
        return
    require_service("PostgreSQL", postgres_url())
    async with fresh_database(postgres_url()) as url:
        yield "postgres", url


async def test_killing_the_server_at_each_step_of_fire_pay_and_close_loses_nothing_acknowledged(
    tmp_path: Path, database: tuple[str, str]
) -> None:
    kind, url = database
    with printers("Kitchen", "Bar") as paper:
        env = app_env(tmp_path / "var", url, print_retry_delays="[0.2, 0.5, 1.0]")
        await prepare_restaurant(env)
        db = reader(env)
        for name, printer in paper.items():
            await set_printer_uri(db, name, printer.uri)
        stations = {name: sid for name, sid in (await station_ids(db)).items() if name in ("Cold", "Bar", "Expo")}
        server = AppServer(env, tmp_path / "server.log")
        await asyncio.to_thread(server.start)
        floor = Floor(server, db)
        floor.up.set()
        try:
            await _serve_the_day(floor, paper, stations, SHIFTS[kind])
        finally:
            server.stop()
            await db.dispose()


async def _serve_the_day(
    floor: Floor, paper: dict[str, FakeNetworkPrinter], stations: dict[str, int], shift: Shift
) -> None:
    plan = shift.plan()
    url = floor.server.url
    async with contextlib.AsyncExitStack() as stack:
        manager = await log_in(url, "9999")
        stack.push_async_callback(manager.aclose)
        await open_house_drawer(manager)
        tablets = {pin: await log_in(url, pin) for pin in shift.tables}
        cook = await log_in(url, "3333")
        for tablet in [*tablets.values(), cook]:
            stack.push_async_callback(tablet.aclose)
        watchers = {
            name: await stack.enter_async_context(BoardWatcher(url, cook, sid)) for name, sid in stations.items()
        }

        async def serve(pin: str) -> None:
            for table in shift.tables[pin]:
                await serve_table(floor, tablets[pin], table, plan)

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(serve(pin) for pin in shift.tables)), timeout=300)
        await floor.settle()
        served = time.monotonic() - started
        assert floor.kills == len(plan), f"{floor.kills} kills of {len(plan)} planned"
        assert not floor.problems, "\n".join(floor.problems) + "\n" + floor.server.log_tail()

        db = floor.db

        async def caught_up() -> bool:
            return not await pending_outbox(db) and not await unfinished_print_jobs(db)

        await wait_until(caught_up, 60, "the outbox and the print queue to catch up")
        tickets = await tickets_in_db(db)
        by_station: dict[str, set[int]] = {}
        for ticket in tickets:
            by_station.setdefault(ticket.station, set()).add(ticket.id)
        checks = shift.checks
        for station in ("Cold", "Bar"):
            assert len({ticket.check_id for ticket in tickets if ticket.station == station}) == checks

        # every ticket on its board: on a kitchen screen that was connected all along, and on the board page
        for name, watcher in watchers.items():
            await watcher.wait_for_tickets(by_station.get(name, set()), within=30)
        boards = await _tickets_on_boards(cook, stations)
        for name in stations:
            assert by_station.get(name, set()) <= boards[name], f"{name} board misses tickets"

        # every ticket on paper once; a second copy only marked REPRINT
        torn = await _every_ticket_printed_once(db, paper)

        # closed ⇔ paid ⇔ one closing posting, and the books balance
        async with db.read() as session:
            closed = (await session.exec(select(func.count()).where(Check.status == CheckStatus.CLOSED))).one()
            lines = (await session.exec(select(func.count()).select_from(CheckLine))).one()
        assert closed == checks
        assert lines == checks * len(ORDER)
        assert await half_closed_checks(db) == []
        assert await ledger_out_of_balance(db) == []
        assert await lost(db, floor.acks) == []
    print(
        f"\ncrash test: {shift.checks} checks, {floor.kills} kills, served in {served:.1f}s, "
        f"restarts {', '.join(f'{s:.1f}' for s in floor.restart_seconds)}s, {torn} print jobs cut off"
    )


async def _every_ticket_printed_once(db: Database, paper: dict[str, FakeNetworkPrinter]) -> int:
    """Each kitchen ticket came out whole at least once, unmarked at most once; how many jobs were cut off."""
    tickets = [t for t in await tickets_in_db(db) if t.station in ("Cold", "Bar")]
    expected = {(str(t.check_number), t.station) for t in tickets}
    copies: dict[tuple[str, str], list[bool]] = {}
    torn = 0
    for printer in paper.values():
        printed = paper_of(printer)
        torn += printed.torn
        for ticket in printed.tickets:
            copies.setdefault((ticket.check_number, ticket.station), []).append(ticket.reprint)
    assert set(copies) == expected, f"printed {sorted(copies)}, expected {sorted(expected)}"
    for ticket, marks in copies.items():
        unmarked = marks.count(False)
        assert unmarked <= 1, f"{ticket} printed {unmarked} times without REPRINT"
        assert len(marks) <= 2, f"{ticket} printed {len(marks)} times"
    return torn
