"""Closed checks post to the books and the stockroom once; reopen, refund, tips and voids reverse or add."""

from __future__ import annotations

from typing import Any

from app.accounting.models import JournalEntry
from app.checks import adjustments, payments, refunds, splits, tips
from app.checks import services as checks
from app.checks.queries import check_money, load_check
from app.checks.terminal import SimulatedTerminal
from app.closes import posting_base, postings, refund_postings
from app.closes.models import CheckPosting, PostingKind
from app.inventory.models import MoveKind, OperationKind, StockMove, StockOperation
from app.orders import voids
from tests.integration.closes.arrange import deliver, entries, entry_lines, key, pay, person, rows, serve, tender_ids

BURGER_AND_BEER = ["GR-BUR", "BR-PIL"]


async def test_a_closed_check_posts_revenue_tax_tips_tender_and_cost_once(
    runtime: Any, demo: None, terminal: SimulatedTerminal
) -> None:
    served = await serve(runtime, BURGER_AND_BEER)
    await pay(runtime, terminal, served, "Card", tip=300)
    await deliver(runtime)
    await deliver(runtime)
    [entry] = await entries(runtime, JournalEntry.source_type == "check")
    lines = await entry_lines(runtime, entry.id or 0)
    async with runtime.db.read() as session:
        money = await check_money(session, await load_check(session, served.check_id))
    taxes = {t.rate.rate: t.tax for t in money.totals.taxes}
    assert lines["4010"] == -1850  # the burger, gross, as food
    assert lines["4030"] == -550  # the pilsner, as alcohol
    assert lines["2101"] == -taxes[max(taxes, key=lambda r: -r)]  # 9 % on food
    assert lines["2102"] == -taxes[max(taxes)]  # 21 % on drinks
    assert lines["2020"] == -300  # the tip is owed to staff, not revenue
    assert lines["1020"] == money.totals.total + 300  # card clearing takes total and tip
    assert lines["5010"] > 0
    assert lines["5010"] == -lines["1100"]
    assert sum(lines.values()) == 0
    [posting] = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.SALE)
    assert (posting.entry_id, posting.net_sales_cents, posting.tips_cents) == (entry.id, 2400, 300)
    [operation] = await rows(runtime, StockOperation, StockOperation.kind == OperationKind.SALE)
    assert operation.source_key == f"sale:check:{served.check_id}:1"
    moves = await rows(runtime, StockMove, StockMove.operation_id == operation.id)
    assert -sum(m.value_cents for m in moves) == lines["5010"]
    assert all(m.kind is MoveKind.SALE and m.quantity_milli < 0 for m in moves)


async def test_delivering_the_same_closing_twice_posts_it_once(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, BURGER_AND_BEER)
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    async with runtime.db.write() as session:
        assert await postings.attempt(session, posting_base.CLOSED_TOPIC, {"check_id": served.check_id, "sequence": 1})
    assert len(await entries(runtime, JournalEntry.source_type == "check")) == 1
    assert len(await rows(runtime, StockOperation, StockOperation.kind == OperationKind.SALE)) == 1
    assert len(await rows(runtime, CheckPosting)) == 1


async def test_discounts_and_comps_are_contra_revenue_kept_apart(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, ["PA-CAR", "PA-RIS", "DS-TIR"])
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        await adjustments.add_comp(
            session, check_id=served.check_id, actor=manager, reason="Long wait", line_id=served.line_ids["DS-TIR"]
        )
        await adjustments.add_discount(
            session, check_id=served.check_id, actor=manager, kind="percent", value="10", reason="Loyalty"
        )
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    [entry] = await entries(runtime, JournalEntry.source_type == "check")
    lines = await entry_lines(runtime, entry.id or 0)
    assert lines["4010"] == -(1750 + 1900 + 900)  # gross revenue, before anything came off
    assert lines["4510"] == 900  # the comped tiramisu
    assert lines["4500"] == (1750 + 1900) // 10  # 10 % off what was left
    assert sum(lines.values()) == 0


async def test_reopening_reverses_the_closing_and_closing_again_posts_it_afresh(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, BURGER_AND_BEER)
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        await refunds.reopen_check(session, check_id=served.check_id, actor=manager, reason="Wrong table")
    await deliver(runtime)
    async with runtime.db.write() as session:
        await checks.close_check(session, check_id=served.check_id, actor=manager)
    await deliver(runtime)
    first, reversal, second = await entries(runtime, JournalEntry.source_type == "check")
    assert reversal.reverses_id == first.id
    assert await entry_lines(runtime, reversal.id or 0) == {
        k: -v for k, v in (await entry_lines(runtime, first.id or 0)).items()
    }
    assert await entry_lines(runtime, second.id or 0) == await entry_lines(runtime, first.id or 0)
    kinds = [p.kind for p in await rows(runtime, CheckPosting)]
    assert kinds == [PostingKind.SALE, PostingKind.REVERSAL, PostingKind.SALE]
    # The stock went out, came back on reopening, and went out again: once, net.
    moved = await rows(runtime, StockMove)
    assert sum(m.quantity_milli for m in moved if m.kind is MoveKind.SALE) == 2 * -sum(
        m.quantity_milli for m in moved if m.kind is MoveKind.REFUND_RETURN
    )


