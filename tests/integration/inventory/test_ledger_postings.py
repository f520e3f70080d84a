"""The stockroom's own operations reach the books: a delivery (inventory against accounts payable), a count
(variance) and recorded waste each post one balanced entry, once, through the outbox; the ledger's inventory
account keeps telling the same value as the stockroom."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.locked_days import lock_day
from app.accounting.models import Account, JournalEntry, JournalLine
from app.accounting.queries import trial_balance
from app.checks.queries import settings_of
from app.checks.services import business_day
from app.closes import postings
from app.closes.mappings import retry_exception
from app.closes.models import ExceptionStatus, MappingKind, PostingException, PostingMapping
from app.inventory import queries
from app.inventory.models import StockOperation
from app.inventory.services import (
    STOCK_BOOKED_TOPIC,
    receive_delivery,
    record_count,
    record_waste,
    transfer_stock,
)
from app.lib.outbox import OutboxMessage
from app.lib.settings import Settings
from app.staff.models import Staff
from tests.integration.inventory.conftest import Stockroom


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers: each test delivers the outbox when it means to."""
    settings.run_workers = False
    return settings


async def _deliver(room: Stockroom) -> None:
    while await room.runtime.dispatcher.drain():
        pass


async def _stock_entries(room: Stockroom) -> list[tuple[JournalEntry, dict[str, int]]]:
    """Entries posted for stock operations, each with its amounts by account code."""
    async with room.runtime.db.read() as session:
        entries = (
            await session.exec(
                select(JournalEntry).where(JournalEntry.source_type == "stock").order_by(col(JournalEntry.id))
            )
        ).all()
        result = []
        for entry in entries:
            amounts: dict[str, int] = defaultdict(int)
            for line, account in (
                await session.exec(
                    select(JournalLine, Account)
                    .join(Account, col(Account.id) == col(JournalLine.account_id))
                    .where(JournalLine.entry_id == entry.id)
                )
            ).all():
                amounts[account.code] += line.amount_cents
            result.append((entry, dict(amounts)))
        return result


async def _ledger_inventory(room: Stockroom) -> int:
    async with room.runtime.db.read() as session:
        return int(
            (
                await session.exec(
                    select(func.coalesce(func.sum(JournalLine.amount_cents), 0))
                    .join(Account, col(Account.id) == col(JournalLine.account_id))
                    .where(Account.code == "1100")
                )
            ).one()
        )


async def _stock_value(room: Stockroom) -> int:
    async with room.runtime.db.read() as session:
        valuation = await queries.valuation(session)
    return sum(cell.value_cents for row in valuation.rows for cell in row.cells)


async def _books_balance(room: Stockroom) -> int:
    async with room.runtime.db.read() as session:
        return (await trial_balance(session, dt.date.today() + dt.timedelta(days=30))).net_cents


async def test_the_demo_opening_stock_is_in_the_books_once(stockroom: Stockroom) -> None:
    await _deliver(stockroom)
    assert await _stock_entries(stockroom) == [], "the opening balances carry the opening stock"
    assert await _ledger_inventory(stockroom) == await _stock_value(stockroom) > 0


async def test_a_delivery_posts_inventory_against_accounts_payable_once(stockroom: Stockroom) -> None:
    delivery = {
        "location_id": stockroom.places["Kitchen"],
        "lines": [(stockroom.items["Cheddar"], 1_000_000, 1_450), (stockroom.items["Eggs"], 30_000, 990)],
        "supplier": "Metro",
        "reference": "DN-7",
        "source_key": "delivery:dn-7",
    }
    async with stockroom.runtime.db.write() as session:
        moves = await receive_delivery(session, **delivery)
    assert len(await _stock_entries(stockroom)) == 0, "nothing is posted before the outbox delivers"
    await _deliver(stockroom)
    [(entry, amounts)] = await _stock_entries(stockroom)
    assert amounts == {"1100": 2_440, "2030": -2_440}
    assert entry.description == "Delivery from Metro (DN-7)"
    assert entry.source_id == str(moves[0].operation_id)
    assert entry.idempotency_key == f"stock:{moves[0].operation_id}"

    async with stockroom.runtime.db.write() as session:
        again = await receive_delivery(session, **delivery)
        assert [m.id for m in again] == [m.id for m in moves]
        assert await postings.attempt(session, STOCK_BOOKED_TOPIC, {"operation_id": moves[0].operation_id})
    await _deliver(stockroom)
    assert len(await _stock_entries(stockroom)) == 1, "a repeated delivery or message posts nothing more"
    async with stockroom.runtime.db.read() as session:
        owed = (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == STOCK_BOOKED_TOPIC))).all()
    assert len(owed) == 1
    assert await _ledger_inventory(stockroom) == await _stock_value(stockroom)
    assert await _books_balance(stockroom) == 0


