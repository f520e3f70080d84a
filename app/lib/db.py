"""The database: engines, transactions (SQLite BEGIN IMMEDIATE, PostgreSQL row locks), column types."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import traceback
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

AfterCommit = Callable[[], Awaitable[None] | None]

_ONE_STATEMENT = "brigade_one_statement"
_BEGIN_WRITING = "BEGIN IMMEDIATE"
_BUSY_TIMEOUT_MS = 30000


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


def _use_wal(cursor: Any, *, tries: int = 50) -> None:
    """Put the database file in WAL mode, once: a file already in it (the mode is stored in the file) is left be.

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without waiting out
    the busy timeout, when another connection opens the same new file at that moment: try again shortly.
    """
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    for attempt in range(tries):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or attempt == tries - 1:
                raise
            time.sleep(0.1)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver: its implicit BEGIN is DEFERRED, which lets two
        # read-modify-write transactions interleave and one of them silently lose its update.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that switching to WAL waits for a writer of another connection instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        inline = getattr(dbapi_connection, "_connection", None)
        if isinstance(inline, _InlineWriter):
            inline.no_wait()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_ONE_STATEMENT):
            return  # the statement runs in SQLite's own implicit transaction (see Database.lookup)
        conn.exec_driver_sql(_BEGIN_WRITING if immediate else "BEGIN")


class _InlineCursor:
    """A sqlite3 cursor behind the awaitable face SQLAlchemy's aiosqlite adapter expects, run on the caller's thread."""

    def __init__(self, cursor: sqlite3.Cursor, writer: _InlineWriter | None = None) -> None:
        self._cursor = cursor
        self._writer = writer

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> _InlineCursor:
        if operation == _BEGIN_WRITING and self._writer is not None:
            await self._writer.begin_writing(self._cursor)
        else:
            self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Any) -> _InlineCursor:
        self._cursor.executemany(operation, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: the adapter's isolation-level setter runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[None], Callable[[], Any]]) -> None:
        future, function = item
        try:
            function()
        except Exception as exc:  # handed to the awaiting adapter, as aiosqlite's thread would
            future.set_exception(exc)
        else:
            future.set_result(None)


class _InlineConnection:
    """A sqlite3 connection used on the event loop's own thread, without aiosqlite's hand-off to a thread of its
    own for every cursor, execute, fetch and close (each hand-off costs more CPU than most of our statements): for
    reads of a WAL file, which never wait on a writer. It offers what SQLAlchemy's aiosqlite adapter uses of an
    aiosqlite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


class _InlineWriter(_InlineConnection):
    """The writer's connection on the event loop's thread too, except where it may wait: taking the write lock
    when another connection holds it (another process, or a test client's loop) and the commit, which waits for
    the disk. Those two go to a thread, so the loop goes on serving while they wait. Within one loop the writers
    queue before they begin (`Database.write`), so the lock is nearly always free and taken at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self._waits_here = True  # SQLite's own busy wait, until `no_wait`

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor(), self)

    def no_wait(self) -> None:
        """From now on a busy lock is refused at once (and waited for on a thread) rather than waited for here."""
        self._conn.execute("PRAGMA busy_timeout=0")
        self._waits_here = False

    async def begin_writing(self, cursor: sqlite3.Cursor) -> None:
        try:
            cursor.execute(_BEGIN_WRITING)
        except sqlite3.OperationalError as exc:
            if self._waits_here or not _is_busy(exc):
                raise
            await asyncio.to_thread(self._begin_waiting, cursor)

    def _begin_waiting(self, cursor: sqlite3.Cursor) -> None:
        self._conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        try:
            cursor.execute(_BEGIN_WRITING)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    async def commit(self) -> None:
        await asyncio.to_thread(self._conn.commit)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether another connection holds the lock (SQLite says "database is locked")."""
    return "locked" in str(exc)


def _inline_sqlite_engine(url: str, *, echo: bool, writer: bool = False) -> AsyncEngine:
    path = make_url(url).database or ":memory:"
    kind = _InlineWriter if writer else _InlineConnection

    async def connect() -> Any:
        # Pooled connections may be taken by another thread's event loop (a test client's workers): never at once.
        return kind(sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False))

    return create_async_engine(url, echo=echo, async_creator=connect)


_IDLE_SINCE = "brigade_idle_since"
PING_AFTER_IDLE_S = 2.0
"""A pooled PostgreSQL connection idle this long is pinged before it is handed out."""


