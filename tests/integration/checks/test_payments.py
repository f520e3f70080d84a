"""Taking payments: cash with change, card with tips, several per check, closing, and every refusal."""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from app.checks.models import AttemptStatus, CheckClosing, Payment, PaymentAttempt
from app.checks.terminal import SimulatedTerminal, TerminalOutcome
from app.kitchen.models import Printer, PrintJob
from app.lib.audit import AuditEntry
from app.lib.outbox import OutboxMessage
from app.orders.models import Check, CheckStatus
from tests.integration.checks.arrange import check_row, key, money, open_checks_on, post, ring_in, rows, tenders
from tests.integration.giftcards.arrange import sold_card

DINNER = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM")]


async def _state(runtime: Any) -> tuple[int, int, int]:
    return (
        len(await rows(runtime, Payment)),
        len(await rows(runtime, PaymentAttempt)),
        len(await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.closed")),
    )


async def test_cash_gives_change_closes_the_check_and_opens_the_bar_drawer(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    cash = (await tenders(runtime))["Cash"]
    response = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(cash), "tendered": "100.00"})
    assert response.status_code == 200, response.text
    change = 10000 - total
    assert f"Change due €{change // 100}.{change % 100:02d}" in response.text
    [payment] = await rows(runtime, Payment)
    assert (payment.amount_cents, payment.tendered_cents, payment.change_cents) == (total, 10000, change)
    check = await check_row(runtime, arranged.check_id)
    assert check.status is CheckStatus.CLOSED
    assert check.closed_at is not None
    assert check.table_cleared_at is None, "the table waits for clearing"
    [closed] = await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.closed")
    assert closed.payload["check_id"] == arranged.check_id
    assert closed.dedupe_key == f"checks.closed:{arranged.check_id}:1"
    [kick] = await rows(runtime, PrintJob, PrintJob.kind == "drawer_kick")
    bar = (await rows(runtime, Printer, Printer.name == "Bar"))[0]
    assert kick.printer_id == bar.id
    assert kick.open_drawer
    assert terminal.requests == [], "cash never touches the card terminal"


async def test_a_card_payment_with_a_tip_stores_only_brand_last_four_and_auth_code(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    card = (await tenders(runtime))["Card"]
    response = await post(
        server,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(card), "amount": f"{total / 100:.2f}", "tip": "5.00"},
    )
    assert response.status_code == 200, response.text
    assert "Check closed" in response.text
    [payment] = await rows(runtime, Payment)
    assert (payment.amount_cents, payment.tip_cents) == (total, 500)
    assert (payment.card_brand, payment.card_last4) == ("VISA", "4242")
    assert payment.auth_code
    assert payment.processor_reference
    assert terminal.requests == [("charge", terminal.requests[0][1], total + 500)]
    assert (await rows(runtime, PrintJob, PrintJob.kind == "drawer_kick")) == [], "a card does not open the drawer"
    summary = await money(runtime, arranged.check_id)
    assert summary.paid + summary.tips == summary.totals.total + 500


async def test_a_double_tap_on_pay_takes_one_payment(server: Any, runtime: Any, terminal: SimulatedTerminal) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    card = (await tenders(runtime))["Card"]
    version = (await check_row(runtime, arranged.check_id)).version
    form = {"tender_id": str(card), "amount": "10.00", "version": str(version), "idempotency_key": key()}
    first = await server.post(f"/checks/{arranged.check_id}/pay", form)
    second = await server.post(f"/checks/{arranged.check_id}/pay", form)
    assert first.status_code == second.status_code == 200
    assert "nothing was charged twice" in second.text
    assert len(await rows(runtime, Payment)) == 1
    assert len(terminal.requests) == 1


