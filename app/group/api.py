"""Head office's JSON API under /api/v1: the group's closed checks, journal entries and stock moves, across venues.

The same reads as a venue's API, as the venues sent them, each with the `venue` it came from. Paging is by an
opaque change cursor: the position of the record in head office's ingest order. It only moves forward, so an
outside ERP can follow the whole group from one place, asking again with `after=next_cursor`, and never miss or
re-read a record, even while batches arrive between its pages.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Final

import msgspec
from litestar import get
from litestar.params import QueryParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.controllers import PREFIX, READ, Limit
from app.group.models import Venue, VenueRecord
from app.lib import web
from app.lib.errors import DomainError
from app.sync.capture import CHECK_CLOSED, JOURNAL_ENTRY, STOCK_MOVE

_CURSOR_PREFIX: Final = "ho1:"
CURSOR_HELP: Final = (
    "An opaque change cursor: pass the `next_cursor` of the page before to get the records head office took in "
    "after it. It follows head office's ingest order, which only moves forward, so following it from the start "
    "reads every record of every venue exactly once, however batches arrive between pages. Leave it out to start "
    "at the beginning."
)
VenueParam = Annotated[
    str | None,
    QueryParameter(max_length=20, description="Only this venue's records (its code, say NORTH)."),
]


class BadQuery(DomainError):
    """A filter or cursor the API cannot use: a 400 that says what to send instead."""

    status_code = 400
    code = "bad_query"


AfterCursor = Annotated[str | None, QueryParameter(max_length=60, description=CURSOR_HELP)]


class GroupModifierOut(msgspec.Struct):
    """A modifier chosen on a line."""

    modifier_id: int
    name: str
    price_delta_cents: int


class GroupCheckLineOut(msgspec.Struct):
    """A line as it was rung in at the venue (name, price and tax rate as they were then)."""

    id: int
    sku: str
    name: str
    category_id: int
    quantity_num: int
    quantity_den: int
    unit_price_cents: int
    modifiers_cents: int
    tax_rate_bp: int
    seat: int | None
    course: str
    state: str
    modifiers: list[GroupModifierOut]


class GroupPaymentOut(msgspec.Struct):
    """A payment: amount toward the check, tip, and the card's brand (never its number)."""

    id: int
    tender_id: int
    amount_cents: int
    tip_cents: int
    change_cents: int
    refunded_cents: int
    card_brand: str | None
    taken_at: dt.datetime | None


class GroupCheckOut(msgspec.Struct):
    """A check as a venue closed it: `id` and `number` are the venue's own, `venue` says which venue."""

    venue: str
    cursor: str
    id: int
    number: int
    kind: str
    status: str
    tab_name: str | None
    covers: int
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    total_cents: int
    paid_cents: int
    tips_cents: int
    lines: list[GroupCheckLineOut]
    payments: list[GroupPaymentOut]


class GroupCheckPage(msgspec.Struct):
    """A page of closed checks; ask again with `after=next_cursor` for what came after (it is never null)."""

    items: list[GroupCheckOut]
    next_cursor: str
    has_more: bool


class GroupJournalLineOut(msgspec.Struct):
    """One line of an entry: the venue's account code and signed cents (debit positive)."""

    account_code: str
    amount_cents: int
    memo: str
    dimensions: dict[str, str]


class GroupJournalEntryOut(msgspec.Struct):
    """A venue's posted, balanced entry; `id` and `reverses_id` are the venue's own."""

    venue: str
    cursor: str
    id: int
    date: dt.date | None
    description: str
    source_type: str
    source_id: str
    reverses_id: int | None
    posted_at: dt.datetime | None
    lines: list[GroupJournalLineOut]


class GroupJournalPage(msgspec.Struct):
    """A page of journal entries; ask again with `after=next_cursor` (never null)."""

    items: list[GroupJournalEntryOut]
    next_cursor: str
    has_more: bool


class GroupStockMoveOut(msgspec.Struct):
    """A venue's stock move: quantities in thousandths of the item's unit, value in cents; ids are the venue's."""

    venue: str
    cursor: str
    id: int
    operation_id: int
    kind: str
    stock_item_id: int
    location: str | None
    quantity_milli: int
    value_cents: int
    created_at: dt.datetime | None


class GroupStockMovePage(msgspec.Struct):
    """A page of stock moves; ask again with `after=next_cursor` (never null)."""

    items: list[GroupStockMoveOut]
    next_cursor: str
    has_more: bool


