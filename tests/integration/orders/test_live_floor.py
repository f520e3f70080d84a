"""The floor updates on every tablet within a second, through a real server and the app's channels."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from app.orders import seating
from app.orders.models import Check, CheckStatus
from tests.integration.orders.conftest import Restaurant, key
from tests.support.devices import pin_login


class Tablet:
    """A browser on the LAN: cookies, the CSRF token, and websockets to the server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.AsyncClient(base_url=base)
        self.csrf = ""

    async def log_in(self, pin: str) -> Tablet:
        self.csrf = await pin_login(self.http, pin)
        return self

    async def post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        return await self.http.post(url, data=data, headers={"x-csrftoken": self.csrf, "hx-request": "true"})

    def websocket(self, path: str, *, origin: str | None = None, cookies: bool = True) -> Any:
        headers = {"Origin": origin or self.base}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        return connect(f"ws{self.base[4:]}{path}", additional_headers=headers, open_timeout=5)


@pytest.fixture
async def served(app: Litestar, demo: None) -> AsyncIterator[str]:
    """`brigade serve` in miniature: uvicorn running the app (lifespan, channels, dispatcher) on a free port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _next_update(ws: ClientConnection, marker: str, within: float = 1.0) -> tuple[str, float]:
    """The first message containing `marker`, and how long it took."""
    started = time.monotonic()
    while True:
        remaining = within - (time.monotonic() - started)
        if remaining <= 0:
            raise AssertionError(f"no update with {marker!r} within {within} s")
        message = await asyncio.wait_for(ws.recv(), timeout=remaining)
        text = message if isinstance(message, str) else message.decode()
        if marker in text:
            return text, time.monotonic() - started


async def _state_of(html: str, table_id: int) -> str:
    match = re.search(rf'<a id="table-{table_id}"\s+class="table [^"]*state-(\w+)', html)
    assert match, html
    return match.group(1)


async def test_seating_and_firing_on_one_tablet_recolours_the_table_on_another_within_a_second(
    served: str, restaurant: Restaurant, runtime: Any
) -> None:
    lena = await Tablet(served).log_in("1111")
    milo = await Tablet(served).log_in("4444")
    table = await restaurant.table_id("12")
    async with milo.websocket("/floor/live?floor=1") as ws:
        seated = await lena.post(
            "/checks", {"kind": "table", "table_id": str(table), "covers": "4", "idempotency_key": key()}
        )
        check_id = int(seated.headers["hx-redirect"].rsplit("/", 1)[1])
        html, took = await _next_update(ws, f'id="table-{table}"')
        assert await _state_of(html, table) == "seated"
        assert took < 1.0
        assert "LB" in html, "the owning server's initials"
        assert " mine" not in html, "Milo sees Lena's table as someone else's"

        await restaurant.ring_in(lena, check_id, "ST-BUR", seat=1)
        html, _ = await _next_update(ws, "state-ordered")
        await restaurant.post(lena, check_id, "send")
        html, took = await _next_update(ws, "state-fired")
        assert took < 1.0

        async with runtime.db.write() as session:
            await seating.mark_kitchen_ready(session, check_id)
        html, took = await _next_update(ws, "state-ready")
        assert "READY" in html
        assert took < 1.0

        async with runtime.db.write() as session:
            check = await session.get(Check, check_id)
            assert check is not None
            check.status = CheckStatus.CLOSED
            session.add(check)
        await _next_update(ws, "state-paid")
        cleared = await lena.post(f"/checks/{check_id}/clear", {"idempotency_key": key()})
        assert cleared.status_code == 200, cleared.text
        assert "Table 12 is free." in cleared.text
        html, _ = await _next_update(ws, "state-free")
        assert await _state_of(html, table) == "free"
    for tablet in (lena, milo):
        await tablet.http.aclose()


async def test_a_transfer_redraws_both_tables(served: str, restaurant: Restaurant) -> None:
    lena = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    old, new = await restaurant.table_id("12"), await restaurant.table_id("14")
    async with lena.websocket("/floor/live?floor=1") as ws:
        await restaurant.post(lena, check_id, "transfer", {"to_table_id": str(new)})
        html, _ = await _next_update(ws, f'id="table-{new}"')
        assert await _state_of(html, new) == "seated"
        assert " mine" in html
        assert await _state_of(html, old) == "free"
    await lena.http.aclose()


async def test_a_check_open_on_a_second_tablet_hears_about_changes(served: str, restaurant: Restaurant) -> None:
    lena = await Tablet(served).log_in("1111")
    other = await Tablet(served).log_in("1111")
    check_id = await restaurant.open_table(lena, "12", 2)
    async with other.websocket(f"/checks/{check_id}/live") as ws:
        await restaurant.ring_in(lena, check_id, "ST-SOU", seat=1)
        html, took = await _next_update(ws, 'id="check-sync"')
        assert f'data-version="{await restaurant.version(check_id)}"' in html
        assert took < 1.0
    for tablet in (lena, other):
        await tablet.http.aclose()


async def test_a_websocket_from_another_origin_is_refused(served: str, restaurant: Restaurant) -> None:
    lena = await Tablet(served).log_in("1111")
    with pytest.raises(InvalidStatus):
        async with lena.websocket("/floor/live?floor=1", origin="http://evil.example"):
            pass
    await lena.http.aclose()


async def test_a_websocket_without_a_login_is_refused(served: str, restaurant: Restaurant) -> None:
    stranger = Tablet(served)
    with pytest.raises(InvalidStatus):
        async with stranger.websocket("/floor/live?floor=1", cookies=False):
            pass
    await stranger.http.aclose()


async def test_a_cook_cannot_listen_to_the_floor(served: str, restaurant: Restaurant) -> None:
    cook = await Tablet(served).log_in("3333")
    with pytest.raises(InvalidStatus):
        async with cook.websocket("/floor/live?floor=1"):
            pass
    await cook.http.aclose()


async def test_the_tables_fragment_a_reconnecting_tablet_reloads_shows_every_table(
    served: str, restaurant: Restaurant
) -> None:
    lena = await Tablet(served).log_in("1111")
    await restaurant.open_table(lena, "12", 2)
    response = await lena.http.get("/floor/tables?floor=1", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert response.text.count('class="table ') == 22
    assert "state-seated" in response.text
    await lena.http.aclose()


async def test_a_channel_outage_never_fails_an_order(
    server: Any, restaurant: Restaurant, runtime: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def redis_is_down(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(runtime.channels, "wait_published", redis_is_down)
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    sent = await restaurant.post(server, check_id, "send")
    assert sent.status_code == 200, sent.text
    assert len(await restaurant.fires(check_id)) == 1
    assert "live floor update not published" in caplog.text
