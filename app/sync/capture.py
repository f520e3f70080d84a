"""What leaves a venue for head office: a sync record written in the very transaction of the change.

The domains do not know about head office. A session listener notes the rows a write transaction adds
or changes that head office must hear of (a check's closing, a journal entry, a stock move, a drawer
count, a server checkout, a closed day...) and, just before the transaction commits, reads each one
back whole and writes a `sync_record` for it. The record commits with the change or rolls back with
it, and a savepoint that rolled back leaves nothing behind: what is read back is what commits. Records
are written only while the venue is linked to a head office; a venue on its own writes none, and pays not one
statement for it: each process keeps what it knows of the link in memory (`LinkState`). What a process that
had not yet heard of a join committed meanwhile, it remembers, and writes once it hears (`write_owed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from app.accounting.models import Account, JournalEntry, JournalLine
from app.checks.models import CheckClosing, CheckComp, CheckDiscount, Payment, Refund, RefundLine, RefundStatus
from app.checks.services import TIP_ADJUSTED_TOPIC, business_day
from app.closes.models import (
    BusinessDay,
    CheckPosting,
    DayStatus,
    DrawerMovement,
    DrawerSession,
    DrawerStatus,
    PostingKind,
    ServerCheckout,
)
from app.inventory.models import StockItem, StockLevel, StockLocation, StockMove
from app.kitchen.models import KitchenTicket, Station, TicketState
from app.lib.clock import utcnow
from app.lib.db import WRITTEN, Database
from app.lib.outbox import OutboxMessage
from app.lib.settings import Settings
from app.orders.models import Check, CheckLine, LineModifier
from app.sync.models import HeadOfficeLink, LinkStatus, SyncRecord

CAPTURE = "sync_capture"
# The process's `LinkState`, shared by every session of its database.
LINK = "sync_link"
# Set by a running sender: called once a transaction that wrote sync records has committed.
WAKE = "sync_wake"
_NOTED = "sync_noted"

CHECK_CLOSED = "check.closed"
CHECK_REOPENED = "check.reopened"
CHECK_REFUNDED = "check.refunded"
TIP_ADJUSTED = "check.tip_adjusted"
JOURNAL_ENTRY = "journal.entry"
STOCK_MOVE = "stock.move"
DRAWER_COUNTED = "drawer.counted"
SERVER_CHECKOUT = "server.checkout"
DAY_CLOSED = "day.closed"
TICKET_BUMPED = "ticket.bumped"
# Not a record of its own: what a check's closing, reopening or refund posted (net sales by category, after
# discounts and comps) rides on the journal entry it posted, so head office reports sales as the Z report does.
CHECK_POSTED = "check.posted"
KINDS = (
    CHECK_CLOSED,
    CHECK_REOPENED,
    CHECK_REFUNDED,
    TIP_ADJUSTED,
    JOURNAL_ENTRY,
    STOCK_MOVE,
    DRAWER_COUNTED,
    SERVER_CHECKOUT,
    DAY_CLOSED,
)


@dataclass(frozen=True)
class Draft:
    """A record about to be written: its unique key, kind, when it happened, and the rows it carries."""

    key: str
    kind: str
    occurred_at: dt.datetime
    payload: dict[str, Any]


class LinkState:
    """What this process knows of the venue's link: linked, on its own, or not read yet (`None`).

    Read when the process starts, set at once by a join or a revocation made here, and read again by the sender
    (or, in a process that does not send, the link watcher) at each poll, so a join or a revocation made by
    another process is known here within a poll. Until then a process that believes the venue on its own keeps
    what its commits would have recorded (`missed`), from the last read that found no link on: a join that
    read did not see committed after it, so anything committed since may be owed, and nothing before is.
    """

    def __init__(self) -> None:
        self.linked: bool | None = None
        self.missed: list[tuple[int, tuple[str, int]]] = []
        self._serial = 0

    def mark(self) -> int:
        """Where the remembered commits stand now (taken before a read of the link, or before a join)."""
        return self._serial

    def remember(self, noted: Iterable[tuple[str, int]]) -> None:
        """A commit made while this process believed the venue on its own."""
        for found in noted:
            self._serial += 1
            self.missed.append((self._serial, found))

    def learn(self, status: LinkStatus | str | None, mark: int) -> list[tuple[int, tuple[str, int]]]:
        """The link's status as a read begun at `mark` found it; what is owed head office if the venue is linked.

        What is owed stays remembered until `written` says its records committed, so a failed write is tried again.
        """
        linked = status is not None and LinkStatus(status) is LinkStatus.LINKED
        self.linked = linked
        if not linked:
            self.missed = [entry for entry in self.missed if entry[0] > mark]
            return []
        return list(self.missed)

    def joined(self, mark: int) -> list[tuple[int, tuple[str, int]]]:
        """This process joined, in a transaction begun at `mark`: what committed since is owed head office."""
        self.missed = [entry for entry in self.missed if entry[0] > mark]
        self.linked = True
        return list(self.missed)

    def written(self, owed: list[tuple[int, tuple[str, int]]]) -> None:
        """The records of what was owed committed."""
        done = {serial for serial, _ in owed}
        self.missed = [entry for entry in self.missed if entry[0] not in done]


class _Runtime(Protocol):
    settings: Settings
    db: Database


def wire(runtime: _Runtime) -> None:
    """Capture sync records in this process's write transactions (a venue's; head office sends nothing up)."""
    if runtime.settings.role != "venue":
        return
    _install()
    runtime.db.context[CAPTURE] = True
    runtime.db.context[LINK] = LinkState()


def link_state(db: Database) -> LinkState | None:
    """This process's knowledge of the link (a venue's; head office has none)."""
    state: LinkState | None = db.context.get(LINK)
    return state


_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _note)
    event.listen(Session, "before_commit", _write)
    _installed = True


def _noted(obj: object, new: bool) -> tuple[str, int] | None:
    """What head office must hear of this added (`new`) or changed row, if anything: (kind, id)."""
    ident = getattr(obj, "id", None)
    if ident is None:
        return None
    if isinstance(obj, CheckClosing):
        return (CHECK_CLOSED if new else CHECK_REOPENED, ident)
    if isinstance(obj, JournalEntry) and new:
        return (JOURNAL_ENTRY, ident)
    if isinstance(obj, StockMove) and new:
        return (STOCK_MOVE, ident)
    if isinstance(obj, ServerCheckout):
        return (SERVER_CHECKOUT, ident)
    if isinstance(obj, Refund) and obj.status is RefundStatus.COMPLETED:
        return (CHECK_REFUNDED, ident)
    if isinstance(obj, DrawerSession) and obj.status is DrawerStatus.CLOSED:
        return (DRAWER_COUNTED, ident)
    if isinstance(obj, BusinessDay) and obj.status is DayStatus.CLOSED:
        return (DAY_CLOSED, ident)
    if isinstance(obj, OutboxMessage) and new and obj.topic == TIP_ADJUSTED_TOPIC:
        return (TIP_ADJUSTED, ident)
    if isinstance(obj, KitchenTicket) and obj.state is TicketState.BUMPED and obj.bumped_at is not None:
        return (TICKET_BUMPED, ident)
    if isinstance(obj, CheckPosting) and new and obj.entry_id is not None:
        return (CHECK_POSTED, ident)
    return None


def _note(session: Session, _flush_context: object) -> None:
    if not session.info.get(CAPTURE):
        return
    noted: set[tuple[str, int]] = session.info.setdefault(_NOTED, set())
    for objects, new in ((session.new, True), (session.dirty, False)):
        for obj in objects:
            found = _noted(obj, new)
            if found is not None:
                noted.add(found)


def _write(session: Session) -> None:
    if not session.info.get(CAPTURE):
        return
    # Pending changes flush first, so that the rows they add are noted too.
    session.flush()
    noted: set[tuple[str, int]] = session.info.pop(_NOTED, set())
    # And the rows a statement inserted without a flush (read back below: one a savepoint undid is not there).
    for row in session.info.pop(WRITTEN, []):
        found = _noted(row, True)
        if found is not None:
            noted.add(found)
    if not noted:
        return
    state: LinkState | None = session.info.get(LINK)
    if state is not None and state.linked is False:
        # Known to be on its own: not one statement. Remembered once committed, in case a join made by another
        # process commits before this one hears of it.
        session.info.setdefault("after_commit", []).append(partial(state.remember, noted))
        return
    connection = session.connection()
    if state is None or state.linked is None:
        # Not read yet in this process (a command run outside the server): ask the database.
        status = connection.execute(select(_table(HeadOfficeLink).c.status).limit(1)).scalar()
        if status is None or LinkStatus(status) is not LinkStatus.LINKED:
            return
    drafts = _drafts(connection, noted, session.info.get("settings"))
    write_drafts(connection, drafts)
    wake = session.info.get(WAKE)
    if drafts and wake is not None:
        session.info.setdefault("after_commit", []).append(wake)


def write_drafts(connection: Connection, drafts: Iterable[Draft]) -> None:
    """Insert the records, each key once: a key already owed (a drawer counted again) is left as it was."""
    now = utcnow()
    rows = [
        {"key": d.key, "kind": d.kind, "payload": d.payload, "occurred_at": d.occurred_at, "created_at": now}
        for d in drafts
    ]
    if not rows:
        return
    table = _table(SyncRecord)
    builder = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(builder(table).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def write_owed(session: Session, owed: list[tuple[int, tuple[str, int]]]) -> None:
    """Write the records a process owes from before it heard of the join, read back as they stand now.

    A key already written (by a change whose process knew) is kept as it was; once committed, they are no longer owed.
    """
    if not owed:
        return
    connection = session.connection()
    noted = {found for _, found in owed}
    write_drafts(connection, _drafts(connection, noted, session.info.get("settings")))
    state: LinkState | None = session.info.get(LINK)
    if state is not None:
        session.info.setdefault("after_commit", []).append(partial(state.written, owed))


def _drafts(connection: Connection, noted: Iterable[tuple[str, int]], settings: Any) -> list[Draft]:
    """The records of what was noted, read back as they stand, with what the venue's own settings add to them.

    A check posting adds its net sales by category to the journal entry it posted; a bumped ticket carries the
    venue's business day (its time zone and cutoff hour), as a journal entry carries its date.
    """
    ordered = sorted(noted)
    drafts = [draft for kind, ident in ordered if kind != CHECK_POSTED for draft in SNAPSHOTS[kind](connection, ident)]
    postings = [ident for kind, ident in ordered if kind == CHECK_POSTED]
    if postings:
        _add_sales(connection, drafts, postings)
    if isinstance(settings, Settings):
        for draft in drafts:
            if draft.kind == TICKET_BUMPED:
                draft.payload["business_day"] = business_day(
                    settings, _at(draft.payload["ticket"]["fired_at"])
                ).isoformat()
    return drafts


def _add_sales(connection: Connection, drafts: list[Draft], posting_ids: list[int]) -> None:
    """Put each posting's net sales by category (signed as they count on the day) on the journal entry it posted.

    Categories go by name, as head office matches them across venues; an entry's category lines carry the name
    of their category as it was when the check closed.
    """
    table = _table(CheckPosting)
    rows = connection.execute(
        select(table.c.entry_id, table.c.kind, table.c.breakdown).where(table.c.id.in_(posting_ids))
    ).all()
    posted = {entry_id: (kind, breakdown) for entry_id, kind, breakdown in rows if entry_id is not None}
    for draft in drafts:
        if draft.kind == JOURNAL_ENTRY and draft.payload["entry"]["id"] in posted:
            _put_sales(draft.payload, *posted.pop(draft.payload["entry"]["id"]))
    if not posted:
        return
    # The entry was posted in a savepoint of this transaction, whose release already wrote its record: add to it.
    records = _table(SyncRecord)
    keys = {f"{JOURNAL_ENTRY}:{entry_id}": entry_id for entry_id in posted}
    for ident, key, payload in connection.execute(
        select(records.c.id, records.c.key, records.c.payload).where(records.c.key.in_(list(keys)))
    ).all():
        if _put_sales(payload, *posted[keys[key]]):
            connection.execute(records.update().where(records.c.id == ident).values(payload=payload))


def _put_sales(payload: dict[str, Any], kind: Any, breakdown: Any) -> bool:
    """Add a posting's net sales by category to its journal entry's record; whether there was any to add."""
    sign = PostingKind(kind).sign
    net = (breakdown or {}).get("net_by_category")
    if not sign or not isinstance(net, dict):
        return False
    names = {
        str(line["dimensions"]["category"]): str(line["memo"]).removeprefix("Refund: ")
        for line in payload["lines"]
        if isinstance(line.get("dimensions"), dict) and line["dimensions"].get("category") is not None
    }
    by_name: dict[str, int] = {}
    for category_id, cents in net.items():
        name = names.get(str(category_id)) or f"Category {category_id}"
        by_name[name] = by_name.get(name, 0) + sign * int(cents)
    payload["sales"] = {"kind": PostingKind(kind).value, "net_by_category": by_name}
    return True


# ---------------------------------------------------------------------------------------------- snapshots


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def plain(value: Any) -> Any:
    """A column value as JSON holds it: times and days in ISO 8601, enums by value, decimals as text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(row: Row[Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in row._mapping.items()}


def _one(connection: Connection, model: type[Any], ident: int) -> dict[str, Any] | None:
    table = _table(model)
    row = connection.execute(select(table).where(table.c.id == ident)).first()
    return None if row is None else _row(row)


def _many(connection: Connection, model: type[Any], column: str, values: Iterable[int]) -> list[dict[str, Any]]:
    wanted = list(values)
    if not wanted:
        return []
    table = _table(model)
    rows = connection.execute(select(table).where(table.c[column].in_(wanted)).order_by(table.c.id)).all()
    return [_row(row) for row in rows]


def _at(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else utcnow()


def _check(connection: Connection, check_id: int) -> dict[str, Any]:
    """A check whole: its lines and their modifiers, discounts, comps, payments with tips, and refunds."""
    lines = _many(connection, CheckLine, "check_id", [check_id])
    refunds = _many(connection, Refund, "check_id", [check_id])
    check = _one(connection, Check, check_id)
    if check is not None:
        # Head office gets the guest's id, never their name or allergies: a guest erased at the venue is erased.
        for personal in ("guest_name", "guest_allergies"):
            check.pop(personal, None)
    return {
        "check": check,
        "lines": lines,
        "modifiers": _many(connection, LineModifier, "line_id", [line["id"] for line in lines]),
        "discounts": _many(connection, CheckDiscount, "check_id", [check_id]),
        "comps": _many(connection, CheckComp, "check_id", [check_id]),
        "payments": _many(connection, Payment, "check_id", [check_id]),
        "refunds": refunds,
        "refund_lines": _many(connection, RefundLine, "refund_id", [r["id"] for r in refunds]),
    }


def _check_closed(connection: Connection, ident: int) -> list[Draft]:
    closing = _one(connection, CheckClosing, ident)
    if closing is None:
        return []
    drafts = [
        Draft(
            f"{CHECK_CLOSED}:{closing['check_id']}:{closing['sequence']}",
            CHECK_CLOSED,
            _at(closing["closed_at"]),
            {"closing": closing, **_check(connection, closing["check_id"])},
        )
    ]
    if closing["reopened_at"] is not None:
        drafts += _check_reopened(connection, ident)
    return drafts


def _check_reopened(connection: Connection, ident: int) -> list[Draft]:
    closing = _one(connection, CheckClosing, ident)
    if closing is None or closing["reopened_at"] is None:
        return []
    key = f"{CHECK_REOPENED}:{closing['check_id']}:{closing['sequence']}"
    return [Draft(key, CHECK_REOPENED, _at(closing["reopened_at"]), {"closing": closing})]


def _refunded(connection: Connection, ident: int) -> list[Draft]:
    refund = _one(connection, Refund, ident)
    if refund is None or refund["status"] != RefundStatus.COMPLETED.value:
        return []
    payload = {"refund": refund, "lines": _many(connection, RefundLine, "refund_id", [ident])}
    return [Draft(f"{CHECK_REFUNDED}:{ident}", CHECK_REFUNDED, _at(refund["completed_at"]), payload)]


def _tip_adjusted(connection: Connection, ident: int) -> list[Draft]:
    message = _one(connection, OutboxMessage, ident)
    if message is None:
        return []
    payment = _one(connection, Payment, int(message["payload"].get("payment_id") or 0))
    payload = {"adjustment": message["payload"], "payment": payment}
    return [Draft(f"{TIP_ADJUSTED}:{ident}", TIP_ADJUSTED, _at(message["created_at"]), payload)]


def _journal_entry(connection: Connection, ident: int) -> list[Draft]:
    entry = _one(connection, JournalEntry, ident)
    if entry is None:
        return []
    lines = _many(connection, JournalLine, "entry_id", [ident])
    # Head office maps the venue's accounts by code, so the entry names the codes its lines use.
    accounts = _table(Account)
    wanted = sorted({line["account_id"] for line in lines})
    codes = connection.execute(select(accounts.c.id, accounts.c.code).where(accounts.c.id.in_(wanted))).all()
    payload = {"entry": entry, "lines": lines, "accounts": {str(ident): code for ident, code in codes}}
    return [Draft(f"{JOURNAL_ENTRY}:{ident}", JOURNAL_ENTRY, _at(entry["posted_at"]), payload)]


def _stock_move(connection: Connection, ident: int) -> list[Draft]:
    # One statement: the move, its location's name (head office maps it to a warehouse), the item's name and unit
    # (the same item across venues), and the level it leaves with its par (head office's replenishment).
    moves, locations, items, levels = (_table(m) for m in (StockMove, StockLocation, StockItem, StockLevel))
    row = connection.execute(
        select(
            moves,
            locations.c.name.label("location_name"),
            items.c.name.label("item_name"),
            items.c.unit.label("item_unit"),
            levels.c.on_hand_milli.label("level_on_hand_milli"),
            levels.c.par_milli.label("level_par_milli"),
            levels.c.value_cents.label("level_value_cents"),
        )
        .select_from(moves)
        .outerjoin(locations, locations.c.id == moves.c.location_id)
        .outerjoin(items, items.c.id == moves.c.stock_item_id)
        .outerjoin(
            levels, (levels.c.stock_item_id == moves.c.stock_item_id) & (levels.c.location_id == moves.c.location_id)
        )
        .where(moves.c.id == ident)
    ).first()
    if row is None:
        return []
    found = _row(row)
    extra = ("location_name", "item_name", "item_unit", "level_on_hand_milli", "level_par_milli", "level_value_cents")
    move = {key: value for key, value in found.items() if key not in extra}
    payload = {
        "move": move,
        "location": found["location_name"],
        "item": {"name": found["item_name"], "unit": found["item_unit"]},
        "level": {
            "on_hand_milli": found["level_on_hand_milli"],
            "par_milli": found["level_par_milli"],
            "value_cents": found["level_value_cents"],
        },
    }
    return [Draft(f"{STOCK_MOVE}:{ident}", STOCK_MOVE, _at(move["created_at"]), payload)]


def _drawer_counted(connection: Connection, ident: int) -> list[Draft]:
    drawer = _one(connection, DrawerSession, ident)
    if drawer is None or drawer["status"] != DrawerStatus.CLOSED.value:
        return []
    payload = {"drawer": drawer, "movements": _many(connection, DrawerMovement, "drawer_id", [ident])}
    return [Draft(f"{DRAWER_COUNTED}:{ident}", DRAWER_COUNTED, _at(drawer["closed_at"]), payload)]


def _server_checkout(connection: Connection, ident: int) -> list[Draft]:
    checkout = _one(connection, ServerCheckout, ident)
    if checkout is None:
        return []
    key = f"{SERVER_CHECKOUT}:{ident}"
    return [Draft(key, SERVER_CHECKOUT, _at(checkout["checked_out_at"]), {"checkout": checkout})]


def _day_closed(connection: Connection, ident: int) -> list[Draft]:
    day = _one(connection, BusinessDay, ident)
    if day is None or day["status"] != DayStatus.CLOSED.value:
        return []
    return [Draft(f"{DAY_CLOSED}:{day['day']}", DAY_CLOSED, _at(day["closed_at"]), {"business_day": day})]


def _ticket_bumped(connection: Connection, ident: int) -> list[Draft]:
    # One statement: the ticket's times and its station's name (stations are the venue's own).
    tickets, stations = _table(KitchenTicket), _table(Station)
    row = connection.execute(
        select(
            tickets.c.id,
            tickets.c.check_id,
            tickets.c.kind,
            tickets.c.is_expo,
            tickets.c.state,
            tickets.c.fired_at,
            tickets.c.bumped_at,
            stations.c.name.label("station"),
        )
        .select_from(tickets)
        .outerjoin(stations, stations.c.id == tickets.c.station_id)
        .where(tickets.c.id == ident)
    ).first()
    ticket = {} if row is None else {key: plain(value) for key, value in row._mapping.items()}
    if not ticket or ticket["bumped_at"] is None or ticket["state"] != TicketState.BUMPED.value:
        return []
    station = ticket.pop("station")
    seconds = (_at(ticket["bumped_at"]) - _at(ticket["fired_at"])).total_seconds()
    payload = {"ticket": ticket, "station": station, "seconds": seconds}
    # Bumped again after a recall, it is sent again; head office keeps the latest.
    return [Draft(f"{TICKET_BUMPED}:{ident}:{ticket['bumped_at']}", TICKET_BUMPED, _at(ticket["bumped_at"]), payload)]


SNAPSHOTS: Mapping[str, Callable[[Connection, int], list[Draft]]] = {
    CHECK_CLOSED: _check_closed,
    CHECK_REOPENED: _check_reopened,
    CHECK_REFUNDED: _refunded,
    TIP_ADJUSTED: _tip_adjusted,
    JOURNAL_ENTRY: _journal_entry,
    STOCK_MOVE: _stock_move,
    DRAWER_COUNTED: _drawer_counted,
    SERVER_CHECKOUT: _server_checkout,
    DAY_CLOSED: _day_closed,
    TICKET_BUMPED: _ticket_bumped,
    CHECK_POSTED: lambda connection, ident: [],  # folded into its journal entry's record (`_add_sales`)
}
