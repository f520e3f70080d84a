"""Reports read the postings: sales, voids, comps and discounts with reasons, ticket times, stock, the Z report."""

from __future__ import annotations

from typing import Any

from app.checks import services as checks
from app.checks.terminal import SimulatedTerminal
from app.orders import services as orders
from tests.integration.closes.arrange import pay, person, serve, settle


async def _evening(runtime: Any, terminal: SimulatedTerminal) -> None:
    manager = await person(runtime, "Nora Vance")
    served = await serve(runtime, ["PA-CAR", "PA-RIS", "DS-TIR"])
    async with runtime.db.write() as session:
        await checks.add_discount(
            session, check_id=served.check_id, actor=manager, kind="percent", value="10", reason="Loyalty"
        )
        await orders.void_line(
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
