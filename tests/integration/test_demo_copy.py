"""The `demo` fixture copies the demo restaurant after loading it once: the copy is exactly what load_demo wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from app.lib import audit
from app.lib.db import Database
from app.lib.settings import Settings
from app.models import metadata
from app.staff.services import PinPolicy, enrol_device, login_with_pin
from tests.support.services import DemoSnapshots, PostgresDatabase, SqliteTemplate


async def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, in the order a query without ORDER BY reads them."""
    async with db.read() as session:
        connection = await session.connection()
        return {
            table.name: [dict(row._mapping) for row in (await connection.execute(select(table))).all()]
            for table in metadata.sorted_tables
        }


async def _sequences(db: Database) -> dict[str, int | None]:
    """Where each id sequence stands (PostgreSQL; SQLite takes the next id from the rows)."""
    if db.is_sqlite:
        return {}
    async with db.read() as session:
        connection = await session.connection()
        result = await connection.execute(text("SELECT sequencename, last_value FROM pg_sequences"))
        return {str(name): value for name, value in result.all()}


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


async def test_a_copied_demo_restaurant_holds_exactly_the_rows_and_folders_load_demo_made(
    runtime: Any,
    settings: Settings,
    sqlite_template: SqliteTemplate,
    postgres_database: PostgresDatabase | None,
    tmp_path: Path,
) -> None:
    snapshots = DemoSnapshots()
    await snapshots.load(runtime.db, settings)
    loaded, loaded_sequences = await _rows(runtime.db), await _sequences(runtime.db)
    await runtime.db.dispose()

    other_var = tmp_path / "other-var"
    if postgres_database is not None:
        await postgres_database.empty()
        other = settings.model_copy(update={"var_dir": other_var})
    else:
        copy_url = sqlite_template.fresh(tmp_path / "copy.db")
        other = settings.model_copy(update={"var_dir": other_var, "database_url": copy_url})
    db = Database(other.resolved_database_url(), context={"settings": other})
    try:
        await snapshots.load(db, other)
        copied, copied_sequences = await _rows(db), await _sequences(db)
        async with db.read() as session:
            assert await audit.verify(session) == []
        async with db.write() as session:
            enrolled = await enrol_device(session, token=None, name="Tablet", pin="9999", policy=PinPolicy())
            outcome = await login_with_pin(session, device=enrolled.device, pin="1111", policy=PinPolicy())
        assert outcome.ok
        assert outcome.staff is not None
        assert outcome.staff.name == "Lena Brooks"
    finally:
        await db.dispose()

    first, second = str(settings.var_dir.resolve()), str(other_var.resolve())
    expected = {
        table: [{k: v.replace(first, second) if isinstance(v, str) else v for k, v in row.items()} for row in rows]
        for table, rows in loaded.items()
    }
    # PIN hashes are salted at random: a second load_demo would differ here, a faithful copy does not
    assert copied == expected
    assert copied_sequences == loaded_sequences
    assert sum(len(rows) for rows in copied.values()) > 400
    assert _tree(other_var) == _tree(settings.var_dir)
    assert any(str(row["uri"]).startswith(f"file://{second}/") for row in copied["printer"])
