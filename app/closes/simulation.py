"""A service day driven through the real services: seat, order with modifiers, fire, bump, split some,
pay with mixed tenders and tips, then check out, count the drawer and close the day (`brigade simulate`).

Nothing here writes a row directly: every change goes through the command a tablet, a kitchen screen or a
manager would use, so the books, the stockroom and the reports come out of the same code as in service.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from app.accounting.queries import trial_balance
from app.checks import adjustments
from app.checks import payments as check_payments
from app.checks import refunds as check_refunds
from app.checks import services as checks
from app.checks import splits as check_splits
from app.checks.models import Tender, TenderKind
from app.checks.queries import check_money, family, load_check
from app.checks.terminal import PaymentTerminal
from app.closes import drawer_queries, queries, reports
from app.closes.checkouts import check_out_server
from app.closes.day_close import DayNotReady, close_day
from app.closes.drawers import close_drawer, open_drawer
from app.closes.guards import today
from app.closes.mappings import seed_posting_mappings
from app.closes.models import DrawerSession, DrawerStatus
from app.floor.models import DiningTable
from app.kitchen import bumping as kitchen
from app.kitchen.models import KitchenTicket, TicketState
from app.lib.db import Database
from app.lib.errors import DomainError
from app.lib.outbox import OutboxDispatcher
from app.menu.models import Course, MenuItem
from app.orders import firing, seating, voids
from app.orders import lines as order_lines
from app.orders import queries as order_queries
from app.orders.models import Check, CheckKind, CheckLine, CheckStatus, LineState
from app.staff.models import Staff
from app.staff.permissions import Role

Drain = Callable[[], Awaitable[int]]
# The simulated terminal declines amounts ending in .51 and never answers for .52: keep card payments clear of them.
TERMINAL_TRAPS = (51, 52)


@dataclass
class SimulationResult:
    """What a simulated day did and how the books stand after it."""

    day: Any = None
    checks_closed: int = 0
    splits: int = 0
    voids: int = 0
    comps: int = 0
    discounts: int = 0
    refunds: int = 0
    reopened: int = 0
    payments: dict[str, int] = field(default_factory=dict)
    net_sales_cents: int = 0
    tips_cents: int = 0
    trial_balance_net_cents: int = 0
    closed: bool = False
    blockers: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short report for the terminal."""
        tenders = ", ".join(f"{name} {count}" for name, count in sorted(self.payments.items()))
        result = [
            f"business day {self.day}: {self.checks_closed} checks closed",
            f"  splits {self.splits}, voids after fire {self.voids}, comps {self.comps}, discounts {self.discounts}, "
            f"refunds {self.refunds}, reopened {self.reopened}",
            f"  payments: {tenders}",
            f"  net sales {self.net_sales_cents / 100:.2f}, tips {self.tips_cents / 100:.2f}",
            f"  trial balance nets to {self.trial_balance_net_cents / 100:.2f}",
        ]
        if self.closed:
            result.append("  day closed, Z report stored and printed, books locked")
        elif self.blockers:
            result.append("  day not closed: " + "; ".join(self.blockers))
        return result


