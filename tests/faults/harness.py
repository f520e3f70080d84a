"""Real Brigade servers for fault tests, and the devices that talk to them over loopback.

`AppServer` runs `python -m app serve` on a port of its own and can be killed (-9), stopped and
started again on the same port. `Tablet` is a logged-in device with its cookies and CSRF token;
`BoardWatcher` is a kitchen screen that keeps its websocket open across restarts and remembers
every ticket it was shown. The `*_in_db` readers look at what the database holds, to hold the
app to what it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from app.accounting.models import JournalEntry, JournalLine
from app.checks.queries import check_money
from app.closes.models import CheckPosting
from app.kitchen.models import KitchenTicket, PrintJob, PrintJobState, Station
from app.lib.db import Database
from app.lib.outbox import OutboxMessage
from app.lib.settings import Settings
from app.orders.models import Check, CheckStatus
from tests.support.devices import pin_login
from tests.support.escpos_decoder import DecodeError, decode
from tests.support.fake_printer import FakeNetworkPrinter
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "fault-tests-secret-key-0123456789abcdef"
TICKET_ID = re.compile(r'id="ticket-(\d+)"')
VERSION = re.compile(r'data-version="(\d+)"')

# What a request that reached no server (or whose answer never came back) raises.
NO_ANSWER: tuple[type[BaseException], ...] = (httpx.TransportError,)


def key() -> str:
    """A fresh idempotency key, as every form carries one."""
    return uuid.uuid4().hex


def app_env(var_dir: Path, database_url: str, *, redis_url: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of one Brigade process: this machine's, minus any BRIGADE_* of the caller, plus ours."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BRIGADE_")}
    env.update(
        {
            "BRIGADE_VAR_DIR": str(var_dir),
            "BRIGADE_DATABASE_URL": database_url,
            "BRIGADE_SECRET_KEY": SECRET_KEY,
            "BRIGADE_OUTBOX_POLL_SECONDS": "0.1",
            # PINs hashed with real argon2id at its cheap end: the strong default costs seconds per PIN here
            "BRIGADE_PIN_HASH_PROFILE": "fast",
        }
    )
    if redis_url:
        env["BRIGADE_REDIS_URL"] = redis_url
    env.update({f"BRIGADE_{name.upper()}": value for name, value in settings.items()})
    return env


def settings_for(env: Mapping[str, str]) -> Settings:
    """The settings a process started with `env` runs with (for reading its database from the test)."""
    return Settings(
        var_dir=Path(env["BRIGADE_VAR_DIR"]),
        database_url=env["BRIGADE_DATABASE_URL"],
        secret_key=env["BRIGADE_SECRET_KEY"],
        pin_hash_profile=env.get("BRIGADE_PIN_HASH_PROFILE", "default"),
    )


class AppServer:
    """`python -m app serve` on one loopback port; kill -9, stop and start keep that port."""

    def __init__(self, env: Mapping[str, str], log: Path, *, port: int | None = None) -> None:
        self.env = dict(env)
        self.log = log
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        """Start the server and return once /healthz answers 200."""
        assert self.process is None, "the server is already running"
        with self.log.open("ab") as output:
            output.write(f"---- start {self.starts + 1} ----\n".encode())
            output.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the server did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, as a power cut or the OOM killer does it."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """Shut down as an operator would (SIGTERM), or kill when that takes too long."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------- devices


@dataclass
class Tablet:
    """A device logged in as one person: its own cookies, its CSRF token, htmx headers on every post."""

    client: httpx.AsyncClient
    csrf: str
    pin: str

    async def post(self, url: str, data: Mapping[str, Any] | None = None, *, htmx: bool = True) -> httpx.Response:
        headers = {"x-csrftoken": self.csrf, **({"hx-request": "true"} if htmx else {})}
        return await self.client.post(url, data=dict(data or {}), headers=headers)

    async def get(self, url: str, *, htmx: bool = False) -> httpx.Response:
        return await self.client.get(url, headers={"hx-request": "true"} if htmx else {})

    async def aclose(self) -> None:
        await self.client.aclose()


async def log_in(base_url: str, pin: str, *, patience: float = 30.0) -> Tablet:
    """Open the login page and enter `pin`, as a person at a tablet does; requests wait `patience` s for answers."""
    client = httpx.AsyncClient(base_url=base_url, timeout=patience)
    return Tablet(client, await pin_login(client, pin), pin)


