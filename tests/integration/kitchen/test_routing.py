"""Fires become tickets at the right stations, exactly once: new, additions, voids and rushes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.kitchen.models import KitchenTicket, Printer, PrintJob, Station, TicketKind
from app.lib.outbox import OutboxMessage
from app.menu.models import MenuCategory, MenuItem, Modifier
from app.orders.models import FireKind
from app.staff.models import Staff
from printers import queue
from tests.integration.kitchen.support import Order, fire, fire_about, open_check, routed, tickets_of
from tests.support.escpos_decoder import decode


async def test_a_fire_makes_one_ticket_per_station_plus_expo(runtime: Any, demo: None) -> None:
    scene = await open_check(runtime, table="12")
    fire_id = await fire(
        runtime,
        scene,
        [
            Order("GR-RIB", 2, seat=1, note="no salt", modifiers=["Medium rare", "Fries"]),
            Order("FR-CAL", 1, seat=2),
            Order("GR-BUR", 1, seat=3),
        ],
    )

    await runtime.dispatcher.drain()

    tickets = await tickets_of(runtime, fire_id)
    stations = [name for _, name, _ in tickets]
    assert stations == ["Grill", "Fry", "Expo"]
    grill, _, grill_lines = tickets[0]
    assert [(line.name, line.quantity_num, line.seat) for line in grill_lines] == [
        ("Rib-eye 300 g", 2, 1),
        ("Brigade Burger", 1, 3),
    ]
    assert grill_lines[0].modifiers == ["Medium rare", "Fries"]
    assert grill_lines[0].note == "no salt"
    assert grill.table_label == "Table 12"
    assert grill.server_name == "Lena Brooks"
    assert grill.kind is TicketKind.NEW
    expo, _, expo_lines = tickets[2]
    assert expo.is_expo
    assert [line.name for line in expo_lines] == ["Rib-eye 300 g", "Fried Calamari", "Brigade Burger"]


async def test_a_fire_delivered_twice_makes_its_tickets_once(runtime: Any, demo: None) -> None:
    from app.kitchen.services import route_fire

    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-RIB")])
    await runtime.dispatcher.drain()
    async with runtime.db.write() as session:
        again = await route_fire(session, fire_id)

    assert len(again) == 2
    assert len(await tickets_of(runtime, fire_id)) == 2
    async with runtime.db.read() as session:
        jobs = (await session.exec(select(PrintJob))).all()
    assert len(jobs) == 1


async def test_a_server_with_a_long_name_still_gets_food_to_the_kitchen(runtime: Any, demo: None) -> None:
    # "Server " and a 32-letter name left the check number two columns on an 80 mm ticket, and laying it out failed:
    # the fire was never routed, so no board and no printer heard of it
    long_name = "Maximiliana Rosalind Ashworthson"
    async with runtime.db.write() as session:
        server = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        server.name = long_name
        session.add(server)
    scene = await open_check(runtime, server=long_name)
    fire_id = await fire(runtime, scene, [Order("GR-RIB")])

    await runtime.dispatcher.drain()

    assert [name for _, name, _ in await tickets_of(runtime, fire_id)] == ["Grill", "Expo"]
    async with runtime.db.read() as session:
        job = (await session.exec(select(PrintJob))).one()
        fire_message = (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == "kitchen.fire"))).one()
    assert fire_message.delivered_at is not None
    assert fire_message.last_error is None
    printed = decode(job.data).lines
    assert any(line.startswith("Check ") for line in printed)
    assert f"Server {long_name}" in [line.strip() for line in printed]


async def test_a_ticket_that_cannot_be_laid_out_still_reaches_the_boards_and_prints_a_slip_saying_so(
    runtime: Any, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_layout(*_args: Any, **_kwargs: Any) -> bytes:
        raise ValueError("a layout bug")

    monkeypatch.setattr(queue, "render_kitchen_ticket", broken_layout)
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-RIB")])

    await runtime.dispatcher.drain()

    assert [name for _, name, _ in await tickets_of(runtime, fire_id)] == ["Grill", "Expo"]
    async with runtime.db.read() as session:
        job = (await session.exec(select(PrintJob))).one()
        printer = await session.get(Printer, job.printer_id)
    assert job.data == b""
    assert job.document is not None
    assert printer is not None
    slip = decode(queue.job_bytes(job, primary=printer, target=printer)).text
    assert "CANNOT PRINT" in slip
    assert f"ticket:{job.reference.split(':')[1]}" in slip


async def test_a_modifier_with_its_own_station_also_goes_there(runtime: Any, demo: None) -> None:
    async with runtime.db.write() as session:
        fry = (await session.exec(select(Station).where(Station.name == "Fry"))).one()
        fries = (await session.exec(select(Modifier).where(Modifier.name == "Sweet potato fries"))).one()
        fries.station_id = fry.id
        session.add(fries)
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-RIB", 2, seat=1, modifiers=["Rare", "Sweet potato fries"])])

    await runtime.dispatcher.drain()

    tickets = {name: lines for _, name, lines in await tickets_of(runtime, fire_id)}
    assert set(tickets) == {"Grill", "Fry", "Expo"}
    assert tickets["Grill"][0].modifiers == ["Rare", "Sweet potato fries (from Fry)"]
    fry_line = tickets["Fry"][0]
    assert (fry_line.name, fry_line.part_of, fry_line.quantity_num, fry_line.seat) == (
        "Sweet potato fries",
        "Rib-eye 300 g",
        2,
        1,
    )


async def test_an_item_override_beats_its_category_station(runtime: Any, demo: None) -> None:
    async with runtime.db.write() as session:
        cold = (await session.exec(select(Station).where(Station.name == "Cold"))).one()
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == "GR-SAL"))).one()
        item.station_id = cold.id
        session.add(item)
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-SAL"), Order("GR-RIB")])

    await runtime.dispatcher.drain()

    assert [(name, [line.name for line in lines]) for _, name, lines in await tickets_of(runtime, fire_id)] == [
        ("Grill", ["Rib-eye 300 g"]),
        ("Cold", ["Grilled Salmon"]),
        ("Expo", ["Grilled Salmon", "Rib-eye 300 g"]),
    ]


async def test_an_item_with_no_station_is_not_dropped_but_shown_at_expo_with_the_reason(
    runtime: Any, demo: None
) -> None:
    async with runtime.db.write() as session:
        category = (await session.exec(select(MenuCategory).where(MenuCategory.name == "Desserts"))).one()
        category.station_id = None
        session.add(category)
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("DS-TIR", seat=2), Order("GR-RIB")])

    await runtime.dispatcher.drain()

    tickets = await tickets_of(runtime, fire_id)
    assert [name for _, name, _ in tickets] == ["Grill", "Expo"]
    expo, _, expo_lines = tickets[1]
    assert expo.has_unrouted
    tiramisu = next(line for line in expo_lines if line.name == "Tiramisu")
    assert tiramisu.unrouted_reason is not None
    assert "Tiramisu (category Desserts) has no kitchen station" in tiramisu.unrouted_reason
    async with runtime.db.read() as session:
        jobs = (await session.exec(select(PrintJob).where(PrintJob.reference == f"ticket:{expo.id}"))).all()
    # expo has no printer in the demo: the unroutable line still reaches paper on the kitchen printer
    assert len(jobs) == 1


async def test_an_addition_makes_addition_tickets(runtime: Any, demo: None) -> None:
    scene = await open_check(runtime)
    await fire(runtime, scene, [Order("GR-RIB")])
    addition = await fire(runtime, scene, [Order("FR-FRI", 2)], kind=FireKind.ADDITION)

    await runtime.dispatcher.drain()

    tickets = await tickets_of(runtime, addition)
    assert [(name, ticket.kind) for ticket, name, _ in tickets] == [
        ("Fry", TicketKind.ADDITION),
        ("Expo", TicketKind.ADDITION),
    ]


async def test_a_void_makes_void_tickets_where_the_line_went_and_marks_the_original(runtime: Any, demo: None) -> None:
    scene = await open_check(runtime)
    first = await fire(runtime, scene, [Order("GR-RIB", 2), Order("FR-CAL")])
    await runtime.dispatcher.drain()
    void = await fire_about(runtime, scene, {"GR-RIB": 2}, kind=FireKind.VOID, void_line=True)

    await runtime.dispatcher.drain()

    void_tickets = await tickets_of(runtime, void)
    assert [
        (name, ticket.kind, [(line.name, line.quantity_num) for line in lines]) for ticket, name, lines in void_tickets
    ] == [
        ("Grill", TicketKind.VOID, [("Rib-eye 300 g", 2)]),
        ("Expo", TicketKind.VOID, [("Rib-eye 300 g", 2)]),
    ]
    original = {name: lines for _, name, lines in await tickets_of(runtime, first)}
    assert original["Grill"][0].voided_at is not None
    assert original["Fry"][0].voided_at is None


async def test_a_partial_void_leaves_the_original_line_standing(runtime: Any, demo: None) -> None:
    scene = await open_check(runtime)
    first = await fire(runtime, scene, [Order("GR-RIB", 3)])
    await runtime.dispatcher.drain()
    void = await fire_about(runtime, scene, {"GR-RIB": 1}, kind=FireKind.VOID)

    await runtime.dispatcher.drain()

    assert [(name, lines[0].quantity_num) for _, name, lines in await tickets_of(runtime, void)] == [
        ("Grill", 1),
        ("Expo", 1),
    ]
    original = {name: lines for _, name, lines in await tickets_of(runtime, first)}
    assert original["Grill"][0].voided_at is None


async def test_a_rush_flags_the_open_tickets_and_prints_a_rush_slip(runtime: Any, demo: None) -> None:
    scene = await open_check(runtime)
    first = await fire(runtime, scene, [Order("GR-RIB"), Order("FR-CAL")])
    await runtime.dispatcher.drain()
    rush = await fire_about(runtime, scene, {"GR-RIB": 1}, kind=FireKind.RUSH)

    await runtime.dispatcher.drain()

    assert await tickets_of(runtime, rush) == []
    tickets = {name: (ticket, lines) for ticket, name, lines in await tickets_of(runtime, first)}
    assert tickets["Grill"][0].rush_at is not None
    assert tickets["Grill"][1][0].rush
    assert tickets["Fry"][0].rush_at is None
    async with runtime.db.read() as session:
        grill_jobs = (
            await session.exec(select(PrintJob).where(PrintJob.reference == f"ticket:{tickets['Grill'][0].id}"))
        ).all()
    assert len(grill_jobs) == 2
    assert grill_jobs[1].document is not None
    assert grill_jobs[1].document["fields"]["kind"] == "rush"


async def test_transfers_and_merges_send_nothing_to_the_kitchen(runtime: Any, demo: None) -> None:
    from app.floor.models import DiningTable
    from app.orders import seating
    from app.staff.models import Staff

    first = await open_check(runtime, table="12")
    second = await open_check(runtime, table="14")
    await fire(runtime, first, [Order("GR-RIB")])
    await fire(runtime, second, [Order("FR-CAL")])
    await runtime.dispatcher.drain()
    async with runtime.db.read() as session:
        tickets_before = len((await session.exec(select(KitchenTicket))).all())
        jobs_before = len((await session.exec(select(PrintJob))).all())

    async with runtime.db.write() as session:
        lena = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        table_20 = (await session.exec(select(DiningTable).where(DiningTable.name == "20"))).one()
        await seating.transfer_check(
            session, check_id=first.check_id, actor=lena, expected_version=None, to_table_id=table_20.id
        )
        await seating.merge_checks(
            session, into_check_id=first.check_id, from_check_id=second.check_id, actor=lena, into_version=None
        )
    await runtime.dispatcher.drain()

    async with runtime.db.read() as session:
        assert len((await session.exec(select(KitchenTicket))).all()) == tickets_before
        assert len((await session.exec(select(PrintJob))).all()) == jobs_before
        fires = (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == "kitchen.fire"))).all()
    assert len(fires) == 2


async def test_a_ticket_reprinted_from_the_kds_prints_again_marked_reprint(cook: Any, runtime: Any) -> None:
    scene = await open_check(runtime)
    fire_id = await fire(runtime, scene, [Order("GR-RIB")])
    tickets = {name: ticket for ticket, name, _ in await routed(runtime, fire_id)}
    grill, expo = tickets["Grill"], tickets["Expo"]

    response = await cook.post(f"/kds/tickets/{grill.id}/reprint")
    no_printer = await cook.post(f"/kds/tickets/{expo.id}/reprint")

    assert response.status_code == 200
    assert "Reprinting Table 12." in response.text
    assert no_printer.status_code == 409
    assert "Expo has no printer" in no_printer.text
    async with runtime.db.read() as session:
        jobs = (await session.exec(select(PrintJob).where(PrintJob.reference == f"ticket:{grill.id}"))).all()
    assert len(jobs) == 2
    assert jobs[1].document is not None
    assert jobs[1].document["fields"]["reprint"] is True
    assert jobs[1].requested_by is not None
