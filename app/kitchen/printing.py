"""The durable print queue's public face: enqueue, reprint, retry, printer health and alerts.

A print job is a row written in the transaction that caused it (a fire, a guest check, a
payment); a print worker claims and sends it after commit. Nothing here talks to a printer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
    GuestCheckDoc,
    KitchenTicketDoc,
    PrintDocument,
    ReceiptDoc,
    ZReportDoc,
    document_to_json,
)
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import after_commit
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.sql import insert_rows, insert_values, is_postgres

PRINT_WAKE = "print_wake"
"""Key in the database context of the callable that wakes the print worker after a commit."""

_HEALTH: Table = PrinterHealthRecord.__table__  # type: ignore[attr-defined]

MAX_JOB_BYTES = 1_000_000
KINDS = {"kitchen_ticket", "guest_check", "receipt", "drawer_kick", "z_report", "test_page", "report"}
DOCUMENT_TYPES = {
    "kitchen_ticket": KitchenTicketDoc.__name__,
    "guest_check": GuestCheckDoc.__name__,
    "receipt": ReceiptDoc.__name__,
    "z_report": ZReportDoc.__name__,
}
"""The document the print worker lays out for each kind of job that can be enqueued without bytes."""


def _wake_after_commit(session: AsyncSession) -> None:
    wake: Callable[[], None] | None = session.info.get(PRINT_WAKE)
    if wake is not None:
        after_commit(session, wake)


@dataclass(frozen=True)
class PrintRequest:
    """One job owed to a printer, as `enqueue_print` takes it."""

    printer_id: int
    kind: str
    reference: str
    document: PrintDocument | dict[str, Any] | None = None
    data: bytes = b""
    open_drawer: bool = False
    requested_by: int | None = None


async def enqueue_print(
    session: AsyncSession,
    *,
    printer_id: int,
    kind: str,
    reference: str,
    document: PrintDocument | dict[str, Any] | None = None,
    data: bytes = b"",
    open_drawer: bool = False,
    requested_by: int | None = None,
) -> PrintJob:
    """Owe a printer a document; it prints after this transaction commits.

    The print worker lays `document` out for the printer it sends the job to, and lays it out again with
    a REPRINT, BACKUP FROM or LATE banner. `data` is ESC/POS bytes already laid out (a test page, a
    report), sent as they are; a job needs one or the other, except a drawer kick, which the worker
    knows how to send. `kind` is one of kitchen_ticket, guest_check, receipt, drawer_kick, z_report,
    test_page, report; `reference` says what it is for a person ("check:42", "ticket:7"). `open_drawer`
    marks a job that kicks the cash drawer: such a job is never sent again after a send that may have
    reached the printer.
    """
    request = PrintRequest(printer_id, kind, reference, document, data, open_drawer, requested_by)
    (job,) = await enqueue_prints(session, [request])
    return job


async def enqueue_prints(session: AsyncSession, requests: Sequence[PrintRequest]) -> list[PrintJob]:
    """Owe printers several jobs at once (a fire's tickets, one per station), written by one statement; each is
    judged as `enqueue_print` judges one, and one refused refuses them all. No two of them are for the same printer
    and reference."""
    values = [await _job_values(session, request) for request in requests]
    if len(values) > 1:
        jobs = await insert_rows(
            session, PrintJob, [insert_values(PrintJob, **one) for one in values], key=("printer_id", "reference")
        )
    else:
        jobs = [PrintJob(**one) for one in values]
        session.add_all(jobs)
        await session.flush()
    if jobs:
        _wake_after_commit(session)
    return jobs


async def _job_values(session: AsyncSession, request: PrintRequest) -> dict[str, Any]:
    kind, data, document = request.kind, request.data, request.document
    if kind not in KINDS:
        raise InvalidInput(f"Unknown print job kind {kind!r}.")
    stored = document_to_json(document) if document is not None and not isinstance(document, dict) else document
    if not data and kind != "drawer_kick":
        if stored is None:
            raise InvalidInput("A print job needs something to print: a document or the bytes to send.")
        if stored.get("type") != DOCUMENT_TYPES.get(kind):
            raise InvalidInput(f"A {kind} job cannot be printed from a {stored.get('type')!r} document.")
    if len(data) > MAX_JOB_BYTES:
        raise InvalidInput("That print job is too large for a receipt printer.")
    if not request.reference or len(request.reference) > 120:
        raise InvalidInput("A print job needs a reference of at most 120 characters.")
    printer = await session.get(Printer, request.printer_id)
    if printer is None or printer.archived_at is not None:
        raise NotFound("That printer does not exist or is archived.")
    return {
        "printer_id": request.printer_id,
        "target_printer_id": request.printer_id,
        "kind": kind,
        "reference": request.reference,
        "data": data,
        "document": stored,
        "open_drawer": request.open_drawer or kind == "drawer_kick",
        "requested_by": request.requested_by,
    }


async def enqueue_drawer_kick(session: AsyncSession, *, printer_id: int, reference: str) -> PrintJob:
    """Owe a printer a pulse to the cash drawer connected to it; it is sent after this transaction commits."""
    return await enqueue_print(session, printer_id=printer_id, kind="drawer_kick", reference=reference)


async def reprint_job(session: AsyncSession, job_id: int, *, staff_id: int | None) -> PrintJob:
    """Print a job again, marked REPRINT, on its original printer (never a drawer kick)."""
    original = await session.get(PrintJob, job_id)
    if original is None:
        raise NotFound("That print job does not exist.")
    if original.kind == "drawer_kick":
        raise Conflict("A cash drawer kick is never reprinted; use No sale to open the drawer.")
    printer = await session.get(Printer, original.printer_id)
    if printer is None or printer.archived_at is not None:
        raise Conflict("That printer is archived; reprint on another printer from the check or the ticket.")
    if original.open_drawer and original.document is None:
        raise Conflict("This receipt opened the cash drawer; reprint it from the check instead.")
    job = PrintJob(
        printer_id=original.printer_id,
        target_printer_id=original.printer_id,
        kind=original.kind,
        reference=original.reference,
        data=original.data,
        document=original.document,
        # a reprint must never open the drawer again
        open_drawer=False,
        mark_reprint=True,
        reprint_of_id=original.id,
        requested_by=staff_id,
    )
    session.add(job)
    await session.flush()
    await audit.record(session, "print.reprint", actor_id=staff_id, subject=f"print_job:{original.id}")
    _wake_after_commit(session)
    return job


async def retry_failed_job(session: AsyncSession, job_id: int, *, staff_id: int | None) -> PrintJob:
    """Send a failed job again from the start (its printer first, then the backup)."""
    job = await session.get(PrintJob, job_id)
    if job is None:
        raise NotFound("That print job does not exist.")
    if job.state is not PrintJobState.FAILED:
        raise Conflict(f"That job is {job.state.value}, not failed; only failed jobs are sent again.")
    if job.is_drawer_kick and job.duplicate_sent:
        raise Conflict("That job may have opened the cash drawer already; it is not sent again.")
    _reset(job)
    session.add(job)
    await audit.record(session, "print.retry", actor_id=staff_id, subject=f"print_job:{job.id}")
    _wake_after_commit(session)
    return job


def _reset(job: PrintJob) -> None:
    job.state = PrintJobState.PENDING
    job.target_printer_id = job.printer_id
    job.on_backup = False
    job.tries = 0
    job.failed_at = None
    job.claimed_at = None
    job.claimed_by = None
    job.available_at = utcnow()
    # a job that may have printed once already comes out marked as a reprint
    job.mark_reprint = job.mark_reprint or job.duplicate_sent


async def retry_failed_jobs(session: AsyncSession, printer_id: int, *, staff_id: int | None) -> int:
    """Send every failed job of one printer again; returns how many."""
    if await session.get(Printer, printer_id) is None:
        raise NotFound("That printer does not exist.")
    jobs = (
        await session.exec(
            select(PrintJob).where(PrintJob.printer_id == printer_id, PrintJob.state == PrintJobState.FAILED)
        )
    ).all()
    count = 0
    for job in jobs:
        if job.is_drawer_kick and job.duplicate_sent:
            continue
        _reset(job)
        session.add(job)
        count += 1
    if count:
        await audit.record(
            session, "print.retry_all", actor_id=staff_id, subject=f"printer:{printer_id}", after={"jobs": count}
        )
        _wake_after_commit(session)
    return count


def hold_job(job: PrintJob, reason: str) -> None:
    """Keep a job that no printer can take now (out of paper, cover open) until its printer says it is ready."""
    job.state = PrintJobState.HELD
    job.held_at = utcnow()
    job.claimed_at = None
    job.claimed_by = None
    job.last_error = reason[:500]


async def release_held_jobs(session: AsyncSession, printer_id: int) -> int:
    """A printer reports it can print again: its held jobs go out now, oldest first; returns how many.

    A job held on its backup goes back to its own printer when that one is the printer that is back.
    """
    jobs = (
        await session.exec(
            select(PrintJob)
            .where(
                PrintJob.state == PrintJobState.HELD,
                (col(PrintJob.printer_id) == printer_id) | (col(PrintJob.target_printer_id) == printer_id),
            )
            .order_by(col(PrintJob.id))
        )
    ).all()
    now = utcnow()
    for job in jobs:
        if job.printer_id == printer_id:
            job.target_printer_id = printer_id
            job.on_backup = False
        job.state = PrintJobState.PENDING
        job.tries = 0
        job.available_at = now
        session.add(job)
    if jobs:
        _wake_after_commit(session)
    return len(jobs)


async def stop_waiting(session: AsyncSession, job_id: int, *, staff_id: int | None) -> PrintJob:
    """A manager gives up on a held job (the food was made from the screen, the printer is gone): it fails instead.

    It then no longer holds the business day open, and can still be sent again from the failed jobs.
    """
    job = await session.get(PrintJob, job_id)
    if job is None:
        raise NotFound("That print job does not exist.")
    if job.state is not PrintJobState.HELD:
        raise Conflict(f"That job is {job.state.value}, not waiting for its printer.")
    job.state = PrintJobState.FAILED
    job.failed_at = utcnow()
    session.add(job)
    await audit.record(session, "print.stop_waiting", actor_id=staff_id, subject=f"print_job:{job.id}")
    return job


async def raise_alert(
    session: AsyncSession, printer_id: int, kind: AlertKind, message: str, *, job_id: int | None = None
) -> PrinterAlert:
    """Raise an alert that stays until acknowledged; a repeat of an open one only counts again."""
    now = utcnow()
    if job_id is None:
        open_alert = (
            await session.exec(
                select(PrinterAlert).where(
                    PrinterAlert.printer_id == printer_id,
                    PrinterAlert.kind == kind,
                    col(PrinterAlert.job_id).is_(None),
                    col(PrinterAlert.acknowledged_at).is_(None),
                )
            )
        ).first()
        if open_alert is not None:
            open_alert.occurrences += 1
            open_alert.last_seen_at = now
            open_alert.message = message[:500]
            session.add(open_alert)
            return open_alert
    alert = PrinterAlert(printer_id=printer_id, job_id=job_id, kind=kind, message=message[:500], raised_at=now)
    session.add(alert)
    await session.flush()
    return alert


async def restate_alerts(session: AsyncSession, printer_id: int, message: str) -> None:
    """Say anew what a printer's open alerts mean for its jobs (its backup went down too, say)."""
    rows = await session.exec(
        select(PrinterAlert).where(
            PrinterAlert.printer_id == printer_id,
            col(PrinterAlert.job_id).is_(None),
            col(PrinterAlert.acknowledged_at).is_(None),
        )
    )
    for alert in rows.all():
        if alert.message != message[:500]:
            alert.message = message[:500]
            session.add(alert)


async def acknowledge_alert(session: AsyncSession, alert_id: int, *, staff_id: int) -> PrinterAlert:
    """A manager has seen the alert (and dealt with the printer)."""
    alert = await session.get(PrinterAlert, alert_id)
    if alert is None:
        raise NotFound("That alert does not exist.")
    if alert.acknowledged_at is not None:
        raise Conflict("That alert was already acknowledged.")
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by = staff_id
    session.add(alert)
    await audit.record(
        session,
        "printer.alert_acknowledged",
        actor_id=staff_id,
        subject=f"printer_alert:{alert_id}",
        after={"kind": alert.kind.value, "message": alert.message},
    )
    return alert


async def record_health(
    session: AsyncSession, printer_id: int, health: PrinterHealth, detail: str | None = None, *, printed: bool = False
) -> PrinterHealthRecord:
    """Remember what a printer said (or that it said nothing) the last time it was used or asked."""
    now = utcnow()
    # One insert-or-update: two print passes recording a printer's first health must not both insert it.
    upsert = (pg_insert if is_postgres(session) else sqlite_insert)(PrinterHealthRecord).values(
        printer_id=printer_id,
        health=health,
        detail=detail[:300] if detail else None,
        checked_at=now,
        last_printed_at=now if printed else None,
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=["printer_id"],
        set_={
            "health": upsert.excluded.health,
            "detail": upsert.excluded.detail,
            "checked_at": upsert.excluded.checked_at,
            "last_printed_at": func.coalesce(upsert.excluded.last_printed_at, _HEALTH.c.last_printed_at),
        },
    )
    # populate_existing: a record this session already holds shows what was just written
    statement = upsert.returning(PrinterHealthRecord).execution_options(populate_existing=True)
    record: PrinterHealthRecord = (await session.exec(statement)).scalars().one()
    return record


async def open_alert_count(session: AsyncSession) -> int:
    """How many printer alerts wait for a manager."""
    result = await session.exec(select(func.count()).where(col(PrinterAlert.acknowledged_at).is_(None)))
    return int(result.one())


async def pending_jobs(session: AsyncSession, *, older_than: datetime | None = None) -> int:
    """How many jobs are still owed to printers, held ones included (a business day cannot close while any are)."""
    query = select(func.count()).where(
        col(PrintJob.state).in_([PrintJobState.PENDING, PrintJobState.PRINTING, PrintJobState.HELD])
    )
    if older_than is not None:
        query = query.where(PrintJob.created_at < older_than)
    return int((await session.exec(query)).one())
