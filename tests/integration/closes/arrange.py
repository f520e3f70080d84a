"""A service arranged through the real services: ring in with forced modifiers answered, send, pay, deliver."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from app.accounting.models import Account, JournalEntry, JournalLine
from app.checks import attempts, payments
from app.checks.models import Tender
from app.checks.queries import check_money, load_check
from app.checks.terminal import SimulatedTerminal
from app.floor.models import DiningTable
from app.menu.models import MenuItem
from app.orders import firing, seating
from app.orders import lines as order_lines
from app.orders import queries as order_queries
from app.staff.models import Staff


@dataclass
class Served:
    """A check rung in and sent: its id, line ids by sku, and its server."""

    check_id: int
    line_ids: dict[str, int]
    server: Staff


async def person(runtime: Any, name: str) -> Staff:
    async with runtime.db.read() as session:
        return (await session.exec(select(Staff).where(Staff.name == name))).one()


async def tender_ids(runtime: Any) -> dict[str, int]:
    async with runtime.db.read() as session:
        return {t.name: t.id or 0 for t in (await session.exec(select(Tender))).all()}


async def serve(
    runtime: Any, skus: list[str], *, table: str = "7", server: str = "Lena Brooks", covers: int = 2
) -> Served:
    """Seat `table`, ring the items in (first answer to every forced question) and send them."""
    staff = await person(runtime, server)
    line_ids: dict[str, int] = {}
    async with runtime.db.write() as session:
        menu = {i.sku: i for i in (await session.exec(select(MenuItem))).all()}
        table_row = (await session.exec(select(DiningTable).where(DiningTable.name == table))).one()
        check = await seating.open_check(session, table_id=table_row.id, covers=covers, server=staff, kind="table")
        for seat, sku in enumerate(skus, start=1):
            item = menu[sku]
            questions = await order_queries.modifier_questions(session, item.id or 0)
            choices = tuple(o.id for q in questions for o in q.options[: q.min_choices])
            line = await order_lines.add_line(
                session,
                check_id=check.id or 0,
                request=order_lines.LineRequest(
                    menu_item_id=item.id or 0, seat=min(seat, covers), modifier_ids=choices
                ),
                actor=staff,
                expected_version=None,
            )
            line_ids[sku if sku not in line_ids else f"{sku}#{seat}"] = line.id or 0
        await firing.send(session, check_id=check.id or 0, actor=staff, expected_version=None)
    return Served(check.id or 0, line_ids, staff)


async def total(runtime: Any, check_id: int) -> int:
    async with runtime.db.read() as session:
        return (await check_money(session, await load_check(session, check_id))).totals.total


async def pay(
    runtime: Any, terminal: SimulatedTerminal, served: Served, tender: str = "Card", *, tip: int = 0
) -> attempts.PaymentOutcome:
    """Pay what is due in one tender (cash handed over exactly)."""
    ids = await tender_ids(runtime)
    due = await total(runtime, served.check_id)
    request = payments.PaymentRequest(
        check_id=served.check_id,
        tender_id=ids[tender],
        actor=served.server,
        idempotency_key=uuid.uuid4().hex,
        amount_cents=due,
        tip_cents=tip,
        tendered_cents=due if tender == "Cash" else None,
    )
    outcome = await payments.take_payment(runtime.db, terminal, request)
    assert outcome.closed, outcome.message
    return outcome


async def deliver(runtime: Any) -> int:
    """Deliver every outbox message that is due (the kitchen, the KDS, the postings)."""
    delivered = 0
    while True:
        count = await runtime.dispatcher.drain()
        delivered += count
        if not count:
            return delivered


async def entries(runtime: Any, *where: Any) -> list[JournalEntry]:
    async with runtime.db.read() as session:
        query = select(JournalEntry).where(*where).order_by(col(JournalEntry.id))
        return list((await session.exec(query)).all())


async def entry_lines(runtime: Any, entry_id: int) -> dict[str, int]:
    """An entry's lines as account code → signed cents (lines on one account added up)."""
    async with runtime.db.read() as session:
        rows = (
            await session.exec(
                select(Account.code, JournalLine.amount_cents)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(JournalLine.entry_id == entry_id)
            )
        ).all()
    result: dict[str, int] = {}
    for code, cents in rows:
        result[code] = result.get(code, 0) + cents
    return result


async def rows(runtime: Any, model: Any, *where: Any) -> list[Any]:
    async with runtime.db.read() as session:
        query = select(model).where(*where) if where else select(model)
        return list((await session.exec(query.order_by(model.id))).all())


def key() -> str:
    return uuid.uuid4().hex


async def print_all(runtime: Any) -> int:
    """Send every pending print job to its (file) printer, as the print worker would."""
    from printers.worker import PrintWorker

    return await PrintWorker(runtime.db, retry_delays=(0.0,)).drain()


async def settle(runtime: Any) -> None:
    """Deliver the outbox and print until nothing is owed."""
    for _ in range(10):
        if not await deliver(runtime) and not await print_all(runtime):
            return


async def unmap_category(runtime: Any, name: str) -> int:
    """Take a category's revenue mapping away (as if it was never set); returns the category id."""
    from app.closes.models import MappingKind, PostingMapping
    from app.menu.models import MenuCategory

    async with runtime.db.write() as session:
        category = (await session.exec(select(MenuCategory).where(MenuCategory.name == name))).one()
        row = (
            await session.exec(
                select(PostingMapping).where(
                    PostingMapping.kind == MappingKind.CATEGORY, PostingMapping.subject == str(category.id)
                )
            )
        ).one()
        await session.delete(row)
        return category.id or 0
