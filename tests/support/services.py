"""Test databases on SQLite and PostgreSQL, and Redis, with CI's rule: a missing service fails, never skips."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import Table, delete, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.checks.services import business_day
from app.demo import load_demo
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.revisions import CacheRevision
from app.lib.settings import Settings
from app.models import metadata
from tests.support.servers import ServiceMissing

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    """Whether this run is CI's, where every service must be there."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, url: str) -> None:
    """Fail under CI, skip elsewhere, when a service does not answer."""
    parsed = urlparse(url.replace("+asyncpg", ""))
    host, port = parsed.hostname or "127.0.0.1", parsed.port or (5432 if "postgres" in url else 6379)
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} at {host}:{port} is unreachable ({exc})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


S = TypeVar("S")


def own_server(make: Callable[[], S]) -> S:
    """A private server made by `make` (see tests/support/servers.py); its program missing fails under CI and skips
    elsewhere, as a missing service does."""
    try:
        return make()
    except ServiceMissing as exc:
        if in_ci():
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


def postgres_url() -> str:
    """The PostgreSQL the integration suite runs against."""
    return os.environ.get("BRIGADE_TEST_DATABASE_URL", DEFAULT_PG)


def redis_url() -> str:
    """The Redis the integration suite runs against."""
    return os.environ.get("BRIGADE_TEST_REDIS_URL", DEFAULT_REDIS)


