"""Accounting commands: post balanced entries (the chart, reversals and locked days have rooms of their own).

Every command runs in the caller's write transaction and refuses bad input with a message a person
can act on; a refusal raises before anything is written, so the transaction has nothing to undo.
Posting is idempotent per key: the same source posted again returns the entry it already has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from sqlalchemy import bindparam, exists, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine, LockedDay
from app.lib.clock import utcnow
from app.lib.db import note_written
from app.lib.errors import Conflict, DomainError, InvalidInput
from app.lib.events import DomainEvent, emit
from app.lib.inputs import clean_text
from app.lib.sql import insert_or_nothing, is_postgres

CODE_PATTERN: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z.-]{0,19}")
DIMENSION_KEY: Final = re.compile(r"[a-z][a-z0-9_-]{0,39}")
DESCRIPTION_MAX: Final = 200
MEMO_MAX: Final = 200
NAME_MAX: Final = 80
REASON_MAX: Final = 200
DIMENSION_VALUE_MAX: Final = 80
LINES_MAX: Final = 500
# A single line above this is a typing slip (ten billion in major units), not a business event.
AMOUNT_MAX_CENTS: Final = 10**12
# Posting and locking one day serialise on this PostgreSQL advisory lock (second key: the day's ordinal).
_DAY_LOCK_NAMESPACE: Final = 7_140_001


class UnbalancedEntry(InvalidInput):
    """An entry whose lines do not sum to zero; nothing is posted."""

    code = "unbalanced"


class PeriodLocked(Conflict):
    """The entry's day is locked (its books are closed)."""

    code = "period_locked"


@dataclass(frozen=True)
class PostingLine:
    """One line to post: an account code and signed cents (debit positive, credit negative)."""

    account: str
    amount_cents: int
    memo: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryPosted(DomainEvent):
    """A balanced entry reached the journal (`reverses_id` set when it cancels another)."""

    name: ClassVar[str] = "accounting.entry_posted"
    entry_id: int
    source_type: str
    source_id: str
    reverses_id: int | None


# Shared checks ------------------------------------------------------------------------------------


