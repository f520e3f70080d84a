"""What a card payment costs the database: a ceiling on the statements and transactions it takes, and its posting's.

The ceilings are what the payment path reached (bench/payment_statements.py measures the same steps); a change that
makes paying a check issue more statements fails here and has to say why in the ceiling it raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

from app.checks.models import Payment
from app.closes.models import CheckPosting
from app.floor.models import DiningTable
from app.orders.live import check_channel, floor_channel
from app.orders.models import CheckStatus
from tests.integration.checks.arrange import check_row, key, ring_in, rows, tenders

# The benchmark's order: two mains for the Grill, two sides for Fry, all sent.
FOUR_ITEMS = [(1, "PA-CAR"), (2, "PA-RIS"), (1, "SI-MAS"), (2, "SI-SPI")]

# Paying by card in full, over HTTP, as a tablet busy through service does (its session remembered by the process,
# app/staff/session_cache.py): the pending attempt (the check's lines,
# which of its other rows exist and whether the payment's key was already used, in one read), the terminal's answer
# with the payment and the closing (numbered by its insert), and the settle page answered (whose table lookup also
# finds the table's other open checks before it offers "Table cleared"). The live floor updates of both commits name
# the table's floor as the check's pricing read found it, with no read of their own. Head office costs a venue that
# has not joined one nothing. On SQLite each transaction's BEGIN is a statement of its own;
# PostgreSQL's driver begins without one.
# On PostgreSQL a background worker's statement sometimes lands inside the window: one statement of room there.
PAY_STATEMENTS = {"sqlite": 28, "postgres": 25 + 1}
PAY_TRANSACTIONS = 3
# The outbox delivering the closing's sale posting: the claim, then the posting with its journal entry (the entry in one
# insert that yields to a twin, its lines in one more).
POSTING_STATEMENTS = {"sqlite": 23, "postgres": 22 + 1}
POSTING_TRANSACTIONS = 2


def _key(conn: Any) -> int:
    """The pooled connection a statement runs on: held by one transaction at a time, unlike a facade's id()."""
    fairy = getattr(conn, "connection", None)
    return id(getattr(fairy, "dbapi_connection", None) or conn)


@dataclass
class Statements:
    """SQL statements and transactions seen on the app's engines, each transaction with its own statements.

    The venue's sync sender looks up the head-office link on its own clock; those look-ups, and a transaction that
    does nothing else, are not the payment's and are left out (a venue that has not joined a head office pays
    nothing for it), so the ceilings do not depend on where that clock falls.
    """

    groups: list[list[str]] = field(default_factory=list)
    began: list[bool] = field(default_factory=list)

    def _kept(self) -> list[int]:
        return [
            index
            for index, group in enumerate(self.groups)
            if not _sender_poll([sql for sql in group if not sql.startswith("BEGIN")])
        ]

    @property
    def sql(self) -> list[str]:
        return [sql for index in self._kept() for sql in self.groups[index] if " FROM head_office_link" not in sql]

    @property
    def transactions(self) -> int:
        return sum(1 for index in self._kept() if self.began[index])

    def __str__(self) -> str:
        return "\n".join(self.sql)


def _sender_poll(statements: list[str]) -> bool:
    return bool(statements) and all(" FROM head_office_link" in sql for sql in statements)


@contextmanager
def counting(runtime: Any) -> Iterator[Statements]:
    seen = Statements()
    current: dict[int, int] = {}  # connection → its transaction's group
    # On SQLite the app sends its own BEGIN from the begin event, just before or after it reaches this listener.
    begun_by_statement: set[int] = set()
    begun_by_event: set[int] = set()

    def start(conn: Any) -> None:
        current[_key(conn)] = len(seen.groups)
        seen.groups.append([])
        seen.began.append(True)

    def on_statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        is_begin = statement.lstrip().upper().startswith("BEGIN")
        if is_begin and _key(conn) in begun_by_event:
            begun_by_event.discard(_key(conn))
        elif is_begin:
            start(conn)
            begun_by_statement.add(_key(conn))
        elif _key(conn) not in current:
            current[_key(conn)] = len(seen.groups)
            seen.groups.append([])
            seen.began.append(False)
        if not is_begin:
            begun_by_event.discard(_key(conn))
        seen.groups[current[_key(conn)]].append(" ".join(statement.split())[:160])

    def on_begin(conn: Any) -> None:
        if _key(conn) in begun_by_statement:
            begun_by_statement.discard(_key(conn))
            return
        start(conn)
        begun_by_event.add(_key(conn))

    engines = [engine.sync_engine for engine in runtime.db.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_statement)
        event.listen(engine, "begin", on_begin)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_statement)
            event.remove(engine, "begin", on_begin)


async def test_paying_a_four_item_check_by_card_in_full_stays_within_its_statement_budget(
    server: Any, runtime: Any, terminal: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arranged = await ring_in(runtime, items=FOUR_ITEMS, covers=2)
    await runtime.dispatcher.drain()  # the kitchen's tickets, owed by the send
    form = {
        "tender_id": str((await tenders(runtime))["Card"]),
        "amount": "",
        "tip": "",
        "version": str((await check_row(runtime, arranged.check_id)).version),
        "idempotency_key": key(),
    }

    published: list[list[str]] = []
    wait_published = runtime.channels.wait_published

    async def recording(data: Any, channels: Any) -> None:
        published.append(list(channels))
        await wait_published(data, channels=channels)

    assert (await server.get("/floor")).status_code == 200, "the tablet was on the floor before it paid"
    monkeypatch.setattr(runtime.channels, "wait_published", recording)
    with counting(runtime) as paying:
        response = await server.post(f"/checks/{arranged.check_id}/pay", form)
    monkeypatch.undo()

    assert response.status_code == 200, response.text
    assert "Payment taken. Check closed." in response.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
    assert len(await rows(runtime, Payment)) == 1
    assert len(paying.sql) <= PAY_STATEMENTS[backend], f"{len(paying.sql)} statements:\n{paying}"
    assert paying.transactions <= PAY_TRANSACTIONS, f"{paying.transactions} transactions:\n{paying}"
    # Both commits (the pending attempt, then the payment and the closing) tell the table's floor and the check.
    async with runtime.db.read() as session:
        table = await session.get(DiningTable, arranged.table_id)
    assert table is not None
    expected = [floor_channel(table.floor_id), check_channel(arranged.check_id)]
    assert [channels for channels in published if expected[0] in channels] == [expected, expected], published

    with counting(runtime) as posting:
        delivered = await runtime.dispatcher.drain()

    assert delivered == 1
    [sale] = await rows(runtime, CheckPosting)
    assert sale.source_key == f"close:{arranged.check_id}:1"
    assert sale.entry_id is not None
    assert sale.total_cents == sale.gross_cents + sale.tax_cents > 0
    assert len(posting.sql) <= POSTING_STATEMENTS[backend], f"{len(posting.sql)} statements:\n{posting}"
    assert posting.transactions <= POSTING_TRANSACTIONS, f"{posting.transactions} transactions:\n{posting}"
