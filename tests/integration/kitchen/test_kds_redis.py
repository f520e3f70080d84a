"""Kitchen screens on Redis channels: several app processes share events, and a Redis restart heals by itself."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.lib.settings import Settings
from app.main import create_app
from tests.integration.kitchen.support import (
    Order,
    board_socket,
    fire,
    log_in,
    next_message,
    open_check,
    serve,
    station_id,
)
from tests.support.servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[3]
OUTAGE_LOGGERS = ("kds.channels", "kds.live", "kds.controllers", "app.orders.live", "app.lib.outbox")


class Recorded(logging.Handler):
    """Keeps every record at WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def start_app_process(settings: Settings, redis_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "BRIGADE_DATABASE_URL": settings.resolved_database_url(),
        "BRIGADE_REDIS_URL": redis_url,
        "BRIGADE_SECRET_KEY": settings.resolved_secret_key(),
        "BRIGADE_VAR_DIR": str(settings.var_dir),
        "BRIGADE_OUTBOX_POLL_SECONDS": "0.1",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ws",
                "websockets-sansio",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"app process did not start: {log.read_text()}")
        time.sleep(0.1)


async def test_two_app_processes_on_redis_share_kitchen_events(
    runtime: Any, demo: None, settings: Settings, own_redis: RedisServer, tmp_path: Path
) -> None:
    grill = await station_id(runtime, "Grill")
    log = tmp_path / "apps.log"
    first, first_url = start_app_process(settings, own_redis.url, log)
    second, second_url = start_app_process(settings, own_redis.url, log)
    try:
        cook_a = await log_in(first_url, "3333")
        cook_b = await log_in(second_url, "3333")
        async with (
            board_socket(first_url, cook_a, grill) as screen_a,
            board_socket(second_url, cook_b, grill) as screen_b,
        ):
            await next_message(screen_a, "board")
            await next_message(screen_b, "board")

            await fire(runtime, await open_check(runtime, table="14"), [Order("GR-LAM", modifiers=["Rare"])])

            card_a = await next_message(screen_a, "card", within=10)
            card_b = await next_message(screen_b, "card", within=10)
            assert card_a["id"] == card_b["id"]
            assert "Lamb Chops" in card_a["html"]

            # a bump on one process's screen clears the card on the other's
            ticket_id = card_a["id"].removeprefix("ticket-")
            response = await cook_b.post(f"/kds/tickets/{ticket_id}/bump", headers={"hx-request": "true"})
            assert response.status_code == 200
            gone = await next_message(screen_a, "card", within=10)
            assert (gone["id"], gone["open"]) == (card_a["id"], False)
        await cook_a.aclose()
        await cook_b.aclose()
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=15)
        # this process published (live floor updates) on the fixture app's channels without running it
        await runtime.channels.close_backend()


async def test_a_redis_restart_does_not_stop_the_kitchen_screens(
    runtime: Any,
    demo: None,
    settings: Settings,
    own_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kds.controllers

    # held on the loggers themselves: the served app's logging setup replaces the root logger's handlers
    logged = Recorded()
    for name in OUTAGE_LOGGERS:
        logging.getLogger(name).addHandler(logged)
    monkeypatch.setattr(kds.controllers, "HEARTBEAT_SECONDS", 0.3)
    grill = await station_id(runtime, "Grill")
    app = create_app(settings.model_copy(update={"redis_url": own_redis.url}))
    # arrange through the served app, whose channels are on this test's Redis
    runtime = app.state.runtime
    try:
        async with serve(app) as url:
            cook = await log_in(url, "3333")
            async with board_socket(url, cook, grill) as screen:
                await next_message(screen, "board")
                await fire(runtime, await open_check(runtime, table="1"), [Order("GR-RIB")])
                before = await next_message(screen, "card", within=10)
                assert "Table 1" in before["html"]

                own_redis.stop()
                while (await next_message(screen, "heartbeat", within=10))["live"]:
                    pass
                # fired while Redis is away: its push cannot be published now
                await fire(runtime, await open_check(runtime, table="2"), [Order("GR-BUR")])
                await asyncio.sleep(1.0)

                own_redis.start()
                board = await next_message(screen, "board", within=20)
                assert "Table 1" in board["html"]
                assert "Table 2" in board["html"]
                while not (await next_message(screen, "heartbeat", within=10))["live"]:
                    pass

                # and new events flow again without a reload
                await fire(runtime, await open_check(runtime, table="3"), [Order("GR-CHK")])
                after = None
                while after is None or "Table 3" not in after.get("html", ""):
                    after = await next_message(screen, within=15)
            await cook.aclose()
    finally:
        await app.state.runtime.db.dispose()
        for name in OUTAGE_LOGGERS:
            logging.getLogger(name).removeHandler(logged)
    # the outage is two lines in the log, not a traceback per lost event
    outage = logged.records
    assert all(r.exc_info is None for r in outage), [r.getMessage() for r in outage if r.exc_info]
    messages = [r.getMessage() for r in outage]
    assert len([m for m in messages if "lost their backend" in m]) == 1, messages
    assert len([m for m in messages if "are back after" in m and "publishes failed" in m]) == 1, messages
