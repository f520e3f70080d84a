"""From a suggested order to a partial delivery to the books: stock, moving-average cost, accounts payable per
supplier, purchase price variance and inventory all agree; each step posts once and bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.exports import export_ledger
from app.accounting.models import Account, JournalEntry, JournalLine
from app.accounting.queries import trial_balance
from app.closes import postings
from app.closes.mappings import retry_exception
from app.closes.models import ExceptionStatus, MappingKind, PostingException, PostingMapping
from app.inventory import queries as inventory_queries
from app.inventory.models import StockItem, StockMove
from app.lib.audit import AuditEntry
from app.lib.errors import Conflict, DomainError, InvalidInput, NotFound
from app.lib.outbox import OutboxMessage
from app.purchasing import credit_notes, queries, services
from app.purchasing.models import OrderStatus, PurchaseReceipt
from app.staff.models import Staff
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.purchasing.conftest import Purchasing

WEDNESDAY, MONDAY = dt.date(2026, 12, 9), dt.date(2026, 12, 7)
NORTHSIDE = "Northside Wine & Spirits"
CASE_70CL = 4_200_000  # 6 x 700 ml


async def _entries(room: Purchasing) -> list[tuple[JournalEntry, dict[str, int], dict[str, dict[str, str]]]]:
    """Purchasing entries with amounts by account code, and each account's line dimensions."""
    async with room.runtime.db.read() as session:
        entries = (
            await session.exec(
                select(JournalEntry).where(JournalEntry.source_type == "purchasing").order_by(col(JournalEntry.id))
            )
        ).all()
        result = []
        for entry in entries:
            amounts: dict[str, int] = defaultdict(int)
            dimensions: dict[str, dict[str, str]] = {}
            for line, account in (
                await session.exec(
                    select(JournalLine, Account)
                    .join(Account, col(Account.id) == col(JournalLine.account_id))
                    .where(JournalLine.entry_id == entry.id)
                )
            ).all():
                amounts[account.code] += line.amount_cents
                dimensions[account.code] = dict(line.dimensions)
            result.append((entry, dict(amounts), dimensions))
        return result


async def _account(room: Purchasing, code: str) -> int:
    async with room.runtime.db.read() as session:
        return int(
            (
                await session.exec(
                    select(func.coalesce(func.sum(JournalLine.amount_cents), 0))
                    .join(Account, col(Account.id) == col(JournalLine.account_id))
                    .where(Account.code == code)
                )
            ).one()
        )


async def _stock_value(room: Purchasing) -> int:
    async with room.runtime.db.read() as session:
        valuation = await inventory_queries.valuation(session)
    return sum(cell.value_cents for row in valuation.rows for cell in row.cells)


async def _suggestion(room: Purchasing, today: dt.date) -> dict[str, int]:
    async with room.runtime.db.read() as session:
        rows = await queries.suggested_order(
            session, supplier_id=room.suppliers[NORTHSIDE], location_id=room.places["Bar"], today=today
        )
    return {row.item.name: row.packs for row in rows}


async def _counts(room: Purchasing) -> tuple[int, int, int, int]:
    """Moves, receipts, outbox rows and audit entries: what a refused command must leave as it was."""
    async with room.runtime.db.read() as session:
        counts = [
            int((await session.exec(select(func.count()).select_from(table))).one())
            for table in (StockMove, PurchaseReceipt, OutboxMessage, AuditEntry)
        ]
    return counts[0], counts[1], counts[2], counts[3]


