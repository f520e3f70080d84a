"""The database: engines, transactions (SQLite BEGIN IMMEDIATE, PostgreSQL row locks), column types."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

AfterCommit = Callable[[], Awaitable[None] | None]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Brigade keeps every time zone-aware")
        value = value.astimezone(UTC)
        # SQLite has no zone type; storing naive UTC keeps its text ordering right
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver: its implicit BEGIN is DEFERRED, which lets two
        # read-modify-write transactions interleave and one of them silently lose its update.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Engines and transaction scopes for one database; `write()` for changes, `read()` for pages."""

    def __init__(self, url: str, *, echo: bool = False, context: dict[str, Any] | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.context: dict[str, Any] = context or {}
        if self.is_sqlite:
            args = {"timeout": 30}
            self.write_engine = create_async_engine(url, echo=echo, connect_args=args)
            self.read_engine = create_async_engine(url, echo=echo, connect_args=args)
            _configure_sqlite(self.write_engine, immediate=True)
            _configure_sqlite(self.read_engine, immediate=False)
        else:
            self.write_engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, class_=AsyncSession, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, class_=AsyncSession, expire_on_commit=False)
        # One SQLite file takes one writer at a time; queueing writers here is cheaper than
        # letting them spin on the busy handler, whose back-off sleeps reach 100 ms. The queue is
        # per event loop (a test client runs the app's workers on a loop of its own); writers on
        # different loops are still serialised, by SQLite's busy handler.
        self._sqlite_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            weakref.WeakKeyDictionary() if self.is_sqlite else None
        )

    @property
    def dialect(self) -> str:
        """The SQL dialect name: 'sqlite' or 'postgresql'."""
        return self.write_engine.dialect.name

    def _write_queue(self) -> asyncio.Lock | nullcontext[None]:
        if self._sqlite_write_locks is None:
            return nullcontext()
        loop = asyncio.get_running_loop()
        lock = self._sqlite_write_locks.get(loop)
        if lock is None:
            lock = self._sqlite_write_locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on error, then after-commit hooks."""
        lock = self._write_queue()
        async with lock:
            session = self._write_sessions()
            session.info.update(self.context)
            session.info["after_commit"] = []
            try:
                async with session.begin():
                    yield session
            finally:
                await session.close()
        for hook in session.info["after_commit"]:
            result = hook()
            if result is not None:
                await result

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only scope for pages and reports."""
        session = self._read_sessions()
        session.info.update(self.context)
        try:
            async with session.begin():
                yield session
        finally:
            await session.close()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the current write transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(hook)


def str_enum(enum_cls: type[Any]) -> SAEnum:
    """An enum column stored as its plain string value, so new members need no type migration."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