async def open_house_drawer(manager: Any) -> None:
    """The manager opens the house drawer with its float before service, so the day's cash lands in a drawer."""
    opened = await manager.post("/closes/drawers", {"name": "House", "float": "100.00", "idempotency_key": key()})
    assert opened.status_code == 200, opened.text[:500]
    assert "Drawer House is open" in opened.text, opened.text[:500]


def version_in(html: str) -> int | None:
    """The check version a panel or settle fragment carries (what the tablet sends back with its next change)."""
    match = VERSION.search(html)
    return int(match.group(1)) if match else None


def ticket_ids_in(html: str) -> set[int]:
    """The kitchen tickets a board's HTML shows."""
    return {int(found) for found in TICKET_ID.findall(html)}


class BoardWatcher:
    """A kitchen screen on one station's websocket; reconnects after every drop and remembers what it saw."""

    def __init__(self, base_url: str, tablet: Tablet, station_id: int) -> None:
        self.base_url = base_url
        self.tablet = tablet
        self.station_id = station_id
        self.seen: set[int] = set()
        self.boards = 0
        self.connections = 0
        self.live: bool | None = None
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BoardWatcher:
        self._task = asyncio.create_task(self._run())
        # a screen is on once it shows its board
        await self.wait_until(lambda w: w.boards > 0, 30, "the first board")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_until(self, predicate: Any, within: float, what: str) -> None:
        """Wait until `predicate(self)` holds."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), within)
            except TimeoutError:
                raise AssertionError(
                    f"station {self.station_id}: {what} within {within}s (seen {sorted(self.seen)})"
                ) from None

    async def wait_for_tickets(self, ticket_ids: set[int], within: float) -> None:
        await self.wait_until(lambda w: ticket_ids <= w.seen, within, f"tickets {sorted(ticket_ids - self.seen)}")

    async def _run(self) -> None:
        url = self.base_url.replace("http://", "ws://") + f"/kds/ws/{self.station_id}"
        while True:
            cookie = "; ".join(f"{name}={value}" for name, value in self.tablet.client.cookies.items())
            try:
                async with connect(
                    url,
                    additional_headers={"Cookie": cookie},
                    origin=self.base_url,  # type: ignore[arg-type]
                    open_timeout=5,
                ) as ws:
                    self.connections += 1
                    async for raw in ws:
                        await self._note(json.loads(raw))
            except (OSError, WebSocketException, TimeoutError):
                pass
            await asyncio.sleep(0.2)

    async def _note(self, message: dict[str, Any]) -> None:
        async with self._changed:
            kind = message.get("type")
            if kind == "board":
                self.boards += 1
                self.seen |= ticket_ids_in(str(message.get("html", "")))
            elif kind == "card" and message.get("open"):
                self.seen.add(int(str(message["id"]).removeprefix("ticket-")))
            elif kind == "heartbeat":
                self.live = bool(message.get("live"))
            self._changed.notify_all()


# ---------------------------------------------------------------------------------------------- paper


@dataclass
class PaperTicket:
    """One kitchen ticket as it came out of a printer."""

    check_number: str
    station: str
    reprint: bool


@dataclass
class Paper:
    """What one printer put on paper: whole kitchen tickets and jobs cut off mid-way."""

    tickets: list[PaperTicket] = field(default_factory=list)
    torn: int = 0


def paper_of(printer: FakeNetworkPrinter) -> Paper:
    """Decode what a printer took, cut by cut: kitchen tickets by check and station, REPRINT marks, torn jobs."""
    paper = Paper()
    for connection in printer.connections:
        if not connection.data:
            continue
        try:
            decoded = decode(connection.data)
        except DecodeError:
            paper.torn += 1
            continue
        lines = [line.strip() for line in decoded.lines]
        cuts = [event.line for event in decoded.events_of("cut")]
        for start, end in zip([0, *cuts], [*cuts, len(lines)], strict=True):
            ticket = _kitchen_ticket(lines[start:end])
            if ticket is not None:
                paper.tickets.append(ticket)
    return paper


def _kitchen_ticket(lines: list[str]) -> PaperTicket | None:
    check = next((line.split()[1] for line in lines if line.startswith("Check ")), None)
    station = next((line.split(" - ")[0] for line in lines if " - " in line), None)
    if check is None or station is None:
        return None  # a drawer kick, a receipt, what followed the last cut
    return PaperTicket(check, station, reprint="REPRINT" in lines)


# ---------------------------------------------------------------------------------------------- database


def reader(env: Mapping[str, str]) -> Database:
    """A database handle on what the server uses, for the test's own reads."""
    settings = settings_for(env)
    return Database(settings.resolved_database_url(), context={"settings": settings})