async def test_an_order_received_in_part_then_in_full_and_a_credit_note_balance_in_the_books(
    purchasing: Purchasing, tmp_path: Path
) -> None:
    room = purchasing
    gin, bar = room.items["Gin"], room.places["Bar"]
    async with room.runtime.db.write() as session:
        await services.set_weekday_par(session, stock_item_id=gin, location_id=bar, weekday=4, par_milli=12_000_000)

    # Ordered Wednesday, gin arrives Friday (two days' lead): Friday's 12 l less 7 l on hand is 5 l, two cases.
    assert await _suggestion(room, WEDNESDAY) == {"Campari": 0, "Gin": 2, "Sweet vermouth": 0}
    # Ordered Monday it arrives Wednesday, when the everyday par of 2.1 l is covered.
    assert (await _suggestion(room, MONDAY))["Gin"] == 0

    # The manager raises gin to three cases and adds a case of vermouth, then sends the order.
    async with room.runtime.db.write() as session:
        order = await services.create_order(
            session,
            supplier_id=room.suppliers[NORTHSIDE],
            location_id=bar,
            lines=[(room.catalog[(NORTHSIDE, "Gin")], 3), (room.catalog[(NORTHSIDE, "Sweet vermouth")], 1)],
            send=True,
            actor_id=None,
        )
        order_id = order.id or 0
        gin_line, vermouth_line = await services.order_lines(session, order_id)
    assert order.status is OrderStatus.SENT
    assert await _suggestion(room, WEDNESDAY) == {"Campari": 0, "Gin": 0, "Sweet vermouth": 0}, "on order counts"

    # First delivery: two cases of gin, invoiced at 98.00 a case against the order's 96.00; no vermouth yet.
    before = await room.level("Gin", "Bar")
    async with room.runtime.db.write() as session:
        receipt = await services.receive_order(
            session,
            order_id=order_id,
            lines=[(gin_line.id, gin, 2 * CASE_70CL, 19_600)],
            reference="DN-501",
            source_key="receipt:dn-501",
        )
    assert (receipt.invoice_cents, receipt.ordered_cents) == (19_600, 19_200)
    after = await room.level("Gin", "Bar")
    assert after.on_hand_milli == before.on_hand_milli + 2 * CASE_70CL
    assert after.value_cents == before.value_cents + 19_200, "stock comes in at the order's price"
    async with room.runtime.db.read() as session:
        item = await session.get(StockItem, gin)
        view = await queries.order_view(session, order_id)
    assert item is not None
    assert view is not None
    # Moving average exactly as a delivery: (200.00 + 192.00) over 15.4 l, in milli-cents per ml.
    assert item.unit_cost_millicents == round(39_200 * 1_000_000 / 15_400_000)
    assert view.order.status is OrderStatus.PARTIAL
    assert [line.outstanding_milli for line in view.lines] == [CASE_70CL, 4_500_000]
    assert [r.variance_cents for r in view.receipts] == [400]

    assert await _entries(room) == [], "nothing is posted before the outbox delivers"
    await room.deliver()
    [(entry, amounts, dims)] = await _entries(room)
    assert amounts == {"1100": 19_200, "5040": 400, "2030": -19_600}
    assert dims["2030"] == {"supplier": NORTHSIDE}
    assert entry.description == f"Received from {NORTHSIDE} against {order.number}, DN-501"
    operation_id = receipt.stock_operation_id
    assert entry.idempotency_key == f"stock:{operation_id}"

    # Replays post nothing twice: the same form again, the outbox row again, the posting rule again.
    async with room.runtime.db.write() as session:
        again = await services.receive_order(
            session,
            order_id=order_id,
            lines=[(gin_line.id, gin, 2 * CASE_70CL, 19_600)],
            source_key="receipt:dn-501",
        )
        assert again.id == receipt.id
        assert await postings.attempt(session, services.BOOKED_TOPIC, {"operation_id": operation_id})
    async with room.runtime.db.write() as session:
        [message] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.topic == services.BOOKED_TOPIC))
        ).all()
        message.delivered_at = None
        message.attempts = 0
        session.add(message)
    await room.deliver()
    assert len(await _entries(room)) == 1
    assert (await room.level("Gin", "Bar")).on_hand_milli == after.on_hand_milli

    # Second delivery: the last case of gin plus a bottle more than ordered, and Campari instead of vermouth.
    async with room.runtime.db.write() as session:
        await services.receive_order(
            session,
            order_id=order_id,
            lines=[
                (gin_line.id, gin, CASE_70CL + 700_000, 11_200),
                (vermouth_line.id, room.items["Campari"], 4_200_000, 9_000),
            ],
            source_key="receipt:dn-502",
        )
    async with room.runtime.db.read() as session:
        view = await queries.order_view(session, order_id)
    assert view is not None
    assert view.order.status is OrderStatus.RECEIVED
    assert view.lines[0].over_milli == 700_000
    assert [line.outstanding_milli for line in view.lines] == [0, 0]
    assert view.receipts[1].variance_cents == 0
    assert [(line.substitute, item.name) for line, item in view.receipts[1].lines] == [
        (False, "Gin"),
        (True, "Campari"),
    ]

    # A bottle of Campari goes back, credited at 15.00; it leaves stock at its average cost of 16.00.
    async with room.runtime.db.write() as session:
        credit = await credit_notes.record_credit(
            session,
            supplier_id=room.suppliers[NORTHSIDE],
            kind="return",
            location_id=bar,
            lines=[(room.items["Campari"], 700_000, 1_500)],
            reference="CN-9",
            order_id=order_id,
            source_key="credit:cn-9",
        )
    await room.deliver()
    entries = await _entries(room)
    assert len(entries) == 3
    _, credit_amounts, credit_dims = entries[2]
    assert credit.stock_cents == 1_600
    assert credit_amounts == {"2030": 1_500, "1100": -1_600, "5040": 100}
    assert credit_dims["2030"] == {"supplier": NORTHSIDE}

    # The books: payables per supplier, variance and inventory agree with purchasing and the stockroom.
    async with room.runtime.db.read() as session:
        owed = await queries.payables_by_supplier(session)
        balance = (await trial_balance(session, dt.date.today() + dt.timedelta(days=30))).net_cents
    assert owed == {NORTHSIDE: 19_600 + 11_200 + 9_000 - 1_500}
    assert -await _account(room, "2030") == owed[NORTHSIDE], "every payable line names its supplier"
    assert await _account(room, "5040") == 400 + 100
    assert await _account(room, "1100") == await _stock_value(room)
    assert balance == 0

    # Independent tools accept the books with these entries in them.
    today = dt.date.today()
    for fmt, check in (("beancount", bean_check), ("hledger", hledger_check)):
        async with room.runtime.db.read() as session:
            text = await export_ledger(
                session, start=today - dt.timedelta(days=3), end=today + dt.timedelta(days=3), fmt=fmt
            )
        path = tmp_path / f"books.{fmt}"
        path.write_text(text, encoding="utf-8")
        result = check(path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Purchase price variance" in text or "Purchase-price-variance" in text

    # Every step is in the audit log.
    async with room.runtime.db.read() as session:
        actions = (
            await session.exec(
                select(AuditEntry.action)
                .where(col(AuditEntry.action).startswith("purchasing."))
                .order_by(col(AuditEntry.id))
            )
        ).all()
    assert [a for a in actions if not a.startswith("purchasing.supplier")] == [
        "purchasing.weekday_par.set",
        "purchasing.weekday_par.set",
        "purchasing.weekday_par.set",
        "purchasing.order.create",
        "purchasing.order.send",
        "purchasing.order.receive",
        "purchasing.order.receive",
        "purchasing.credit.record",
    ]

    # Receiving on an order that is fully received is refused, and changes nothing; a replayed form is not refused.
    counted = await _counts(room)
    async with room.runtime.db.write() as session:
        replay = await services.receive_order(
            session, order_id=order_id, lines=[(gin_line.id, gin, 1_000, 100)], source_key="receipt:dn-502"
        )
    assert replay.invoice_cents == 11_200 + 9_000
    assert await _counts(room) == counted
    with pytest.raises(Conflict, match=f"{order.number} is received; nothing can be received against it"):
        async with room.runtime.db.write() as session:
            await services.receive_order(
                session, order_id=order_id, lines=[(gin_line.id, gin, 1_000, 100)], source_key="receipt:late"
            )
    assert await _counts(room) == counted


async def test_bad_receipts_and_orders_are_refused_with_clear_messages_and_change_nothing(
    purchasing: Purchasing,
) -> None:
    room = purchasing
    gin, bar = room.items["Gin"], room.places["Bar"]
    async with room.runtime.db.write() as session:
        order = await services.create_order(
            session,
            supplier_id=room.suppliers[NORTHSIDE],
            location_id=bar,
            lines=[(room.catalog[(NORTHSIDE, "Gin")], 2)],
            send=True,
        )
        [line] = await services.order_lines(session, order.id or 0)
    counted, level = await _counts(room), await room.level("Gin", "Bar")

    refusals: list[tuple[type[DomainError], str, dict[str, object]]] = [
        (InvalidInput, "Line 1 quantity must be more than zero", {"lines": [(line.id, gin, -4_200_000, 9_600)]}),
        (InvalidInput, "Line 1 invoice total cannot be negative", {"lines": [(line.id, gin, 4_200_000, -1)]}),
        (InvalidInput, f"Line 1: that is not a line of {order.number}", {"lines": [(999_999, gin, 1_000, 100)]}),
        (InvalidInput, "Line 1: unknown stock item for the substitute", {"lines": [(line.id, 999_999, 1_000, 100)]}),
        (InvalidInput, "Enter at least one received quantity", {"lines": []}),
        (NotFound, "No such purchase order", {"order_id": 999_999, "lines": [(line.id, gin, 1_000, 100)]}),
    ]
    for error, message, arguments in refusals:
        with pytest.raises(error, match=message):
            async with room.runtime.db.write() as session:
                await services.receive_order(
                    session,
                    **{"order_id": order.id or 0, "source_key": f"receipt:{message[:20]}", **arguments},  # type: ignore[arg-type]
                )
    assert await _counts(room) == counted
    assert (await room.level("Gin", "Bar")).on_hand_milli == level.on_hand_milli

    order_refusals: list[tuple[str, list[tuple[int, int]]]] = [
        ("Line 1 packs cannot be negative", [(room.catalog[(NORTHSIDE, "Gin")], -1)]),
        (f"Line 1: {NORTHSIDE} does not sell that item", [(room.catalog[("Harbour Dairy", "Cheddar")], 1)]),
        ("An order needs at least one line with one pack or more", [(room.catalog[(NORTHSIDE, "Gin")], 0)]),
    ]
    for message, lines in order_refusals:
        with pytest.raises(InvalidInput, match=message):
            async with room.runtime.db.write() as session:
                await services.create_order(
                    session, supplier_id=room.suppliers[NORTHSIDE], location_id=bar, lines=lines, send=True
                )
    with pytest.raises(InvalidInput, match="Cheddar: An item kept in grams is bought in g, kg, not l"):
        async with room.runtime.db.write() as session:
            await services.set_supplier_item(
                session,
                supplier_id=room.suppliers["Harbour Dairy"],
                stock_item_id=room.items["Cheddar"],
                units_per_pack=1,
                unit_size_milli=1_000,
                size_unit="l",
                pack_cost_cents=100,
                lead_time_days=1,
            )
    with pytest.raises(Conflict, match="Bar has 7,000 ml of Gin; it cannot send back 8,000"):
        async with room.runtime.db.write() as session:
            await credit_notes.record_credit(
                session,
                supplier_id=room.suppliers[NORTHSIDE],
                kind="damaged",
                location_id=bar,
                lines=[(gin, 8_000_000, 100)],
                source_key="credit:too-much",
            )
    assert await _counts(room) == counted

    # Closed short, the order takes nothing more.
    async with room.runtime.db.write() as session:
        closed = await services.close_order(session, order.id or 0, reason="supplier out of stock")
    assert closed.status is OrderStatus.CLOSED
    with pytest.raises(Conflict, match=f"{order.number} is closed; nothing can be received against it"):
        async with room.runtime.db.write() as session:
            await services.receive_order(
                session, order_id=order.id or 0, lines=[(line.id, gin, 1_000, 100)], source_key="receipt:closed"
            )
    assert (await room.level("Gin", "Bar")).on_hand_milli == level.on_hand_milli


async def test_an_unmapped_price_variance_account_waits_as_an_exception_and_posts_once_when_retried(
    purchasing: Purchasing,
) -> None:
    room = purchasing
    async with room.runtime.db.write() as session:
        mapping = (
            await session.exec(
                select(PostingMapping).where(
                    PostingMapping.kind == MappingKind.ACCOUNT, PostingMapping.subject == "price_variance"
                )
            )
        ).one()
        await session.delete(mapping)
        order = await services.create_order(
            session,
            supplier_id=room.suppliers["Harbour Dairy"],
            location_id=room.places["Kitchen"],
            lines=[(room.catalog[("Harbour Dairy", "Cheddar")], 1)],
            send=True,
        )
        [line] = await services.order_lines(session, order.id or 0)
        await services.receive_order(
            session,
            order_id=order.id or 0,
            lines=[(line.id or 0, room.items["Cheddar"], 2_500_000, 3_150)],
            source_key="receipt:cheese",
        )
    await room.deliver()
    assert await _entries(room) == []
    assert (await room.level("Cheddar", "Kitchen")).on_hand_milli == 4_500_000, "the delivery itself stands"
    async with room.runtime.db.read() as session:
        [problem] = (await session.exec(select(PostingException))).all()
    assert problem.status is ExceptionStatus.OPEN
    assert "no account is mapped for Purchase price variance" in problem.reason

    async with room.runtime.db.write() as session:
        session.add(PostingMapping(kind=MappingKind.ACCOUNT, subject="price_variance", account_code="5040"))
    async with room.runtime.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        await retry_exception(session, exception_id=problem.id or 0, actor=manager)
        await retry_exception(session, exception_id=problem.id or 0, actor=manager)
    [(_, amounts, dims)] = await _entries(room)
    assert amounts == {"1100": 3_000, "5040": 150, "2030": -3_150}
    assert dims["2030"] == {"supplier": "Harbour Dairy"}
