"""Tables of the accounting domain: accounts, journal entries and their lines, locked days.

Amounts are signed integer cents: a debit is positive, a credit negative, so every entry's lines sum
to exactly zero. Posted entries are never updated or deleted (a database trigger refuses it); a
mistake is corrected by a reversing entry that points at the original.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Date, Index, event
from sqlalchemy.orm import Session
from sqlmodel import JSON, Column, Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.lib.errors import Conflict


class AccountType(StrEnum):
    """The five kinds of account; assets and expenses normally carry debits, the rest credits."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def label(self) -> str:
        """The name an accountant reads."""
        return self.value.capitalize()

    @property
    def debit_normal(self) -> bool:
        """Whether a positive (debit) balance is the usual one."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)

    @property
    def root(self) -> str:
        """The top-level account name Beancount and hledger use for this type."""
        return _ROOTS[self]


_ROOTS: Final[dict[AccountType, str]] = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}


class Account(SQLModel, table=True):
    """An account in the chart: a code people and exports refer to, a type, an optional parent."""

    __tablename__ = "ledger_account"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    type: AccountType = Field(sa_type=str_enum(AccountType))
    parent_id: int | None = Field(default=None, foreign_key="ledger_account.id", index=True)
    description: str = Field(default="", max_length=300)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def label(self) -> str:
        """'4010 Food sales'."""
        return f"{self.code} {self.name}"


class JournalEntry(SQLModel, table=True):
    """A posted, balanced, immutable entry; `reverses_id` points at the entry it cancels."""

    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_source", "source_type", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(sa_type=Date, index=True)
    description: str = Field(max_length=200)
    source_type: str = Field(max_length=60)
    source_id: str = Field(max_length=80)
    idempotency_key: str = Field(max_length=200, unique=True)
    fingerprint: str = Field(max_length=64)
    reverses_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)
    reason: str | None = Field(default=None, max_length=200)
    actor_id: int | None = None
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JournalLine(SQLModel, table=True):
    """One line of an entry: an account and signed cents (debit positive, credit negative)."""

    __tablename__ = "journal_line"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    position: int = 0
    account_id: int = Field(foreign_key="ledger_account.id", index=True)
    amount_cents: int = Field(sa_type=BigInteger)
    memo: str = Field(default="", max_length=200)
    dimensions: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    @property
    def debit_cents(self) -> int:
        """The debit side of this line (0 for a credit)."""
        return max(self.amount_cents, 0)

    @property
    def credit_cents(self) -> int:
        """The credit side of this line, as a positive number (0 for a debit)."""
        return max(-self.amount_cents, 0)


class LockedDay(SQLModel, table=True):
    """A day whose books are closed: nothing more is posted on it."""

    __tablename__ = "ledger_locked_day"
    __table_args__ = (UniqueConstraint("day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: dt.date = Field(sa_type=Date)
    locked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = None
    reason: str | None = Field(default=None, max_length=200)


IMMUTABLE_TABLES: Final = ("journal_entry", "journal_line")


def immutability_ddl(dialect: str) -> list[str]:
    """SQL that makes posted entries and lines refuse UPDATE and DELETE (migrations run the same text)."""
    statements: list[str] = []
    if dialect == "sqlite":
        for table in IMMUTABLE_TABLES:
            for action in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'posted journal entries are immutable; post a reversal'); END"
                )
    elif dialect == "postgresql":
        statements.append(
            "CREATE OR REPLACE FUNCTION journal_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'posted journal entries are immutable; post a reversal'; END; $$ LANGUAGE plpgsql"
        )
        for table in IMMUTABLE_TABLES:
            statements.append(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            statements.append(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION journal_refuse_change()"
            )
    return statements


def _install_guard(target: Any, connection: Any, **_: Any) -> None:
    for statement in immutability_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


# Runs after journal_line exists (it is created after journal_entry, which it references).
event.listen(JournalLine.__table__, "after_create", _install_guard)  # type: ignore[attr-defined]


class ImmutableEntry(Conflict):
    """Something tried to change or delete a posted journal entry or line."""

    code = "immutable"


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_posted_entries(session: Session, _context: Any, _instances: Any) -> None:
    # The trigger is the last word; refusing here gives the caller a message instead of a driver error.
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, JournalEntry | JournalLine) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise ImmutableEntry("Posted journal entries cannot be changed or deleted; post a reversing entry instead.")
