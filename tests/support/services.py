"""Test databases on SQLite and PostgreSQL, and Redis, with CI's rule: a missing service fails, never skips."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import metadata

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
        tables = [t.name for t in metadata.sorted_tables]
        self._truncate = "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"

    async def _recreate(self) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        await engine.dispose()

    async def empty(self) -> None:
        engine = create_async_engine(self.url)
        async with engine.begin() as conn:
            await conn.execute(text(self._truncate))
        await engine.dispose()

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