async def test_several_payments_settle_one_check_and_close_it_on_the_last(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    ids = await tenders(runtime)
    gift = await sold_card(server, runtime, 1000, table="7")
    await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(ids["Card"]), "amount": "20.00"})
    await post(
        server,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(ids["Gift card"]), "amount": "10.00", "gift_card_number": gift.number},
    )
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.OPEN
    rest = total - 3000
    await post(
        server, runtime, arranged.check_id, "pay", {"tender_id": str(ids["Cash"]), "tendered": f"{rest / 100:.2f}"}
    )
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
    assert sum(p.amount_cents for p in await rows(runtime, Payment, Payment.check_id == arranged.check_id)) == total


async def test_over_tendering_a_card_is_refused_and_nothing_is_charged(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    card = (await tenders(runtime))["Card"]
    before = await _state(runtime)
    version = (await check_row(runtime, arranged.check_id)).version
    response = await post(
        server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": f"{(total + 1000) / 100:.2f}"}
    )
    assert response.status_code == 422
    assert "cannot be charged more than is due" in response.text
    assert "add the extra as a tip" in response.text
    assert await _state(runtime) == before
    assert terminal.requests == []
    assert (await check_row(runtime, arranged.check_id)).version == version


async def test_paying_a_voided_check_is_refused(server: Any, runtime: Any, terminal: SimulatedTerminal) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    async with runtime.db.write() as session:
        check = await session.get(Check, arranged.check_id)
        assert check is not None
        check.status = CheckStatus.VOIDED
        session.add(check)
    before = await _state(runtime)
    cash = (await tenders(runtime))["Cash"]
    response = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(cash), "tendered": "50.00"})
    assert response.status_code == 409
    assert "was voided" in response.text
    assert await _state(runtime) == before


async def test_closing_an_unpaid_check_is_refused_with_what_is_still_due(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    response = await post(server, runtime, arranged.check_id, "settle/close")
    assert response.status_code == 409
    assert "still has €" in response.text
    assert "take payment before closing" in response.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.OPEN
    assert await rows(runtime, CheckClosing) == []


async def test_a_fully_comped_check_closes_with_nothing_to_pay(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER, server_name="Nora Vance")
    comped = await post(manager, runtime, arranged.check_id, "settle/comp", {"reason": "House guest"})
    assert comped.status_code == 200, comped.text
    assert (await money(runtime, arranged.check_id)).due == 0
    closed = await post(manager, runtime, arranged.check_id, "settle/close")
    assert closed.status_code == 200, closed.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED


async def test_a_declined_card_changes_nothing_and_says_so(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    terminal.then(TerminalOutcome.DECLINED)
    card = (await tenders(runtime))["Card"]
    response = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(card), "amount": "10.00"})
    assert response.status_code == 200
    assert "Declined" in response.text
    assert await rows(runtime, Payment) == []
    [attempt] = await rows(runtime, PaymentAttempt)
    assert attempt.status is AttemptStatus.DECLINED
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.OPEN
    assert await rows(runtime, AuditEntry, AuditEntry.action == "checks.payment_declined")


async def test_a_terminal_timeout_leaves_a_pending_attempt_that_resolve_settles_once(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    terminal.then(TerminalOutcome.TIMED_OUT)
    ids = await tenders(runtime)
    response = await post(
        server, runtime, arranged.check_id, "pay", {"tender_id": str(ids["Card"]), "amount": f"{total / 100:.2f}"}
    )
    assert "did not answer" in response.text
    [attempt] = await rows(runtime, PaymentAttempt)
    assert attempt.status is AttemptStatus.PENDING
    assert await rows(runtime, Payment) == []
    blocked = await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(ids["Cash"]), "tendered": "5"})
    assert blocked.status_code == 409
    assert "still waiting for the terminal" in blocked.text
    resolved = await server.post(f"/checks/{arranged.check_id}/pay/attempts/{attempt.id}/resolve")
    assert resolved.status_code == 200
    assert "Check closed" in resolved.text
    again = await server.post(f"/checks/{arranged.check_id}/pay/attempts/{attempt.id}/resolve")
    assert again.status_code == 200
    assert len(await rows(runtime, Payment)) == 1
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED


