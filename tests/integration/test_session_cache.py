"""Two app processes on one database share their staff sessions' changes: a tablet locked through one process is
locked on the other at once, although each remembers who is behind a cookie for a few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar

from app.lib.settings import Settings
from app.main import create_app
from tests.support.devices import pin_login
from tests.support.lifespan import serving
from tests.support.servers import RedisServer

BASE = "http://testserver.local"


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app served as a process of its own, closed down with its connections at the end."""
    try:
        async with serving(app) as client:
            yield client
    finally:
        await app.state.runtime.channels.close_backend()
        await app.state.runtime.db.dispose()


async def _until(predicate: Any, within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "not within time"
        await asyncio.sleep(0.02)


async def test_a_tablet_locked_through_one_process_is_locked_on_the_other_at_once(
    demo: None, settings: Settings, own_redis: RedisServer
) -> None:
    shared = settings.model_copy(update={"redis_url": own_redis.url, "run_workers": False})
    one, other = create_app(shared), create_app(shared)
    async with running(one) as first, running(other) as second:
        caches = [one.state.session_cache, other.state.session_cache]
        await _until(lambda: all(c.listening for c in caches))
        token = await pin_login(first, "1111")
        second.cookies = first.cookies
        assert (await second.get("/floor")).status_code == 200
        assert (await second.get("/floor")).status_code == 200
        assert len(other.state.session_cache) == 1, "the other process remembers the session"

        locked = await first.post("/logout", headers={"x-csrftoken": token, "hx-request": "true"})
        assert locked.status_code in (200, 303), locked.text[:300]
        await _until(lambda: len(other.state.session_cache) == 0, within_s=2.0)
        refused = await second.get("/floor", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/login")


async def test_without_its_channels_a_process_reads_every_session_again(
    demo: None, settings: Settings, own_redis: RedisServer
) -> None:
    shared = settings.model_copy(update={"redis_url": own_redis.url, "run_workers": False})
    app = create_app(shared)
    async with running(app) as client:
        cache = app.state.session_cache
        await _until(lambda: cache.listening)
        await pin_login(client, "1111")
        assert (await client.get("/floor")).status_code == 200
        assert len(cache) == 1
        own_redis.stop()
        await _until(lambda: not cache.hearing(), within_s=10.0)
        assert (await client.get("/floor")).status_code == 200, "the floor still works, from the database"
        assert len(cache) == 0, "nothing is remembered while another process's logout could go unheard"

        own_redis.start()
        await _until(cache.hearing, within_s=20.0)
        assert (await client.get("/floor")).status_code == 200
        assert len(cache) == 1, "heard again: remembered again"