def _check_out_live_connections(engine: AsyncEngine) -> None:
    """Hand out only live PostgreSQL connections, without a round trip for each transaction of a busy night.

    A connection the server closed (a restart, an idle timeout) is known closed to the driver as soon as its socket
    says so, at no cost; one that has sat in the pool for `PING_AFTER_IDLE_S` is pinged as well, since a dropped
    network path says nothing. Either failure makes the pool replace every connection it holds, as SQLAlchemy's
    `pool_pre_ping` would; that pinged before every transaction, eight times for each order a tablet takes.
    """
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.driver_connection.is_closed():
            raise sa_exc.InvalidatePoolError("the database closed this connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa_exc.InvalidatePoolError(f"a pooled connection did not answer: {exc}") from exc


_WRITING = "brigade_writing"


class Turn(IntEnum):
    """Whose turn at SQLite's one writer comes first when several wait: lower first, then first come."""

    DELIVERY = 0
    """The workers delivering what earlier writes owe: kitchen tickets, prints."""
    KITCHEN = 1
    """A request sending food to the kitchen, voiding some, or a cook's bump, recall or reprint: its wait is the
    cooks' wait."""
    REQUEST = 2
    """Everything else."""


class _WriteQueue:
    """SQLite's one writer, taken in turn: first come, first served within a `Turn`, and the lower turn first."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in Turn)

    async def acquire(self, *, turn: Turn) -> None:
        if not self._held:
            self._held = True
            return
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._waiting[turn]
        lane.append(mine)
        try:
            await mine
        except asyncio.CancelledError:
            if mine.done() and not mine.cancelled():
                self.release()  # handed the lock as we were cancelled: pass it on
            else:
                lane.remove(mine)
            raise

    def release(self) -> None:
        for lane in self._waiting:
            while lane:
                turn = lane.popleft()
                if not turn.done():
                    turn.set_result(None)  # handed over: the lock stays held
                    return
        self._held = False


class Database:
    """Engines and transaction scopes for one database; `write()` for changes, `read()` for pages."""

    def __init__(self, url: str, *, echo: bool = False, context: dict[str, Any] | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.context: dict[str, Any] = context or {}
        # What this process built from the database's slow-changing tables, by name (see app/lib/revisions.py).
        self.kept: dict[str, Any] = {}
        if self.is_sqlite:
            # Writes and one-statement lookups (who is behind the cookie, on every request) run their statements on
            # the event loop's own thread, where aiosqlite would hand each cursor, execute, fetch and close to a
            # thread and back; a writer still waits for the lock or the disk on a thread (see `_InlineWriter`).
            # Pages and reports, which may read for longer, keep aiosqlite's thread.
            self.write_engine = _inline_sqlite_engine(url, echo=echo, writer=True)
            self.read_engine = create_async_engine(url, echo=echo, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000})
            self.lookup_engine = _inline_sqlite_engine(url, echo=echo)
            _configure_sqlite(self.write_engine, immediate=True)
            _configure_sqlite(self.read_engine, immediate=False)
            _configure_sqlite(self.lookup_engine, immediate=False)
        else:
            self.write_engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=20)
            _check_out_live_connections(self.write_engine)
            self.read_engine = self.lookup_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, class_=AsyncSession, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, class_=AsyncSession, expire_on_commit=False)
        self._lookup_sessions = async_sessionmaker(self.lookup_engine, class_=AsyncSession, expire_on_commit=False)
        # One SQLite file takes one writer at a time; queueing writers here is cheaper than
        # letting them spin on the busy handler, whose back-off sleeps reach 100 ms. The queue is
        # per event loop (a test client runs the app's workers on a loop of its own); writers on
        # different loops are still serialised, by SQLite's busy handler.
        self._sqlite_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _WriteQueue] | None = (
            weakref.WeakKeyDictionary() if self.is_sqlite else None
        )

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine this database sends statements through (one on PostgreSQL), e.g. to count them."""
        return tuple({id(e): e for e in (self.write_engine, self.read_engine, self.lookup_engine)}.values())

    @property
    def dialect(self) -> str:
        """The SQL dialect name: 'sqlite' or 'postgresql'."""
        return self.write_engine.dialect.name

    def _write_queue(self) -> _WriteQueue | None:
        if self._sqlite_write_locks is None:
            return None
        loop = asyncio.get_running_loop()
        queue = self._sqlite_write_locks.get(loop)
        if queue is None:
            queue = self._sqlite_write_locks[loop] = _WriteQueue()
        return queue

    @asynccontextmanager
    async def write(self, *, turn: Turn = Turn.REQUEST) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on error, then after-commit hooks.

        `turn`: on SQLite, writers waiting for the one writer go lowest turn first (see `Turn`), so a busy floor
        cannot hold the kitchen's tickets back.
        """
        queue = self._write_queue()
        if queue is not None:
            await queue.acquire(turn=turn)
        try:
            session = self._write_sessions()
            session.info.update(self.context)
            session.info["after_commit"] = []
            session.info[_WRITING] = True
            try:
                async with session.begin():
                    yield session
            finally:
                await session.close()
        finally:
            if queue is not None:
                queue.release()
        for hook in session.info["after_commit"]:
            result = hook()
            if result is not None:
                await result

    @asynccontextmanager
    async def read(self, *, snapshot: bool = True) -> AsyncIterator[AsyncSession]:
        """A read-only scope for pages and reports; on SQLite its statements see one state of the file.

        `snapshot=False` is for a page whose statements read things no rule ties together (a check and the menu
        beside it), redrawn live anyway: on SQLite each statement then reads the file as it is when it runs, without
        a BEGIN of its own (one statement fewer). PostgreSQL, read committed, reads the same either way.
        """
        if self.is_sqlite and not snapshot:
            # Its statements are short and each reads the WAL file as it stands: the lookups' connections run them
            # on the event loop's thread.
            async with self.lookup() as session:
                yield session
            return
        session = self._read_sessions()
        session.info.update(self.context)
        try:
            async with session.begin():
                yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[AsyncSession]:
        """A read of one statement (who is behind a login cookie, say): consistent by itself, so on SQLite it is
        sent without a BEGIN of its own, one statement fewer, on the event loop's thread. More statements belong in
        `read()` (`snapshot=False` when each may see the file as it is when it runs)."""
        session = self._lookup_sessions()
        session.info.update(self.context)
        try:
            async with session.begin():
                if self.is_sqlite:
                    await session.connection(execution_options={_ONE_STATEMENT: True})
                yield session
        finally:
            await session.close()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self.engines:
            await engine.dispose()


# Driver modules whose OSErrors and connection errors mean "the database is not there".
_DRIVERS = ("asyncpg", "aiosqlite", "sqlite3", "sqlalchemy")
# asyncpg raises these from connect() as they are (SQLAlchemy wraps only errors on an open connection):
# connection refused or lost, server starting up or shutting down, too many connections.
_ASYNCPG_UNREACHABLE = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "ClientCannotConnectError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "CrashShutdownError",
    "TooManyConnectionsError",
    "PostgresConnectionError",
}
# SQLite's OperationalError also means a bad query ("no such table"); only these mean it cannot be used now.
_SQLITE_UNREACHABLE = ("database is locked", "unable to open database", "disk i/o error", "database is full")


def unreachable(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, says the database could not be reached, not that a query was wrong."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unreachable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.OperationalError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        if "sqlite" not in type(exc.orig).__module__:
            return True
        return any(reason in message for reason in _SQLITE_UNREACHABLE)
    if isinstance(exc, sa_exc.InterfaceError):
        return _closed(exc)
    if type(exc).__module__.startswith("asyncpg"):
        if type(exc).__name__ == "InterfaceError":  # also raised for misuse, such as two queries at once
            return _closed(exc)
        return type(exc).__name__ in _ASYNCPG_UNREACHABLE
    if isinstance(exc, OSError | TimeoutError):
        # Only when a database driver raised it: a printer or a terminal has OSErrors of its own.
        frames = [frame.f_globals.get("__name__", "") for frame, _ in traceback.walk_tb(exc.__traceback__)]
        return any(str(name).split(".")[0] in _DRIVERS for name in frames)
    return False


def _closed(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "closed" in message or "connect" in message


def writing(session: AsyncSession | Session) -> bool:
    """Whether `session` is a write transaction of `Database.write()` (reads never change anything)."""
    return bool(session.info.get(_WRITING))


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the current write transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(hook)


WRITTEN = "brigade_written"
"""`session.info` key: rows a statement inserted without the ORM's flush (see `note_written`)."""


def note_written(session: AsyncSession, *rows: object) -> None:
    """Rows an INSERT … RETURNING wrote behind the ORM's back: whoever follows the session's flushes (the venue's
    sync capture, which tells head office of every closing and journal entry) hears of them before the commit, as
    if they had been flushed."""
    session.info.setdefault(WRITTEN, []).extend(rows)


def str_enum(enum_cls: type[Any]) -> SAEnum:
    """An enum column stored as its plain string value, so new members need no type migration."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