async def test_a_count_posts_its_shortfall_and_its_surplus_against_the_variance_account(
    stockroom: Stockroom,
) -> None:
    async with stockroom.runtime.db.write() as session:
        short_moves = await record_count(
            session,
            location_id=stockroom.places["Bar"],
            counts=[(stockroom.items["Gin"], 6_500_000)],
            note="month end",
            source_key="count:bar",
        )
        over_moves = await record_count(
            session,
            location_id=stockroom.places["Kitchen"],
            counts=[(stockroom.items["Eggs"], 66_000)],
            source_key="count:kitchen",
        )
        unchanged = await record_count(
            session,
            location_id=stockroom.places["Kitchen"],
            counts=[(stockroom.items["Eggs"], 66_000)],
            source_key="count:kitchen-again",
        )
    assert unchanged == [], "a count that agrees with the books moves nothing"
    await _deliver(stockroom)
    [(short, short_amounts), (over, over_amounts)] = await _stock_entries(stockroom)
    gin_short = -sum(m.value_cents for m in short_moves)
    assert gin_short == 1_428  # half a litre of a 7-litre, 200.00 delivery, at its average unit cost
    assert short.description == "Stock count: month end"
    assert short_amounts == {"5030": gin_short, "1100": -gin_short}
    eggs_over = sum(m.value_cents for m in over_moves)
    assert eggs_over == 180  # six eggs at 0.30
    assert over.description == "Stock count"
    assert over_amounts == {"1100": eggs_over, "5030": -eggs_over}
    assert await _ledger_inventory(stockroom) == await _stock_value(stockroom)
    assert await _books_balance(stockroom) == 0


async def test_recorded_waste_posts_its_cost_and_a_transfer_posts_nothing(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        wasted = await record_waste(
            session,
            stock_item_id=stockroom.items["Burrata"],
            location_id=stockroom.places["Kitchen"],
            quantity_milli=2_000,
            reason="past its date",
            source_key="waste:burrata",
        )
        await transfer_stock(
            session,
            stock_item_id=stockroom.items["Potatoes"],
            from_location_id=stockroom.places["Storeroom"],
            to_location_id=stockroom.places["Kitchen"],
            quantity_milli=5_000_000,
        )
    await _deliver(stockroom)
    [(entry, amounts)] = await _stock_entries(stockroom)
    cost = -sum(m.value_cents for m in wasted)
    assert cost == 480
    assert amounts == {"5020": cost, "1100": -cost}
    assert entry.description == "Waste: past its date"
    assert await _ledger_inventory(stockroom) == await _stock_value(stockroom)
    assert await _books_balance(stockroom) == 0


async def test_a_delivery_on_a_closed_day_posts_on_the_next_open_day(stockroom: Stockroom) -> None:
    async with stockroom.runtime.db.write() as session:
        moves = await receive_delivery(
            session, location_id=stockroom.places["Bar"], lines=[(stockroom.items["Gin"], 700_000, 2_000)]
        )
        operation = await session.get(StockOperation, moves[0].operation_id)
        assert operation is not None
    async with stockroom.runtime.db.read() as session:
        own_day = business_day(settings_of(session), operation.created_at)
    async with stockroom.runtime.db.write() as session:
        await lock_day(session, own_day, reason="closed")
    await _deliver(stockroom)
    [(entry, amounts)] = await _stock_entries(stockroom)
    assert entry.date == own_day + dt.timedelta(days=1)
    assert entry.description == "Delivery from a supplier"
    assert amounts == {"1100": 2_000, "2030": -2_000}


async def test_an_unmapped_account_keeps_the_delivery_and_waits_as_an_exception_until_retried(
    stockroom: Stockroom,
) -> None:
    async with stockroom.runtime.db.write() as session:
        mapping = (
            await session.exec(
                select(PostingMapping).where(
                    PostingMapping.kind == MappingKind.ACCOUNT, PostingMapping.subject == "accounts_payable"
                )
            )
        ).one()
        await session.delete(mapping)
    async with stockroom.runtime.db.write() as session:
        await receive_delivery(
            session,
            location_id=stockroom.places["Kitchen"],
            lines=[(stockroom.items["Bacon"], 500_000, 900)],
            supplier="Butcher",
        )
    await _deliver(stockroom)
    assert await _stock_entries(stockroom) == []
    assert await stockroom.on_hand("Bacon") == 2_000_000, "the delivery itself stands"
    async with stockroom.runtime.db.read() as session:
        [problem] = (await session.exec(select(PostingException))).all()
    assert problem.status is ExceptionStatus.OPEN
    assert problem.topic == STOCK_BOOKED_TOPIC
    assert "no account is mapped for Accounts payable (deliveries)" in problem.reason

    async with stockroom.runtime.db.write() as session:
        session.add(PostingMapping(kind=MappingKind.ACCOUNT, subject="accounts_payable", account_code="2030"))
    async with stockroom.runtime.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        await retry_exception(session, exception_id=problem.id or 0, actor=manager)
        await retry_exception(session, exception_id=problem.id or 0, actor=manager)
    [(_, amounts)] = await _stock_entries(stockroom)
    assert amounts == {"1100": 900, "2030": -900}
    async with stockroom.runtime.db.read() as session:
        resolved = await session.get(PostingException, problem.id)
    assert resolved is not None
    assert resolved.status is ExceptionStatus.RESOLVED
    assert await _books_balance(stockroom) == 0
