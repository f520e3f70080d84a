"""What differs between the two databases Brigade runs on, asked in one place."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL: rows are locked with FOR UPDATE and its own SQL is used.

    On SQLite there is nothing to lock: writers are serialised already (BEGIN IMMEDIATE and a write queue).
    """
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def rows_as(entity: type[T], statement: Any) -> Select[T]:
    """The rows an INSERT or UPDATE … RETURNING gives back, read into the session as `entity` (each row's first
    item). Built once, such a statement keeps its compiled SQL's cache key: the ORM's own INSERT or UPDATE of an
    entity with RETURNING is rebuilt, and its key derived again, on every execution."""
    return cast("Select[T]", select(entity).from_statement(statement))


@cache
def insert_or_nothing(model: type[T], *, postgres: bool, conflict_on: tuple[str, ...] | None = None) -> Select[T]:
    """INSERT of a `model` row, each column but the id bound by its name (`insert_values` gives them all), that does
    nothing when the row would break a unique index (`conflict_on`'s, or any), read back as the session's object
    (`rows_as`): no row when nothing was written. Built once per model and dialect."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    builder = pg_insert if postgres else sqlite_insert
    inserted = (
        builder(table)
        .values({c.name: bindparam(c.name) for c in table.columns if c.name != "id"})
        .on_conflict_do_nothing(index_elements=list(conflict_on) if conflict_on is not None else None)
        .returning(*table.columns)
    )
    return rows_as(model, inserted)


def insert_values(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """A new row's columns for a Core INSERT, the model's defaults filling in what is not given, built without
    validating them: every value given here is the app's own. About a sixth of what building the model and dumping
    it costs (18 µs against 119 for a kitchen ticket). Not for an object the session is to hold: it has no ORM state.
    """
    return model.model_construct(**values).model_dump(exclude={"id"})


async def insert_rows(
    session: AsyncSession, model: type[M], rows: list[dict[str, Any]], *, key: tuple[str, ...]
) -> list[M]:
    """Insert `rows` (see insert_values) in one statement and return them as the session's objects, ids included,
    in their order (the ORM would send one INSERT per row to learn each id). The `key` columns tell the rows apart:
    RETURNING comes back in no promised order, and asking for the rows' order costs one statement per row on
    SQLite."""
    if not rows:
        return []
    keys = [tuple(row[name] for name in key) for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"insert_rows: the rows of {model.__name__} are not told apart by {key}")
    result = await session.exec(_insert_returning(model), params=rows)
    written: dict[tuple[Any, ...], M] = {
        tuple(getattr(row, name) for name in key): row for row in result.scalars().all()
    }
    return [written[one] for one in keys]


@cache
def _insert_returning(model: type[SQLModel]) -> Any:
    """INSERT … RETURNING of `model`'s rows, built once per model; render_nulls: rows with a None in different
    places still go in one statement."""
    return insert(model).returning(model).execution_options(render_nulls=True)
