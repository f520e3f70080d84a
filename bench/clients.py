"""The benchmark's people and screens: tablets (HTTP, logged in with a PIN) and kitchen boards (websockets)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.typing import Origin

from tests.support.devices import DeviceRefused, pin_login

VERSION = re.compile(r'data-version="(\d+)"')
CARD_CHECK = re.compile(r"<span>#(\d+)</span>")
PING_SECONDS = 60.0


class BenchError(RuntimeError):
    """The app answered a benchmark request in a way a tablet would not accept."""


def key() -> str:
    """A fresh idempotency key, as every form carries."""
    return uuid.uuid4().hex


async def log_in(client: httpx.AsyncClient, pin: str) -> str:
    """Log `client` in with `pin` the way the PIN pad does, on a device the manager enrolled; its CSRF token."""
    try:
        return await pin_login(client, pin)
    except DeviceRefused as refused:
        raise BenchError(str(refused)) from None


@dataclass
class Timings:
    """Request durations in ms, by what was asked."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, started: float) -> None:
        self.samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)


class Tablet:
    """A server's tablet: one HTTP client with its own cookies, on one app process."""

    def __init__(self, base_url: str, timings: Timings) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )
        self.timings = timings
        self.csrf = ""

    async def open(self, pin: str) -> None:
        self.csrf = await log_in(self.client, pin)

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, url: str, data: dict[str, Any], *, name: str) -> httpx.Response:
        started = time.perf_counter()
        response = await self.client.post(url, data=data, headers={"x-csrftoken": self.csrf, "hx-request": "true"})
        self.timings.add(name, started)
        return response

    async def get(self, url: str, *, name: str) -> httpx.Response:
        started = time.perf_counter()
        response = await self.client.get(url)
        self.timings.add(name, started)
        if response.status_code != 200:
            raise BenchError(f"GET {url} answered {response.status_code}")
        return response

    async def seat(self, table_id: int, covers: int = 2) -> int:
        """Seat a table; the new check's id."""
        response = await self.post(
            "/checks",
            {"kind": "table", "table_id": str(table_id), "covers": str(covers), "idempotency_key": key()},
            name="seat",
        )
        target = response.headers.get("hx-redirect", "")
        if response.status_code != 200 or not target.startswith("/checks/"):
            raise BenchError(f"seating table {table_id} answered {response.status_code}: {response.text[:300]}")
        return int(target.rsplit("/", 1)[1])

    async def ring_in(self, check_id: int, item_id: int, version: int, seat: int) -> int:
        """Ring one item in; the check's new version."""
        response = await self.post(
            f"/checks/{check_id}/lines",
            {
                "menu_item_id": str(item_id),
                "seat": str(seat),
                "course": "auto",
                "quantity": "1",
                "note": "",
                "version": str(version),
                "idempotency_key": key(),
            },
            name="ring_in",
        )
        return _new_version(response, f"ringing in item {item_id} on check {check_id}")

    async def send(self, check_id: int, version: int) -> int:
        """Send the check's unsent items to the kitchen; the check's new version."""
        response = await self.post(
            f"/checks/{check_id}/send", {"version": str(version), "idempotency_key": key()}, name="fire"
        )
        return _new_version(response, f"firing check {check_id}")

    async def pay_by_card(self, check_id: int, tender_id: int, version: int) -> None:
        """Pay what is due by card (the check closes itself once paid in full)."""
        response = await self.post(
            f"/checks/{check_id}/pay",
            {"tender_id": str(tender_id), "amount": "", "tip": "", "version": str(version), "idempotency_key": key()},
            name="pay",
        )
        if response.status_code != 200:
            raise BenchError(f"paying check {check_id} answered {response.status_code}: {response.text[:300]}")


def _new_version(response: httpx.Response, doing: str) -> int:
    match = VERSION.search(response.text)
    if response.status_code != 200 or match is None:
        raise BenchError(f"{doing} answered {response.status_code}: {response.text[:300]}")
    return int(match.group(1))


@dataclass
class CardSeen:
    """When a board first showed a ticket, and for which check."""

    at: float
    check_number: int | None


class BoardClient:
    """A kitchen screen on one station: logs in as a cook and keeps the board's websocket open."""

    def __init__(self, base_url: str, ws_url: str, station_id: int) -> None:
        self.base_url = base_url
        self.ws_url = ws_url
        self.station_id = station_id
        self.first_seen: dict[int, CardSeen] = {}
        self.versions: Counter[tuple[int, int]] = Counter()
        self.boards = 0
        self.messages = 0
        self.connected_at = 0.0
        self._socket: Any = None
        self._http: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.failure: BaseException | None = None
        self._closing = False

    async def open(self, pin: str) -> None:
        """Log in, connect, and wait for the whole board (the first message)."""
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=30.0)
        await log_in(self._http, pin)
        cookies = "; ".join(f"{name}={value}" for name, value in self._http.cookies.items())
        self._socket = await websockets.connect(
            f"{self.ws_url}/kds/ws/{self.station_id}",
            origin=Origin(self.base_url),
            additional_headers={"Cookie": cookies},
            max_size=2**24,
            ping_interval=None,
        )
        self.connected_at = time.perf_counter()
        self._task = asyncio.create_task(self._listen())
        self._keepalive = asyncio.create_task(self._ping())
        await asyncio.wait_for(self._ready.wait(), timeout=30)

    async def _ping(self) -> None:
        # The board page pings like this, so a screen nobody touches is not locked as idle.
        assert self._http is not None
        while True:
            await asyncio.sleep(PING_SECONDS)
            with contextlib.suppress(httpx.HTTPError):
                await self._http.get("/kds/ping")

    async def _listen(self) -> None:
        try:
            async for raw in self._socket:
                now = time.perf_counter()
                self.messages += 1
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "board":
                    self.boards += 1
                    self._ready.set()
                elif kind == "card":
                    ticket_id = int(str(message["id"]).removeprefix("ticket-"))
                    self.versions[(ticket_id, int(message["version"]))] += 1
                    if ticket_id not in self.first_seen:
                        match = CARD_CHECK.search(message.get("html") or "")
                        self.first_seen[ticket_id] = CardSeen(now, int(match.group(1)) if match else None)
        except websockets.ConnectionClosed as exc:
            self.failure = exc
        except Exception as exc:  # reported with the results, never swallowed
            self.failure = exc
            raise

    @property
    def duplicates(self) -> int:
        """Card messages this screen got more than once (the same ticket at the same version)."""
        return sum(count - 1 for count in self.versions.values() if count > 1)

    @property
    def dropped(self) -> bool:
        """Whether the screen's websocket ended before the benchmark closed it."""
        return self.failure is not None and not self._closing

    async def close(self) -> None:
        self._closing = True
        for task in (self._keepalive, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._http is not None:
            await self._http.aclose()