async def test_a_refund_reverses_revenue_tax_and_tender_and_returns_stock_only_when_resaleable(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, BURGER_AND_BEER)
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.read() as session:
        money = await check_money(session, await load_check(session, served.check_id))
    beer = money.line_totals[served.line_ids["BR-PIL"]]
    [refund] = await refunds.refund(
        runtime.db,
        terminal,
        refunds.RefundRequest(
            check_id=served.check_id,
            actor=manager,
            reason="Flat beer",
            idempotency_key=key(),
            line_ids=(served.line_ids["BR-PIL"],),
        ),
    )
    await deliver(runtime)
    [entry] = await entries(runtime, JournalEntry.source_type == "refund")
    lines = await entry_lines(runtime, entry.id or 0)
    assert lines == {"4030": beer.net, "2102": beer.tax, "1010": -(beer.net + beer.tax)}
    # Not marked resaleable: the beer was poured, nothing comes back.
    assert await rows(runtime, StockMove, StockMove.kind == MoveKind.REFUND_RETURN) == []
    async with runtime.db.write() as session:
        returned = await refund_postings.return_refund_to_stock(session, refund.id or 0)
        again = await refund_postings.return_refund_to_stock(session, refund.id or 0)
    assert returned.id == again.id
    back = await rows(runtime, StockMove, StockMove.kind == MoveKind.REFUND_RETURN)
    assert back
    assert all(m.quantity_milli > 0 for m in back)
    [stock_entry] = [e for e in await entries(runtime, JournalEntry.source_type == "refund") if e.id != entry.id]
    stock_lines = await entry_lines(runtime, stock_entry.id or 0)
    assert stock_lines["1100"] == sum(m.value_cents for m in back) == -stock_lines["5010"]


async def test_a_tip_adjusted_after_posting_moves_the_difference_once(
    runtime: Any, demo: None, terminal: SimulatedTerminal
) -> None:
    served = await serve(runtime, BURGER_AND_BEER)
    outcome = await pay(runtime, terminal, served, "Card", tip=200)
    await deliver(runtime)
    manager = await person(runtime, "Nora Vance")
    assert outcome.payment is not None
    await tips.adjust_tip(runtime.db, terminal, payment_id=outcome.payment.id or 0, tip_cents=500, actor=manager)
    await deliver(runtime)
    _sale, tip = await entries(runtime, JournalEntry.source_type == "check")
    assert await entry_lines(runtime, tip.id or 0) == {"1020": 300, "2020": -300}


async def test_a_void_after_fire_books_its_ingredients_as_waste(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, ["GR-BUR", "PA-CAR"])
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["GR-BUR"],
            actor=manager,
            expected_version=None,
            reason="Dropped",
        )
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    [waste] = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.WASTE)
    assert waste.cost_cents > 0
    [entry] = await entries(runtime, JournalEntry.source_type == "void")
    assert await entry_lines(runtime, entry.id or 0) == {"5020": waste.cost_cents, "1100": -waste.cost_cents}
    moves = await rows(runtime, StockMove, StockMove.kind == MoveKind.WASTE)
    assert -sum(m.value_cents for m in moves) == waste.cost_cents
    [sale] = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.SALE)
    assert (sale.void_count, sale.net_sales_cents) == (1, 1750)


async def test_with_waste_switched_off_a_void_after_fire_moves_nothing(
    runtime: Any, demo: None, terminal: SimulatedTerminal, settings: Any, cash_drawer: Any
) -> None:
    settings.void_after_fire_is_waste = False
    served = await serve(runtime, ["GR-BUR", "PA-CAR"])
    manager = await person(runtime, "Nora Vance")
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["GR-BUR"],
            actor=manager,
            expected_version=None,
            reason="Dropped",
        )
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    assert await rows(runtime, StockMove, StockMove.kind == MoveKind.WASTE) == []


async def test_split_checks_each_post_their_own_part(
    runtime: Any, demo: None, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    served = await serve(runtime, ["PA-CAR", "PA-RIS"], covers=2)
    async with runtime.db.write() as session:
        await splits.split_by_seat(session, check_id=served.check_id, actor=served.server)
    ids = await tender_ids(runtime)
    async with runtime.db.read() as session:
        from app.checks.queries import family

        members = await family(session, await load_check(session, served.check_id))
    for member in members:
        async with runtime.db.read() as session:
            due = (await check_money(session, member)).due
        await payments.take_payment(
            runtime.db,
            terminal,
            payments.PaymentRequest(
                check_id=member.id or 0,
                tender_id=ids["Cash"],
                actor=served.server,
                idempotency_key=key(),
                amount_cents=due,
                tendered_cents=due,
            ),
        )
    await deliver(runtime)
    posted = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.SALE)
    assert sorted(p.net_sales_cents for p in posted) == [1750, 1900]
