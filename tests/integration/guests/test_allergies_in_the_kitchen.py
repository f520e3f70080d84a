"""A guest's allergies reach the kitchen: a red banner on every card of their check and a reversed one on paper."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from app.guests.services import attach_guest_to_check, find_or_create_guest
from app.kitchen.models import KitchenTicket, Printer, PrintJob, PrintJobState
from app.staff.permissions import Role
from printers.worker import PrintWorker
from tests.conftest import Device
from tests.integration.guests.conftest import Front
from tests.integration.kitchen.support import Order, Scene, fire, station_id
from tests.support.escpos_decoder import decode
from tests.support.fake_printer import FakeNetworkPrinter


async def _printed(runtime: Any, count: int) -> list[PrintJob]:
    worker = PrintWorker(runtime.db, retry_delays=(0.05, 0.05))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        await runtime.dispatcher.drain()
        await worker.drain()
        async with runtime.db.read() as session:
            jobs = list((await session.exec(select(PrintJob).order_by(col(PrintJob.id)))).all())
        if len(jobs) >= count and all(job.state is PrintJobState.PRINTED for job in jobs):
            return jobs
        assert loop.time() < deadline, [(job.id, job.state, job.last_error) for job in jobs]
        await asyncio.sleep(0.05)


async def test_allergies_show_on_the_card_and_the_paper_and_follow_a_later_change(
    front: Front, runtime: Any, cook: Device
) -> None:
    server = await front.staff(Role.SERVER)
    check = await front.seat("12")
    async with front.db.write() as session:
        guest = await find_or_create_guest(session, actor=server, name="Ada Marsh", phone="0612345678")
        await attach_guest_to_check(session, check.id or 0, guest.id or 0, server, allergies="Peanuts")
    with FakeNetworkPrinter() as kitchen:
        async with runtime.db.write() as session:
            printer = (await session.exec(select(Printer).where(Printer.name == "Kitchen"))).one()
            printer.uri = kitchen.uri + "?status_timeout=1"
            printer.backup_printer_id = None
            session.add(printer)
        await fire(runtime, Scene(check_id=check.id or 0), [Order("DS-CRB", 2), Order("SL-NIC")])
        fired_jobs = len(await _printed(runtime, 1))
        first = decode(kitchen.received)
        assert first.line("ALLERGY: PEANUTS").style.inverted
        assert first.line("ALLERGY: PEANUTS").style.bold
        assert first.index("ALLERGY: PEANUTS") < first.index("Crème Brûlée")

        board = await cook.get(f"/kds/{await station_id(runtime, 'Pastry')}")
        assert board.status_code == 200
        assert 'class="ticket-banner banner-allergy" role="alert">ALLERGY: Peanuts</div>' in board.text

        async with runtime.db.read() as session:
            before = {t.id: t.version for t in (await session.exec(select(KitchenTicket))).all()}
        async with front.db.write() as session:
            await attach_guest_to_check(session, check.id or 0, guest.id or 0, server, allergies="Peanuts, sesame")
        async with runtime.db.read() as session:
            tickets = list((await session.exec(select(KitchenTicket))).all())
        assert tickets
        assert all(t.allergies == "Peanuts, sesame" and t.version == before[t.id] + 1 for t in tickets)
        board = await cook.get(f"/kds/{await station_id(runtime, 'Pastry')}")
        assert "ALLERGY: Peanuts, sesame" in board.text
        # every open ticket of the check is printed again, once, with its banner
        assert len(await _printed(runtime, fired_jobs * 2)) == fired_jobs * 2
    reprinted = decode(kitchen.received)
    # a long banner wraps across the large print's width, every piece of it white on black
    start = reprinted.index("REPRINT")
    banner = [line for line in reprinted.styled_lines[start:] if line.style.inverted]
    assert "ALLERGY: PEANUTS, SESAME" in " ".join(line.text.strip() for line in banner)
