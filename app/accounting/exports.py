"""The books for any date range as CSV, as a Beancount file and as an hledger journal.

The Beancount and hledger files are self-checking: they open every account they use, carry the
balances from before the range as one opening entry, and end with balance assertions equal to the
trial balance on the last day, so `bean-check` and `hledger check --strict` verify our arithmetic too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, AccountType
from app.accounting.queries import ExportEntry, accounts, balances, entries_between
from app.accounting.services import format_cents
from app.lib.errors import InvalidInput

ExportFormat = Literal["csv", "beancount", "hledger"]
FORMATS: Final[tuple[ExportFormat, ...]] = ("csv", "beancount", "hledger")
MAX_RANGE_DAYS: Final = 3700
CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "beancount": "text/plain; charset=utf-8",
    "hledger": "text/plain; charset=utf-8",
}
EXTENSIONS: Final[dict[str, str]] = {"csv": "csv", "beancount": "beancount", "hledger": "journal"}
CSV_COLUMNS: Final = [
    "date",
    "entry_id",
    "description",
    "source_type",
    "source_id",
    "reverses_entry_id",
    "line",
    "account_code",
    "account_name",
    "account_type",
    "debit",
    "credit",
    "amount",
    "currency",
    "memo",
    "dimensions",
]
_CURRENCY: Final = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")
_HLEDGER_TYPES: Final[dict[AccountType, str]] = {
    AccountType.ASSET: "A",
    AccountType.LIABILITY: "L",
    AccountType.EQUITY: "E",
    AccountType.INCOME: "R",
    AccountType.EXPENSE: "X",
}


def check_range(start: dt.date, end: dt.date) -> None:
    """Refuse a range that ends before it starts or spans more than ten years."""
    if end < start:
        raise InvalidInput(f"The range ends ({end.isoformat()}) before it starts ({start.isoformat()}).")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput("Export at most ten years at a time.")


def filename(start: dt.date, end: dt.date, fmt: ExportFormat) -> str:
    """A download name such as 'ledger-2025-03-01-to-2025-03-31.beancount'."""
    return f"ledger-{start.isoformat()}-to-{end.isoformat()}.{EXTENSIONS[fmt]}"


async def export_ledger(
    session: AsyncSession,
    *,
    start: dt.date,
    end: dt.date,
    fmt: str,
    currency: str = "EUR",
    title: str = "Books",
    only: Any = None,
) -> str:
    """The entries dated `start`..`end` (inclusive) in the chosen format (of `only`, a query of entry ids)."""
    check_range(start, end)
    if fmt not in FORMATS:
        raise InvalidInput(f"Export format must be one of {', '.join(FORMATS)}.")
    if not _CURRENCY.fullmatch(currency):
        raise InvalidInput(f"{currency!r} is not a currency code such as EUR.")
    entries = await entries_between(session, start, end, only=only)
    if fmt == "csv":
        return _csv(entries, currency)
    books = await _Books.load(session, start, end, entries, only=only)
    if fmt == "beancount":
        return _beancount(books, entries, currency, title)
    return _hledger(books, entries, currency, title)


# CSV --------------------------------------------------------------------------------------------------


def _cell(value: str) -> str:
    # Spreadsheets run text that starts like a formula; a leading quote keeps it text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(entries: list[ExportEntry], currency: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in entries:
        entry = item.entry
        for position, view in enumerate(item.lines, start=1):
            line, account = view.line, view.account
            writer.writerow(
                [
                    entry.date.isoformat(),
                    entry.id,
                    _cell(entry.description),
                    _cell(entry.source_type),
                    _cell(entry.source_id),
                    entry.reverses_id or "",
                    position,
                    _cell(account.code),
                    _cell(account.name),
                    account.type.value,
                    format_cents(line.debit_cents) if line.amount_cents > 0 else "",
                    format_cents(line.credit_cents) if line.amount_cents < 0 else "",
                    format_cents(line.amount_cents),
                    currency,
                    _cell(line.memo),
                    json.dumps(line.dimensions, sort_keys=True, ensure_ascii=False) if line.dimensions else "",
                ]
            )
    return out.getvalue()


# Plain-text ledgers -----------------------------------------------------------------------------------


def _component(account: Account) -> str:
    text = unicodedata.normalize("NFKD", f"{account.code} {account.name}").encode("ascii", "ignore").decode()
    component = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "Account"
    return component[0].upper() + component[1:]


@dataclass
class _Books:
    """The accounts a ledger file opens, their names, and the balances it starts and ends with."""

    start: dt.date
    end: dt.date
    names: dict[int, str]
    types: dict[int, AccountType]
    opened: list[int]
    opening: dict[int, int]
    closing_subtree: dict[int, int]

    @classmethod
    async def load(
        cls, session: AsyncSession, start: dt.date, end: dt.date, entries: list[ExportEntry], *, only: Any = None
    ) -> _Books:
        chart = {a.id or 0: a for a in await accounts(session)}
        opening = {k: v for k, v in (await balances(session, before=start, only=only)).items() if v}
        closing = await balances(session, as_of=end, only=only)

        names: dict[int, str] = {}

        def name(account_id: int) -> str:
            if account_id not in names:
                account = chart[account_id]
                parent = parent_of(account_id)
                # A parent of another type would put the account under the wrong root; names stay flat then.
                if parent is not None:
                    names[account_id] = f"{name(parent)}:{_component(account)}"
                else:
                    names[account_id] = f"{account.type.root}:{_component(account)}"
            return names[account_id]

        def parent_of(account_id: int) -> int | None:
            parent = chart[account_id].parent_id
            return parent if parent in chart and chart[parent].type == chart[account_id].type else None

        used = set(opening) | {view.account.id or 0 for item in entries for view in item.lines}
        opened: set[int] = set()
        for account_id in used:
            current: int | None = account_id
            while current is not None and current not in opened:
                opened.add(current)
                current = parent_of(current)
        for account_id in opened:
            name(account_id)
        subtree: dict[int, int] = dict.fromkeys(opened, 0)
        for account_id, amount in closing.items():
            # Both tools assert a parent's balance including its sub-accounts.
            current = account_id if account_id in opened else None
            while current is not None:
                subtree[current] += amount
                current = parent_of(current)
        ordered = sorted(opened, key=lambda account_id: names[account_id])
        return cls(
            start=start,
            end=end,
            names=names,
            types={account_id: chart[account_id].type for account_id in opened},
            opened=ordered,
            opening=opening,
            closing_subtree=subtree,
        )


def _amount(cents: int, currency: str) -> str:
    return f"{format_cents(cents)} {currency}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _meta_key(key: str) -> str:
    return "dim-memo" if key == "memo" else key


def _beancount(books: _Books, entries: list[ExportEntry], currency: str, title: str) -> str:
    out: list[str] = [
        f"; {title}: journal entries {books.start.isoformat()} to {books.end.isoformat()}",
        f"option {_quoted('title')} {_quoted(title)}",
        f"option {_quoted('operating_currency')} {_quoted(currency)}",
        "",
        f"{books.start.isoformat()} commodity {currency}",
    ]
    out += [f"{books.start.isoformat()} open {books.names[a]} {currency}" for a in books.opened]
    out.append("")
    if books.opening:
        out.append(f"{books.start.isoformat()} * {_quoted('Opening balances')}")
        for account_id in sorted(books.opening, key=lambda a: books.names[a]):
            out.append(f"  {books.names[account_id]}  {_amount(books.opening[account_id], currency)}")
        out.append("")
    for item in entries:
        entry = item.entry
        links = f" ^je-{entry.id}" + (f" ^je-{entry.reverses_id}" if entry.reverses_id else "")
        out.append(f"{entry.date.isoformat()} * {_quoted(entry.description)}{links}")
        out.append(f"  entry-id: {_quoted(str(entry.id))}")
        out.append(f"  source: {_quoted(f'{entry.source_type}:{entry.source_id}')}")
        if entry.reason:
            out.append(f"  reason: {_quoted(entry.reason)}")
        for view in item.lines:
            line = view.line
            out.append(f"  {books.names[view.account.id or 0]}  {_amount(line.amount_cents, currency)}")
            if line.memo:
                out.append(f"    memo: {_quoted(line.memo)}")
            for key, value in sorted(line.dimensions.items()):
                out.append(f"    {_meta_key(key)}: {_quoted(value)}")
        out.append("")
    check_day = (books.end + dt.timedelta(days=1)).isoformat()
    out.append(f"; Balances at the end of {books.end.isoformat()}, as the trial balance shows them")
    out += [
        f"{check_day} balance {books.names[a]}  {_amount(books.closing_subtree[a], currency)}" for a in books.opened
    ]
    return "\n".join(out) + "\n"


def _hledger_text(text: str) -> str:
    # ';' starts a comment and ',' ends a tag value in hledger.
    return text.replace(";", ",")


def _hledger_tags(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{key}: {value.replace(',', ' ').replace(';', ' ')}" for key, value in pairs)


def _hledger(books: _Books, entries: list[ExportEntry], currency: str, title: str) -> str:
    out: list[str] = [
        f"; {title}: journal entries {books.start.isoformat()} to {books.end.isoformat()}",
        "",
        f"commodity 1000.00 {currency}",
        "",
    ]
    out += [f"account {books.names[a]}  ; type: {_HLEDGER_TYPES[books.types[a]]}" for a in books.opened]
    out.append("")
    if books.opening:
        out.append(f"{books.start.isoformat()} * Opening balances")
        for account_id in sorted(books.opening, key=lambda a: books.names[a]):
            out.append(f"    {books.names[account_id]}  {_amount(books.opening[account_id], currency)}")
        out.append("")
    for item in entries:
        entry = item.entry
        tags = [("entry-id", str(entry.id)), ("source", f"{entry.source_type}:{entry.source_id}")]
        if entry.reverses_id:
            tags.append(("reverses", str(entry.reverses_id)))
        out.append(f"{entry.date.isoformat()} * {_hledger_text(entry.description)}  ; {_hledger_tags(tags)}")
        for view in item.lines:
            line = view.line
            posting = f"    {books.names[view.account.id or 0]}  {_amount(line.amount_cents, currency)}"
            notes = [_hledger_text(line.memo)] if line.memo else []
            if line.dimensions:
                notes.append(_hledger_tags(sorted(line.dimensions.items())))
            out.append(posting + (f"  ; {', '.join(notes)}" if notes else ""))
        out.append("")
    out.append(f"{books.end.isoformat()} Balances at the end of the day, as the trial balance shows them")
    out += [
        f"    {books.names[a]}  0 {currency} =* {_amount(books.closing_subtree[a], currency)}" for a in books.opened
    ]
    return "\n".join(out) + "\n"
