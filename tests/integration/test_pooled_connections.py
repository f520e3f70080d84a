"""PostgreSQL connections are handed out live: one the server closed is replaced before a transaction uses it, one
idle for a while is pinged first, and a busy pool sends no ping at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from app.lib import db as db_module
from app.lib.db import Database
from app.lib.settings import Settings


@pytest.fixture
async def database(backend: str, settings: Settings) -> AsyncIterator[Database]:
    if backend != "postgres":
        pytest.skip("a pool of server connections is PostgreSQL's: SQLite opens a file")
    database = Database(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ping the pool sends, by connection, still sent."""
    dialect = database.write_engine.sync_engine.dialect
    sent: list[Any] = []
    ping = dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counting)
    return sent


async def _backend_pid(database: Database) -> int:
    return (await _backend(database))[0]


async def _backend(database: Database) -> tuple[int, Any]:
    """The server process behind the connection a transaction is handed, and the driver's connection."""
    async with database.read() as session:
        pid = int((await session.exec(text("SELECT pg_backend_pid()"))).scalar_one())
        raw = await (await session.connection()).get_raw_connection()
        return pid, raw.driver_connection


async def test_a_busy_pool_sends_no_ping(database: Database, pings: list[Any]) -> None:
    first = await _backend_pid(database)
    for _ in range(20):
        async with database.write() as session:
            await session.exec(text("SELECT 1"))
        assert await _backend_pid(database) == first, "the pool kept one connection for one caller"
    assert pings == []


async def test_a_connection_idle_for_a_while_is_pinged_before_it_is_handed_out(
    database: Database, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(database)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    assert await _backend_pid(database) == first
    assert len(pings) == 1, "the idle connection was pinged once, and kept"


async def test_a_connection_the_database_closed_is_replaced_before_a_transaction_uses_it(
    database: Database, settings: Settings, pings: list[Any]
) -> None:
    first, driver = await _backend(database)
    closed = asyncio.Event()
    driver.add_termination_listener(lambda _connection: closed.set())
    other = Database(settings.database_url)
    try:
        async with other.write() as session:
            ended = (await session.exec(text("SELECT pg_terminate_backend(:pid)").bindparams(pid=first))).scalar_one()
        assert ended is True
    finally:
        await other.dispose()
    # the driver learns of the closed socket on the event loop, between two requests
    await asyncio.wait_for(closed.wait(), timeout=5)

    replaced = await _backend_pid(database)
    assert replaced != first
    assert pings == [], "a closed connection is known without a round trip"


async def test_a_connection_that_does_not_answer_its_ping_is_replaced(
    database: Database, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(database)
    dialect = database.write_engine.sync_engine.dialect

    def unanswered(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        raise ConnectionResetError("the network path to the database is gone")

    monkeypatch.setattr(dialect, "do_ping", unanswered)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    replaced = await _backend_pid(database)
    assert replaced != first
    assert len(pings) == 1, "the new connection was handed out without a ping"
