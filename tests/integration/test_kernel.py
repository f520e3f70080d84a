"""The kernel: outbox delivery exactly once, idempotency keys, transactions, UTC times."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.lib.clock import utcnow
from app.lib.errors import IdempotencyMismatch, InvalidInput
from app.lib.idempotency import StoredResponse, fingerprint, run_once
from app.lib.outbox import OutboxDispatcher, OutboxMessage, RetryLater, enqueue, pending_count
from app.staff.models import Device


async def test_an_outbox_message_is_delivered_once_even_with_two_dispatchers(runtime: Any) -> None:
    delivered: list[int] = []

    async def deliver(session: Any, message: OutboxMessage) -> None:
        delivered.append(message.payload["n"])

    first, second = OutboxDispatcher(runtime.db), OutboxDispatcher(runtime.db)
    for dispatcher in (first, second):
        dispatcher.register("test.topic", deliver)
    async with runtime.db.write() as session:
        for n in range(20):
            await enqueue(session, "test.topic", {"n": n})
    await asyncio.gather(first.drain(), second.drain())
    assert sorted(delivered) == list(range(20))
    async with runtime.db.read() as session:
        assert await pending_count(session) == 0


async def test_a_rolled_back_change_owes_nothing(runtime: Any) -> None:
    async def refused_change() -> None:
        async with runtime.db.write() as session:
            await enqueue(session, "test.topic", {"n": 1})
            raise InvalidInput("refused")

    with pytest.raises(InvalidInput):
        await refused_change()
    async with runtime.db.read() as session:
        assert await pending_count(session) == 0


async def test_a_failed_delivery_is_retried_later_never_dropped(runtime: Any) -> None:
    attempts: list[int] = []

    async def flaky(session: Any, message: OutboxMessage) -> None:
        attempts.append(message.id or 0)
        if len(attempts) == 1:
            raise RetryLater("printer warming up", delay=0.5)

    dispatcher = OutboxDispatcher(runtime.db)
    dispatcher.register("test.flaky", flaky)
    async with runtime.db.write() as session:
        await enqueue(session, "test.flaky", {})
    assert await dispatcher.drain() == 0
    async with runtime.db.read() as session:
        message = (await session.exec(select(OutboxMessage))).one()
    assert message.delivered_at is None
    assert message.last_error == "printer warming up"
    await asyncio.sleep(0.6)
    assert await dispatcher.drain() == 1
    assert len(attempts) == 2


async def test_a_claim_left_by_a_dead_worker_is_taken_again_after_its_lease(runtime: Any) -> None:
    got: list[int] = []

    async def deliver(session: Any, message: OutboxMessage) -> None:
        got.append(message.id or 0)

    async with runtime.db.write() as session:
        message = await enqueue(session, "test.lease", {})
        assert message is not None
        message.claimed_at = utcnow() - timedelta(minutes=5)
        message.claimed_by = "dead-worker"
        session.add(message)
    dispatcher = OutboxDispatcher(runtime.db, lease_seconds=60)
    dispatcher.register("test.lease", deliver)
    assert await dispatcher.drain() == 1
    assert got == [message.id]


async def test_a_dedupe_key_enqueues_once(runtime: Any) -> None:
    async with runtime.db.write() as session:
        assert await enqueue(session, "test.topic", {}, dedupe_key="k1") is not None
        assert await enqueue(session, "test.topic", {}, dedupe_key="k1") is None
    async with runtime.db.read() as session:
        assert await pending_count(session) == 1


async def _add_device(runtime: Any, key: str, token: str, *, print_: str = "same") -> StoredResponse:
    async def work(session: Any) -> StoredResponse:
        session.add(Device(token=token))
        await session.flush()
        return StoredResponse(200, f"added {token}", {})

    return await run_once(runtime.db, key=key, scope="staff:1", print_=print_, work=work)


async def test_a_double_tap_has_one_effect_and_the_same_answer(runtime: Any) -> None:
    first = await _add_device(runtime, "key-1", "tablet-a")
    second = await _add_device(runtime, "key-1", "tablet-a")
    assert first == second
    async with runtime.db.read() as session:
        assert len((await session.exec(select(Device))).all()) == 1


async def test_two_concurrent_requests_with_one_key_have_one_effect(runtime: Any) -> None:
    results = await asyncio.gather(*(_add_device(runtime, "key-2", "tablet-b") for _ in range(5)))
    assert {r.body for r in results} == {"added tablet-b"}
    async with runtime.db.read() as session:
        assert len((await session.exec(select(Device))).all()) == 1


async def test_the_same_key_with_a_different_request_is_refused(runtime: Any) -> None:
    await _add_device(runtime, "key-3", "tablet-c", print_="one")
    with pytest.raises(IdempotencyMismatch):
        await _add_device(runtime, "key-3", "tablet-d", print_="other")


async def test_a_request_without_a_key_is_refused(runtime: Any) -> None:
    with pytest.raises(InvalidInput):
        await _add_device(runtime, "", "tablet-e")


def test_a_fingerprint_ignores_the_key_and_the_csrf_token() -> None:
    a = fingerprint("POST", "/x", {"item": "1", "idempotency_key": "a", "_csrf_token": "t1"})
    b = fingerprint("POST", "/x", {"item": "1", "idempotency_key": "b", "_csrf_token": "t2"})
    assert a == b
    assert a != fingerprint("POST", "/x", {"item": "2"})


async def test_times_come_back_aware_in_utc(runtime: Any) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    async with runtime.db.write() as session:
        session.add(Device(token="clock", first_seen_at=moment))
    async with runtime.db.read() as session:
        device = (await session.exec(select(Device).where(Device.token == "clock"))).one()
    assert device.first_seen_at == moment
    assert device.first_seen_at.tzinfo is not None


async def test_concurrent_read_modify_write_loses_no_update(runtime: Any) -> None:
    async with runtime.db.write() as session:
        session.add(Device(token="counter", name="0"))

    async def increment() -> None:
        async with runtime.db.write() as session:
            query = select(Device).where(Device.token == "counter")
            if not runtime.db.is_sqlite:
                query = query.with_for_update()
            device = (await session.exec(query)).one()
            await asyncio.sleep(0)
            device.name = str(int(device.name) + 1)
            session.add(device)

    await asyncio.gather(*(increment() for _ in range(25)))
    async with runtime.db.read() as session:
        assert (await session.exec(select(Device).where(Device.token == "counter"))).one().name == "25"


async def test_two_processes_on_one_database_lose_no_update(runtime: Any, settings: Any) -> None:
    # A second Database has its own engines and no shared in-process lock, like a second process:
    # on SQLite only BEGIN IMMEDIATE keeps the read-modify-write cycles apart.
    from app.lib.db import Database

    other = Database(settings.resolved_database_url())
    async with runtime.db.write() as session:
        session.add(Device(token="counter2", name="0"))

    async def increment(db: Database) -> None:
        async with db.write() as session:
            query = select(Device).where(Device.token == "counter2")
            if not db.is_sqlite:
                query = query.with_for_update()
            device = (await session.exec(query)).one()
            await asyncio.sleep(0.001)
            device.name = str(int(device.name) + 1)
            session.add(device)

    try:
        await asyncio.gather(*(increment(runtime.db if n % 2 else other) for n in range(20)))
    finally:
        await other.dispose()
    async with runtime.db.read() as session:
        assert (await session.exec(select(Device).where(Device.token == "counter2"))).one().name == "20"


async def test_a_read_sees_one_state_unless_its_page_asks_for_each_statement_as_it_stands(
    runtime: Any, backend: str
) -> None:
    from sqlmodel import func

    from tests.support.statements import statements_sent

    with statements_sent(runtime) as snapshot:
        async with runtime.db.read() as session:
            first = (await session.exec(select(func.count()).select_from(Device))).one()
            second = (await session.exec(select(func.count()).select_from(Device))).one()
    with statements_sent(runtime) as each:
        async with runtime.db.read(snapshot=False) as session:
            (await session.exec(select(func.count()).select_from(Device))).one()
            (await session.exec(select(func.count()).select_from(Device))).one()
    assert first == second
    begins = [s for s in snapshot if s.upper().startswith("BEGIN")]
    assert len(begins) == (1 if backend == "sqlite" else 0), snapshot
    assert [s for s in each if s.upper().startswith("BEGIN")] == [], each
    assert len(each) == 2

    # On SQLite a write committed between the two statements is seen by the second only without the snapshot;
    # PostgreSQL reads committed rows at each statement either way.
    counts = []
    for snapshot_, token in ((True, "b"), (False, "c")):
        async with runtime.db.read(snapshot=snapshot_) as session:
            before = (await session.exec(select(func.count()).select_from(Device))).one()
            async with runtime.db.write() as writer:
                writer.add(Device(name=f"Tablet {token}", token=token * 64))
            counts.append((await session.exec(select(func.count()).select_from(Device))).one() - before)
    assert counts == ([0, 1] if backend == "sqlite" else [1, 1])


async def test_a_sqlite_writer_waits_for_another_connections_lock_off_the_event_loop(tmp_path: Any) -> None:
    # The writer runs its statements on the loop's thread, but waiting for a lock another connection holds (another
    # process, say) happens on a thread: the loop goes on serving meanwhile, and the write goes ahead once it is free.
    import sqlite3

    from sqlalchemy.ext.asyncio import create_async_engine

    from app.lib.db import Database
    from app.models import metadata

    path = tmp_path / "waits.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    db = Database(url)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")  # as every Brigade database is
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with db.write() as session:
            session.add(Device(token="waited", name="after the lock"))

    ticker = asyncio.create_task(tick())
    writing = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.3)
        assert not writing.done(), "the write went ahead while another connection held the lock"
        assert ticks >= 10, f"the event loop stood still while the writer waited ({ticks} ticks in 0.3 s)"
        other.execute("ROLLBACK")
        await asyncio.wait_for(writing, timeout=10)
    finally:
        ticker.cancel()
        other.close()
    async with db.read() as session:
        assert (await session.exec(select(Device).where(Device.token == "waited"))).one().name == "after the lock"
    await db.dispose()


async def test_sqlite_writers_waiting_go_delivery_first_then_the_kitchen_then_first_come(tmp_path: Any) -> None:
    # While one writer holds SQLite's lock, the workers delivering kitchen tickets go first, then requests sending
    # food to the kitchen, then every other request, each in the order it came; a waiter given up leaves its place.
    from app.lib.db import Database, Turn
    from tests.support.services import create_schema

    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    await create_schema(url)
    db = Database(url)
    held, release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def holder() -> None:
        async with db.write():
            held.set()
            await release.wait()

    async def writer(name: str, turn: Turn) -> None:
        async with db.write(turn=turn) as session:
            order.append(name)
            session.add(Device(token=name * 8, name=name))

    holding = asyncio.create_task(holder())
    await held.wait()
    waiters = [
        ("ring-in", Turn.REQUEST),
        ("send", Turn.KITCHEN),
        ("dispatcher", Turn.DELIVERY),
        ("given up", Turn.KITCHEN),
        ("page", Turn.REQUEST),
        ("rush", Turn.KITCHEN),
        ("printer", Turn.DELIVERY),
    ]
    tasks = {name: asyncio.create_task(writer(name, turn)) for name, turn in waiters}
    await asyncio.sleep(0.05)
    assert order == [], "a writer went ahead while the lock was held"
    tasks["given up"].cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(holding, *(t for n, t in tasks.items() if n != "given up")), timeout=10)
    assert order == ["dispatcher", "printer", "send", "rush", "ring-in", "page"]
    async with db.read() as session:
        written = {d.name for d in (await session.exec(select(Device))).all()}
    assert written == {"dispatcher", "printer", "send", "rush", "ring-in", "page"}
    await db.dispose()
