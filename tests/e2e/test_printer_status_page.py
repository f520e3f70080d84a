"""The printer status page fits a tablet, with both printers down and a ticket that did not print."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from app.kitchen import printing
from app.kitchen.models import AlertKind, Printer, PrinterHealth, PrintJobState
from app.lib.clock import utcnow
from app.lib.db import Database
from tests.e2e.conftest import TABLET, LiveServer, log_in, screenshot


async def _both_printers_down(database: Path) -> None:
    """Kitchen stopped answering and its backup Bar ran out of paper; one ticket did not print."""
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.write() as session:
            found = {p.name: p for p in (await session.exec(select(Printer))).all()}
            kitchen, bar = found["Kitchen"].id or 0, found["Bar"].id or 0
            job = await printing.enqueue_print(
                session, printer_id=kitchen, data=b"Table 12\n", kind="kitchen_ticket", reference="Table 12 Grill"
            )
            job.state, job.failed_at, job.on_backup, job.target_printer_id = PrintJobState.FAILED, utcnow(), True, bar
            job.last_error = "connect to 192.168.10.31:9100 timed out after 3.0 s"
            session.add(job)
            await printing.record_health(session, kitchen, PrinterHealth.UNREACHABLE, job.last_error)
            await printing.record_health(session, bar, PrinterHealth.PAPER_OUT)
            await printing.raise_alert(
                session,
                kitchen,
                AlertKind.UNREACHABLE,
                "Kitchen is not answering, and its backup Bar is out of paper too: Kitchen's tickets are held "
                "and print, marked LATE, as soon as either printer is back.",
            )
    finally:
        await db.dispose()


def test_the_printer_status_page_fits_a_tablet_with_both_printers_down(tablet: Page, live_server: LiveServer) -> None:
    assert tablet.viewport_size == TABLET
    # The server's loop is not this thread's: arrange the rows from a thread of their own.
    arranging = threading.Thread(target=asyncio.run, args=(_both_printers_down(live_server.var_dir / "brigade.db"),))
    arranging.start()
    arranging.join()
    log_in(tablet, live_server, "9999")
    tablet.goto(f"{live_server}/manage/kitchen/printers")
    expect(tablet.get_by_role("heading", name="Printer status")).to_be_visible()
    expect(tablet.get_by_role("button", name="Send failed again")).to_be_visible()
    screenshot(tablet, "printer-status-both-down-1024x768")
    widths = tablet.evaluate(
        "() => ({page: document.documentElement.scrollWidth, "
        "tables: Math.max(...[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right))})"
    )
    assert widths["page"] <= TABLET["width"], widths
    assert widths["tables"] <= TABLET["width"], widths
    expect(tablet.get_by_role("button", name="Send failed again")).to_be_in_viewport()
