"""Reports read the postings: sales, voids, comps and discounts with reasons, ticket times, stock, the Z report."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from app.accounting.models import JournalLine
from app.checks import adjustments
from app.checks import services as checks
from app.checks.terminal import SimulatedTerminal
from app.closes import reports
from app.closes.calculations import tax_rate_title
from app.closes.day_close import z_document
from app.lib.clock import utcnow
from app.lib.settings import Settings
from app.orders import voids
from printers.layouts import render_z_report
from tests.integration.closes.arrange import pay, person, serve, settle
from tests.support.escpos_decoder import decode


async def _evening(runtime: Any, terminal: SimulatedTerminal) -> None:
    manager = await person(runtime, "Nora Vance")
    served = await serve(runtime, ["PA-CAR", "PA-RIS", "DS-TIR"])
    async with runtime.db.write() as session:
        await adjustments.add_discount(
            session, check_id=served.check_id, actor=manager, kind="percent", value="10", reason="Loyalty"
        )
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["DS-TIR"],
            actor=manager,
            expected_version=None,
            reason="Took too long",
        )
    await pay(runtime, terminal, served, "Card", tip=400)
    await settle(runtime)


async def test_the_sales_report_draws_its_charts_from_the_postings(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    await _evening(runtime, terminal)
    page = await manager.get("/reports")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 5
    assert "€32.85" in page.text  # net sales: 17.50 + 19.00 less 10 %
    assert "Lena Brooks" in page.text
    assert "Pasta &amp; Risotto" in page.text
    fragment = await manager.get("/reports", htmx=True)
    assert "<html" not in fragment.text
    assert "<svg" in fragment.text


async def test_voids_comps_and_discounts_are_listed_with_their_amounts_and_reasons(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    await _evening(runtime, terminal)
    page = await manager.get("/reports/adjustments")
    assert page.status_code == 200
    assert "Took too long" in page.text
    assert "Loyalty" in page.text
    assert "€3.65" in page.text  # 10 % of 36.50, the discount on the whole check
    assert "€9.00" in page.text  # the voided tiramisu


async def test_ticket_times_stock_and_the_z_report_pages_render(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    await _evening(runtime, terminal)
    for path, text in (
        ("/reports/kitchen", "Ticket times"),
        ("/reports/stock", "Stock at average cost"),
        ("/reports/z", "Z report"),
    ):
        response = await manager.get(path)
        assert response.status_code == 200, path
        assert text in response.text
    z = await manager.get("/reports/z")
    assert "day still open" in z.text
    assert "€32.85" in z.text
    reprint = await manager.post("/reports/z/print", {})
    assert reprint.status_code == 409
    assert "is not closed" in reprint.text


async def test_reports_refuse_bad_ranges_and_people_without_the_permission(manager: Any, server: Any) -> None:
    assert (await manager.get("/reports?start=2025-02-30")).status_code == 422
    assert (await manager.get("/reports?start=2025-03-10&end=2025-03-01")).status_code == 422
    assert (await manager.get("/reports?start=2024-01-01&end=2025-01-01")).status_code == 422
    for path in ("/reports", "/reports/adjustments", "/reports/kitchen", "/reports/stock", "/reports/z"):
        assert (await server.get(path)).status_code == 403


def _rows(html: str) -> dict[str, str]:
    """Each table row's first cell and last cell, as a manager reads them."""
    found: dict[str, str] = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        if len(cells) >= 2:
            found.setdefault(cells[0], cells[-1])
    return found


async def test_a_tax_rate_is_named_once_with_its_rate(manager: Any, runtime: Any, terminal: SimulatedTerminal) -> None:
    await _evening(runtime, terminal)
    sales = await manager.get("/reports")
    z = await manager.get("/reports/z")
    for page in (sales, z):
        assert "Food &amp; soft drinks 9 %" in page.text
        assert "9 % 9 %" not in page.text
    assert "Food &amp; soft drinks 9 % on €32.85" in z.text
    mappings = await manager.get("/closes/mappings")
    assert "Food &amp; soft drinks 9 %" in mappings.text
    assert "9 % (9 %)" not in mappings.text
    async with runtime.db.read() as session:
        memos = set((await session.exec(select(JournalLine.memo))).all())
    assert "Food & soft drinks 9 %" in memos, "the ledger's tax line names the rate once too"
    assert tax_rate_title("Reduced", 900) == "Reduced 9 %", "a name without its rate gets the rate added"
    assert tax_rate_title("Low 5,5 %", 550) == "Low 5,5 %"
    assert tax_rate_title("VAT 19 %", 900) == "VAT 19 % 9 %", "19 % is not 9 %"


async def test_sales_by_category_is_net_on_the_reports_the_z_report_and_its_paper(
    manager: Any, runtime: Any, terminal: SimulatedTerminal, settings: Settings
) -> None:
    await _evening(runtime, terminal)
    sales = await manager.get("/reports")
    z = await manager.get("/reports/z")
    # Carbonara 17.50 + risotto 19.00 = 36.50 gross; less the 10 % loyalty discount, 32.85 net.
    assert "Net sales by category" in sales.text
    assert "after discounts and comps, before tax" in sales.text
    assert "Pasta &amp; Risotto" in sales.text
    chart = re.search(r"Net sales by category.*?</figure>", sales.text, re.S)
    assert chart is not None
    assert "32.85" in chart.group(0)
    rows = _rows(z.text)
    assert rows["Gross sales (before discounts and comps)"] == "€36.50"
    assert rows["Discounts (1)"] == "-€3.65"
    assert rows["Net sales"] == "€32.85"
    assert rows["Pasta &amp; Risotto"] == "€32.85", "the same figure as on the sales report, not the gross"
    assert "Net sales by category" in z.text
    assert "after discounts and comps, before tax" in z.text
    assert "Revenue accounts (gross sales)" in z.text
    assert "Tips (owed to staff, not in sales)" in rows

    async with runtime.db.read() as session:
        report = await reports.z_report(session, checks.business_day(settings, utcnow()))
    assert sum(c.cents for c in report.categories) == report.net_sales_cents
    assert sum(c.cents for c in report.gross_categories) == report.gross_cents
    paper = decode(render_z_report(z_document(settings, report)))
    assert paper.line("Net sales by category").style.bold
    assert "after discounts and comps, tax excluded" in paper.lines
    assert paper.line("Pasta & Risotto").text.endswith("€32.85")
    assert paper.line("Tenders (tips included)").style.bold
    assert paper.line("Voids after send (1)").text.endswith("€9.00")
    assert paper.line("Food & soft drinks 9 % on €32.85").text.endswith("€2.96")
    assert "rounded per line, not rate x base" in paper.lines
