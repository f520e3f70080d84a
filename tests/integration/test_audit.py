"""The audit log is append-only: `brigade verify-audit` notices an edited or deleted entry."""

from __future__ import annotations

import asyncio
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text

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