def encode_cursor(record_id: int) -> str:
    """The cursor after one record (opaque to clients)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{record_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int:
    """The ingest position a cursor stands for, or a refusal a client can act on."""
    if raw is None or not raw.strip():
        return 0
    text = raw.strip()
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    number = decoded.removeprefix(_CURSOR_PREFIX)
    if not decoded.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise BadQuery(
            "This cursor is not one head office gave: pass a next_cursor exactly as received, or leave it out "
            "to start at the beginning."
        )
    return int(number)


async def _venue_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None or not code.strip():
        return None
    wanted = code.strip().upper()
    found = (await session.exec(select(Venue.id).where(Venue.code == wanted))).first()
    if found is None:
        known = (await session.exec(select(Venue.code).order_by(col(Venue.code)))).all()
        listed = ", ".join(known) if known else "none yet"
        raise BadQuery(f"The group has no venue {wanted[:20]!r}; its venues are: {listed}.")
    return found


async def _records(
    session: AsyncSession, *, kind: str, venue: str | None, after: str | None, limit: int
) -> tuple[list[tuple[VenueRecord, str]], str, bool]:
    position = decode_cursor(after)
    venue_id = await _venue_id(session, venue)
    query = (
        select(VenueRecord, Venue.code)
        .join(Venue, col(Venue.id) == col(VenueRecord.venue_id))
        .where(VenueRecord.kind == kind, col(VenueRecord.id) > position)
    )
    if venue_id is not None:
        query = query.where(VenueRecord.venue_id == venue_id)
    found = (await session.exec(query.order_by(col(VenueRecord.id)).limit(limit + 1))).all()
    rows = [(record, code) for record, code in found]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0].id or 0 if rows else position
    return rows, encode_cursor(last), more


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def check_out(venue: str, record: VenueRecord) -> GroupCheckOut:
    """A closed check from the record its venue sent."""
    payload = record.payload
    check = _obj(payload.get("check"))
    closing = _obj(payload.get("closing"))
    modifiers: dict[int, list[GroupModifierOut]] = {}
    for m in _rows(payload.get("modifiers")):
        modifiers.setdefault(_int(m.get("line_id")), []).append(
            GroupModifierOut(_int(m.get("modifier_id")), _text(m.get("name")), _int(m.get("price_delta_cents")))
        )
    return GroupCheckOut(
        venue=venue,
        cursor=encode_cursor(record.id or 0),
        id=_int(check.get("id"), _int(closing.get("check_id"))),
        number=_int(check.get("number")),
        kind=_text(check.get("kind")),
        status=_text(check.get("status")),
        tab_name=check.get("tab_name") if isinstance(check.get("tab_name"), str) else None,
        covers=_int(check.get("covers")),
        opened_at=_when(check.get("opened_at")),
        closed_at=_when(closing.get("closed_at")) or _when(check.get("closed_at")),
        total_cents=_int(closing.get("total_cents")),
        paid_cents=_int(closing.get("paid_cents")),
        tips_cents=_int(closing.get("tips_cents")),
        lines=[
            GroupCheckLineOut(
                id=_int(line.get("id")),
                sku=_text(line.get("sku")),
                name=_text(line.get("name")),
                category_id=_int(line.get("category_id")),
                quantity_num=_int(line.get("quantity_num"), 1),
                quantity_den=_int(line.get("quantity_den"), 1),
                unit_price_cents=_int(line.get("unit_price_cents")),
                modifiers_cents=_int(line.get("modifiers_cents")),
                tax_rate_bp=_int(line.get("tax_rate_bp")),
                seat=line.get("seat") if isinstance(line.get("seat"), int) else None,
                course=_text(line.get("course")),
                state=_text(line.get("state")),
                modifiers=modifiers.get(_int(line.get("id")), []),
            )
            for line in _rows(payload.get("lines"))
        ],
        payments=[
            GroupPaymentOut(
                id=_int(p.get("id")),
                tender_id=_int(p.get("tender_id")),
                amount_cents=_int(p.get("amount_cents")),
                tip_cents=_int(p.get("tip_cents")),
                change_cents=_int(p.get("change_cents")),
                refunded_cents=_int(p.get("refunded_cents")),
                card_brand=p.get("card_brand") if isinstance(p.get("card_brand"), str) else None,
                taken_at=_when(p.get("taken_at")),
            )
            for p in _rows(payload.get("payments"))
        ],
    )


def entry_out(venue: str, record: VenueRecord) -> GroupJournalEntryOut:
    """A journal entry from the record its venue sent, its lines naming the venue's account codes."""
    payload = record.payload
    entry = _obj(payload.get("entry"))
    codes = _obj(payload.get("accounts"))
    lines = sorted(_rows(payload.get("lines")), key=lambda line: _int(line.get("position")))
    return GroupJournalEntryOut(
        venue=venue,
        cursor=encode_cursor(record.id or 0),
        id=_int(entry.get("id")),
        date=_date(entry.get("date")),
        description=_text(entry.get("description")),
        source_type=_text(entry.get("source_type")),
        source_id=_text(entry.get("source_id")),
        reverses_id=entry.get("reverses_id") if isinstance(entry.get("reverses_id"), int) else None,
        posted_at=_when(entry.get("posted_at")),
        lines=[
            GroupJournalLineOut(
                account_code=_text(codes.get(str(line.get("account_id")))),
                amount_cents=_int(line.get("amount_cents")),
                memo=_text(line.get("memo")),
                dimensions={str(k): str(v) for k, v in (line.get("dimensions") or {}).items() if isinstance(k, str)}
                if isinstance(line.get("dimensions"), dict)
                else {},
            )
            for line in lines
        ],
    )