async def create_schema(url: str) -> None:
    """Build every table from the models (tests/integration/test_migrations.py keeps migrations equal to them)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


class SqliteTemplate:
    """One migrated SQLite file per test run, copied for each test (faster than migrating each time)."""

    def __init__(self, root: Path) -> None:
        self.path = root / "template.db"
        asyncio.run(create_schema(f"sqlite+aiosqlite:///{self.path}"))

    def fresh(self, target: Path) -> str:
        shutil.copyfile(self.path, target)
        return f"sqlite+aiosqlite:///{target}"


# Tables of this database that hold pages: those that had rows since they were last emptied to nothing.
_TABLES_WITH_PAGES = (
    "SELECT quote_ident(relname) AS name FROM pg_class"
    " WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND pg_relation_size(oid) > 0"
)


class PostgresDatabase:
    """A database of this run's own on the shared server, migrated once and emptied between tests."""

    def __init__(self, base_url: str, name: str, *, with_tables: bool = True) -> None:
        self.admin_url = base_url
        self.name = name
        parsed = urlparse(base_url)
        self.url = base_url.replace(parsed.path, f"/{name}") if parsed.path else f"{base_url}/{name}"
        asyncio.run(self._recreate())
        if with_tables:
            asyncio.run(create_schema(self.url))
        self._emptying: str | None = None

    async def _recreate(self) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        await engine.dispose()

    async def empty(self) -> None:
        """Every table empty and every id sequence back at its start, as TRUNCATE ... RESTART IDENTITY leaves them.

        TRUNCATE gives each of the ~60 tables and their indexes new files, which costs a second or more per
        test on this machine; DELETE and VACUUM of the few tables a test used cost a tenth of that. The
        ACCESS EXCLUSIVE locks make it wait for any transaction still open on these tables, as TRUNCATE
        would, and the journal's guard triggers (posted entries refuse DELETE) are off only inside it.
        """
        connection = await asyncpg.connect(self.url.replace("+asyncpg", ""))
        try:
            if self._emptying is None:
                self._emptying = await self._emptying_script(connection)
            await connection.execute(self._emptying)
            # A table that had rows keeps their dead pages, and new rows would fill them in whatever order
            # the free space map gives: VACUUM hands the pages back, so rows land in insertion order as in a
            # truncated table (queries without ORDER BY see the same order). TRUNCATE whatever it could not.
            for command in ("VACUUM", "TRUNCATE"):
                used = [row["name"] for row in await connection.fetch(_TABLES_WITH_PAGES)]
                if not used:
                    break
                await connection.execute(f"{command} {', '.join(used)}{' CASCADE' if command == 'TRUNCATE' else ''}")
        finally:
            await connection.close()

    @staticmethod
    async def _emptying_script(connection: asyncpg.Connection) -> str:
        tables = [f'"{t.name}"' for t in metadata.sorted_tables]
        guarded = [
            row["name"]
            for row in await connection.fetch(
                "SELECT DISTINCT quote_ident(c.relname) AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
        ]
        sequences = await connection.fetch(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) AS name, start_value"
            " FROM pg_sequences WHERE schemaname = current_schema()"
        )
        statements = ["BEGIN", f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"]
        statements += [f"ALTER TABLE {name} DISABLE TRIGGER USER" for name in guarded]
        # children before parents, so no foreign key is ever left pointing at a deleted row
        statements += [f"DELETE FROM {name}" for name in reversed(tables)]
        statements += [f"ALTER TABLE {name} ENABLE TRIGGER USER" for name in guarded]
        if sequences:
            resets = ", ".join(f"setval('{row['name']}', {int(row['start_value'])}, false)" for row in sequences)
            statements.append(f"SELECT {resets}")
        statements.append("COMMIT")
        return "; ".join(statements)

    def drop(self) -> None:
        async def _drop() -> None:
            engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            await engine.dispose()

        asyncio.run(_drop())


async def flush_redis(url: str) -> None:
    """Empty the Redis database the tests use."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@dataclass
class _Snapshot:
    """The rows, id sequences and var/ entries one run of load_demo left behind, and the var/ it ran with."""

    var_dir: str
    rows: dict[str, list[dict[str, Any]]]
    rewrite: set[tuple[str, str]]
    sequences: list[tuple[str, int]]
    folders: list[str]
    files: dict[str, bytes]


class DemoSnapshots:
    """The demo restaurant loaded once through app.demo.load_demo, then copied into each test's empty database.

    load_demo hashes six PINs and makes a few hundred flushes; copying its rows back takes one INSERT per
    table. The first test (per backend, settings and day) runs load_demo itself and keeps what it wrote:
    every row, the id sequences, the folders and files it made under var/. Later tests get those rows with
    the first test's var/ path replaced by their own (printer spool addresses), so each starts from exactly
    the state load_demo leaves. A database that is not empty, or settings the copy was not made with, get a
    real load_demo instead. The copy is remade when the UTC date or the business day changes, since demo
    rows are dated from the clock.
    """

    def __init__(self) -> None:
        self._snapshots: dict[str, _Snapshot] = {}

    async def load(self, db: Database, settings: Settings) -> None:
        """Put the demo restaurant into `db`, as `brigade demo` does on an empty database."""
        key = self._key(db, settings)
        root = settings.var_dir.resolve()
        before = _entries(root)
        captured: _Snapshot | None = None
        async with db.write() as session:
            connection = await session.connection()
            empty = await _is_empty(connection)
            snapshot = self._snapshots.get(key) if empty else None
            if snapshot is not None:
                await _restore(connection, snapshot, str(root))
            else:
                await load_demo(session, settings)
                if empty:
                    captured = await _capture(await session.connection(), str(root))
        if snapshot is not None:
            _restore_files(snapshot, root)
        elif captured is not None:
            self._snapshots[key] = _with_files(captured, root, before)

    @staticmethod
    def _key(db: Database, settings: Settings) -> str:
        now = utcnow()
        day = (now.date(), now.astimezone(ZoneInfo(settings.timezone)).date(), business_day(settings, now))
        per_test = {"var_dir", "database_url", "redis_url"}
        return json.dumps(
            [db.dialect, [d.isoformat() for d in day], settings.model_dump(mode="json", exclude=per_test)],
            sort_keys=True,
        )


_REVISIONS: Table = CacheRevision.__table__  # type: ignore[attr-defined]

# Where each id sequence of this database stands; last_value is NULL until a sequence hands out its first id.
_SEQUENCES = (
    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value FROM pg_sequences"
    " WHERE schemaname = current_schema()"
)


async def _is_empty(connection: AsyncConnection) -> bool:
    checks = " OR ".join(f'EXISTS (SELECT 1 FROM "{t.name}")' for t in metadata.sorted_tables)
    if (await connection.execute(text(f"SELECT {checks}"))).scalar_one():
        return False
    if connection.dialect.name == "postgresql":
        # a sequence that moved means rows came and went: ids would not start where load_demo's do
        used = await connection.execute(text(_SEQUENCES))
        return all(value is None for _, value in used.all())
    return True


async def _count_revisions_now(connection: AsyncConnection) -> None:
    """Apply the revision counts PostgreSQL defers to the commit (app/lib/revisions.py), so that they can be read
    or overwritten inside the transaction."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


async def _capture(connection: AsyncConnection, var_dir: str) -> _Snapshot:
    await _count_revisions_now(connection)
    rows: dict[str, list[dict[str, Any]]] = {}
    rewrite: set[tuple[str, str]] = set()
    # Rows are copied back in their physical order, so a query without ORDER BY reads them as it would have.
    physical = literal_column("ctid" if connection.dialect.name == "postgresql" else "rowid")
    for table in metadata.sorted_tables:
        result = await connection.execute(select(table).order_by(physical))
        found = [{column.key: row._mapping[column] for column in table.columns} for row in result.all()]
        if not found:
            continue
        rows[table.name] = found
        for row in found:
            for column, value in row.items():
                if isinstance(value, str) and var_dir in value:
                    rewrite.add((table.name, column))
                elif not isinstance(value, str) and var_dir in json.dumps(value, default=str):
                    raise RuntimeError(f"{table.name}.{column} holds the var/ path inside a structure; cannot copy it")
    if any(table.startswith("audit") for table, _ in rewrite):
        raise RuntimeError("the audit chain hashes a var/ path; a copy with another path would break it")
    sequences: list[tuple[str, int]] = []
    if connection.dialect.name == "postgresql":
        used = await connection.execute(text(_SEQUENCES))
        sequences = [(name, int(value)) for name, value in used.all() if value is not None]
    return _Snapshot(var_dir, rows, rewrite, sequences, [], {})


async def _restore(connection: AsyncConnection, snapshot: _Snapshot, var_dir: str) -> None:
    for table in metadata.sorted_tables:
        found = snapshot.rows.get(table.name)
        if not found or table.name == _REVISIONS.name:
            continue
        columns = {column for name, column in snapshot.rewrite if name == table.name}
        if columns:
            found = [
                {k: v.replace(snapshot.var_dir, var_dir) if k in columns else v for k, v in row.items()}
                for row in found
            ]
        # one multi-row INSERT per table: rows that point at each other (a printer's backup) check at its end
        await connection.execute(insert(table).values(found))
    # Inserting the menu and the floor counted their revisions again: they stand where load_demo left them.
    await _count_revisions_now(connection)
    await connection.execute(delete(_REVISIONS))
    if snapshot.rows.get(_REVISIONS.name):
        await connection.execute(insert(_REVISIONS).values(snapshot.rows[_REVISIONS.name]))
    if snapshot.sequences:
        # names come from pg_sequences, already quoted
        resets = ", ".join(f"setval('{name}', {value}, true)" for name, value in snapshot.sequences)
        await connection.execute(text(f"SELECT {resets}"))


def _entries(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


def _with_files(snapshot: _Snapshot, root: Path, before: set[Path]) -> _Snapshot:
    made = sorted(_entries(root) - before)
    snapshot.folders = [str(p.relative_to(root)) for p in made if p.is_dir()]
    snapshot.files = {str(p.relative_to(root)): p.read_bytes() for p in made if p.is_file()}
    return snapshot


def _restore_files(snapshot: _Snapshot, root: Path) -> None:
    for folder in snapshot.folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, content in snapshot.files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
