"""Gift cards: sold on a check as a liability, active once paid, spent as a tender inside the payment's transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import col

from app.accounting.exports import export_ledger
from app.checks import attempts, payments
from app.checks.models import Payment, PaymentAttempt, Refund
from app.checks.terminal import SimulatedTerminal
from app.closes.models import CheckPosting
from app.closes.reports import z_report
from app.giftcards import calculations as calc
from app.giftcards import queries
from app.giftcards.models import GiftCard, GiftCardMovement, GiftCardStatus, MovementKind
from app.kitchen.models import Printer, PrintJob
from app.lib.audit import AuditEntry
from app.lib.db import Database
from app.orders.models import CheckLine, CheckStatus
from printers.queue import job_bytes
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, staff, tenders
from tests.integration.closes.arrange import deliver
from tests.integration.giftcards.arrange import (
    SOUP,
    card,
    ledger_balance,
    open_balances,
    pay,
    pay_rest_in_cash,
    sell,
    sold_card,
)
from tests.support.escpos_decoder import decode


async def test_a_card_sold_on_a_check_is_a_liability_activated_when_the_check_is_paid(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=SOUP)
    food = (await money(runtime, arranged.check_id)).totals.total
    page = await server.get(f"/checks/{arranged.check_id}/gift-cards")
    assert page.status_code == 200
    assert "€25.00" in page.text, "the preset amounts are offered"
    assert "€100.00" in page.text
    response = await sell(server, runtime, arranged.check_id, preset=5000)
    assert response.status_code == 200, response.text
    assert "It can be spent once the check is paid" in response.text
    [sold] = await rows(runtime, GiftCard)
    assert sold.status is GiftCardStatus.PENDING
    assert sold.balance_cents == 0
    assert len(sold.number) == 16
    assert calc.luhn_valid(sold.number)
    assert calc.grouped(sold.number) in response.text, "the number is shown with its QR code"
    assert "<svg" in response.text
    assert "QR code of gift card" in response.text
    m = await money(runtime, arranged.check_id)
    assert m.totals.total == food + 5000, "the card is on the bill at face value, without tax"
    line = next(line for line in m.lines if line.id == sold.line_id)
    assert (line.tax_rate_bp, line.station_id, line.unit_price_cents) == (0, None, 5000)

    refused = await pay(server, runtime, arranged.check_id, "Gift card", amount="5.00", gift_card_number=sold.number)
    assert refused.status_code == 409
    assert "not paid for yet" in refused.text, "a card cannot pay for itself before it is paid"
    await pay_rest_in_cash(server, runtime, arranged.check_id)
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
    active = await card(runtime, sold.id or 0)
    assert (active.status, active.balance_cents) == (GiftCardStatus.ACTIVE, 5000)
    [issue] = await rows(runtime, GiftCardMovement)
    assert (issue.kind, issue.amount_cents, issue.balance_after_cents) == (MovementKind.ISSUE, 5000, 5000)
    printed = await server.post(f"/checks/{arranged.check_id}/settle/receipt", {"idempotency_key": uuid.uuid4().hex})
    assert printed.status_code == 200, printed.text
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "receipt")
    [printer] = await rows(runtime, Printer, Printer.id == job.printer_id)
    paper = decode(job_bytes(job, primary=printer, target=printer))
    assert [e.value for e in paper.events_of("qr_data")] == [sold.number], "the receipt prints the card's QR code"
    assert paper.kinds().count("qr_print") == 1
    assert "Gift card €50.00" in paper.text
    assert f"{calc.grouped(sold.number)} · balance €50.00" in paper.text

    assert await ledger_balance(runtime, "2010") == 5000, "the sale credits the gift-card liability"
    [posting] = await rows(runtime, CheckPosting, CheckPosting.check_id == arranged.check_id)
    assert posting.net_sales_cents == food - posting.tax_cents
    assert posting.breakdown["gift_cards_sold"] == 5000
    async with runtime.db.read() as session:
        z = await z_report(session, posting.posted_day)
    assert z.gift_cards_sold_cents == 5000
    assert z.net_sales_cents == posting.net_sales_cents, "the Z report keeps gift cards out of net sales"
    assert sum(c.cents for c in z.categories) == z.net_sales_cents
    assert "Gift cards" not in [c.label for c in z.categories]


async def test_a_card_pays_in_part_then_in_full_and_a_charge_over_its_balance_changes_nothing(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    sold = await sold_card(server, runtime, 3000, table="7")
    dinner = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "PA-RIS")], table="8")
    due = (await money(runtime, dinner.check_id)).due
    assert due > 3000

    first = await pay(server, runtime, dinner.check_id, "Gift card", amount="12.50", gift_card_number=sold.number)
    assert first.status_code == 200, first.text
    assert f"Gift card {calc.masked(sold.number)} has €17.50 left." in first.text
    assert (await card(runtime, sold.id or 0)).balance_cents == 1750

    before = (len(await rows(runtime, Payment)), len(await rows(runtime, PaymentAttempt)))
    version = (await check_row(runtime, dinner.check_id)).version
    over = await pay(server, runtime, dinner.check_id, "Gift card", amount="20.00", gift_card_number=sold.number)
    assert over.status_code == 409
    assert "has €17.50 left, less than €20.00; charge €17.50 to it" in over.text
    assert "Nothing was charged" in over.text
    assert (len(await rows(runtime, Payment)), len(await rows(runtime, PaymentAttempt))) == before
    assert (await card(runtime, sold.id or 0)).balance_cents == 1750
    assert (await check_row(runtime, dinner.check_id)).version == version, (
        "the refused payment left the check as it was"
    )

    spaced = calc.grouped(sold.number)
    rest = await pay(server, runtime, dinner.check_id, "Gift card", amount="17.50", gift_card_number=spaced)
    assert rest.status_code == 200, rest.text
    assert "has €0.00 left" in rest.text
    empty = await card(runtime, sold.id or 0)
    assert empty.balance_cents == 0
    assert empty.status is GiftCardStatus.ACTIVE
    spent = [p for p in await rows(runtime, Payment) if p.check_id == dinner.check_id]
    assert [(p.amount_cents, p.card_last4) for p in spent] == [(1250, sold.last4), (1750, sold.last4)]
    assert {m.kind for m in await rows(runtime, GiftCardMovement, GiftCardMovement.card_id == sold.id)} == {
        MovementKind.ISSUE,
        MovementKind.REDEEM,
    }
    assert await pay_rest_in_cash(server, runtime, dinner.check_id)
    assert await ledger_balance(runtime, "2010") == 0 == await open_balances(runtime)


async def test_bad_card_numbers_and_amounts_are_refused_with_a_reason(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    dinner = await ring_in(runtime, items=SOUP, table="9")
    missing = await pay(server, runtime, dinner.check_id, "Gift card", amount="5.00")
    body = "412345678901234"
    mistyped = body + str((int(calc.luhn_digit(body)) + 1) % 10)
    assert missing.status_code == 422
    assert "Scan or type the gift card&#39;s number" in missing.text
    typo = await pay(server, runtime, dinner.check_id, "Gift card", amount="5.00", gift_card_number=mistyped)
    assert typo.status_code == 422
    assert "is not a gift card number" in typo.text
    unknown_number = body + calc.luhn_digit(body)
    unknown = await pay(server, runtime, dinner.check_id, "Gift card", amount="5.00", gift_card_number=unknown_number)
    assert unknown.status_code == 404
    assert "No gift card numbered" in unknown.text
    assert await rows(runtime, Payment) == []
    too_little = await sell(server, runtime, dinner.check_id, amount="0.50")
    assert too_little.status_code == 422
    assert "at least €1.00" in too_little.text
    too_much = await sell(server, runtime, dinner.check_id, amount="900.00")
    assert too_much.status_code == 422
    assert "at most €500.00" in too_much.text
    odd_preset = await sell(server, runtime, dinner.check_id, preset=1234)
    assert odd_preset.status_code == 422
    assert await rows(runtime, GiftCard) == []
    twice = {"amount": "40.00", "idempotency_key": uuid.uuid4().hex}
    assert (await post(server, runtime, dinner.check_id, "gift-cards", twice)).status_code == 200
    assert (await post(server, runtime, dinner.check_id, "gift-cards", twice)).status_code == 200
    assert len(await rows(runtime, GiftCard)) == 1, "a double tap sells one card"


async def test_two_tablets_spending_one_balance_at_the_same_moment_take_it_once(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any, settings: Any
) -> None:
    sold = await sold_card(server, runtime, 5000, table="7")
    first = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "PA-RIS")], table="8")
    second = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "PA-RIS")], table="9")
    lena = await staff(runtime, "Lena Brooks")
    gift = (await tenders(runtime))["Gift card"]
    # A second engine on the same database, as another process would hold: on SQLite the two writers meet in
    # the database's own lock, not in one process's queue.
    other = Database(runtime.db.url, context=runtime.db.context)
    try:

        async def spend(db: Database, check_id: int) -> attempts.PaymentOutcome | Exception:
            request = payments.PaymentRequest(
                check_id=check_id,
                tender_id=gift,
                actor=lena,
                idempotency_key=uuid.uuid4().hex,
                amount_cents=3000,
                gift_card_number=sold.number,
            )
            try:
                return await payments.take_payment(db, terminal, request)
            except Exception as exc:
                return exc

        outcomes = await asyncio.gather(spend(runtime.db, first.check_id), spend(other, second.check_id))
    finally:
        await other.dispose()
    taken = [o for o in outcomes if isinstance(o, attempts.PaymentOutcome)]
    refused = [o for o in outcomes if not isinstance(o, attempts.PaymentOutcome)]
    assert len(taken) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert "has €20.00 left, less than €30.00" in str(refused[0])
    assert (await card(runtime, sold.id or 0)).balance_cents == 2000
    assert [p.amount_cents for p in await rows(runtime, Payment) if p.tender_id == gift] == [3000]
    redeemed = await rows(runtime, GiftCardMovement, GiftCardMovement.kind == MovementKind.REDEEM)
    assert [m.balance_after_cents for m in redeemed] == [2000]


async def test_a_refund_of_a_card_payment_goes_back_on_the_card_and_the_liability_follows(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    sold = await sold_card(server, runtime, 4000, table="7")
    dinner = await ring_in(runtime, items=SOUP, table="8")
    due = (await money(runtime, dinner.check_id)).due
    assert due <= 4000
    paid = await pay(
        server, runtime, dinner.check_id, "Gift card", amount=f"{due / 100:.2f}", gift_card_number=sold.number
    )
    assert paid.status_code == 200, paid.text
    assert (await check_row(runtime, dinner.check_id)).status is CheckStatus.CLOSED
    assert await ledger_balance(runtime, "2010") == 4000 - due == await open_balances(runtime)
    response = await post(manager, runtime, dinner.check_id, "refund", {"scope": "full", "reason": "Soup was cold"})
    assert response.status_code == 200, response.text
    [refund] = await rows(runtime, Refund)
    assert refund.amount_cents == due
    back = await card(runtime, sold.id or 0)
    assert back.balance_cents == 4000
    [credited] = await rows(runtime, GiftCardMovement, GiftCardMovement.kind == MovementKind.REFUND)
    assert (credited.amount_cents, credited.refund_id, credited.balance_after_cents) == (due, refund.id, 4000)
    assert await ledger_balance(runtime, "2010") == 4000 == await open_balances(runtime)
    assert await rows(runtime, AuditEntry, col(AuditEntry.action) == "giftcards.refund")


async def test_reopening_a_check_takes_back_an_unspent_card_and_refuses_once_it_is_spent(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    sold = await sold_card(server, runtime, 2500, table="7")
    reopen = {"reason": "Wrong table", "manager_pin": ""}
    response = await post(manager, runtime, sold.sold_check_id, "reopen", reopen)
    assert response.status_code == 200, response.text
    back = await card(runtime, sold.id or 0)
    assert (back.status, back.balance_cents) == (GiftCardStatus.PENDING, 0)
    await pay_rest_in_cash(server, runtime, sold.sold_check_id)
    if (await check_row(runtime, sold.sold_check_id)).status is not CheckStatus.CLOSED:
        assert (await post(server, runtime, sold.sold_check_id, "settle/close")).status_code == 200
    assert (await card(runtime, sold.id or 0)).balance_cents == 2500
    dinner = await ring_in(runtime, items=SOUP, table="8")
    spent = await pay(server, runtime, dinner.check_id, "Gift card", amount="5.00", gift_card_number=sold.number)
    assert spent.status_code == 200, spent.text
    refused = await post(manager, runtime, sold.sold_check_id, "reopen", reopen)
    assert refused.status_code == 409
    assert "has already been spent; the check cannot be reopened" in refused.text
    assert (await check_row(runtime, sold.sold_check_id)).status is CheckStatus.CLOSED
    assert (await card(runtime, sold.id or 0)).balance_cents == 2000
    assert await ledger_balance(runtime, "2010") == 2500, "the spend reaches the books when its check closes"
    await pay_rest_in_cash(server, runtime, dinner.check_id)
    assert await ledger_balance(runtime, "2010") == await open_balances(runtime) == 2000


async def test_a_card_is_cancelled_on_its_page_never_voided_as_a_line_and_a_cancelled_card_stays_dead(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    dinner = await ring_in(runtime, items=SOUP, table="9")
    await sell(server, runtime, dinner.check_id, preset=2500)
    [sold] = await rows(runtime, GiftCard)
    voided = await manager.post(
        f"/checks/{dinner.check_id}/lines/{sold.line_id}/void",
        {
            "reason": "Changed their mind",
            "version": str((await check_row(runtime, dinner.check_id)).version),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert voided.status_code == 409, voided.text
    assert "on its own page" in voided.text
    cancelled = await post(server, runtime, dinner.check_id, f"gift-cards/{sold.id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert "was taken off the check" in cancelled.text
    assert (await money(runtime, dinner.check_id)).totals.total < 2500
    await pay_rest_in_cash(server, runtime, dinner.check_id)
    dead = await card(runtime, sold.id or 0)
    assert (dead.status, dead.balance_cents) == (GiftCardStatus.VOID, 0)
    other = await ring_in(runtime, items=SOUP, table="8")
    refused = await pay(server, runtime, other.check_id, "Gift card", amount="1.00", gift_card_number=sold.number)
    assert refused.status_code == 409
    assert "was cancelled" in refused.text
    assert await ledger_balance(runtime, "2010") == 0


async def test_the_balance_page_and_the_report_show_what_each_card_holds(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    sold = await sold_card(server, runtime, 6000, table="7")
    page = await server.get(f"/gift-cards?number={sold.number}")
    assert page.status_code == 200
    assert "€60.00</strong> left on gift card" in page.text
    assert "<html" in page.text
    fragment = await server.get(f"/gift-cards?number={sold.number}", htmx=True)
    assert "<html" not in fragment.text
    assert "€60.00</strong> left" in fragment.text
    bad = await server.get("/gift-cards?number=12", htmx=True)
    assert "is not a gift card number" in bad.text
    assert (await server.get("/reports/gift-cards")).status_code == 403, "the liability report is a manager's"
    await deliver(runtime)
    report = await manager.get(f"/reports/gift-cards?end={dt.date.today().isoformat()}")
    assert report.status_code == 200
    assert "€60.00" in report.text
    assert "agree" in report.text


async def test_the_liability_is_the_sum_of_open_balances_and_the_exports_pass_bean_check_and_hledger(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any, tmp_path: Path
) -> None:
    big = await sold_card(server, runtime, 10000, table="7")
    small = await sold_card(server, runtime, 2500, table="8")
    dinner = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "PA-RIS")], table="9")
    first = await pay(server, runtime, dinner.check_id, "Gift card", amount="20.00", gift_card_number=big.number)
    assert first.status_code == 200, first.text
    part = min(2500, (await money(runtime, dinner.check_id)).due - 100)
    second = await pay(
        server, runtime, dinner.check_id, "Gift card", amount=f"{part / 100:.2f}", gift_card_number=small.number
    )
    assert second.status_code == 200, second.text
    await pay_rest_in_cash(server, runtime, dinner.check_id)
    lunch = await ring_in(runtime, items=SOUP, table="10")
    due = (await money(runtime, lunch.check_id)).due
    await pay(server, runtime, lunch.check_id, "Gift card", amount=f"{due / 100:.2f}", gift_card_number=big.number)
    refunded = await post(manager, runtime, lunch.check_id, "refund", {"scope": "full", "reason": "Wrong order"})
    assert refunded.status_code == 200, refunded.text
    balances = await open_balances(runtime)
    assert balances == (10000 - 2000) + (2500 - part), "the lunch was refunded back onto the big card"
    assert await ledger_balance(runtime, "2010") == balances, "the liability account is what the cards hold"
    async with runtime.db.read() as session:
        assert await queries.outstanding_cents(session) == balances
        day = (await rows(runtime, CheckPosting))[-1].posted_day
        for fmt, check in (("beancount", bean_check), ("hledger", hledger_check)):
            content = await export_ledger(session, start=day, end=day, fmt=fmt, currency="EUR", title="Gift cards")
            path = tmp_path / f"books.{fmt}"
            path.write_text(content, encoding="utf-8")
            result = check(path)
            assert result.returncode == 0, result.stdout + result.stderr + content


async def test_refunding_a_card_sale_cancels_the_card_and_a_spent_card_cannot_be_refunded(
    server: Any, manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    unspent = await sold_card(server, runtime, 3000, table="7")
    refund = {"scope": "lines", "line_ids": [str(unspent.line_id)], "reason": "Bought the wrong amount"}
    response = await post(manager, runtime, unspent.sold_check_id, "refund", refund)
    assert response.status_code == 200, response.text
    cancelled = await card(runtime, unspent.id or 0)
    assert (cancelled.status, cancelled.balance_cents) == (GiftCardStatus.VOID, 0)
    [taken_back] = await rows(runtime, GiftCardMovement, GiftCardMovement.kind == MovementKind.SALE_REFUNDED)
    assert (taken_back.amount_cents, taken_back.balance_after_cents) == (-3000, 0)
    assert await ledger_balance(runtime, "2010") == 0 == await open_balances(runtime)
    [refunded] = await rows(runtime, CheckPosting, col(CheckPosting.source_key).startswith("refund:"))
    assert (refunded.net_sales_cents, refunded.breakdown["gift_cards_sold"]) == (0, 3000)
    async with runtime.db.read() as session:
        z = await z_report(session, refunded.posted_day)
    assert (z.gift_cards_sold_cents, z.net_sales_cents) == (0, 0), "a card sold and refunded nets to nothing"

    spent = await sold_card(server, runtime, 2000, table="8")
    dinner = await ring_in(runtime, items=SOUP, table="9")
    await pay(server, runtime, dinner.check_id, "Gift card", amount="5.00", gift_card_number=spent.number)
    whole = await post(manager, runtime, spent.sold_check_id, "refund", {"scope": "full", "reason": "Changed mind"})
    assert whole.status_code == 409
    assert "has been spent (€15.00 of €20.00 left); its sale cannot be refunded" in whole.text
    assert len(await rows(runtime, Refund)) == 1
    assert (await card(runtime, spent.id or 0)).balance_cents == 1500


async def test_a_card_moved_to_another_check_of_a_split_goes_with_its_line_and_activates_when_that_check_is_paid(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    dinner = await ring_in(runtime, items=SOUP, table="9")
    await sell(server, runtime, dinner.check_id, preset=2500)
    [sold] = await rows(runtime, GiftCard)
    moved = await post(server, runtime, dinner.check_id, "split/items", {"line_ids": [str(sold.line_id)]})
    assert moved.status_code == 200, moved.text
    line = (await rows(runtime, CheckLine, CheckLine.id == sold.line_id))[0]
    assert line.check_id != dinner.check_id
    assert "gc-card" not in (await server.get(f"/checks/{dinner.check_id}/gift-cards")).text
    assert calc.grouped(sold.number) in (await server.get(f"/checks/{line.check_id}/gift-cards")).text
    await pay_rest_in_cash(server, runtime, dinner.check_id)
    assert (await card(runtime, sold.id or 0)).status is GiftCardStatus.PENDING, "the soup's check paid, not the card's"
    await pay_rest_in_cash(server, runtime, line.check_id)
    assert (await card(runtime, sold.id or 0)).balance_cents == 2500