def move_out(venue: str, record: VenueRecord) -> GroupStockMoveOut:
    """A stock move from the record its venue sent."""
    payload = record.payload
    move = _obj(payload.get("move"))
    location = payload.get("location")
    return GroupStockMoveOut(
        venue=venue,
        cursor=encode_cursor(record.id or 0),
        id=_int(move.get("id")),
        operation_id=_int(move.get("operation_id")),
        kind=_text(move.get("kind")),
        stock_item_id=_int(move.get("stock_item_id")),
        location=location if isinstance(location, str) else None,
        quantity_milli=_int(move.get("quantity_milli")),
        value_cents=_int(move.get("value_cents")),
        created_at=_when(move.get("created_at")),
    )


@get(f"{PREFIX}/checks", **READ)
async def list_group_checks(
    db: web.Db, after: AfterCursor = None, limit: Limit = 50, venue: VenueParam = None
) -> GroupCheckPage:
    """Every venue's closed checks in the order head office took them in, each with the `venue` it came from.

    Follow with `after=next_cursor`: the cursor only moves forward, so no check is missed or read twice.
    """
    async with db.read() as session:
        rows, cursor, more = await _records(session, kind=CHECK_CLOSED, venue=venue, after=after, limit=limit)
    return GroupCheckPage(items=[check_out(code, r) for r, code in rows], next_cursor=cursor, has_more=more)


@get(f"{PREFIX}/journal-entries", **READ)
async def list_group_journal(
    db: web.Db, after: AfterCursor = None, limit: Limit = 50, venue: VenueParam = None
) -> GroupJournalPage:
    """Every venue's posted journal entries (debit positive) in head office's ingest order, with their `venue`.

    Follow with `after=next_cursor`: the cursor only moves forward, so no entry is missed or read twice.
    """
    async with db.read() as session:
        rows, cursor, more = await _records(session, kind=JOURNAL_ENTRY, venue=venue, after=after, limit=limit)
    return GroupJournalPage(items=[entry_out(code, r) for r, code in rows], next_cursor=cursor, has_more=more)


@get(f"{PREFIX}/stock/moves", **READ)
async def list_group_stock_moves(
    db: web.Db, after: AfterCursor = None, limit: Limit = 50, venue: VenueParam = None
) -> GroupStockMovePage:
    """Every venue's stock moves in head office's ingest order, with their `venue`.

    Follow with `after=next_cursor`: the cursor only moves forward, so no move is missed or read twice.
    """
    async with db.read() as session:
        rows, cursor, more = await _records(session, kind=STOCK_MOVE, venue=venue, after=after, limit=limit)
    return GroupStockMovePage(items=[move_out(code, r) for r, code in rows], next_cursor=cursor, has_more=more)


ROUTES: list[Any] = [list_group_checks, list_group_journal, list_group_stock_moves]
"""What head office's API reads in place of a venue's checks, journal and stock moves."""


def routes_for(role: str, venue_routes: list[Any]) -> list[Any]:
    """A venue's API as it is; at head office, the group's reads replace the venue's checks, journal and moves."""
    if role != "head_office":
        return venue_routes
    replaced = {f"{PREFIX}/checks", f"{PREFIX}/checks/{{check_id:int}}", f"{PREFIX}/journal-entries"}
    replaced.add(f"{PREFIX}/stock/moves")
    return [*ROUTES, *(r for r in venue_routes if not set(getattr(r, "paths", ())) & replaced)]
