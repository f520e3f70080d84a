"""Covers on the Z report: a party split into checks is counted once per guest, never once per check."""

from __future__ import annotations

from typing import Any

from app.checks import splits
from app.checks.terminal import SimulatedTerminal
from app.closes import reports
from app.closes.guards import today
from tests.integration.closes.arrange import Served, pay, serve, settle


async def test_a_four_top_split_by_seat_and_a_two_top_are_six_covers_on_the_z_report(
    manager: Any, runtime: Any, terminal: SimulatedTerminal
) -> None:
    four = await serve(runtime, ["PA-CAR", "PA-RIS", "DS-TIR", "PA-CAR"], table="7", covers=4)
    async with runtime.db.write() as session:
        split = await splits.split_by_seat(session, check_id=four.check_id, actor=four.server)
    assert [c.covers for c in split] == [1, 1, 1, 1]
    for check in split:
        await pay(runtime, terminal, Served(check.id or 0, {}, four.server), "Card")
    two = await serve(runtime, ["PA-CAR", "PA-RIS"], table="5", covers=2)
    await pay(runtime, terminal, two, "Card")
    await settle(runtime)
    async with runtime.db.read() as session:
        z = await reports.z_report(session, await today(session))
    assert z.checks == 5
    assert z.covers == 6
    page = await manager.get("/closes/day")
    assert "6 covers" in page.text


async def test_one_guest_reads_one_cover(manager: Any, runtime: Any, terminal: SimulatedTerminal) -> None:
    one = await serve(runtime, ["PA-CAR"], table="5", covers=1)
    await pay(runtime, terminal, one, "Card")
    await settle(runtime)
    page = await manager.get("/closes/day")
    assert "1 cover<" in page.text
    assert "1 covers" not in page.text