def format_cents(cents: int) -> str:
    """Signed cents as a plain decimal amount: -1250 → '-12.50'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


async def _guard_day(session: AsyncSession, day: dt.date, *, exclusive: bool) -> None:
    """Order posting against locking on one day (PostgreSQL; SQLite writers are already serial)."""
    if not is_postgres(session):
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.exec(  # type: ignore[call-overload]
        text(f"SELECT {function}(:namespace, :day)").bindparams(namespace=_DAY_LOCK_NAMESPACE, day=day.toordinal())
    )


def _require_date(value: object, label: str = "Date") -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(f"{label} must be a calendar date.")
    return value


# Posting --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedLine:
    account: Account
    amount_cents: int
    memo: str
    dimensions: dict[str, str]


def _check_amount(value: object, position: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"Line {position}: the amount must be whole cents (an integer), not {type(value).__name__}.")
    if abs(value) > AMOUNT_MAX_CENTS:
        raise InvalidInput(f"Line {position}: the amount {format_cents(value)} is beyond any real posting.")
    return value


def _check_dimensions(raw: Mapping[str, str], position: int) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"Line {position}: dimensions must be name → value pairs.")
    checked: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not DIMENSION_KEY.fullmatch(key):
            raise InvalidInput(
                f"Line {position}: dimension name {key!r} must be lower-case letters, digits, '-' or '_'."
            )
        checked[key] = clean_text(value, label=f"Line {position} dimension {key}", max_length=DIMENSION_VALUE_MAX)
    return checked


# Read by every posting: built once (a statement built per call costs more CPU than its execution).
_ACCOUNTS_BY_CODE = select(Account).where(col(Account.code).in_(bindparam("codes", expanding=True)))
_LOCKED_FROM = select(col(LockedDay.day)).where(col(LockedDay.day) >= bindparam("day")).order_by(col(LockedDay.day))


async def _check_lines(
    session: AsyncSession, lines: Sequence[PostingLine], *, allow_archived: bool
) -> list[_CheckedLine]:
    prepared = _prepare_lines(lines)
    codes = sorted({code for code, _, _, _ in prepared})
    accounts = {a.code: a for a in (await session.exec(_ACCOUNTS_BY_CODE, params={"codes": codes})).all()}
    return _resolve_lines(prepared, accounts, allow_archived=allow_archived)


_PreparedLine = tuple[str, int, str, dict[str, str]]


def _prepare_lines(lines: Sequence[PostingLine]) -> list[_PreparedLine]:
    """The lines checked for shape and balance, zero lines dropped; accounts are looked up after."""
    if isinstance(lines, str | bytes) or not isinstance(lines, Sequence):
        raise InvalidInput("An entry needs a list of lines.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"An entry has at most {LINES_MAX} lines.")
    prepared: list[_PreparedLine] = []
    for position, line in enumerate(lines, start=1):
        if not isinstance(line, PostingLine):
            raise InvalidInput(f"Line {position} is not a posting line.")
        amount = _check_amount(line.amount_cents, position)
        if amount == 0:
            # A zero line moves nothing; rules that compute one (a 0 % tax) need not filter it.
            continue
        code = clean_text(line.account, label=f"Line {position} account", max_length=20)
        memo = clean_text(line.memo, label=f"Line {position} memo", max_length=MEMO_MAX, required=False)
        prepared.append((code, amount, memo, _check_dimensions(line.dimensions, position)))
    if len(prepared) < 2:
        raise UnbalancedEntry("An entry needs at least two lines that move money (a debit and a credit).")
    total = sum(amount for _, amount, _, _ in prepared)
    if total != 0:
        debits = sum(amount for _, amount, _, _ in prepared if amount > 0)
        credits = -sum(amount for _, amount, _, _ in prepared if amount < 0)
        raise UnbalancedEntry(
            f"The entry does not balance: debits {format_cents(debits)}, credits {format_cents(credits)} "
            f"(off by {format_cents(total)}). Nothing was posted.",
            detail={"difference_cents": total},
        )
    return prepared


def _resolve_lines(
    prepared: Sequence[_PreparedLine], accounts: Mapping[str, Account], *, allow_archived: bool
) -> list[_CheckedLine]:
    checked: list[_CheckedLine] = []
    for code, amount, memo, dimensions in prepared:
        account = accounts.get(code)
        if account is None:
            raise InvalidInput(f"Account {code} is not in the chart of accounts. Nothing was posted.")
        if account.archived_at is not None and not allow_archived:
            raise Conflict(f"Account {account.label} is archived; restore it or post to another account.")
        checked.append(_CheckedLine(account, amount, memo, dimensions))
    return checked


def _fingerprint(
    day: dt.date, description: str, source_type: str, source_id: str, lines: Sequence[_CheckedLine]
) -> str:
    canonical = json.dumps(
        {
            "date": day.isoformat(),
            "description": description,
            "source": [source_type, source_id],
            "lines": [[line.account.code, line.amount_cents, line.memo, line.dimensions] for line in lines],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def entry_by_key(session: AsyncSession, idempotency_key: str) -> JournalEntry | None:
    """The entry posted under this idempotency key, if any."""
    return (await session.exec(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))).first()


def _same_or_refuse(existing: JournalEntry, fingerprint: str) -> JournalEntry:
    if existing.fingerprint != fingerprint:
        raise Conflict(
            f"{existing.source_type} {existing.source_id} was already posted as entry #{existing.id} with "
            "different lines; reverse that entry and post the correction under a new key.",
            detail={"entry_id": existing.id},
        )
    return existing


async def is_day_locked(session: AsyncSession, day: dt.date) -> bool:
    """Whether the books for `day` are closed."""
    return (await session.exec(select(LockedDay.id).where(LockedDay.day == day))).first() is not None


async def next_open_day(session: AsyncSession, day: dt.date) -> dt.date:
    """`day` itself if it is open, else the first later day that is not locked."""
    locked = set((await session.exec(_LOCKED_FROM, params={"day": day})).all())
    while day in locked:
        day += dt.timedelta(days=1)
    return day


async def post_entry(
    session: AsyncSession,
    *,
    date: dt.date,
    description: str,
    lines: Sequence[PostingLine],
    source_type: str,
    source_id: str | int,
    idempotency_key: str | None = None,
    actor_id: int | None = None,
) -> JournalEntry:
    """Post a balanced entry once per idempotency key (default: `source_type:source_id`).

    Refused, with nothing written, when the lines do not sum to zero, name an unknown or archived
    account, or the day is locked. Posting the same key again returns the entry already posted;
    the same key with different lines is refused.
    """
    return await _post(
        session,
        day=_require_date(date),
        description=clean_text(description, label="Description", max_length=DESCRIPTION_MAX),
        lines=lines,
        source_type=clean_text(source_type, label="Source type", max_length=60),
        source_id=clean_text(source_id, label="Source id", max_length=80),
        key=clean_text(idempotency_key or f"{source_type}:{source_id}", label="Idempotency key", max_length=200),
        actor_id=actor_id,
        reverses=None,
        reason=None,
    )


_KEY_AND_LOCK = select(
    select(JournalEntry.id).where(col(JournalEntry.idempotency_key) == bindparam("entry_key")).scalar_subquery(),
    exists().where(col(LockedDay.day) == bindparam("locked_day")),
)
_LINES_INSERT = JournalLine.__table__.insert()  # type: ignore[attr-defined]


async def _post(
    session: AsyncSession,
    *,
    day: dt.date,
    description: str,
    lines: Sequence[PostingLine],
    source_type: str,
    source_id: str,
    key: str,
    actor_id: int | None,
    reverses: JournalEntry | None,
    reason: str | None,
) -> JournalEntry:
    checked = await _check_lines(session, lines, allow_archived=reverses is not None)
    fingerprint = _fingerprint(day, description, source_type, source_id, checked)
    # The entry already posted under the key, and whether the day is locked, in one read (on PostgreSQL after the
    # day's shared lock, so a day cannot be locked between the read and the insert).
    await _guard_day(session, day, exclusive=False)
    existing_id, locked = (await session.exec(_KEY_AND_LOCK, params={"entry_key": key, "locked_day": day})).one()
    if existing_id is not None:
        existing = await session.get(JournalEntry, existing_id)
        assert existing is not None
        return _same_or_refuse(existing, fingerprint)
    if locked:
        raise PeriodLocked(
            f"The books for {day.isoformat()} are locked; post on an open day instead. Nothing was posted.",
            detail={"date": day.isoformat()},
        )
    # A concurrent twin with the same key (or reversing the same entry) wins on the unique index: the insert then
    # writes nothing and this answers with the twin, without a savepoint to roll back to.
    values = {
        "date": day,
        "description": description,
        "source_type": source_type,
        "source_id": source_id,
        "idempotency_key": key,
        "fingerprint": fingerprint,
        "reverses_id": reverses.id if reverses is not None else None,
        "reason": reason,
        "actor_id": actor_id,
        "posted_at": utcnow(),
    }
    inserted = await session.exec(insert_or_nothing(JournalEntry, postgres=is_postgres(session)), params=values)
    row = inserted.first()
    entry: JournalEntry | None = row[0] if row is not None else None
    if entry is not None:
        note_written(session, entry)
    if entry is None:
        twin = await entry_by_key(session, key)
        if twin is None:
            if reverses is not None:
                raise Conflict(f"Entry #{reverses.id} has already been reversed.") from None
            raise Conflict(f"Entry {key} could not be posted: another entry holds its place. Nothing was posted.")
        return _same_or_refuse(twin, fingerprint)
    # Every line in one statement, compiled once and sent with its rows.
    await session.exec(
        _LINES_INSERT,
        params=[
            {
                "entry_id": entry.id or 0,
                "position": position,
                "account_id": line.account.id or 0,
                "amount_cents": line.amount_cents,
                "memo": line.memo,
                "dimensions": line.dimensions,
            }
            for position, line in enumerate(checked)
        ],
    )
    await emit(
        session,
        EntryPosted(
            entry_id=entry.id or 0,
            source_type=source_type,
            source_id=source_id,
            reverses_id=entry.reverses_id,
        ),
    )
    return entry


@dataclass(frozen=True)
class EntryToPost:
    """One entry for `post_entries`: what `post_entry` takes, as data."""

    date: dt.date
    description: str
    lines: Sequence[PostingLine]
    source_type: str
    source_id: str | int
    idempotency_key: str | None = None


@dataclass(frozen=True)
class _Ready:
    day: dt.date
    description: str
    source_type: str
    source_id: str
    key: str
    fingerprint: str
    lines: list[_CheckedLine]


async def post_entries(session: AsyncSession, entries: Sequence[EntryToPost]) -> list[int | DomainError]:
    """Post many entries at once, each exactly as `post_entry` would: the posted entry's id, or its refusal.

    The chart, the keys already posted and the locked days are read once for them all, and the entries and
    their lines are written in one statement each. An entry that is refused (unbalanced, an unknown or
    archived account, a locked day, its key already posted with other lines) writes nothing and leaves the
    others to post; an entry whose key is already posted with the same lines answers with that entry.
    """
    results: list[int | DomainError | None] = [None] * len(entries)
    prepared: dict[int, tuple[dt.date, str, str, str, str, list[_PreparedLine]]] = {}
    for index, spec in enumerate(entries):
        try:
            description = clean_text(spec.description, label="Description", max_length=DESCRIPTION_MAX)
            source_type = clean_text(spec.source_type, label="Source type", max_length=60)
            source_id = clean_text(spec.source_id, label="Source id", max_length=80)
            key = clean_text(
                spec.idempotency_key or f"{spec.source_type}:{spec.source_id}", label="Idempotency key", max_length=200
            )
            prepared[index] = (
                _require_date(spec.date),
                description,
                source_type,
                source_id,
                key,
                _prepare_lines(spec.lines),
            )
        except DomainError as error:
            results[index] = error
    codes = sorted({line[0] for *_, lines in prepared.values() for line in lines})
    accounts = (
        {a.code: a for a in (await session.exec(select(Account).where(col(Account.code).in_(codes)))).all()}
        if codes
        else {}
    )
    ready: dict[int, _Ready] = {}
    for index, (day, description, source_type, source_id, key, lines) in prepared.items():
        try:
            checked = _resolve_lines(lines, accounts, allow_archived=False)
        except DomainError as error:
            results[index] = error
            continue
        fingerprint = _fingerprint(day, description, source_type, source_id, checked)
        ready[index] = _Ready(day, description, source_type, source_id, key, fingerprint, checked)
    # A key posted before answers with its entry (or a refusal, when the lines differ); within the run, the first
    # entry of a key posts and a later one is compared with it.
    keys = sorted({r.key for r in ready.values()})
    posted = (
        {
            e.idempotency_key: e
            for e in (await session.exec(select(JournalEntry).where(col(JournalEntry.idempotency_key).in_(keys)))).all()
        }
        if keys
        else {}
    )
    fresh: dict[str, int] = {}
    firsts: dict[str, int] = {}
    repeats: list[int] = []
    for index, entry in ready.items():
        if entry.key in posted:
            results[index] = _answer(posted[entry.key], entry.fingerprint)
        elif entry.key in fresh:
            repeats.append(index)
        else:
            fresh[entry.key] = firsts[entry.key] = index
    days = sorted({ready[index].day for index in fresh.values()})
    for day in days:
        await _guard_day(session, day, exclusive=False)
    locked = (
        set((await session.exec(select(col(LockedDay.day)).where(col(LockedDay.day).in_(days)))).all())
        if days
        else set()
    )
    for key, index in list(fresh.items()):
        day = ready[index].day
        if day in locked:
            results[index] = PeriodLocked(
                f"The books for {day.isoformat()} are locked; post on an open day instead. Nothing was posted.",
                detail={"date": day.isoformat()},
            )
            del fresh[key]
    inserted: dict[str, int] = {}
    twins: dict[str, JournalEntry] = {}
    if fresh:
        now = utcnow()
        rows = [
            {
                "date": ready[index].day,
                "description": ready[index].description,
                "source_type": ready[index].source_type,
                "source_id": ready[index].source_id,
                "idempotency_key": key,
                "fingerprint": ready[index].fingerprint,
                "reverses_id": None,
                "reason": None,
                "actor_id": None,
                "posted_at": now,
            }
            for key, index in fresh.items()
        ]
        table = JournalEntry.__table__  # type: ignore[attr-defined]
        builder = postgresql.insert if is_postgres(session) else sqlite.insert
        # A concurrent twin with the same key wins on the unique index; this run then answers with its entry.
        # Compiled once and sent with every row, rather than compiled anew for each count of rows.
        statement = builder(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
        returned = (await session.exec(statement.returning(table.c.id, table.c.idempotency_key), params=rows)).all()
        inserted = {str(key): int(entry_id) for entry_id, key in returned}
        lines_table = JournalLine.__table__  # type: ignore[attr-defined]
        line_rows = [
            {
                "entry_id": inserted[key],
                "position": position,
                "account_id": line.account.id,
                "amount_cents": line.amount_cents,
                "memo": line.memo,
                "dimensions": line.dimensions,
            }
            for key, index in fresh.items()
            if key in inserted
            for position, line in enumerate(ready[index].lines)
        ]
        if line_rows:
            await session.exec(lines_table.insert(), params=line_rows)
        twins_keys = [key for key in fresh if key not in inserted]
        twins = (
            {
                e.idempotency_key: e
                for e in (
                    await session.exec(select(JournalEntry).where(col(JournalEntry.idempotency_key).in_(twins_keys)))
                ).all()
            }
            if twins_keys
            else {}
        )
        for key, index in fresh.items():
            if key in inserted:
                results[index] = inserted[key]
                entry = ready[index]
                await emit(
                    session,
                    EntryPosted(
                        entry_id=inserted[key],
                        source_type=entry.source_type,
                        source_id=entry.source_id,
                        reverses_id=None,
                    ),
                )
            elif key in twins:
                results[index] = _answer(twins[key], ready[index].fingerprint)
            else:
                raise RuntimeError(f"entry {key} was neither posted nor found")
    for index in repeats:
        entry = ready[index]
        if entry.key in inserted:
            results[index] = _answer_first(inserted[entry.key], ready[firsts[entry.key]], entry)
        elif entry.key in twins:
            results[index] = _answer(twins[entry.key], entry.fingerprint)
        else:
            # The first entry of this key was refused for its day; this one is, for the same reason.
            results[index] = results[firsts[entry.key]]
    answered: list[int | DomainError] = []
    for outcome in results:
        if outcome is None:
            raise RuntimeError("an entry of the run was neither posted nor refused")
        answered.append(outcome)
    return answered


def _answer_first(entry_id: int, first: _Ready, entry: _Ready) -> int | DomainError:
    """A later entry of a key posted earlier in the same run: the same entry, or a refusal if its lines differ."""
    if first.fingerprint == entry.fingerprint:
        return entry_id
    return Conflict(
        f"{first.source_type} {first.source_id} was already posted as entry #{entry_id} with "
        "different lines; reverse that entry and post the correction under a new key.",
        detail={"entry_id": entry_id},
    )


def _answer(existing: JournalEntry, fingerprint: str) -> int | DomainError:
    try:
        return _same_or_refuse(existing, fingerprint).id or 0
    except DomainError as error:
        return error


async def entry_lines(session: AsyncSession, entry_id: int) -> list[JournalLine]:
    """An entry's lines in the order they were posted."""
    return list(
        (
            await session.exec(
                select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(col(JournalLine.position))
            )
        ).all()
    )
