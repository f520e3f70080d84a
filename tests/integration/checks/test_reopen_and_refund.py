"""Reopening and refunding with a manager: reversing effects, outbox rows and audit entries, never edits."""

from __future__ import annotations

from typing import Any

from app.checks.models import CheckClosing, Payment, Refund, RefundLine, RefundStatus
from app.checks.terminal import SimulatedTerminal
from app.lib.audit import AuditEntry
from app.lib.outbox import OutboxMessage
from app.orders.models import CheckStatus
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, tenders
from tests.integration.giftcards.arrange import sold_card

DINNER = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM")]


async def _paid(device: Any, runtime: Any, tender: str = "Card", tip: str = "", table: str = "5") -> Any:
    arranged = await ring_in(runtime, items=DINNER, table=table)
    total = (await money(runtime, arranged.check_id)).totals.total
    ids = await tenders(runtime)
    form = {"tender_id": str(ids[tender]), "amount": f"{total / 100:.2f}", "tendered": f"{total / 100:.2f}"}
    if tip:
        form["tip"] = tip
    response = await post(device, runtime, arranged.check_id, "pay", form)
    assert response.status_code == 200, response.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
    return arranged


async def test_reopening_needs_a_manager_and_posts_a_reversal_then_closing_posts_again(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _paid(server, runtime)
    refused = await post(server, runtime, arranged.check_id, "reopen", {"reason": "Wrong table"})
    assert refused.status_code == 403
    assert "PIN is needed to reopen a check" in refused.text
    no_reason = await post(server, runtime, arranged.check_id, "reopen", {"reason": "", "manager_pin": "9999"})
    assert no_reason.status_code == 422
    reopened = await post(
        server, runtime, arranged.check_id, "reopen", {"reason": "Wrong table", "manager_pin": "9999"}
    )
    assert reopened.status_code == 200, reopened.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.OPEN
    [closing] = await rows(runtime, CheckClosing)
    assert closing.reopened_at is not None
    assert closing.reopen_reason == "Wrong table"
    [message] = await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.reopened")
    assert message.payload == {"check_id": arranged.check_id, "sequence": 1, "closing_id": closing.id}
    [entry] = await rows(runtime, AuditEntry, AuditEntry.action == "checks.reopen")
    assert entry.approver_id is not None
    assert entry.reason == "Wrong table"
    closed = await post(server, runtime, arranged.check_id, "settle/close")
    assert closed.status_code == 200, closed.text
    keys = [m.dedupe_key for m in await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.closed")]
    assert keys == [f"checks.closed:{arranged.check_id}:1", f"checks.closed:{arranged.check_id}:2"]


async def test_refunding_lines_to_a_card_goes_through_the_terminal_and_is_audited(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _paid(manager, runtime)
    line = arranged.line_ids["SD-LEM"]
    line_total = (await money(runtime, arranged.check_id)).line_totals[line].total
    response = await post(
        manager, runtime, arranged.check_id, "refund", {"scope": "lines", "line_ids": [str(line)], "reason": "Flat"}
    )
    assert response.status_code == 200, response.text
    [refund] = await rows(runtime, Refund)
    assert refund.status is RefundStatus.COMPLETED
    assert refund.amount_cents == line_total
    assert terminal.requests[-1][0] == "refund"
    [refund_line] = await rows(runtime, RefundLine)
    assert (refund_line.line_id, refund_line.net_cents + refund_line.tax_cents) == (line, line_total)
    [payment] = await rows(runtime, Payment)
    assert payment.refunded_cents == line_total
    [message] = await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.refunded")
    assert message.payload == {"check_id": arranged.check_id, "refund_id": refund.id}
    [entry] = await rows(runtime, AuditEntry, AuditEntry.action == "checks.refund")
    assert entry.reason == "Flat"
    assert entry.after is not None
    assert entry.after["line_ids"] == [line]
    again = await post(
        manager, runtime, arranged.check_id, "refund", {"scope": "lines", "line_ids": [str(line)], "reason": "Flat"}
    )
    assert again.status_code == 409
    assert "already refunded" in again.text
    assert len(await rows(runtime, Refund)) == 1


async def test_refunding_more_than_was_paid_on_a_payment_is_refused(
    manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    ids = await tenders(runtime)
    total = (await money(runtime, arranged.check_id)).totals.total
    card = await sold_card(manager, runtime, 2000, table="7")
    await post(
        manager,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(ids["Gift card"]), "amount": "5.00", "gift_card_number": card.number},
    )
    await post(
        manager,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(ids["Cash"]), "tendered": f"{(total - 500) / 100:.2f}"},
    )
    gift = next(p for p in await rows(runtime, Payment) if p.amount_cents == 500)
    response = await post(
        manager,
        runtime,
        arranged.check_id,
        "refund",
        {
            "scope": "lines",
            "line_ids": [str(arranged.line_ids["PA-CAR"])],
            "payment_id": str(gift.id),
            "reason": "Cold",
        },
    )
    assert response.status_code == 422
    assert "more than the €5.00 left to refund" in response.text
    assert await rows(runtime, Refund) == []


async def test_a_full_refund_gives_back_every_payment_and_tip(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await _paid(manager, runtime, tip="3.00")
    total = (await money(runtime, arranged.check_id)).totals.total
    response = await post(manager, runtime, arranged.check_id, "refund", {"scope": "full", "reason": "Walked out ill"})
    assert response.status_code == 200, response.text
    [refund] = await rows(runtime, Refund)
    assert (refund.amount_cents, refund.tip_cents, refund.full) == (total, 300, True)
    lines = await rows(runtime, RefundLine)
    assert sum(line.net_cents + line.tax_cents for line in lines) == total


async def test_refunds_need_a_closed_check_and_a_manager(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    open_check = await post(
        server, runtime, arranged.check_id, "refund", {"scope": "full", "reason": "x", "manager_pin": "9999"}
    )
    assert open_check.status_code == 409
    assert "refunds are made on closed checks" in open_check.text
    paid = await _paid(server, runtime, table="6")
    no_manager = await post(server, runtime, paid.check_id, "refund", {"scope": "full", "reason": "x"})
    assert no_manager.status_code == 403
    assert await rows(runtime, Refund) == []
