"""The durable print queue against fake printers on a real TCP port and a pty: retries, backup, alerts, reprints."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
from sqlmodel import col, select

from app.kitchen import printing
from app.kitchen.models import (
    AlertKind,
    Printer,
    PrinterAlert,
    PrinterHealth,
    PrinterHealthRecord,
    PrintJob,
    PrintJobState,
)
from app.kitchen.print_documents import (
    AmountLineDoc,
    CheckLineDoc,
    CountedAmountDoc,
    GuestCheckDoc,
    PaymentDoc,
    QrCodeDoc,
    ReceiptDoc,
    TaxLineDoc,
    TenderTotalDoc,
    ZReportDoc,
    document_to_json,
)
from app.lib.errors import Conflict, InvalidInput
from printers.layouts import render_drawer_kick, render_guest_check, render_receipt, render_z_report
from printers.profiles import PrinterProfile
from printers.worker import PrintWorker
from tests.integration.kitchen.support import Order, fire, open_check
from tests.support.escpos_decoder import decode
from tests.support.fake_printer import FakeNetworkPrinter, FakeSerialPrinter, PrinterState

FAST = (0.05, 0.05)


async def point(runtime: Any, name: str, uri: str, *, backup: str | None = None) -> int:
    """Aim a demo printer at an address (and a backup, or none)."""
    async with runtime.db.write() as session:
        printer = (await session.exec(select(Printer).where(Printer.name == name))).one()
        printer.uri = uri
        if backup is None:
            printer.backup_printer_id = None
        else:
            other = (await session.exec(select(Printer).where(Printer.name == backup))).one()
            printer.backup_printer_id = other.id
        session.add(printer)
    return printer.id or 0


async def settle(worker: PrintWorker, runtime: Any, within: float = 15.0) -> list[PrintJob]:
    """Run the worker until no job is due or being sent (held ones wait for their printer); every job."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await worker.drain()
        async with runtime.db.read() as session:
            jobs = list((await session.exec(select(PrintJob).order_by(col(PrintJob.id)))).all())
        if all(job.state in (PrintJobState.PRINTED, PrintJobState.FAILED, PrintJobState.HELD) for job in jobs):
            return jobs
        assert loop.time() < deadline, [(j.id, j.state, j.last_error) for j in jobs]
        await asyncio.sleep(0.05)


async def alerts(runtime: Any) -> list[PrinterAlert]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(PrinterAlert).order_by(col(PrinterAlert.id)))).all())


