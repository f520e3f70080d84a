"""The business day closes only when nothing is open or owed, says exactly what is, then locks its books."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.accounting.models import JournalEntry, LockedDay
from app.checks.services import business_day
from app.checks.terminal import SimulatedTerminal
from app.closes.day_close import close_day, sweep_void_waste
from app.closes.drawers import open_drawer
from app.closes.models import BusinessDay, CheckPosting, DayStatus, DrawerSession
from app.kitchen.models import PrintJob
from app.lib.clock import utcnow
from app.orders import voids
from tests.integration.closes.arrange import (
    entries,
    key,
    pay,
    person,
    rows,
    serve,
    settle,
    unmap_category,
)


async def test_closing_the_day_is_refused_with_the_exact_list_then_succeeds_once_all_is_resolved(
    manager: Any, runtime: Any, settings: Any, terminal: SimulatedTerminal
) -> None:
    day = business_day(settings, utcnow())
    category_id = await unmap_category(runtime, "From the Grill")
    # The drawer opens before service: cash goes into it, and its count answers for that cash.
    async with runtime.db.write() as session:
        await open_drawer(session, name="Bar", float_cents=10000, actor=await person(runtime, "Nora Vance"))
    paid = await serve(runtime, ["GR-BUR"], table="7")
    await pay(runtime, terminal, paid, "Cash")
    await settle(runtime)
    lena = await person(runtime, "Lena Brooks")
    still_open = await serve(runtime, ["PA-CAR"], table="8")  # sent, but its kitchen message is not delivered yet
    response = await manager.post("/closes/day/close", {"day": day.isoformat(), "idempotency_key": key()})
    assert response.status_code == 200
    expected = [
        f"Check #{still_open.check_id} (table 8, Lena Brooks) is still open",
        "1 undelivered message for kitchen tickets (kitchen.fire)",
        f"Posting exception close:{paid.check_id}:1: Missing mapping: no revenue account is mapped for From the Grill. "
        "Fix it on the mappings page, then retry.",
        "Drawer Bar is still open; count it",
    ]
    async with runtime.db.read() as session:
        from app.closes import queries

        assert await queries.close_blockers(session, day) == expected
    for blocker in expected:
        assert blocker.replace("'", "&#39;") in response.text
    assert await rows(runtime, LockedDay) == []
    # Resolve each: serve and pay the open check, fix the mapping and retry, count the drawer, check Lena out.
    await settle(runtime)
    await pay(runtime, terminal, still_open, "Cash")
    await settle(runtime)
    await manager.post("/closes/mappings", {"kind": "category", "subject": str(category_id), "account_code": "4010"})
    [exception] = await manager_exceptions(runtime)
    await manager.post(f"/closes/exceptions/{exception}/retry")
    [drawer] = await rows(runtime, DrawerSession)
    async with runtime.db.read() as session:
        from app.closes import drawer_queries, queries

        counted = await drawer_queries.drawer_expected(session, drawer)
        assert await queries.close_blockers(session, day) == [
            "Drawer Bar is still open; count it",
            "Lena Brooks has not checked out",
        ]
    await manager.post(
        f"/closes/drawers/{drawer.id}/count", {"counted": f"{counted / 100:.2f}", "idempotency_key": key()}
    )
    checkout = await manager.post(
        "/closes/checkout",
        {"staff_id": str(lena.id), "day": day.isoformat(), "cash_tips": "12.00", "idempotency_key": key()},
    )
    assert "Checked out" in checkout.text
    close_key = key()
    closed = await manager.post("/closes/day/close", {"day": day.isoformat(), "idempotency_key": close_key})
    assert closed.status_code == 200
    assert f"{day.isoformat()} is closed" in closed.text
    repeated = await manager.post("/closes/day/close", {"day": day.isoformat(), "idempotency_key": close_key})
    assert f"{day.isoformat()} is closed" in repeated.text
    [row] = await rows(runtime, BusinessDay)
    assert row.status is DayStatus.CLOSED
    assert row.z_report["checks"] == 2
    assert [locked.day for locked in await rows(runtime, LockedDay)] == [day]
    [z_job] = await rows(runtime, PrintJob, PrintJob.kind == "z_report")
    assert row.print_job_id == z_job.id
    assert z_job.reference == f"z:{day.isoformat()}"
    again = await manager.post("/closes/day/close", {"day": day.isoformat(), "idempotency_key": key()})
    assert again.status_code == 409
    assert "already closed" in again.text


async def manager_exceptions(runtime: Any) -> list[int]:
    from app.closes.models import ExceptionStatus, PostingException

    return [e.id or 0 for e in await rows(runtime, PostingException, PostingException.status == ExceptionStatus.OPEN)]


async def test_a_check_closed_after_its_day_was_closed_posts_on_the_next_open_day_marked_late(
    runtime: Any, settings: Any, terminal: SimulatedTerminal
) -> None:
    from app.demo import load_demo

    async with runtime.db.write() as session:
        await load_demo(session, settings)
    manager = await person(runtime, "Nora Vance")
    day = business_day(settings, utcnow())
    async with runtime.db.write() as session:
        await close_day(session, day=day, actor=manager)
    served = await serve(runtime, ["PA-CAR"])
    await pay(runtime, terminal, served, "Card", tip=100)
    await settle(runtime)
    [posting] = await rows(runtime, CheckPosting)
    assert (posting.business_day, posting.posted_day, posting.late) == (day, day + dt.timedelta(days=1), True)
    [entry] = await entries(runtime, JournalEntry.source_type == "check")
    assert entry.date == day + dt.timedelta(days=1)
    async with runtime.db.read() as session:
        from app.closes import reports

        z = await reports.z_report(session, day + dt.timedelta(days=1))
        assert (z.late_postings, z.net_sales_cents) == (1, 1750)
        assert (await reports.z_report(session, day)).net_sales_cents == 0


async def test_a_day_that_has_not_started_cannot_be_closed(manager: Any, settings: Any) -> None:
    tomorrow = business_day(settings, utcnow()) + dt.timedelta(days=1)
    response = await manager.post("/closes/day/close", {"day": tomorrow.isoformat(), "idempotency_key": key()})
    assert response.status_code == 422
    assert "has not started yet" in response.text


async def test_only_managers_close_the_day(server: Any, settings: Any) -> None:
    day = business_day(settings, utcnow())
    response = await server.post("/closes/day/close", {"day": day.isoformat(), "idempotency_key": key()})
    assert response.status_code == 403
    assert (await server.get("/closes/day")).status_code == 403


async def test_the_close_page_shows_the_day_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/closes/day")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Before the day can close" in page.text
    fragment = await manager.get("/closes/day", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    bad = await manager.get("/closes/day?day=yesterday")
    assert bad.status_code == 422


async def test_the_close_sweeps_voids_after_fire_that_no_closed_check_has_wasted_yet(
    runtime: Any, demo: None, settings: Any
) -> None:
    from app.closes.models import PostingKind

    manager = await person(runtime, "Nora Vance")
    served = await serve(runtime, ["GR-BUR", "PA-CAR"])
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=served.line_ids["GR-BUR"],
            actor=manager,
            expected_version=None,
            reason="Burnt",
        )
    day = business_day(settings, utcnow())
    async with runtime.db.write() as session:
        assert await sweep_void_waste(session, day) == 1
    async with runtime.db.write() as session:
        assert await sweep_void_waste(session, day) == 0
    [waste] = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.WASTE)
    assert waste.cost_cents > 0
    assert waste.breakdown["reason"] == "Burnt"