async def station_ids(db: Database) -> dict[str, int]:
    async with db.read() as session:
        return {s.name: s.id or 0 for s in (await session.exec(select(Station))).all()}


async def set_printer_uri(db: Database, name: str, uri: str) -> None:
    """Point a printer at a fake one, with test-sized timeouts, and no backup to wander off to."""
    from app.kitchen.models import Printer

    async with db.write() as session:
        printer = (await session.exec(select(Printer).where(Printer.name == name))).one()
        printer.uri = uri + "?status_timeout=2&io_timeout=2&connect_timeout=2"
        printer.backup_printer_id = None
        session.add(printer)


@dataclass(frozen=True)
class TicketRow:
    """A kitchen ticket the database holds."""

    id: int
    check_id: int
    check_number: int
    station: str
    is_expo: bool


async def tickets_in_db(db: Database) -> list[TicketRow]:
    async with db.read() as session:
        names = {s.id: s.name for s in (await session.exec(select(Station))).all()}
        rows = (await session.exec(select(KitchenTicket).order_by(col(KitchenTicket.id)))).all()
    return [TicketRow(t.id or 0, t.check_id, t.check_number, names[t.station_id], t.is_expo) for t in rows]


async def pending_outbox(db: Database, *, due_only: bool = True) -> list[OutboxMessage]:
    """Side effects owed now (with `due_only`, messages scheduled for later, such as a payment's recovery
    check, are left out)."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.delivered_at).is_(None)).order_by(col(OutboxMessage.id))
            )
        ).all()
    from app.lib.clock import utcnow

    now = utcnow()
    return [m for m in rows if m.available_at <= now or not due_only]


async def unfinished_print_jobs(db: Database) -> list[PrintJob]:
    async with db.read() as session:
        return list(
            (
                await session.exec(
                    select(PrintJob).where(col(PrintJob.state).in_([PrintJobState.PENDING, PrintJobState.PRINTING]))
                )
            ).all()
        )


async def half_closed_checks(db: Database, *, postings: bool = True) -> list[str]:
    """Checks whose status, payments and posting disagree: closed ⇔ paid in full ⇔ exactly one closing posted.

    Without `postings`, only status against payments (the closing's posting may still be in the outbox).
    """
    problems: list[str] = []
    async with db.read() as session:
        checks = (await session.exec(select(Check).order_by(col(Check.id)))).all()
        for check in checks:
            money = await check_money(session, check)
            posted = (
                await session.exec(
                    select(func.count()).where(col(CheckPosting.source_key).startswith(f"close:{check.id}:"))
                )
            ).one()
            entries = (
                await session.exec(
                    select(func.count()).where(col(JournalEntry.idempotency_key).startswith(f"check-close:{check.id}:"))
                )
            ).one()
            closed = check.status is CheckStatus.CLOSED
            paid = money.due <= 0 and money.paid > 0
            once = 1 if closed else 0
            if closed != paid or (postings and (int(posted), int(entries)) != (once, once)):
                problems.append(
                    f"check {check.number}: {check.status.value}, due {money.due}, paid {money.paid}, "
                    f"{posted} closing postings, {entries} journal entries"
                )
    return problems


async def ledger_out_of_balance(db: Database) -> list[str]:
    """Journal entries whose lines do not sum to zero, and the trial balance's total if it is not zero."""
    async with db.read() as session:
        per_entry = (
            await session.exec(
                select(JournalLine.entry_id, func.sum(JournalLine.amount_cents)).group_by(col(JournalLine.entry_id))
            )
        ).all()
        total = (await session.exec(select(func.coalesce(func.sum(JournalLine.amount_cents), 0)))).one()
    problems = [f"entry {entry}: lines sum to {amount}" for entry, amount in per_entry if amount != 0]
    if int(total) != 0:
        problems.append(f"the trial balance sums to {total}")
    return problems


async def wait_until(predicate: Any, within: float, what: str, *, every: float = 0.1) -> None:
    """Poll `await predicate()` until it is true."""
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(every)


# ---------------------------------------------------------------------------------------------- PostgreSQL


@contextlib.asynccontextmanager
async def fresh_database(admin_url: str, prefix: str = "brigade_fault") -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL server of `admin_url`, dropped afterwards; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    parsed = urlparse(admin_url)
    url = admin_url.replace(parsed.path, f"/{name}") if parsed.path else f"{admin_url}/{name}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


@contextlib.contextmanager
def printers(*names: str) -> Iterator[dict[str, FakeNetworkPrinter]]:
    """Fake ESC/POS network printers, by name, for as long as the block runs."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(FakeNetworkPrinter()) for name in names}


# ---------------------------------------------------------------------------------------------- table service


async def floor_plan(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """The demo's table ids by name and menu item ids by SKU."""
    from app.floor.models import DiningTable
    from app.menu.models import MenuItem

    async with db.read() as session:
        tables = {name: i or 0 for name, i in (await session.exec(select(DiningTable.name, DiningTable.id))).all()}
        items = {sku: i or 0 for sku, i in (await session.exec(select(MenuItem.sku, MenuItem.id))).all()}
    return tables, items


@dataclass
class Waiter:
    """A server at a tablet doing table service over HTTP, as the order screen's forms post it.

    It keeps each check's version from the fragments the server sends back, and times every request.
    """

    tablet: Tablet
    tables: dict[str, int]
    items: dict[str, int]
    versions: dict[int, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    async def _post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        started = time.monotonic()
        try:
            return await self.tablet.post(url, data)
        finally:
            self.seconds.append(time.monotonic() - started)

    async def seat(self, table: str) -> httpx.Response:
        """Seat `table`; on success the check's id is in the HX-Redirect header and its version is known."""
        data = {"kind": "table", "table_id": str(self.tables[table]), "covers": "2"}
        response = await self._post("/checks", {**data, "idempotency_key": key()})
        if response.status_code == 200:
            check_id = int(response.headers["hx-redirect"].rsplit("/", 1)[1])
            panel = await self.tablet.get(f"/checks/{check_id}/panel", htmx=True)
            assert panel.status_code == 200, panel.text[:500]
            self.versions[check_id] = version_in(panel.text) or 1
        return response

    @staticmethod
    def check_of(response: httpx.Response) -> int:
        return int(response.headers["hx-redirect"].rsplit("/", 1)[1])

    def line_form(self, check_id: int, sku: str) -> dict[str, str]:
        """The form that rings one `sku` in (no choices, shared, course by the menu), with a fresh key."""
        return {
            "menu_item_id": str(self.items[sku]),
            "quantity": "1",
            "seat": "shared",
            "course": "auto",
            "note": "",
            "version": str(self.versions[check_id]),
            "idempotency_key": key(),
        }

    async def ring_in(self, check_id: int, sku: str) -> httpx.Response:
        """Ring one `sku` in."""
        response = await self._post(f"/checks/{check_id}/lines", self.line_form(check_id, sku))
        self.note_version(check_id, response)
        return response

    async def send(self, check_id: int) -> httpx.Response:
        """Send everything unsent to the kitchen."""
        response = await self._post(
            f"/checks/{check_id}/send", {"version": str(self.versions[check_id]), "idempotency_key": key()}
        )
        self.note_version(check_id, response)
        return response

    async def order_and_send(self, table: str, skus: tuple[str, ...]) -> int:
        """Seat, ring in and send, each answered 200; the check's id."""
        seated = await self.seat(table)
        assert seated.status_code == 200, seated.text[:1000]
        check_id = self.check_of(seated)
        for sku in skus:
            added = await self.ring_in(check_id, sku)
            assert added.status_code == 200, added.text[:1000]
        sent = await self.send(check_id)
        assert sent.status_code == 200, sent.text[:1000]
        assert "Sent to the kitchen" in sent.text, sent.text[:1000]
        return check_id

    def note_version(self, check_id: int, response: httpx.Response) -> None:
        """Remember the version a successful answer carries."""
        if response.status_code == 200 and (version := version_in(response.text)) is not None:
            self.versions[check_id] = version


async def prepare_restaurant(env: Mapping[str, str]) -> None:
    """`brigade db upgrade` and `brigade demo`, run in this process (a Python start costs seconds here)."""
    from app.demo import load_demo
    from app.lib.migrate import upgrade

    settings = settings_for(env)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.resolved_database_url(), "head")
    db = reader(env)
    try:
        async with db.write() as session:
            await load_demo(session, settings)
    finally:
        await db.dispose()


async def api_token(env: Mapping[str, str], *, scopes: str = "read") -> str:
    """A bearer token for the API, as `brigade api-token create` issues it."""
    from app.staff.services import create_api_token

    db = reader(env)
    try:
        async with db.write() as session:
            return await create_api_token(session, name=f"faults-{key()[:8]}", scopes=scopes)
    finally:
        await db.dispose()
