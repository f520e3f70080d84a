"""kill -9 of a process while its outbox dispatcher delivers: nothing is lost, nothing is delivered twice.

The dispatcher claims a message in the transaction that delivers it, so a process killed in the middle of a
delivery takes its claim down with it: the next dispatcher delivers the message at once, without waiting out a
lease, and the delivery's own writes (here the card push a fire owes) are not there twice. A message a
delivery wrote and claimed for the same dispatcher is committed with that delivery; if the process dies before
delivering it, the next process to start releases the dead one's claims and delivers it, once.

Each process is real (`python -c`), killed with SIGKILL in the middle of a delivery transaction, on a SQLite
file and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from app.lib.db import Database
from app.lib.outbox import OutboxDispatcher, OutboxMessage, enqueue
from tests.faults.harness import fresh_database
from tests.support.services import postgres_url, require_service

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]

# A process whose dispatcher delivers "test.fire" (which owes a "test.push", as routing a fire owes the card
# push) and hangs inside the delivery transaction of the stage it is told, after saying so in a file.
DYING_PROCESS = """
import asyncio, pathlib, sys
from app.lib.db import Database
from app.lib.outbox import OutboxDispatcher, enqueue

async def main(url: str, stage: str, ready: str) -> None:
    db = Database(url)
    dispatcher = OutboxDispatcher(db)

    async def hang(topic: str) -> None:
        if topic == stage:
            pathlib.Path(ready).write_text(topic)
            await asyncio.sleep(3600)

    async def fire(session, message) -> None:
        await enqueue(session, "test.push", {"fire": message.id}, dedupe_key=f"push:{message.id}")
        await hang("test.fire")

    async def push(session, message) -> None:
        await hang("test.push")

    dispatcher.register("test.fire", fire)
    dispatcher.register("test.push", push)
    await dispatcher.drain()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An outbox on a SQLite file of the test's own, or on a fresh database on the shared PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'brigade.db'}")
        async with database.write_engine.begin() as conn:
            await conn.run_sync(OutboxMessage.metadata.create_all, tables=[OutboxMessage.__table__])
        yield database
        await database.dispose()
        return
    require_service("PostgreSQL", postgres_url())
    async with fresh_database(postgres_url()) as url:
        database = Database(url)
        async with database.write_engine.begin() as conn:
            await conn.run_sync(OutboxMessage.metadata.create_all, tables=[OutboxMessage.__table__])
        yield database
        await database.dispose()


async def _killed_while_delivering(db: Database, stage: str, tmp_path: Path) -> None:
    """Run a dispatcher process until it hangs in the delivery of `stage`, then kill -9 it."""
    ready = tmp_path / f"in-{stage}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DYING_PROCESS,
        db.url,
        stage,
        str(ready),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.returncode is not None:
                output = await process.stdout.read() if process.stdout else b""
                raise AssertionError(f"the dispatcher process ended before its delivery:\n{output.decode()}")
            assert time.monotonic() < deadline, "the dispatcher process never reached its delivery"
            await asyncio.sleep(0.05)
    finally:
        if process.returncode is None:
            os.kill(process.pid, signal.SIGKILL)
        await process.wait()


async def _messages(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())


def _counting_dispatcher(db: Database, delivered: list[tuple[str, int]]) -> OutboxDispatcher:
    """A dispatcher of the restarted process; its lease is long, so only a released or absent claim lets it in."""
    dispatcher = OutboxDispatcher(db, lease_seconds=3600)

    async def fire(session: Any, message: OutboxMessage) -> None:
        delivered.append((message.topic, message.id or 0))
        await enqueue(session, "test.push", {"fire": message.id}, dedupe_key=f"push:{message.id}")

    async def push(session: Any, message: OutboxMessage) -> None:
        delivered.append((message.topic, message.id or 0))

    dispatcher.register("test.fire", fire)
    dispatcher.register("test.push", push)
    return dispatcher


async def test_a_process_killed_inside_a_delivery_leaves_its_message_unclaimed_and_delivered_once_after(
    db: Database, tmp_path: Path
) -> None:
    async with db.write() as session:
        await enqueue(session, "test.fire", {"n": 1})

    await _killed_while_delivering(db, "test.fire", tmp_path)

    [fire] = await _messages(db)
    assert (fire.delivered_at, fire.claimed_by, fire.attempts) == (None, None, 0), "the claim died with the delivery"
    delivered: list[tuple[str, int]] = []
    restarted = _counting_dispatcher(db, delivered)
    assert await restarted.drain() == 2
    messages = await _messages(db)
    assert [(m.topic, m.delivered_at is not None) for m in messages] == [("test.fire", True), ("test.push", True)]
    assert delivered == [("test.fire", fire.id), ("test.push", messages[1].id)]


async def test_a_message_its_delivery_owed_is_released_by_the_next_process_and_delivered_once(
    db: Database, tmp_path: Path
) -> None:
    async with db.write() as session:
        await enqueue(session, "test.fire", {"n": 1})

    await _killed_while_delivering(db, "test.push", tmp_path)

    fire, push = await _messages(db)
    assert fire.delivered_at is not None
    assert push.delivered_at is None
    assert push.claimed_by is not None, "claimed for the dead process by the delivery that wrote it"
    delivered: list[tuple[str, int]] = []
    restarted = _counting_dispatcher(db, delivered)
    assert await restarted.release_abandoned() == 1
    assert await restarted.drain() == 1
    assert delivered == [("test.push", push.id)]
    assert all(message.delivered_at is not None for message in await _messages(db))
    assert len(await _messages(db)) == 2
