"""The audit log is append-only: `brigade verify-audit` notices an edited or deleted entry."""

from __future__ import annotations

import asyncio
from typing import Any

from click.testing import CliRunner
from sqlalchemy import event, text

from app.cli import main
from app.lib import audit


def _verify(settings: Any) -> Any:
    env = {"BRIGADE_DATABASE_URL": settings.resolved_database_url(), "BRIGADE_VAR_DIR": str(settings.var_dir)}
    return CliRunner().invoke(main, ["verify-audit"], env=env)


async def _three_entries(runtime: Any) -> None:
    async with runtime.db.write() as session:
        for n in range(3):
            await audit.record(session, "check.void", actor_id=1, subject=f"check:{n}", reason="guest changed mind")


async def test_verify_audit_passes_on_an_untouched_chain(runtime: Any, settings: Any) -> None:
    await _three_entries(runtime)
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


async def test_verify_audit_fails_after_a_row_is_edited(runtime: Any, settings: Any) -> None:
    await _three_entries(runtime)
    async with runtime.db.write() as session:
        await session.exec(text("UPDATE audit_entry SET reason = 'nothing to see' WHERE id = 2"))  # type: ignore[call-overload]
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 1
    assert "entry 2" in result.output
    assert "edited" in result.output


async def test_verify_audit_fails_after_a_row_is_deleted(runtime: Any, settings: Any) -> None:
    await _three_entries(runtime)
    async with runtime.db.write() as session:
        await session.exec(text("DELETE FROM audit_entry WHERE id = 2"))  # type: ignore[call-overload]
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 1
    assert "missing" in result.output


async def test_verify_audit_fails_after_the_newest_row_is_deleted(runtime: Any, settings: Any) -> None:
    await _three_entries(runtime)
    async with runtime.db.write() as session:
        await session.exec(text("DELETE FROM audit_entry WHERE id = 3"))  # type: ignore[call-overload]
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 1
    assert "deleted" in result.output


async def test_two_writers_of_a_fresh_databases_first_entries_both_land_in_one_chain(
    runtime: Any, settings: Any
) -> None:
    """A head office's server and a command run beside it may both write the first audit entry of a new database."""
    first_holds_its_entry = asyncio.Event()

    async def first() -> None:
        async with runtime.db.write() as session:
            await audit.record(session, "venue.add", actor_id=None, subject="venue:NORTH")
            first_holds_its_entry.set()
            await asyncio.sleep(0.3)

    async def second() -> None:
        await first_holds_its_entry.wait()
        async with runtime.db.write() as session:
            await audit.record(session, "venue.add", actor_id=None, subject="venue:SOUTH")

    await asyncio.gather(first(), second())
    async with runtime.db.read() as session:
        count = (await session.exec(text("SELECT count(*) FROM audit_entry"))).one()  # type: ignore[call-overload]
    assert count[0] == 2
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 0, result.output


async def test_entries_of_one_transaction_read_the_head_once_and_a_rolled_back_savepoint_leaves_no_gap(
    runtime: Any, settings: Any
) -> None:
    """The second entry of a transaction appends to the head the first one locked; an entry whose savepoint rolled
    back is not in the chain, and the next entry links to the one before it."""
    heads_read: list[str] = []

    def count_head_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM audit_head" in statement:
            heads_read.append(statement)

    async with runtime.db.write() as session:
        await audit.record(session, "check.void", actor_id=1, subject="check:1")  # the head exists from here on
    engine = runtime.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_head_reads)
    try:
        async with runtime.db.write() as session:
            await audit.record(session, "check.void", actor_id=1, subject="check:2")
            await audit.record(session, "check.void", actor_id=1, subject="check:3")
            assert len(heads_read) == 1
            savepoint = await session.begin_nested()
            await audit.record(session, "check.void", actor_id=1, subject="check:gone")
            await savepoint.rollback()
            await audit.record(session, "check.void", actor_id=1, subject="check:4")
        async with runtime.db.write() as session:
            await audit.record(session, "check.void", actor_id=1, subject="check:5")
    finally:
        event.remove(engine, "before_cursor_execute", count_head_reads)
    assert len(heads_read) == 3  # once more after the savepoint's rollback, once in the next transaction
    async with runtime.db.read() as session:
        subjects = (await session.exec(text("SELECT id, subject FROM audit_entry ORDER BY id"))).all()  # type: ignore[call-overload]
    assert [tuple(row) for row in subjects] == [(n, f"check:{n}") for n in range(1, 6)]
    result = await asyncio.to_thread(_verify, settings)
    assert result.exit_code == 0, result.output
