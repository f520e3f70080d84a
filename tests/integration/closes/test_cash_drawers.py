"""Cash lands in an open drawer: refused without one, expected by the drawer it went into, found by the close."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.checks import refunds
from app.checks import services as checks
from app.checks.models import Payment, Refund
from app.checks.queries import check_money, load_check
from app.checks.terminal import SimulatedTerminal
from app.closes import drawer_queries, queries
from app.closes.drawers import open_drawer
from app.closes.models import DrawerSession
from app.lib.errors import Conflict
from app.orders.models import Check, CheckStatus
from app.staff.models import Device
from tests.integration.closes.arrange import key, pay, person, rows, serve, settle, tender_ids, total


async def _open(
    runtime: Any, name: str = "House", float_cents: int = 10000, device_id: int | None = None
) -> DrawerSession:
    async with runtime.db.write() as session:
        return await open_drawer(
            session, name=name, float_cents=float_cents, actor=await person(runtime, "Nora Vance"), device_id=device_id
        )


async def _expected(runtime: Any, drawer_id: int) -> int:
    async with runtime.db.read() as session:
        drawer = await session.get(DrawerSession, drawer_id)
        assert drawer is not None
        return await drawer_queries.drawer_expected(session, drawer)


async def test_cash_with_no_drawer_open_is_refused_and_says_where_to_open_one(
    server: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    served = await serve(runtime, ["PA-CAR"])
    async with runtime.db.read() as session:
        check = await session.get(Check, served.check_id)
        assert check is not None
        version = check.version
    response = await server.post(
        f"/checks/{served.check_id}/pay",
        {
            "tender_id": str((await tender_ids(runtime))["Cash"]),
            "tendered": "50.00",
            "version": str(version),
            "idempotency_key": key(),
        },
    )
    assert "No cash drawer is open" in response.text
    assert "Cash drawers (/closes/drawers)" in response.text
    assert "Nothing was charged" in response.text
    assert await rows(runtime, Payment) == []
    async with runtime.db.read() as session:
        still = await session.get(Check, served.check_id)
        assert still is not None
        assert still.status is CheckStatus.OPEN


async def test_cash_lands_in_the_open_drawer_and_a_cash_refund_comes_out_of_the_same_drawer(
    runtime: Any, demo: None, terminal: SimulatedTerminal
) -> None:
    drawer = await _open(runtime)
    served = await serve(runtime, ["PA-CAR", "BR-PIL"])
    due = await total(runtime, served.check_id)
    await pay(runtime, terminal, served, "Cash")
    [payment] = await rows(runtime, Payment)
    assert payment.drawer_id == drawer.id
    assert await _expected(runtime, drawer.id or 0) == 10000 + due
    manager = await person(runtime, "Nora Vance")
    request = refunds.RefundRequest(
        check_id=served.check_id, actor=manager, reason="Wrong order", idempotency_key=uuid.uuid4().hex, full=True
    )
    [refund] = await refunds.refund(runtime.db, terminal, request)
    assert refund.drawer_id == drawer.id
    assert await _expected(runtime, drawer.id or 0) == 10000


async def test_a_cash_refund_with_no_drawer_open_is_refused(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    drawer = await _open(runtime)
    served = await serve(runtime, ["PA-CAR"])
    await pay(runtime, terminal, served, "Cash")
    await settle(runtime)
    expected = await _expected(runtime, drawer.id or 0)
    counted = await manager.post(
        f"/closes/drawers/{drawer.id}/count", {"counted": f"{expected / 100:.2f}", "idempotency_key": key()}
    )
    assert counted.status_code == 200
    request = refunds.RefundRequest(
        check_id=served.check_id,
        actor=await person(runtime, "Nora Vance"),
        reason="Wrong order",
        idempotency_key=uuid.uuid4().hex,
        full=True,
    )
    with pytest.raises(Conflict, match=r"No cash drawer is open.*cannot be given back"):
        await refunds.refund(runtime.db, terminal, request)
    assert await rows(runtime, Refund) == []


async def test_cash_that_went_into_no_drawer_blocks_the_close_until_a_manager_puts_it_in_one(
    manager: Any, runtime: Any, settings: Any, terminal: SimulatedTerminal
) -> None:
    drawer = await _open(runtime)
    served = await serve(runtime, ["PA-CAR"])
    due = await total(runtime, served.check_id)
    await pay(runtime, terminal, served, "Cash")
    await settle(runtime)
    # Cash from before drawers were recorded, taken while no drawer was open.
    async with runtime.db.write() as session:
        [payment] = list((await session.exec(select(Payment))).all())
        payment.drawer_id = None
        payment.taken_at = drawer.opened_at - timedelta(hours=1)
        session.add(payment)
    assert await _expected(runtime, drawer.id or 0) == 10000
    day = checks.business_day(settings, drawer.opened_at)
    async with runtime.db.read() as session:
        blockers = await queries.close_blockers(session, day)
        money = await check_money(session, await load_check(session, served.check_id))
    assert money.paid == due
    loose = f"Cash of {due / 100:.2f} on check #{served.check_id} (Lena Brooks) went into no drawer"
    assert any(b.startswith(loose) for b in blockers), blockers
    page = await manager.get("/closes/drawers")
    assert "Cash in no drawer" in page.text
    placed = await manager.post(
        f"/closes/drawers/loose/{payment.id}", {"drawer_id": str(drawer.id), "idempotency_key": key()}
    )
    assert placed.status_code == 200, placed.text
    assert "is now expected in that drawer" in placed.text
    assert await _expected(runtime, drawer.id or 0) == 10000 + due
    async with runtime.db.read() as session:
        assert not any(b.startswith(loose) for b in await queries.close_blockers(session, day))


NO_DRAWER_NOTICE = "No cash drawer is open — a manager opens one on"


async def _device_named(runtime: Any, name: str) -> int:
    async with runtime.db.read() as session:
        found = (await session.exec(select(Device).where(Device.name == name))).one()
        assert found.id is not None
        return found.id


async def test_the_settle_page_says_before_cash_is_tapped_that_no_drawer_is_open(
    server: Any, runtime: Any, device_factory: Any
) -> None:
    served = await serve(runtime, ["PA-CAR"])
    await device_factory(name="Bar tablet")
    page = await server.get(f"/checks/{served.check_id}/settle")
    fragment = await server.get(f"/checks/{served.check_id}/settle", htmx=True)
    for response in (page, fragment):
        assert response.status_code == 200
        assert NO_DRAWER_NOTICE in response.text
        assert '<a href="/closes/drawers">Close → Cash drawers</a>' in response.text
        assert 'aria-describedby="no-cash-drawer"' in response.text
    assert "<html" in page.text
    assert "<html" not in fragment.text

    # The bar tablet's own drawer takes no cash for this tablet: still said.
    await _open(runtime, name="Bar", device_id=await _device_named(runtime, "Bar tablet"))
    assert NO_DRAWER_NOTICE in (await server.get(f"/checks/{served.check_id}/settle", htmx=True)).text

    # A house drawer takes cash from every tablet: nothing to say.
    await _open(runtime)
    for htmx in (False, True):
        quiet = await server.get(f"/checks/{served.check_id}/settle", htmx=htmx)
        assert quiet.status_code == 200
        assert NO_DRAWER_NOTICE not in quiet.text
        assert "no-cash-drawer" not in quiet.text
