"""Cash drawers with over/short, server checkouts with cash owed, and tip pools shared to the cent."""

from __future__ import annotations

from typing import Any

from app.accounting.models import JournalEntry
from app.checks.services import business_day
from app.checks.terminal import SimulatedTerminal
from app.closes import drawer_queries
from app.closes.models import DrawerMovement, DrawerSession, MovementKind, ServerCheckout, TipShare
from app.closes.tip_pools import distribute_tips, record_hours, save_tip_rule
from app.kitchen.models import PrintJob
from app.lib.audit import AuditEntry
from app.lib.clock import utcnow
from tests.integration.closes.arrange import entries, entry_lines, key, pay, person, rows, serve, settle, total


async def _drawer(manager: Any, runtime: Any, *, blind: bool = False, float_: str = "100.00") -> DrawerSession:
    form = {"name": "Main", "float": float_, "idempotency_key": key()}
    if blind:
        form["blind"] = "on"
    response = await manager.post("/closes/drawers", form)
    assert response.status_code == 200, response.text
    [drawer] = await rows(runtime, DrawerSession)
    return drawer


async def test_counted_cash_short_by_five_posts_five_to_over_short(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    drawer = await _drawer(manager, runtime)
    served = await serve(runtime, ["PA-CAR", "BR-PIL"])
    due = await total(runtime, served.check_id)
    await pay(runtime, terminal, served, "Cash")
    await settle(runtime)
    expected = 10000 + due
    async with runtime.db.read() as session:
        assert await drawer_queries.drawer_expected(session, drawer) == expected
    counted = expected - 500
    response = await manager.post(
        f"/closes/drawers/{drawer.id}/count", {"counted": f"{counted / 100:.2f}", "idempotency_key": key()}
    )
    assert response.status_code == 200
    assert "short by 5.00, posted to cash over/short" in response.text
    [closed] = await rows(runtime, DrawerSession)
    assert (closed.expected_cents, closed.counted_cents, closed.over_short_cents) == (expected, counted, -500)
    [entry] = [
        e for e in await entries(runtime, JournalEntry.source_type == "drawer") if e.source_id.endswith(":close")
    ]
    lines = await entry_lines(runtime, entry.id or 0)
    assert lines["6010"] == 500  # the 5.00 short is an expense
    assert lines["1900"] == counted  # what was counted goes to the safe
    assert lines["1010"] == -(500 + counted)
    # The drawer account ends at zero: float in, takings in, short and deposit out.
    async with runtime.db.read() as session:
        from app.accounting.accounts import account_by_code
        from app.accounting.queries import balances

        cash = await account_by_code(session, "1010")
        assert (await balances(session)).get(cash.id if cash else 0, 0) == 0


async def test_cash_in_pay_out_and_no_sale_are_recorded_with_reasons_and_a_double_tap_counts_once(
    manager: Any, runtime: Any
) -> None:
    drawer = await _drawer(manager, runtime)
    tap = {"kind": "cash_in", "amount": "50.00", "reason": "Change run", "idempotency_key": key()}
    await manager.post(f"/closes/drawers/{drawer.id}/move", tap)
    await manager.post(f"/closes/drawers/{drawer.id}/move", tap)
    await manager.post(
        f"/closes/drawers/{drawer.id}/move",
        {"kind": "pay_out", "amount": "12.40", "reason": "Window cleaner", "idempotency_key": key()},
    )
    no_sale = await manager.post(
        f"/closes/drawers/{drawer.id}/no-sale", {"reason": "Guest needed change", "idempotency_key": key()}
    )
    assert no_sale.status_code == 200
    movements = await rows(runtime, DrawerMovement)
    assert [(m.kind, m.amount_cents) for m in movements] == [
        (MovementKind.CASH_IN, 5000),
        (MovementKind.PAY_OUT, 1240),
        (MovementKind.NO_SALE, 0),
    ]
    async with runtime.db.read() as session:
        assert await drawer_queries.drawer_expected(session, drawer) == 10000 + 5000 - 1240
    [audited] = await rows(runtime, AuditEntry, AuditEntry.action == "closes.no_sale")
    assert audited.reason == "Guest needed change"
    assert await rows(runtime, PrintJob, PrintJob.kind == "drawer_kick")
    no_reason = await manager.post(f"/closes/drawers/{drawer.id}/no-sale", {"reason": "", "idempotency_key": key()})
    assert no_reason.status_code == 422
    too_much = await manager.post(
        f"/closes/drawers/{drawer.id}/move",
        {"kind": "pay_out", "amount": "5000.00", "reason": "Rent", "idempotency_key": key()},
    )
    assert too_much.status_code == 409
    bad_amount = await manager.post(
        f"/closes/drawers/{drawer.id}/move",
        {"kind": "cash_in", "amount": "-3", "reason": "x", "idempotency_key": key()},
    )
    assert bad_amount.status_code == 422
    assert len(await rows(runtime, DrawerMovement)) == 3


async def test_a_blind_count_hides_what_the_drawer_should_hold_until_it_is_counted(manager: Any, runtime: Any) -> None:
    drawer = await _drawer(manager, runtime, blind=True, float_="150.00")
    page = await manager.get("/closes/drawers")
    assert "hidden until counted" in page.text
    assert "€150.00</dd>" not in page.text
    counted = await manager.post(f"/closes/drawers/{drawer.id}/count", {"counted": "151.00", "idempotency_key": key()})
    assert "over by 1.00" in counted.text
    assert "€150.00</dd>" in counted.text


async def test_drawers_refuse_a_second_open_under_one_name_and_servers_cannot_manage_them(
    manager: Any, server: Any, runtime: Any
) -> None:
    await _drawer(manager, runtime)
    twice = await manager.post("/closes/drawers", {"name": "Main", "float": "10.00", "idempotency_key": key()})
    assert twice.status_code == 409
    assert (await server.get("/closes/drawers")).status_code == 403
    assert (
        await server.post("/closes/drawers", {"name": "X", "float": "1.00", "idempotency_key": key()})
    ).status_code == 403


async def test_a_server_cannot_check_out_with_open_checks_and_then_gets_cash_owed_less_card_tips(
    server: Any, runtime: Any, settings: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    card = await serve(runtime, ["PA-CAR"], table="3")
    cash = await serve(runtime, ["PA-RIS"], table="4")
    await pay(runtime, terminal, card, "Card", tip=350)
    await settle(runtime)
    refused = await server.post("/closes/checkout", {"cash_tips": "5.00", "idempotency_key": key()})
    assert refused.status_code == 409
    assert f"Lena Brooks still has open checks: #{cash.check_id} (table 4)" in refused.text
    assert await rows(runtime, ServerCheckout) == []
    cash_total = await total(runtime, cash.check_id)
    await pay(runtime, terminal, cash, "Cash")
    await settle(runtime)
    page = await server.get("/closes/checkout")
    assert "Cash to the house" in page.text
    done = await server.post("/closes/checkout", {"cash_tips": "5.00", "idempotency_key": key()})
    assert done.status_code == 200, done.text
    [checkout] = await rows(runtime, ServerCheckout)
    assert (checkout.card_tips_cents, checkout.cash_collected_cents, checkout.declared_cash_tips_cents) == (
        350,
        cash_total,
        500,
    )
    assert checkout.owed_to_house_cents == cash_total - 350
    [entry] = await entries(runtime, JournalEntry.source_type == "checkout")
    assert await entry_lines(runtime, entry.id or 0) == {"2020": 350, "1010": -350}
    twice = await server.post("/closes/checkout", {"cash_tips": "5.00", "idempotency_key": key()})
    assert twice.status_code == 409
    milo = await person(runtime, "Milo Grant")
    other = await server.post("/closes/checkout", {"staff_id": str(milo.id), "idempotency_key": key()})
    assert other.status_code == 403


async def test_the_tip_pool_by_role_then_hours_splits_to_the_cent(
    runtime: Any, demo: None, settings: Any, terminal: SimulatedTerminal
) -> None:
    manager = await person(runtime, "Nora Vance")
    lena, milo, ravi = [await person(runtime, n) for n in ("Lena Brooks", "Milo Grant", "Ravi Okafor")]
    served = await serve(runtime, ["PA-CAR"])
    await pay(runtime, terminal, served, "Card", tip=1001)
    await settle(runtime)
    day = business_day(settings, utcnow())
    async with runtime.db.write() as session:
        await save_tip_rule(
            session,
            name="Front and back",
            method="role_percent",
            role_percents={"server": 70, "cook": 30},
            include_cash_tips=False,
            actor=manager,
        )
        await record_hours(session, staff_id=lena.id or 0, day=day, minutes=300, actor=manager)
        await record_hours(session, staff_id=milo.id or 0, day=day, minutes=200, actor=manager)
        await record_hours(session, staff_id=ravi.id or 0, day=day, minutes=480, actor=manager)
        shares = await distribute_tips(session, day=day, actor=manager)
    by_person = {s.staff_id: s.share_cents for s in shares}
    assert by_person == {lena.id: 421, milo.id: 280, ravi.id: 300}
    assert sum(by_person.values()) == 1001
    async with runtime.db.write() as session:
        await save_tip_rule(
            session, name="Hours", method="hours", role_percents={}, include_cash_tips=False, actor=manager
        )
        await record_hours(session, staff_id=ravi.id or 0, day=day, minutes=300, actor=manager)
        await record_hours(session, staff_id=milo.id or 0, day=day, minutes=300, actor=manager)
        shares = await distribute_tips(session, day=day, actor=manager)
    assert sorted(s.share_cents for s in shares) == [333, 334, 334]
    assert len(await rows(runtime, TipShare)) == 3


async def test_a_tip_rule_whose_shares_do_not_make_a_hundred_is_refused(manager: Any, runtime: Any) -> None:
    response = await manager.post(
        "/closes/tips/rule", {"name": "Pool", "method": "role_percent", "percent_server": "70", "percent_cook": "20"}
    )
    assert response.status_code == 422
    assert "add up to 90 %" in response.text
    page = await manager.get("/closes/tips")
    assert "No pooling" in page.text
    hours = await manager.post("/closes/tips/hours", {"staff_id": "1", "hours": "25"})
    assert hours.status_code == 422