class _Day:
    def __init__(
        self,
        db: Database,
        dispatcher: OutboxDispatcher,
        terminal: PaymentTerminal,
        drain_prints: Drain | None,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.terminal = terminal
        self.drain_prints = drain_prints
        self.rng = rng
        self.result = SimulationResult()

    async def setup(self) -> None:
        async with self.db.write() as session:
            await seed_posting_mappings(session)
        async with self.db.read() as session:
            staff = list((await session.exec(select(Staff).where(col(Staff.archived_at).is_(None)))).all())
            self.manager = next(s for s in staff if s.role in (Role.MANAGER, Role.ADMIN))
            self.servers = [s for s in staff if s.role is Role.SERVER]
            self.bartenders = [s for s in staff if s.role is Role.BARTENDER] or self.servers
            self.tables = list(
                (await session.exec(select(DiningTable).where(col(DiningTable.archived_at).is_(None)))).all()
            )
            self.menu = [section for section in await order_queries.entry_menu(session)]
            self.tenders = {
                t.kind: t for t in (await session.exec(select(Tender).where(col(Tender.archived_at).is_(None)))).all()
            }
            self.day = await today(session)
            drawer = (
                await session.exec(select(DrawerSession).where(DrawerSession.status == DrawerStatus.OPEN))
            ).first()
        self.result.day = self.day
        if not self.servers:
            raise DomainError("The simulation needs at least one server on the staff.")
        if drawer is None:
            async with self.db.write() as session:
                await open_drawer(session, name="Main", float_cents=20000, actor=self.manager)

    def _items(self, course: Course | None = None) -> list[MenuItem]:
        items = [
            button.item
            for section in self.menu
            for button in section.items
            if not button.item.is_86d and (course is None or section.category.course is course)
        ]
        return items

    async def _choices(self, item: MenuItem) -> tuple[int, ...]:
        async with self.db.read() as session:
            questions = await order_queries.modifier_questions(session, item.id or 0)
        chosen: list[int] = []
        for question in questions:
            if not question.options:
                continue
            wanted = question.min_choices
            if wanted == 0 and self.rng.random() < 0.3:
                wanted = 1
            wanted = min(wanted, question.max_choices, len(question.options))
            chosen.extend(option.id for option in self.rng.sample(list(question.options), wanted))
        return tuple(chosen)

    async def drain(self) -> None:
        for _ in range(20):
            delivered = await self.dispatcher.drain()
            printed = await self.drain_prints() if self.drain_prints else 0
            if not delivered and not printed:
                return

    async def serve_one(self, number: int) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.12:
            kind, server, table, covers = CheckKind.TAB, rng.choice(self.bartenders), None, rng.randint(1, 3)
        elif roll < 0.2:
            kind, server, table, covers = CheckKind.TAKEOUT, rng.choice(self.servers), None, 1
        else:
            table = self.tables[number % len(self.tables)]
            kind, server, covers = (
                CheckKind.TABLE,
                rng.choice(self.servers),
                rng.randint(1, max(1, min(table.seats, 6))),
            )
        async with self.db.write() as session:
            check = await seating.open_check(
                session,
                table_id=table.id if table else None,
                covers=covers,
                server=server,
                kind=kind,
                tab_name=f"Guest {number}" if kind is CheckKind.TAB else None,
            )
            check_id = check.id or 0
        drinks = self._items(Course.DRINKS)
        food = [i for i in self._items() if i not in drinks] or drinks
        for seat in range(1, covers + 1):
            picks = [rng.choice(drinks)] if kind is CheckKind.TAB else []
            if kind is not CheckKind.TAB:
                picks = [rng.choice(drinks), rng.choice(food)] + ([rng.choice(food)] if rng.random() < 0.4 else [])
            for item in picks:
                request = order_lines.LineRequest(
                    menu_item_id=item.id or 0,
                    seat=seat if kind is CheckKind.TABLE else None,
                    modifier_ids=await self._choices(item),
                    quantity=2 if rng.random() < 0.08 else 1,
                )
                try:
                    async with self.db.write() as session:
                        await order_lines.add_line(
                            session, check_id=check_id, request=request, actor=server, expected_version=None
                        )
                except DomainError:
                    continue  # 86'd while we were ordering: a server would pick something else
        async with self.db.write() as session:
            lines = (await session.exec(select(CheckLine).where(CheckLine.check_id == check_id))).all()
            if not lines:
                await checks.close_check(session, check_id=check_id, actor=server)
                return
            await firing.send(session, check_id=check_id, actor=server, expected_version=None)
        await self.drain()
        await self._bump(check_id)
        await self._adjust(check_id, server)
        await self._split_and_pay(check_id, server)

    async def _bump(self, check_id: int) -> None:
        async with self.db.read() as session:
            tickets = (
                await session.exec(
                    select(KitchenTicket)
                    .where(KitchenTicket.check_id == check_id, KitchenTicket.state == TicketState.OPEN)
                    .order_by(col(KitchenTicket.is_expo), col(KitchenTicket.id))
                )
            ).all()
        for ticket in tickets:
            try:
                async with self.db.write() as session:
                    await kitchen.bump_ticket(session, ticket.id or 0, staff_id=None)
            except DomainError:
                continue
        await self.drain()

    async def _adjust(self, check_id: int, server: Staff) -> None:
        rng = self.rng
        async with self.db.read() as session:
            sent = list(
                (
                    await session.exec(
                        select(CheckLine).where(CheckLine.check_id == check_id, CheckLine.state == LineState.SENT)
                    )
                ).all()
            )
        if len(sent) > 2 and rng.random() < 0.06:
            line = rng.choice(sent)
            async with self.db.write() as session:
                await voids.void_line(
                    session,
                    check_id=check_id,
                    line_id=line.id or 0,
                    actor=self.manager,
                    expected_version=None,
                    reason=rng.choice(["Guest changed mind", "Wrong item rung in", "Took too long"]),
                )
            self.result.voids += 1
            await self.drain()
            sent.remove(line)
        if sent and rng.random() < 0.05:
            async with self.db.write() as session:
                await adjustments.add_comp(
                    session,
                    check_id=check_id,
                    actor=self.manager,
                    reason=rng.choice(adjustments.COMP_REASONS),
                    line_id=rng.choice(sent).id,
                )
            self.result.comps += 1
        elif rng.random() < 0.07:
            async with self.db.write() as session:
                await adjustments.add_discount(
                    session,
                    check_id=check_id,
                    actor=self.manager,
                    kind="percent",
                    value=rng.choice(["10", "15", "20"]),
                    reason=rng.choice(adjustments.DISCOUNT_REASONS),
                )
            self.result.discounts += 1

    async def _split_and_pay(self, check_id: int, server: Staff) -> None:
        rng = self.rng
        async with self.db.read() as session:
            money = await check_money(session, await load_check(session, check_id))
            seats = {line.seat for line in money.live_lines if line.seat is not None}
        if money.totals.total > 0 and rng.random() < 0.12:
            try:
                async with self.db.write() as session:
                    if len(seats) >= 2 and rng.random() < 0.6:
                        await check_splits.split_by_seat(session, check_id=check_id, actor=server)
                    else:
                        await check_splits.split_evenly(session, check_id=check_id, ways=2, actor=server)
                self.result.splits += 1
            except DomainError:
                pass
        async with self.db.read() as session:
            members = [
                m for m in await family(session, await load_check(session, check_id)) if m.status is CheckStatus.OPEN
            ]
            if not members:
                members = [await load_check(session, check_id)]
        for member in members:
            await self._pay(member.id or 0, server)

    async def _pay(self, check_id: int, server: Staff) -> None:
        for _ in range(6):
            async with self.db.read() as session:
                check = await load_check(session, check_id)
                if check.status is not CheckStatus.OPEN:
                    break
                money = await check_money(session, check)
            if money.due <= 0:
                async with self.db.write() as session:
                    await checks.close_check(session, check_id=check_id, actor=server)
                break
            portion = next((p for p in money.portions if p.remaining > 0), None)
            due = min(portion.remaining, money.due) if portion else money.due
            await self._tender(check_id, server, due, portion.portion.id if portion else None)
        async with self.db.read() as session:
            if (await load_check(session, check_id)).status is CheckStatus.CLOSED:
                self.result.checks_closed += 1

    async def _tender(self, check_id: int, server: Staff, due: int, portion_id: int | None) -> None:
        rng = self.rng
        roll = rng.random()
        card = self.tenders.get(TenderKind.CARD)
        cash = self.tenders.get(TenderKind.CASH)
        # A house account must be chosen and a gift card scanned: the simulation's guests pay otherwise.
        other = [t for kind, t in self.tenders.items() if kind is TenderKind.OTHER]
        amount = due
        if roll < 0.55 and card is not None:
            tender = card
        elif roll < 0.65 and card is not None and cash is not None and due > 1000:
            tender, amount = cash, due // 2
        elif roll < 0.7 and other:
            tender = rng.choice(other)
        else:
            tender = cash or card or next(iter(self.tenders.values()))
        tip = 0
        if tender.allows_tip:
            tip = amount * rng.choice([0, 5, 10, 10, 15, 20]) // 100
        if tender.uses_terminal and (amount % 100 in TERMINAL_TRAPS or (amount + tip) % 100 in TERMINAL_TRAPS):
            tender, tip = (cash, 0) if cash is not None else (tender, tip + 5)
        tendered = None
        if tender.kind is TenderKind.CASH:
            tendered = amount if rng.random() < 0.4 else ((amount + 499) // 500) * 500
        request = check_payments.PaymentRequest(
            check_id=check_id,
            tender_id=tender.id or 0,
            actor=server,
            idempotency_key=uuid.uuid4().hex,
            amount_cents=amount,
            tip_cents=tip,
            tendered_cents=tendered,
            portion_id=portion_id,
        )
        outcome = await check_payments.take_payment(self.db, self.terminal, request)
        if outcome.payment is not None:
            self.result.payments[tender.name] = self.result.payments.get(tender.name, 0) + 1

    async def extras(self) -> None:
        """A refund of one line and a reopened check, as any real night has."""
        async with self.db.read() as session:
            closed = list(
                (
                    await session.exec(
                        select(Check).where(Check.status == CheckStatus.CLOSED).order_by(col(Check.id)).limit(40)
                    )
                ).all()
            )
        for check in closed:
            async with self.db.read() as session:
                money = await check_money(session, check)
            cash_paid = [p for p in money.payments if money.tenders[p.tender_id].kind is TenderKind.CASH]
            charged = [t for t in money.totals.lines if t.total > 0]
            if cash_paid and len(money.payments) == 1 and charged and not money.refunds and self.result.refunds == 0:
                await check_refunds.refund(
                    self.db,
                    self.terminal,
                    check_refunds.RefundRequest(
                        check_id=check.id or 0,
                        actor=self.manager,
                        reason="Guest found it cold",
                        idempotency_key=uuid.uuid4().hex,
                        line_ids=(charged[0].line_id,),
                        payment_id=cash_paid[0].id,
                    ),
                )
                self.result.refunds += 1
            elif not money.refunds and self.result.reopened == 0 and money.payments:
                async with self.db.write() as session:
                    await check_refunds.reopen_check(
                        session, check_id=check.id or 0, actor=self.manager, reason="Wrong tender keyed"
                    )
                async with self.db.write() as session:
                    await checks.close_check(session, check_id=check.id or 0, actor=self.manager)
                self.result.reopened += 1
            if self.result.refunds and self.result.reopened:
                break
        await self.drain()

    async def close(self) -> None:
        """Every server checks out, the drawer is counted, the day closes."""
        await self.drain()
        async with self.db.read() as session:
            people = await queries.servers_of_day(session, self.day)
        for person in people:
            try:
                async with self.db.write() as session:
                    await check_out_server(
                        session,
                        staff_id=person.id or 0,
                        day=self.day,
                        declared_cash_tips_cents=self.rng.randint(0, 40) * 50,
                        actor=self.manager,
                    )
            except DomainError as exc:
                self.result.blockers.append(exc.message)
        async with self.db.read() as session:
            open_drawers = (
                await session.exec(select(DrawerSession).where(DrawerSession.status == DrawerStatus.OPEN))
            ).all()
            expected = {d.id: await drawer_queries.drawer_expected(session, d) for d in open_drawers}
        for drawer_id, cents in expected.items():
            async with self.db.write() as session:
                await close_drawer(session, drawer_id=drawer_id or 0, counted_cents=cents, actor=self.manager)
        await self.drain()
        try:
            async with self.db.write() as session:
                await close_day(session, day=self.day, actor=self.manager)
            self.result.closed = True
        except DayNotReady as exc:
            self.result.blockers = list(exc.detail.get("blockers", [exc.message]))
        await self.drain()

    async def totals(self) -> None:
        async with self.db.read() as session:
            z = await reports.z_report(session, self.day)
            self.result.net_sales_cents = z.net_sales_cents
            self.result.tips_cents = z.tips_cents
            self.result.trial_balance_net_cents = (await trial_balance(session, self.day)).net_cents


async def simulate(
    db: Database,
    dispatcher: OutboxDispatcher,
    terminal: PaymentTerminal,
    *,
    checks_count: int,
    close: bool,
    seed: int = 7,
    drain_prints: Drain | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run a service day of `checks_count` checks through the real services; close it when asked."""
    if not 1 <= checks_count <= 5000:
        raise DomainError("Simulate between 1 and 5000 checks.")
    day = _Day(db, dispatcher, terminal, drain_prints, random.Random(seed))
    await day.setup()
    for number in range(1, checks_count + 1):
        await day.serve_one(number)
        if progress is not None and number % 25 == 0:
            progress(number)
    await day.extras()
    if close:
        await day.close()
    await day.totals()
    return day.result
