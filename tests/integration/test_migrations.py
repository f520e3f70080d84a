"""Migrations build an empty database on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code, create_account
from app.accounting.chart import STANDARD_CHART
from app.accounting.models import Account, AccountType
from app.closes.mappings import ROLE_ACCOUNTS
from app.closes.models import MappingKind, PostingMapping
from app.closes.posting_base import resolve_accounts
from app.lib import revisions
from app.lib.migrate import alembic_config, current_revision, head_revision, upgrade
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


def _revision_triggers(url: str) -> dict[str, set[str]]:
    """The triggers that count revisions (app/lib/revisions.py), by table; and the subject each one counts."""
    listing = (
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%revision'"
        if url.startswith("sqlite")
        else "SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE NOT t.tgisinternal AND t.tgname LIKE '%revision'"
    )

    async def _list() -> dict[str, set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text(listing))).all()
        finally:
            await engine.dispose()
        found: dict[str, set[str]] = {}
        for table, sql in rows:
            found.setdefault(table, set()).update(s for s in ("menu", "floor") if f"'{s}'" in sql)
        return found

    return asyncio.run(_list())


def _expected_triggers() -> dict[str, set[str]]:
    return {table: {subject} for table, subject in revisions.watched().items()}


def test_migrations_build_an_empty_sqlite_database_that_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    assert current_revision(url) == head_revision(url)
    assert _differences(url) == []
    assert _expected_triggers() == {
        "menu_category": {"menu"},
        "menu_item": {"menu"},
        "modifier_group": {"menu"},
        "menu_item_modifier_group": {"menu"},
        "floor": {"floor"},
        "dining_table": {"floor"},
    }
    assert _revision_triggers(url) == _expected_triggers(), "the migrations count the same tables as the models"


def test_migrations_build_an_empty_postgresql_database_that_matches_the_models() -> None:
    require_service("PostgreSQL", postgres_url())
    database = PostgresDatabase(postgres_url(), f"brigade_migrations_test_{os.getpid()}", with_tables=False)
    try:
        upgrade(database.url)
        assert current_revision(database.url) == head_revision(database.url)
        assert _differences(database.url) == []
        assert _revision_triggers(database.url) == _expected_triggers()
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


# ------------------------------------------------------------------ 0004: house accounts for stock postings

STOCK_ROLES = {"accounts_payable": "2030", "stock_variance": "5030"}
# Roles that revisions after 0004 map (each in its own revision), so a database at head has them too.
LATER_ROLES = {"promotions": "4520", "price_variance": "5040", "gift_cards": "2010"}
# The house roles a posting mapping had before deliveries and counts posted to the ledger.
ROLES_BEFORE_STOCK_POSTINGS = {
    role: code for role, code in ROLE_ACCOUNTS.items() if role not in STOCK_ROLES and role not in LATER_ROLES
}


@pytest.fixture
def unmigrated_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema yet, on the backend this run tests."""
    if backend != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path / 'venue.db'}"
        return
    require_service("PostgreSQL", postgres_url())
    database = PostgresDatabase(postgres_url(), f"brigade_migration_0004_{os.getpid()}", with_tables=False)
    try:
        yield database.url
    finally:
        database.drop()


def _books_at_0003(
    url: str,
    *,
    chart_without: frozenset[str] = frozenset(),
    own_accounts: tuple[tuple[str, str, AccountType, str | None], ...] = (),
    own_roles: dict[str, str] | None = None,
) -> None:
    """A venue's chart and posting mapping as they stood at revision 0003, before stock postings."""
    upgrade(url, "0003")

    async def _write() -> None:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                standard = [account for account in STANDARD_CHART if account[0] not in chart_without]
                for code, name, account_type, parent in (*standard, *own_accounts):
                    await create_account(session, code=code, name=name, type=account_type, parent_code=parent)
                for role, code in {**ROLES_BEFORE_STOCK_POSTINGS, **(own_roles or {})}.items():
                    session.add(PostingMapping(kind=MappingKind.ACCOUNT, subject=role, account_code=code))
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(_write())


def _role_mapping(url: str) -> dict[str, str | None]:
    """Every house role the posting mapping has, with its account code."""

    async def _read() -> dict[str, str | None]:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                rows = await session.exec(select(PostingMapping).where(PostingMapping.kind == MappingKind.ACCOUNT))
                return {row.subject: row.account_code for row in rows}
        finally:
            await engine.dispose()

    return asyncio.run(_read())


def _accounts(url: str, *codes: str) -> dict[str, tuple[str, AccountType, str | None, int]]:
    """Name, type, parent code and how many rows carry it, for each of `codes` in the chart."""

    async def _read() -> dict[str, tuple[str, AccountType, str | None, int]]:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                found: dict[str, tuple[str, AccountType, str | None, int]] = {}
                for code in codes:
                    account = await account_by_code(session, code)
                    if account is None:
                        continue
                    parent = await session.get(Account, account.parent_id) if account.parent_id else None
                    copies = (await session.exec(select(func.count()).where(col(Account.code) == code))).one()
                    found[code] = (account.name, account.type, parent.code if parent else None, copies)
                return found
        finally:
            await engine.dispose()

    return asyncio.run(_read())