async def test_a_fired_ticket_prints_on_a_network_printer_with_accents_and_euro(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as kitchen:
        await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=1")
        scene = await open_check(runtime, table="7")
        await fire(
            runtime,
            scene,
            [Order("DS-CRB", 2, seat=1, note="Extra sauce, €2 on the bill"), Order("SL-NIC", seat=3)],
        )
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert [job.state for job in jobs] == [PrintJobState.PRINTED, PrintJobState.PRINTED]
        paper = decode(kitchen.received)
    text = paper.text
    assert "Table 7" in text
    assert "2 x Crème Brûlée" in text
    assert "NOTE: Extra sauce, €2 on the bill" in text
    assert "1 x Niçoise Salad" in text
    assert "Pastry - Dessert" in text
    assert "Server Lena Brooks" in text
    assert paper.line("Table 7").style.large
    assert paper.kinds().count("cut") == 2
    assert "REPRINT" not in text
    assert "BACKUP" not in text


async def test_a_guest_check_prints_on_a_serial_printer_and_decodes_with_euro_amounts(runtime: Any, demo: None) -> None:
    doc = GuestCheckDoc(
        venue_name="Brigade Bistro",
        check_number="1042",
        table_label="12",
        server_name="Lena Brooks",
        opened_at=dt.datetime(2025, 3, 14, 19, 5, tzinfo=dt.UTC),
        lines=(CheckLineDoc(quantity="2", name="Crème Brûlée", amount_cents=1700),),
        subtotal_cents=1700,
        taxes=(TaxLineDoc(label="VAT 9 %", tax_cents=153),),
        total_cents=1853,
    )
    with FakeSerialPrinter() as bar:
        bar_id = await point(runtime, "Bar", bar.uri + "?status_timeout=1")
        async with runtime.db.write() as session:
            await printing.enqueue_print(
                session,
                printer_id=bar_id,
                data=render_guest_check(doc),
                kind="guest_check",
                reference="check:1042",
                document=document_to_json(doc),
            )

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        text = decode(bar.received).text
    assert "GUEST CHECK" in text
    assert "2 Crème Brûlée" in text
    assert "€17.00" in text
    assert "€18.53" in text


async def test_a_refusing_printer_is_retried_then_its_job_prints_on_the_backup_with_a_banner(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter() as kitchen, FakeNetworkPrinter() as bar:
        kitchen.refuse_connections()
        await point(runtime, "Bar", bar.uri)
        await point(runtime, "Kitchen", kitchen.uri + "?connect_timeout=0.5", backup="Bar")
        scene = await open_check(runtime, table="3")
        await fire(runtime, scene, [Order("GR-RIB", seat=2, modifiers=["Medium rare"])])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        job = jobs[0]
        assert job.state is PrintJobState.PRINTED
        assert job.on_backup
        assert job.attempts == 4  # the first send and two retries on Kitchen, then Bar
        assert kitchen.received == b""
        paper = decode(bar.received)
    assert paper.lines[0].strip() == "BACKUP FROM Kitchen"
    assert paper.styled_lines[0].style.inverted
    assert "1 x Rib-eye 300 g" in paper.text
    assert "Table 3" in paper.text
    async with runtime.db.read() as session:
        health = await session.get(PrinterHealthRecord, job.printer_id)
    assert health is not None
    assert health.health is PrinterHealth.UNREACHABLE
    assert [(a.kind, a.acknowledged_at) for a in await alerts(runtime)] == [(AlertKind.UNREACHABLE, None)]


async def test_when_both_printers_are_down_the_job_fails_with_an_alert_and_prints_once_the_printer_is_back(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter() as kitchen, FakeNetworkPrinter() as bar:
        kitchen.refuse_connections()
        bar.refuse_connections()
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri + "?connect_timeout=0.5", backup="Bar")
        await point(runtime, "Bar", bar.uri + "?connect_timeout=0.5")
        scene = await open_check(runtime, table="9")
        await fire(runtime, scene, [Order("GR-BUR", modifiers=["Medium"])])
        await runtime.dispatcher.drain()
        worker = PrintWorker(runtime.db, retry_delays=FAST)

        jobs = await settle(worker, runtime)

        assert [job.state for job in jobs] == [PrintJobState.FAILED]
        raised = await alerts(runtime)
        failed_alert = next(a for a in raised if a.kind is AlertKind.JOB_FAILED)
        assert failed_alert.job_id == jobs[0].id
        assert "did not print: Kitchen and its backup Bar are not answering" in failed_alert.message
        [kitchen_alert] = [a for a in raised if a.printer_id == kitchen_id and a.job_id is None]
        assert "print on Bar" not in kitchen_alert.message
        assert "its backup Bar is not answering too: Kitchen's tickets cannot print" in kitchen_alert.message

        kitchen.accept_connections()
        async with runtime.db.write() as session:
            assert await printing.retry_failed_jobs(session, kitchen_id, staff_id=None) == 1

        jobs = await settle(worker, runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        assert not jobs[0].on_backup
        assert "1 x Brigade Burger" in decode(kitchen.received).text
    # the alert stays until a manager acknowledges it
    assert all(alert.acknowledged_at is None for alert in await alerts(runtime))


async def test_a_printer_out_of_paper_does_not_mark_the_job_printed_and_goes_to_the_backup_at_once(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter(PrinterState.PAPER_OUT) as kitchen, FakeNetworkPrinter() as bar:
        await point(runtime, "Bar", bar.uri)
        await point(runtime, "Kitchen", kitchen.uri, backup="Bar")
        scene = await open_check(runtime)
        await fire(runtime, scene, [Order("GR-CHK")])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=(30.0,)), runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        assert jobs[0].printed_on_id != jobs[0].printer_id
        assert jobs[0].attempts == 2  # no retry on a printer that says it has no paper
        assert decode(kitchen.received).kinds() == ["status_query", "status_query", "status_query"]
        assert "BACKUP FROM Kitchen" in decode(bar.received).text
    raised = await alerts(runtime)
    assert [a.kind for a in raised] == [AlertKind.PAPER_OUT]
    assert "Kitchen is out of paper" in raised[0].message


async def test_a_printer_out_of_paper_with_no_backup_holds_the_ticket_and_prints_it_late_once_paper_is_back(
    runtime: Any, demo: None
) -> None:
    with FakeSerialPrinter(PrinterState.PAPER_OUT) as kitchen:
        await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=1")
        scene = await open_check(runtime, table="5")
        await fire(runtime, scene, [Order("GR-CHK")])
        await runtime.dispatcher.drain()
        worker = PrintWorker(runtime.db, retry_delays=FAST)

        jobs = await settle(worker, runtime)

        # held, not done and not failed: nobody has to press anything once paper is in
        assert jobs[0].state is PrintJobState.HELD
        assert jobs[0].printed_at is None
        assert "out of paper" in (jobs[0].last_error or "")
        assert [a.kind for a in await alerts(runtime)] == [AlertKind.PAPER_OUT]

        # the probe finds the printer still out of paper: the ticket keeps waiting
        await worker.probe_down_printers()
        assert (await settle(worker, runtime))[0].state is PrintJobState.HELD

        kitchen.state = PrinterState.OK
        await worker.probe_down_printers()
        jobs = await settle(worker, runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        assert jobs[0].printed_on_id == jobs[0].printer_id
        paper = decode(kitchen.received)
    assert paper.lines[0].strip() == "LATE - 1 MIN"
    assert paper.styled_lines[0].style.inverted
    assert "1 x Half Chicken" in paper.text


async def test_a_send_broken_mid_job_is_printed_once_more_marked_reprint_and_never_a_third_time(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter(drop_after=40) as kitchen:
        await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=0.5")
        scene = await open_check(runtime)
        await fire(runtime, scene, [Order("GR-LAM", modifiers=["Rare"])])
        await runtime.dispatcher.drain()
        worker = PrintWorker(runtime.db, retry_delays=FAST)

        jobs = await settle(worker, runtime)

        # both sends broke off: once retried as a reprint, then failed for a person to check
        assert jobs[0].state is PrintJobState.FAILED
        assert jobs[0].duplicate_sent
        assert jobs[0].mark_reprint
        assert jobs[0].attempts == 2
        assert len(kitchen.connections) == 2

        kitchen.drop_after = None
        async with runtime.db.write() as session:
            await printing.retry_failed_job(session, jobs[0].id or 0, staff_id=None)
        jobs = await settle(worker, runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        last = decode(kitchen.connections[-1].data)
    assert last.lines[0].strip() == "REPRINT"
    assert "1 x Lamb Chops" in last.text


async def test_a_cash_drawer_kick_is_never_sent_again_after_an_ambiguous_failure(runtime: Any, demo: None) -> None:
    # three status queries of three bytes are answered; the link breaks two bytes into the kick
    with FakeNetworkPrinter(drop_after=11) as bar:
        bar_id = await point(runtime, "Bar", bar.uri + "?status_timeout=0.5")
        async with runtime.db.write() as session:
            await printing.enqueue_print(
                session, printer_id=bar_id, data=render_drawer_kick(), kind="drawer_kick", reference="no-sale:1"
            )

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert jobs[0].state is PrintJobState.FAILED
        assert len(bar.connections) == 1
    raised = await alerts(runtime)
    assert [a.kind for a in raised] == [AlertKind.DRAWER_UNCERTAIN]
    with pytest.raises(Conflict, match="cash drawer"):
        async with runtime.db.write() as session:
            await printing.retry_failed_job(session, jobs[0].id or 0, staff_id=None)


async def test_a_job_left_by_a_worker_that_died_is_printed_by_another_marked_reprint(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as kitchen:
        await point(runtime, "Kitchen", kitchen.uri)
        scene = await open_check(runtime)
        await fire(runtime, scene, [Order("GR-FIL", modifiers=["Well done"])])
        await runtime.dispatcher.drain()
        async with runtime.db.write() as session:
            job = (await session.exec(select(PrintJob))).one()
            job.state = PrintJobState.PRINTING
            job.claimed_by = "host:999:dead"
            job.claimed_at = job.created_at - dt.timedelta(minutes=5)
            session.add(job)

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST, lease_seconds=60), runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        assert jobs[0].duplicate_sent
        paper = decode(kitchen.received)
    assert paper.lines[0].strip() == "REPRINT"
    assert "1 x Fillet 200 g" in paper.text


async def test_jobs_for_one_printer_print_in_the_order_they_were_fired(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as kitchen:
        await point(runtime, "Kitchen", kitchen.uri)
        for table in ("1", "2", "3", "4"):
            scene = await open_check(runtime, table=table)
            await fire(runtime, scene, [Order("GR-RIB")])
        await runtime.dispatcher.drain()

        await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        tables = [line for line in decode(kitchen.received).lines if line.strip().startswith("Table ")]
    assert [t.strip() for t in tables] == ["Table 1", "Table 2", "Table 3", "Table 4"]


async def test_a_manager_acknowledges_an_alert_once(runtime: Any, demo: None) -> None:
    async with runtime.db.write() as session:
        printer = (await session.exec(select(Printer))).first()
        assert printer is not None
        alert = await printing.raise_alert(session, printer.id or 0, AlertKind.PAPER_OUT, "Kitchen is out of paper")
        again = await printing.raise_alert(session, printer.id or 0, AlertKind.PAPER_OUT, "Kitchen is out of paper")
    assert again.id == alert.id
    assert again.occurrences == 2
    async with runtime.db.write() as session:
        await printing.acknowledge_alert(session, alert.id or 0, staff_id=1)
    async with runtime.db.read() as session:
        assert await printing.open_alert_count(session) == 0


async def health_of(runtime: Any, printer_id: int) -> PrinterHealth | None:
    async with runtime.db.read() as session:
        record = await session.get(PrinterHealthRecord, printer_id)
    return record.health if record else None


async def test_a_wedged_printer_that_accepts_but_never_reads_gets_no_ticket_marked_printed(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter() as kitchen, FakeNetworkPrinter() as bar:
        # its network card takes the connection; its firmware never reads a byte
        kitchen.stop_reading()
        await point(runtime, "Bar", bar.uri)
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=0.2", backup="Bar")
        scene = await open_check(runtime, table="8")
        await fire(runtime, scene, [Order("GR-RIB", modifiers=["Medium rare"])])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        job = jobs[0]
        assert job.state is PrintJobState.PRINTED
        assert job.printed_on_id != kitchen_id
        assert job.attempts == 4  # the first send and two retries on Kitchen, then Bar
        assert kitchen.received == b""
        assert len(kitchen.connections) == 3
        assert "answered no status query" in (job.last_error or "")
        paper = decode(bar.received)
    assert paper.lines[0].strip() == "BACKUP FROM Kitchen"
    assert "1 x Rib-eye 300 g" in paper.text
    assert await health_of(runtime, kitchen_id) is PrinterHealth.UNREACHABLE
    assert [a.kind for a in await alerts(runtime)] == [AlertKind.UNREACHABLE]


async def test_a_wedged_printer_with_no_backup_fails_its_ticket_with_an_alert(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as kitchen:
        kitchen.stop_reading()
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=0.2")
        scene = await open_check(runtime)
        await fire(runtime, scene, [Order("GR-BUR", modifiers=["Medium"])])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert jobs[0].state is PrintJobState.FAILED
        assert jobs[0].printed_at is None
        assert kitchen.received == b""
    assert await health_of(runtime, kitchen_id) is PrinterHealth.UNREACHABLE
    failed = [a for a in await alerts(runtime) if a.kind is AlertKind.JOB_FAILED]
    assert len(failed) == 1
    assert "Kitchen is not answering" in failed[0].message


async def test_a_printer_that_hangs_mid_job_has_the_ticket_reprinted_on_the_backup(runtime: Any, demo: None) -> None:
    # it answers the three status queries, then its firmware stops reading: the job is never confirmed
    with FakeNetworkPrinter(hang_after=9) as kitchen, FakeNetworkPrinter() as bar:
        await point(runtime, "Bar", bar.uri)
        await point(runtime, "Kitchen", kitchen.uri + "?io_timeout=0.3", backup="Bar")
        scene = await open_check(runtime, table="6")
        await fire(runtime, scene, [Order("GR-LAM", modifiers=["Rare"])])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert jobs[0].state is PrintJobState.PRINTED
        assert jobs[0].on_backup
        assert jobs[0].duplicate_sent
        banners = [line.text.strip() for line in decode(bar.received).styled_lines if line.style.inverted]
    assert banners == ["REPRINT", "BACKUP FROM Kitchen"]


async def test_while_a_printer_is_known_down_new_tickets_go_straight_to_the_backup_until_a_probe_finds_it_back(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter() as kitchen, FakeNetworkPrinter() as bar:
        kitchen.refuse_connections()
        await point(runtime, "Bar", bar.uri)
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri + "?connect_timeout=0.5", backup="Bar")
        worker = PrintWorker(runtime.db, retry_delays=FAST)
        await fire(runtime, await open_check(runtime, table="1"), [Order("GR-RIB")])
        await runtime.dispatcher.drain()
        first = (await settle(worker, runtime))[0]
        assert (first.on_backup, first.attempts) == (True, 4)

        # a slow retry ladder would hold this ticket back for minutes; a known-down printer is not tried at all
        worker.retry_delays = (60.0, 60.0)
        await fire(runtime, await open_check(runtime, table="2"), [Order("GR-BUR", modifiers=["Medium"])])
        await runtime.dispatcher.drain()
        second = (await settle(worker, runtime, within=5.0))[1]

        assert second.state is PrintJobState.PRINTED
        assert (second.on_backup, second.attempts, second.printed_on_id) == (True, 1, first.printed_on_id)
        assert "BACKUP FROM Kitchen" in decode(bar.connections[-1].data).text

        # the probe still finds it away, then back
        await worker.probe_down_printers()
        assert await health_of(runtime, kitchen_id) is PrinterHealth.UNREACHABLE
        kitchen.accept_connections()
        await worker.probe_down_printers()
        assert await health_of(runtime, kitchen_id) is PrinterHealth.OK

        await fire(runtime, await open_check(runtime, table="3"), [Order("GR-CHK")])
        await runtime.dispatcher.drain()
        third = (await settle(worker, runtime, within=5.0))[2]

        assert (third.on_backup, third.printed_on_id) == (False, kitchen_id)
        paper = decode(kitchen.received)
    assert "1 x Half Chicken" in paper.text
    assert "BACKUP" not in paper.text


async def test_a_wedged_printer_is_not_brought_back_by_a_probe(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as kitchen:
        kitchen.stop_reading()
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri + "?status_timeout=0.2")
        async with runtime.db.write() as session:
            await printing.record_health(session, kitchen_id, PrinterHealth.UNREACHABLE, "did not answer")

        await PrintWorker(runtime.db).probe_down_printers()

        assert await health_of(runtime, kitchen_id) is PrinterHealth.UNREACHABLE


async def test_tickets_wait_while_both_printers_are_out_of_paper_and_print_late_once_paper_is_loaded(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter(PrinterState.PAPER_OUT) as kitchen, FakeNetworkPrinter(PrinterState.PAPER_OUT) as bar:
        bar_id = await point(runtime, "Bar", bar.uri)
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri, backup="Bar")
        worker = PrintWorker(runtime.db, retry_delays=FAST)
        for table in ("4", "5"):
            await fire(runtime, await open_check(runtime, table=table), [Order("GR-RIB")])
        await runtime.dispatcher.drain()

        jobs = await settle(worker, runtime)

        assert [job.state for job in jobs] == [PrintJobState.HELD, PrintJobState.HELD]
        assert all(job.failed_at is None for job in jobs)
        assert jobs[0].last_error == "Bar is out of paper; Kitchen could not print it either"
        raised = await alerts(runtime)
        assert {(a.printer_id, a.kind) for a in raised} == {
            (kitchen_id, AlertKind.PAPER_OUT),
            (bar_id, AlertKind.PAPER_OUT),
        }
        assert not [a for a in raised if a.kind is AlertKind.JOB_FAILED]
        [kitchen_alert] = [a for a in raised if a.printer_id == kitchen_id]
        assert kitchen_alert.message == (
            "Kitchen is out of paper, and its backup Bar is out of paper too: "
            "Kitchen's tickets are held and print, marked LATE, as soon as either printer is back."
        )
        async with runtime.db.read() as session:
            assert await printing.pending_jobs(session) == 2  # still owed: the day cannot close over them

        # paper goes into the kitchen printer; no one presses retry
        kitchen.state = PrinterState.OK
        await worker.probe_down_printers()
        jobs = await settle(worker, runtime)

        assert [(job.state, job.printed_on_id, job.on_backup) for job in jobs] == [
            (PrintJobState.PRINTED, kitchen_id, False),
            (PrintJobState.PRINTED, kitchen_id, False),
        ]
        paper = decode(kitchen.received)
    banners = [line.text.strip() for line in paper.styled_lines if line.style.inverted]
    assert banners == ["LATE - 1 MIN", "LATE - 1 MIN"]
    tables = [line.strip() for line in paper.lines if line.strip().startswith("Table ")]
    assert tables == ["Table 4", "Table 5"]


async def test_a_printer_with_its_cover_open_sends_its_ticket_to_the_backup_and_says_why(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter(PrinterState.COVER_OPEN) as kitchen, FakeNetworkPrinter() as bar:
        await point(runtime, "Bar", bar.uri)
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri, backup="Bar")
        await fire(runtime, await open_check(runtime), [Order("GR-CHK")])
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=(30.0,)), runtime)

        assert (jobs[0].state, jobs[0].on_backup) == (PrintJobState.PRINTED, True)
        assert [query.value for query in decode(kitchen.received).events_of("status_query")] == [1, 2, 4]
    assert await health_of(runtime, kitchen_id) is PrinterHealth.COVER_OPEN
    raised = await alerts(runtime)
    assert [a.kind for a in raised] == [AlertKind.COVER_OPEN]
    assert "Kitchen is offline, cover open" in raised[0].message


async def test_a_void_ticket_prints_when_it_was_voided_by_whom_who_approved_it_and_why(
    runtime: Any, demo: None
) -> None:
    from app.orders import voids
    from app.staff.models import Staff

    with FakeNetworkPrinter() as kitchen:
        await point(runtime, "Kitchen", kitchen.uri)
        scene = await open_check(runtime, table="11")
        await fire(runtime, scene, [Order("GR-RIB", 2, modifiers=["Medium rare"])])
        await runtime.dispatcher.drain()
        async with runtime.db.write() as session:
            server = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
            manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
            await voids.void_line(
                session,
                check_id=scene.check_id,
                line_id=scene.line_ids["GR-RIB"],
                actor=server,
                approver=manager,
                expected_version=None,
                quantity=1,
                reason="Guest changed their mind",
            )
        await runtime.dispatcher.drain()

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert [job.state for job in jobs] == [PrintJobState.PRINTED, PrintJobState.PRINTED]
        void = decode(kitchen.connections[-1].data)
    assert void.styled_lines[0].text.strip() == "VOID"
    assert void.line("Voided").text.rstrip()[-5:].replace(":", "").isdigit()
    assert "Fired" not in void.text
    assert "Voided by Lena Brooks" in void.text
    assert "Approved by Nora Vance" in void.text
    assert "Reason: Guest changed their mind" in void.text
    assert "1 x Rib-eye 300 g" in void.text


async def test_held_tickets_go_out_as_soon_as_their_printer_prints_again_even_before_a_probe(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter(PrinterState.PAPER_OUT) as kitchen:
        kitchen_id = await point(runtime, "Kitchen", kitchen.uri)
        worker = PrintWorker(runtime.db, retry_delays=FAST)
        await fire(runtime, await open_check(runtime, table="4"), [Order("GR-RIB")])
        await runtime.dispatcher.drain()
        assert [job.state for job in await settle(worker, runtime)] == [PrintJobState.HELD]

        # paper goes in and the next ticket is fired before any probe has run
        kitchen.state = PrinterState.OK
        await fire(runtime, await open_check(runtime, table="5"), [Order("GR-BUR", modifiers=["Medium"])])
        await runtime.dispatcher.drain()
        jobs = await settle(worker, runtime)

        assert [(job.state, job.printed_on_id) for job in jobs] == [
            (PrintJobState.PRINTED, kitchen_id),
            (PrintJobState.PRINTED, kitchen_id),
        ]
        paper = decode(kitchen.received)
    assert [line.strip() for line in paper.lines if line.strip().startswith(("Table ", "LATE"))] == [
        "Table 5",
        "LATE - 1 MIN",
        "Table 4",
    ]


FRONT_OF_HOUSE_OPENED = dt.datetime(2025, 3, 14, 19, 5, tzinfo=dt.UTC)
GUEST_CHECK = GuestCheckDoc(
    venue_name="Brigade Bistro",
    check_number="1042",
    table_label="12",
    server_name="Lena Brooks",
    opened_at=FRONT_OF_HOUSE_OPENED,
    covers=2,
    lines=(CheckLineDoc(quantity="2", name="Crème Brûlée", amount_cents=1700, modifiers=("no sugar",)),),
    subtotal_cents=1700,
    taxes=(TaxLineDoc(label="VAT 9 %", tax_cents=153, base_cents=1700),),
    total_cents=1853,
)
RECEIPT = ReceiptDoc(
    venue_name="Brigade Bistro",
    check_number="1042",
    table_label="12",
    server_name="Lena Brooks",
    opened_at=FRONT_OF_HOUSE_OPENED,
    closed_at=FRONT_OF_HOUSE_OPENED + dt.timedelta(hours=2),
    lines=(CheckLineDoc(quantity="1", name="Gift card", amount_cents=5000),),
    subtotal_cents=5000,
    total_cents=5000,
    payments=(PaymentDoc(tender="Card", amount_cents=5000, tip_cents=300, card_brand="VISA", card_last4="4242"),),
    qr_codes=(QrCodeDoc(label="Gift card", data="6035711234567893", caption="6035 7112 3456 7893"),),
)
Z_REPORT = ZReportDoc(
    venue_name="Brigade Bistro",
    business_day=dt.date(2025, 3, 14),
    printed_at=FRONT_OF_HOUSE_OPENED + dt.timedelta(hours=8),
    categories=(AmountLineDoc(label="Desserts", amount_cents=1700),),
    net_sales_cents=1700,
    tenders=(TenderTotalDoc(tender="Card", count=1, amount_cents=1853),),
    taxes=(TaxLineDoc(label="VAT 9 %", tax_cents=153, base_cents=1700),),
    voids=CountedAmountDoc(count=0, amount_cents=0),
    comps=CountedAmountDoc(count=1, amount_cents=450),
    discounts=CountedAmountDoc(count=0, amount_cents=0),
    tips_cents=300,
    cash_over_short_cents=-20,
)


async def test_documents_enqueued_without_bytes_reach_the_printer_as_the_till_laid_them_out(
    runtime: Any, demo: None
) -> None:
    with FakeNetworkPrinter() as bar:
        bar_id = await point(runtime, "Bar", bar.uri)
        async with runtime.db.write() as session:
            for kind, doc in (("guest_check", GUEST_CHECK), ("receipt", RECEIPT), ("z_report", Z_REPORT)):
                await printing.enqueue_print(
                    session, printer_id=bar_id, kind=kind, reference="check:1042", document=doc
                )
            await printing.enqueue_drawer_kick(session, printer_id=bar_id, reference="no-sale:1")
            printer = await session.get(Printer, bar_id)
        assert printer is not None

        jobs = await settle(PrintWorker(runtime.db, retry_delays=FAST), runtime)

        assert [(job.kind, job.state, job.data) for job in jobs] == [
            ("guest_check", PrintJobState.PRINTED, b""),
            ("receipt", PrintJobState.PRINTED, b""),
            ("z_report", PrintJobState.PRINTED, b""),
            ("drawer_kick", PrintJobState.PRINTED, b""),
        ]
        assert jobs[-1].open_drawer
        # what reached the paper, without the worker's status queries around each job
        printed = re.sub(rb"\x10\x04[\x01\x02\x04]", b"", bar.received)
    # the bytes the till used to lay out itself, with the printer's width and code page
    till = PrinterProfile(name=printer.profile, columns=printer.columns, code_page=printer.codepage)
    assert printed == (
        render_guest_check(GUEST_CHECK, till)
        + render_receipt(RECEIPT, till)
        + render_z_report(Z_REPORT, till)
        + render_drawer_kick(till)
    )


async def test_a_reprinted_z_report_is_laid_out_again_under_a_reprint_banner(runtime: Any, demo: None) -> None:
    with FakeNetworkPrinter() as bar:
        bar_id = await point(runtime, "Bar", bar.uri)
        async with runtime.db.write() as session:
            job = await printing.enqueue_print(
                session, printer_id=bar_id, kind="z_report", reference="z:2025-03-14", document=Z_REPORT
            )
        worker = PrintWorker(runtime.db, retry_delays=FAST)
        await settle(worker, runtime)
        async with runtime.db.write() as session:
            await printing.reprint_job(session, job.id or 0, staff_id=None)
        await settle(worker, runtime)
        paper = decode(bar.received)
    assert paper.text.count("Z REPORT") == 2
    assert paper.text.count("REPRINT") == 1
    assert paper.text.index("REPRINT") > paper.text.index("Z REPORT")


async def test_a_print_job_needs_a_document_it_can_be_laid_out_from_or_its_bytes(runtime: Any, demo: None) -> None:
    async with runtime.db.write() as session:
        bar = (await session.exec(select(Printer).where(Printer.name == "Bar"))).one()
        with pytest.raises(InvalidInput, match="needs something to print: a document or the bytes"):
            await printing.enqueue_print(session, printer_id=bar.id or 0, kind="receipt", reference="check:1")
        with pytest.raises(InvalidInput, match="A receipt job cannot be printed from a 'GuestCheckDoc' document"):
            await printing.enqueue_print(
                session, printer_id=bar.id or 0, kind="receipt", reference="check:1", document=GUEST_CHECK
            )
        with pytest.raises(InvalidInput, match="needs something to print"):
            await printing.enqueue_print(session, printer_id=bar.id or 0, kind="test_page", reference="test")
    async with runtime.db.read() as session:
        assert (await session.exec(select(PrintJob))).all() == []


async def test_a_printers_health_is_one_row_written_whether_or_not_it_had_one(runtime: Any, demo: None) -> None:
    async with runtime.db.write() as session:
        bar = (await session.exec(select(Printer).where(Printer.name == "Bar"))).one()
        bar_id = bar.id or 0
        assert await session.get(PrinterHealthRecord, bar_id) is None
        first = await printing.record_health(session, bar_id, PrinterHealth.OK, None, printed=True)
        printed_at = first.last_printed_at
        assert printed_at is not None
        held = await session.get(PrinterHealthRecord, bar_id)
        again = await printing.record_health(session, bar_id, PrinterHealth.PAPER_OUT, "paper end " * 50)
        assert again is held, "the session's copy is the row just written"
    async with runtime.db.read() as session:
        [record] = (await session.exec(select(PrinterHealthRecord))).all()
    assert record.health is PrinterHealth.PAPER_OUT
    assert record.detail is not None
    assert len(record.detail) == 300
    assert record.last_printed_at == printed_at, "asking a printer is not printing on it"
    assert record.checked_at is not None
    assert record.checked_at >= printed_at


async def test_two_print_passes_recording_a_printers_first_health_at_once_both_succeed(
    runtime: Any, demo: None
) -> None:
    if runtime.db.is_sqlite:
        pytest.skip("SQLite runs one writer at a time")
    async with runtime.db.read() as session:
        bar_id = (await session.exec(select(Printer.id).where(Printer.name == "Bar"))).one() or 0
    first_wrote = asyncio.Event()

    async def first_pass() -> None:
        async with runtime.db.write() as session:
            await printing.record_health(session, bar_id, PrinterHealth.OFFLINE, "offline")
            first_wrote.set()
            # the second pass now waits on this uncommitted first row
            await asyncio.sleep(0.5)

    async def second_pass() -> None:
        await first_wrote.wait()
        async with runtime.db.write() as session:
            await printing.record_health(session, bar_id, PrinterHealth.OK, None, printed=True)

    await asyncio.gather(first_pass(), second_pass())
    async with runtime.db.read() as session:
        [record] = (await session.exec(select(PrinterHealthRecord))).all()
    assert (record.health, record.detail) == (PrinterHealth.OK, None)
    assert record.last_printed_at is not None
