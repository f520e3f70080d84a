"""What printing a fire costs the database: a ceiling on the statements the print worker sends for its tickets.

Every fire of the night is printed here: one claim takes the due job of each printer, one write records each send
(the job printed, its printer's health), and one read finds nothing more due. The ceilings are what it costs now,
so a change that creeps up fails here with its statements listed.
`python -m bench.kitchen_path --show-sql` shows the same for a fire sent from a tablet, with its timings.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from app.kitchen.models import Printer, PrinterHealth, PrinterHealthRecord, PrintJob, PrintJobState
from app.lib.settings import Settings
from printers.worker import PrintWorker
from tests.integration.kitchen.support import Order, fire, open_check
from tests.support.statements import listing, statements_sent

# A fire for two printers (Grill's ticket on Kitchen, Bar's on Bar): a claim, a record per send and a last look.
# SQLite also sends BEGIN IMMEDIATE for each write; its one-statement look sends no BEGIN.
PRINT_FIRE = {"sqlite": 11, "postgres": 13}


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The app without its own outbox dispatcher and print worker: every statement counted is this worker's."""
    return settings.model_copy(update={"run_workers": False})


async def _fire_for_two_printers(runtime: Any, table: str) -> None:
    scene = await open_check(runtime, table=table)
    await fire(runtime, scene, [Order("GR-RIB", seat=1, modifiers=["Medium rare", "Fries"]), Order("BR-CID", seat=2)])
    await runtime.dispatcher.drain()


async def test_printing_a_fires_tickets_stays_within_its_statement_budget(
    runtime: Any, demo: None, backend: str
) -> None:
    worker = PrintWorker(runtime.db)
    # the printers' first prints write their health rows; the budget is for the fires of the night after
    await _fire_for_two_printers(runtime, "7")
    assert await worker.drain(woken=True) == 2
    await _fire_for_two_printers(runtime, "12")

    with statements_sent(runtime) as sent:
        sends = await worker.drain(woken=True)

    assert sends == 2
    async with runtime.db.read() as session:
        jobs = (await session.exec(select(PrintJob).order_by(col(PrintJob.id)))).all()
        printers = {printer.id: printer.name for printer in (await session.exec(select(Printer))).all()}
        health = (await session.exec(select(PrinterHealthRecord))).all()
    assert [job.state for job in jobs] == [PrintJobState.PRINTED] * 4
    assert sorted(printers[job.printed_on_id] for job in jobs[2:]) == ["Bar", "Kitchen"]
    assert all(job.claimed_by is None and job.printed_at is not None for job in jobs)
    assert {printers[record.printer_id]: record.health for record in health} == {
        "Bar": PrinterHealth.OK,
        "Kitchen": PrinterHealth.OK,
    }
    assert len(sent) <= PRINT_FIRE[backend], f"printing a fire sent {len(sent)} statements:\n{listing(sent)}"


async def test_a_printer_low_on_paper_stays_low_on_paper_after_a_print(runtime: Any, demo: None) -> None:
    worker = PrintWorker(runtime.db)
    await _fire_for_two_printers(runtime, "7")
    await worker.drain(woken=True)
    async with runtime.db.write() as session:
        for record in (await session.exec(select(PrinterHealthRecord))).all():
            record.health = PrinterHealth.PAPER_LOW
            record.detail = "paper near its end"
            session.add(record)
    await _fire_for_two_printers(runtime, "12")

    assert await worker.drain(woken=True) == 2

    async with runtime.db.read() as session:
        health = (await session.exec(select(PrinterHealthRecord))).all()
    assert [(record.health, record.detail) for record in health] == [(PrinterHealth.PAPER_LOW, None)] * 2
    assert all(record.last_printed_at is not None for record in health)