async def test_paying_needs_the_payments_permission(cook: Any, runtime: Any, terminal: SimulatedTerminal) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    cash = (await tenders(runtime))["Cash"]
    response = await post(cook, runtime, arranged.check_id, "pay", {"tender_id": str(cash), "tendered": "50"})
    assert response.status_code == 403
    assert await rows(runtime, Payment) == []


async def test_a_stale_tablet_cannot_pay_from_an_old_version(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    cash = (await tenders(runtime))["Cash"]
    old = (await check_row(runtime, arranged.check_id)).version - 1
    response = await server.post(
        f"/checks/{arranged.check_id}/pay",
        {"tender_id": str(cash), "tendered": "50", "version": str(old), "idempotency_key": key()},
    )
    assert response.status_code == 409
    assert "changed on another tablet" in response.text
    assert await rows(runtime, Payment) == []


async def test_bad_amounts_are_refused_with_a_clear_message(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    ids = await tenders(runtime)
    for data, text in (
        ({"tender_id": str(ids["Cash"]), "tendered": "abc"}, "Enter an amount like 12.50"),
        ({"tender_id": str(ids["Card"]), "amount": "-5"}, "must be more than zero"),
        ({"tender_id": str(ids["Card"]), "amount": "10.999"}, "at most two decimals"),
        ({"tender_id": str(ids["Cash"]), "tendered": "20", "tip": "2"}, "Tips are not taken on Cash"),
        ({"tender_id": "99999", "amount": "1"}, "not set up"),
    ):
        response = await post(server, runtime, arranged.check_id, "pay", data)
        assert response.status_code == 422, (data, response.text)
        assert text in response.text, (data, response.text)
    assert await rows(runtime, Payment) == []
    assert await rows(runtime, PaymentAttempt) == []


async def test_the_paid_table_needs_clearing_then_is_free(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    cash = (await tenders(runtime))["Cash"]
    paid = await post(
        server, runtime, arranged.check_id, "pay", {"tender_id": str(cash), "tendered": f"{total / 100:.2f}"}
    )
    assert "Table 5 cleared" in paid.text
    cleared = await server.post(f"/checks/{arranged.check_id}/settle/clear-table", {"idempotency_key": key()})
    assert cleared.status_code == 200, cleared.text
    assert (await check_row(runtime, arranged.check_id)).table_cleared_at is not None
    waiting = await rows(runtime, Check, Check.table_id == arranged.table_id, col(Check.table_cleared_at).is_(None))
    assert waiting == []


async def test_table_cleared_waits_for_the_last_open_check_of_a_split_table(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    await post(server, runtime, arranged.check_id, "split/seat")
    first, second = await open_checks_on(runtime, arranged.table_id or 0)
    card = (await tenders(runtime))["Card"]
    due = (await money(runtime, second.id or 0)).due
    paid = await post(server, runtime, second.id or 0, "pay", {"tender_id": str(card), "amount": f"{due / 100:.2f}"})
    assert paid.status_code == 200, paid.text
    assert "Table 5 cleared" not in paid.text
    assert f"check #{first.number}</a> open; clear the table once the last check is paid" in paid.text
    early = await server.post(f"/checks/{second.id}/settle/clear-table", {"idempotency_key": key()})
    assert early.status_code == 409
    assert f"still has check #{first.number} open" in early.text
    assert (await check_row(runtime, second.id or 0)).table_cleared_at is None
    due = (await money(runtime, first.id or 0)).due
    last = await post(server, runtime, first.id or 0, "pay", {"tender_id": str(card), "amount": f"{due / 100:.2f}"})
    assert "Table 5 cleared" in last.text
    again = await server.get(f"/checks/{second.id}/settle")
    assert "Table 5 cleared" in again.text
