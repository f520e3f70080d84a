"""Revisions of the tables a service night reads all the time and a manager changes now and then (the menu, the
floor plan), so that a process can keep what it built from them until they change, without a statement to ask.

- Triggers on each watched table count every insert, update and delete into its subject's row of
  `cache_revision`, in the transaction that made the change. On PostgreSQL they run as the transaction commits
  (deferred), so that row is the last lock a writer takes and two writers cannot deadlock over it.
- A read that goes to the database anyway carries the subject's revision as one more column (`revision_of`).
- A `Kept` value is what one process built from those tables (rows, or the HTML drawn from them) under the
  revision read with them; a different revision builds it again. The revision is read before the tables, so
  what is kept under it is never older than it: a change made meanwhile bumps it past what was kept.

Nothing else has to remember to forget: a change made by any process, a migration or a script on the database
counts. `create_all` and the migrations install the same triggers (`trigger_ddl`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, event
from sqlmodel import Field, SQLModel, col, select

T = TypeVar("T")

_FUNCTION = "bump_cache_revision"


class CacheRevision(SQLModel, table=True):
    """How many times the tables of one subject have changed."""

    __tablename__ = "cache_revision"

    subject: str = Field(primary_key=True, max_length=40)
    revision: int = 0


def revision_of(subject: str) -> Any:
    """The subject's revision as a column of an enclosing read (NULL before its tables ever changed)."""
    return select(CacheRevision.revision).where(col(CacheRevision.subject) == subject).scalar_subquery().label(subject)


def trigger_ddl(dialect: str, subject: str, table: str) -> list[str]:
    """SQL that counts every change to `table` into `subject`'s revision (the migrations run the same text)."""
    bump = (
        "INSERT INTO cache_revision (subject, revision) VALUES ({subject}, 1) "
        "ON CONFLICT (subject) DO UPDATE SET revision = cache_revision.revision + 1"
    )
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_{action.lower()}_revision AFTER {action} ON {table} "
            f"BEGIN {bump.format(subject=_quoted(subject))}; END"
            for action in ("INSERT", "UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger AS $$ BEGIN "
            f"{bump.format(subject='TG_ARGV[0]')}; RETURN NULL; END; $$ LANGUAGE plpgsql",
            f"DROP TRIGGER IF EXISTS {table}_revision ON {table}",
            f"CREATE CONSTRAINT TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}({_quoted(subject)})",
        ]
    return []


def drop_trigger_ddl(dialect: str, table: str) -> list[str]:
    """SQL that removes what `trigger_ddl` installed on `table` (the shared PostgreSQL function stays)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_{action}_revision" for action in ("insert", "update", "delete")]
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_revision ON {table}"]
    return []


_WATCHED: dict[str, str] = {}


def watch(subject: str, tables: Iterable[Table]) -> None:
    """Count changes to `tables` into `subject`'s revision in every database built from the models."""
    for table in tables:
        _WATCHED[table.name] = subject
        event.listen(table, "after_create", _installer(subject, table.name))


def watched() -> dict[str, str]:
    """Each watched table's subject, by table name."""
    return dict(_WATCHED)


def _installer(subject: str, table: str) -> Callable[..., None]:
    def install(_target: Any, connection: Any, **_: Any) -> None:
        for statement in trigger_ddl(connection.dialect.name, subject, table):
            connection.exec_driver_sql(statement)

    return install


def _quoted(subject: str) -> str:
    if not subject.replace("_", "").isalnum():
        raise ValueError(f"a revision subject is a plain name, not {subject!r}")
    return f"'{subject}'"


@dataclass
class Kept(Generic[T]):
    """One value a process built from a subject's tables, and the revision it was built at."""

    revision: int | None = None
    value: T | None = None

    def at(self, revision: int | None) -> T | None:
        """The value if it was built at `revision`; None when the tables changed since (or never counted)."""
        if revision is None or revision != self.revision:
            return None
        return self.value

    def keep(self, revision: int | None, value: T) -> T:
        """Keep `value`, built from tables read after `revision` was; a subject never counted is not kept."""
        if revision is not None:
            self.revision, self.value = revision, value
        return value


def kept(store: dict[str, Any], name: str) -> Kept[Any]:
    """The `Kept` value called `name` in `store` (a database's own, so that two databases never share one)."""
    found = store.get(name)
    if found is None:
        found = store[name] = Kept()
    return found
