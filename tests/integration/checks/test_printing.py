"""Guest checks and receipts go through the print queue as documents; the bytes the print worker lays out for the
printer decode back to what the guest reads."""

from __future__ import annotations

from typing import Any

from app.checks.terminal import SimulatedTerminal
from app.kitchen.models import Printer, PrintJob
from printers.queue import job_bytes
from tests.integration.checks.arrange import (
    FOUR_TOP,
    check_row,
    key,
    money,
    open_checks_on,
    post,
    ring_in,
    rows,
    tenders,
)
from tests.support.escpos_decoder import Decoded, decode


async def paper_of(runtime: Any, job: PrintJob) -> Decoded:
    """What the print worker sends the job's printer, decoded."""
    [printer] = await rows(runtime, Printer, Printer.id == job.target_printer_id)
    return decode(job_bytes(job, primary=printer, target=printer))


def _euros(cents: int) -> str:
    return f"€{cents // 100}.{cents % 100:02d}"


async def test_the_guest_check_prints_on_the_bar_printer_with_seat_subtotals(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    totals = (await money(runtime, arranged.check_id)).totals
    response = await post(server, runtime, arranged.check_id, "settle/print")
    assert response.status_code == 200, response.text
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "guest_check")
    bar = (await rows(runtime, Printer, Printer.name == "Bar"))[0]
    assert job.printer_id == bar.id
    assert job.data == b"", "the worker lays the guest check out for its printer"
    assert job.document is not None
    assert job.document["type"] == "GuestCheckDoc"
    paper = await paper_of(runtime, job)
    assert "GUEST CHECK" in paper.text
    assert "Table 5" in paper.line("Check").text
    for seat in ("Seat 1", "Seat 2", "Seat 3", "Seat 4", "Seat shared"):
        assert seat in paper.text
    assert _euros(totals.total) in paper.line("TOTAL").text
    assert "Alcohol 21 %" in paper.text
    assert (await check_row(runtime, arranged.check_id)).guest_check_printed_at is not None
    again = await post(server, runtime, arranged.check_id, "settle/print")
    assert again.status_code == 200
    reprint = (await rows(runtime, PrintJob, PrintJob.kind == "guest_check"))[-1]
    assert "REPRINT" in (await paper_of(runtime, reprint)).text


async def test_a_card_receipt_shows_brand_last_four_auth_and_tip_and_never_more(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    arranged = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "SD-LEM")])
    total = (await money(runtime, arranged.check_id)).totals.total
    card = (await tenders(runtime))["Card"]
    await post(
        server,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(card), "amount": f"{total / 100:.2f}", "tip": "3.00"},
    )
    response = await server.post(f"/checks/{arranged.check_id}/settle/receipt", {"idempotency_key": key()})
    assert response.status_code == 200, response.text
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "receipt")
    paper = await paper_of(runtime, job)
    assert "RECEIPT" in paper.text
    assert "Card VISA ****4242" in paper.text
    assert "€3.00" in paper.line("Tip").text
    assert "Auth" in paper.text
    assert _euros(total) in paper.line("TOTAL").text


async def test_a_cash_receipt_shows_the_cash_handed_over_and_the_change(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=[(1, "PA-CAR"), (2, "SD-LEM")])
    total = (await money(runtime, arranged.check_id)).totals.total
    cash = (await tenders(runtime))["Cash"]
    await post(server, runtime, arranged.check_id, "pay", {"tender_id": str(cash), "tendered": "50.00"})
    await server.post(f"/checks/{arranged.check_id}/settle/receipt", {"idempotency_key": key()})
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "receipt")
    paper = await paper_of(runtime, job)
    assert "€50.00" in paper.line("Cash tendered").text
    assert _euros(5000 - total) in paper.line("Change due").text


async def test_each_part_of_an_even_split_gets_a_receipt_with_its_own_tax(
    server: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP)
    await post(server, runtime, arranged.check_id, "split/even", {"ways": "2"})
    summary = await money(runtime, arranged.check_id)
    first, second = summary.portions
    cash = (await tenders(runtime))["Cash"]
    await post(
        server,
        runtime,
        arranged.check_id,
        "pay",
        {"tender_id": str(cash), "tendered": f"{first.owed / 100:.2f}", "portion_id": str(first.portion.id)},
    )
    response = await server.post(
        f"/checks/{arranged.check_id}/settle/receipt", {"idempotency_key": key(), "portion_id": str(first.portion.id)}
    )
    assert response.status_code == 200, response.text
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "receipt")
    paper = await paper_of(runtime, job)
    assert "Part 1 of 2" in paper.text
    assert _euros(first.owed) in paper.line("TOTAL").text
    assert first.part is not None
    for tax in first.part.taxes:
        if tax.tax:
            assert _euros(tax.tax) in paper.line(tax.rate.name).text
    assert (await check_row(runtime, arranged.check_id)).status.value == "open"
    assert len(await open_checks_on(runtime, arranged.table_id or 0)) == 1
    assert second.remaining == second.owed
