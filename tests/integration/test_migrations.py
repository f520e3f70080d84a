"""Migrations build an empty database on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.lib.migrate import current_revision, head_revision, upgrade
from app.models import metadata
from tests.support.services import PostgresDatabase, postgres_url, require_service


def _differences(url: str) -> list[object]:
    async def _compare() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
                )
        finally:
            await engine.dispose()

    return asyncio.run(_compare())


def test_migrations_build_an_empty_sqlite_database_that_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    assert current_revision(url) == head_revision(url)
    assert _differences(url) == []


def test_migrations_build_an_empty_postgresql_database_that_matches_the_models() -> None:
    require_service("PostgreSQL", postgres_url())
    database = PostgresDatabase(postgres_url(), "brigade_migrations_test", with_tables=False)
    try:
        upgrade(database.url)
        assert current_revision(database.url) == head_revision(database.url)
        assert _differences(database.url) == []
    finally:
        database.drop()


def test_migrated_journal_lines_refuse_updates_at_the_database(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite+aiosqlite:///{tmp_path / 'books.db'}"
    upgrade(url)
    connection = sqlite3.connect(tmp_path / "books.db")
    triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    connection.close()
    assert {"journal_line_no_update", "journal_line_no_delete", "journal_entry_no_update"} <= triggers