def _stock_posting_accounts(url: str) -> dict[str, str]:
    """The accounts a delivery, a count and recorded waste post to, as the posting rules resolve them."""

    async def _resolve() -> dict[str, str]:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                roles = ["inventory", "accounts_payable", "stock_variance", "waste"]
                return (await resolve_accounts(session, roles=roles)).roles
        finally:
            await engine.dispose()

    return asyncio.run(_resolve())


def test_books_set_up_before_stock_postings_gain_payables_and_variance_on_upgrade(unmigrated_url: str) -> None:
    _books_at_0003(unmigrated_url)
    assert "accounts_payable" not in _role_mapping(unmigrated_url)

    upgrade(unmigrated_url)

    assert current_revision(unmigrated_url) == head_revision(unmigrated_url)
    assert _role_mapping(unmigrated_url) == {**ROLES_BEFORE_STOCK_POSTINGS, **STOCK_ROLES, **LATER_ROLES}
    assert _stock_posting_accounts(unmigrated_url) == {
        "inventory": "1100",
        "accounts_payable": "2030",
        "stock_variance": "5030",
        "waste": "5020",
    }
    # the standard chart already had both accounts: they are mapped, never added twice
    assert _accounts(unmigrated_url, "2030", "5030") == {
        "2030": ("Accounts payable", AccountType.LIABILITY, "2000", 1),
        "5030": ("Stock count variance", AccountType.EXPENSE, "5000", 1),
    }


def test_downgrading_from_0004_drops_its_mappings_and_keeps_the_accounts(unmigrated_url: str) -> None:
    _books_at_0003(unmigrated_url, chart_without=frozenset(STOCK_ROLES.values()))
    upgrade(unmigrated_url)

    command.downgrade(alembic_config(unmigrated_url), "0003")

    assert current_revision(unmigrated_url) == "0003"
    assert _role_mapping(unmigrated_url) == ROLES_BEFORE_STOCK_POSTINGS
    assert set(_accounts(unmigrated_url, "2030", "5030")) == {"2030", "5030"}

    upgrade(unmigrated_url)

    assert _role_mapping(unmigrated_url) == {**ROLES_BEFORE_STOCK_POSTINGS, **STOCK_ROLES, **LATER_ROLES}
    assert [copies for *_, copies in _accounts(unmigrated_url, "2030", "5030").values()] == [1, 1]


def test_upgrade_adds_the_payables_and_variance_accounts_a_venue_chart_lacks(unmigrated_url: str) -> None:
    _books_at_0003(unmigrated_url, chart_without=frozenset(STOCK_ROLES.values()))
    assert _accounts(unmigrated_url, "2030", "5030") == {}

    upgrade(unmigrated_url)

    assert _accounts(unmigrated_url, "2030", "5030") == {
        "2030": ("Accounts payable", AccountType.LIABILITY, "2000", 1),
        "5030": ("Stock count variance", AccountType.EXPENSE, "5000", 1),
    }
    assert _stock_posting_accounts(unmigrated_url)["accounts_payable"] == "2030"
    assert _stock_posting_accounts(unmigrated_url)["stock_variance"] == "5030"


def test_upgrade_keeps_the_payables_account_a_manager_already_chose(unmigrated_url: str) -> None:
    suppliers = ("2040", "Suppliers", AccountType.LIABILITY, "2000")
    _books_at_0003(unmigrated_url, own_accounts=(suppliers,), own_roles={"accounts_payable": "2040"})

    upgrade(unmigrated_url)

    assert _role_mapping(unmigrated_url)["accounts_payable"] == "2040"
    assert _role_mapping(unmigrated_url)["stock_variance"] == "5030"

    command.downgrade(alembic_config(unmigrated_url), "0003")

    assert _role_mapping(unmigrated_url) == {**ROLES_BEFORE_STOCK_POSTINGS, "accounts_payable": "2040"}


def test_upgrade_leaves_a_code_the_venue_uses_for_something_else_for_a_person_to_map(unmigrated_url: str) -> None:
    prepaid = ("2030", "Prepaid rent", AccountType.ASSET, "1000")
    _books_at_0003(unmigrated_url, chart_without=frozenset({"2030"}), own_accounts=(prepaid,))

    upgrade(unmigrated_url)

    assert "accounts_payable" not in _role_mapping(unmigrated_url)
    assert _role_mapping(unmigrated_url)["stock_variance"] == "5030"
    assert _accounts(unmigrated_url, "2030") == {"2030": ("Prepaid rent", AccountType.ASSET, "1000", 1)}


def test_upgrade_leaves_an_empty_database_for_the_demo_or_setup_to_fill(unmigrated_url: str) -> None:
    upgrade(unmigrated_url)

    assert _role_mapping(unmigrated_url) == {}
    assert _accounts(unmigrated_url, "2000", "2030", "5000", "5030") == {}
