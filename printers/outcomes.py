"""What the print worker records after a send: printed, sent once more, retried, moved to the backup, held or failed.

Each outcome writes the printer's health and raises the alert a manager needs, in the transaction that
records the job; the rules are in printers.worker's docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen import printing
from app.kitchen.models import AlertKind, Printer, PrinterHealth, PrinterHealthRecord, PrintJob, PrintJobState
from app.lib.clock import utcnow
from app.lib.db import UTCDateTime
from printers.errors import AmbiguousDelivery, PrinterCoverOpen, PrinterError, PrinterOffline, PrinterPaperOut

_DOWN = [health for health in PrinterHealth if health.is_down]

# The two UPDATEs of every printed job, built once (a statement built per call costs more CPU than its execution),
# on the tables: an ORM-enabled UPDATE derives its cache key anew at every execution.
_JOBS: Table = PrintJob.__table__  # type: ignore[attr-defined]
_HEALTH: Table = PrinterHealthRecord.__table__  # type: ignore[attr-defined]
_MARK_PRINTED: Any = (
    update(_JOBS)
    .where(
        _JOBS.c.id == bindparam("job_id"),
        _JOBS.c.claimed_by == bindparam("worker"),
        _JOBS.c.state == PrintJobState.PRINTING,
    )
    .values(
        state=PrintJobState.PRINTED,
        printed_at=bindparam("now", type_=UTCDateTime()),
        printed_on_id=_JOBS.c.target_printer_id,
        claimed_by=None,
        # a job printed on its backup keeps why its own printer could not take it
        last_error=case((_JOBS.c.on_backup, _JOBS.c.last_error), else_=None),
    )
    .returning(_JOBS.c.target_printer_id)
)
_PRINTER_WORKING: Any = (
    update(_HEALTH)
    .where(_HEALTH.c.printer_id == bindparam("printer"), _HEALTH.c.health.not_in(_DOWN))
    .values(
        health=case(
            (_HEALTH.c.health == PrinterHealth.PAPER_LOW.value, PrinterHealth.PAPER_LOW.value),
            else_=PrinterHealth.OK.value,
        ),
        detail=None,
        checked_at=bindparam("now", type_=UTCDateTime()),
        last_printed_at=bindparam("now", type_=UTCDateTime()),
    )
)


async def record_failure(
    session: AsyncSession, job: PrintJob, error: PrinterError, retry_delays: Sequence[float]
) -> None:
    """Record how a send of `job` (claimed by this worker) went wrong."""
    if isinstance(error, AmbiguousDelivery):
        await printing.record_health(session, job.target_printer_id, PrinterHealth.UNREACHABLE, error.message)
        await ambiguous(session, job, error.message)
    elif isinstance(error, PrinterPaperOut | PrinterOffline):
        if isinstance(error, PrinterPaperOut):
            health = PrinterHealth.PAPER_OUT
        elif isinstance(error, PrinterCoverOpen):
            health = PrinterHealth.COVER_OPEN
        else:
            health = PrinterHealth.OFFLINE
        await printing.record_health(session, job.target_printer_id, health, error.message)
        await _give_up_on_target(session, job, error.message, health)
    else:
        # one failed try does not make the printer known down; giving up on it does
        await _retry_or_give_up(session, job, error.message, retry_delays)


async def printed(session: AsyncSession, job_id: int, worker_id: str) -> bool:
    """Mark a job this worker holds printed and its printer working; False if the claim is no longer ours.

    One conditional UPDATE each for the job and its printer's health: no row is read first on the way.
    """
    now = utcnow()
    taken = await session.exec(_MARK_PRINTED, params={"job_id": job_id, "worker": worker_id, "now": now})
    printer_id = taken.scalar_one_or_none()
    if printer_id is None:
        return False
    # a paper-low answer is worth keeping; anything else is now known to work
    working = await session.exec(_PRINTER_WORKING, params={"printer": printer_id, "now": now})
    if working.rowcount != 1:
        # its first print, or it was down and is back before its probe said so
        await _first_print_or_back(session, printer_id)
    return True


async def _first_print_or_back(session: AsyncSession, printer_id: int) -> None:
    known = await session.get(PrinterHealthRecord, printer_id)
    was_down = known is not None and known.health.is_down
    paper_low = known is not None and known.health is PrinterHealth.PAPER_LOW
    health = PrinterHealth.PAPER_LOW if paper_low else PrinterHealth.OK
    await printing.record_health(session, printer_id, health, None, printed=True)
    if was_down:
        # what waited for it goes out now, not after the next probe
        await printing.release_held_jobs(session, printer_id)


async def ambiguous(session: AsyncSession, job: PrintJob, reason: str) -> None:
    """The send may have reached the paper: send it once more marked REPRINT, never a second time or a drawer kick."""
    job.last_error = reason[:500]
    job.claimed_by = None
    printer = await session.get(Printer, job.target_printer_id)
    name = printer.name if printer else f"printer {job.target_printer_id}"
    if job.is_drawer_kick:
        await _fail(
            session,
            job,
            AlertKind.DRAWER_UNCERTAIN,
            f"{_describe(job)} on {name} may or may not have printed and opened the cash drawer; "
            "it is not sent again. Check the drawer and reprint from the check if needed.",
        )
        job.duplicate_sent = True
        return
    if job.duplicate_sent:
        await _fail(
            session,
            job,
            AlertKind.JOB_FAILED,
            f"{_describe(job)} on {name} broke off twice; it may have printed. Check the printer, then send it again.",
        )
        return
    # The paper may already hold this job: the one resend says REPRINT so nobody cooks it twice.
    job.duplicate_sent = True
    job.mark_reprint = True
    job.state = PrintJobState.PENDING
    job.available_at = utcnow()
    session.add(job)


async def _retry_or_give_up(session: AsyncSession, job: PrintJob, reason: str, retry_delays: Sequence[float]) -> None:
    job.tries += 1
    job.last_error = reason[:500]
    job.claimed_by = None
    if job.tries <= len(retry_delays):
        job.state = PrintJobState.PENDING
        job.available_at = utcnow() + timedelta(seconds=retry_delays[job.tries - 1])
        session.add(job)
        return
    await printing.record_health(session, job.target_printer_id, PrinterHealth.UNREACHABLE, reason)
    await _give_up_on_target(session, job, reason, PrinterHealth.UNREACHABLE)


async def _give_up_on_target(session: AsyncSession, job: PrintJob, reason: str, health: PrinterHealth) -> None:
    job.last_error = reason[:500]
    job.claimed_by = None
    primary = await session.get(Printer, job.printer_id)
    primary_name = primary.name if primary else f"printer {job.printer_id}"
    target = await session.get(Printer, job.target_printer_id)
    target_name = target.name if target else f"printer {job.target_printer_id}"
    kind = {
        PrinterHealth.PAPER_OUT: AlertKind.PAPER_OUT,
        PrinterHealth.COVER_OPEN: AlertKind.COVER_OPEN,
        PrinterHealth.OFFLINE: AlertKind.OFFLINE,
    }.get(health, AlertKind.UNREACHABLE)
    backup = await backup_for(session, primary) if not job.on_backup else None
    if backup is not None:
        backup_record = await session.get(PrinterHealthRecord, backup.id)
        await printing.raise_alert(
            session,
            job.printer_id,
            kind,
            _both_down(primary_name, health, backup.name, backup_record.health)
            if backup_record is not None and backup_record.health.is_down
            else f"{primary_name} is {health.label}: its jobs print on {backup.name} until it is back.",
        )
        job.on_backup = True
        job.target_printer_id = backup.id or 0
        job.tries = 0
        job.state = PrintJobState.PENDING
        job.available_at = utcnow()
        session.add(job)
        return
    if health.waits_for_a_person and not job.is_drawer_kick:
        # The printer is there and says what to fix: the ticket waits for paper rather than for a manager.
        await printing.raise_alert(
            session,
            job.target_printer_id,
            kind,
            f"{target_name} is {health.label}: its jobs wait and print, marked LATE, once it is ready again.",
        )
        waiting = f"{target_name} is {health.label}"
        printing.hold_job(job, waiting + (f"; {primary_name} could not print it either" if job.on_backup else ""))
        session.add(job)
        if job.on_backup:
            await _restate_primary(session, job.printer_id, primary_name, target_name, health)
        return
    if job.on_backup:
        await printing.raise_alert(session, job.target_printer_id, kind, f"{target_name} is {health.label}.")
        await _restate_primary(session, job.printer_id, primary_name, target_name, health)
    await _fail(
        session,
        job,
        AlertKind.JOB_FAILED,
        f"{_describe(job)} did not print: {primary_name}"
        + (f" and its backup {target_name}" if job.on_backup else "")
        + f" {'are' if job.on_backup else 'is'} {health.label}. Send it again from the printer status page.",
    )


async def _restate_primary(
    session: AsyncSession, primary_id: int, primary_name: str, backup_name: str, backup_health: PrinterHealth
) -> None:
    """The backup went down too: the primary's alert no longer says its jobs print there."""
    known = await session.get(PrinterHealthRecord, primary_id)
    primary_health = known.health if known is not None and known.health.is_down else PrinterHealth.UNREACHABLE
    await printing.restate_alerts(
        session, primary_id, _both_down(primary_name, primary_health, backup_name, backup_health)
    )


async def backup_for(session: AsyncSession, primary: Printer | None) -> Printer | None:
    """The printer a printer's jobs go to when it is down, if it has one that is not archived."""
    if primary is None or primary.backup_printer_id is None or primary.backup_printer_id == primary.id:
        return None
    backup = await session.get(Printer, primary.backup_printer_id)
    if backup is None or backup.archived_at is not None:
        return None
    return backup


async def _fail(session: AsyncSession, job: PrintJob, kind: AlertKind, message: str) -> None:
    job.state = PrintJobState.FAILED
    job.failed_at = utcnow()
    job.claimed_by = None
    session.add(job)
    await session.flush()
    await printing.raise_alert(session, job.printer_id, kind, message, job_id=job.id)


def _both_down(primary: str, primary_health: PrinterHealth, backup: str, backup_health: PrinterHealth) -> str:
    """What a printer's alert says once its backup is down too: where its tickets are now."""
    down = f"{primary} is {primary_health.label}, and its backup {backup} is {backup_health.label} too: "
    if backup_health.waits_for_a_person:
        return down + f"{primary}'s tickets are held and print, marked LATE, as soon as either printer is back."
    return down + f"{primary}'s tickets cannot print; send them again from the printer status page once one is back."


def _describe(job: PrintJob) -> str:
    what = {
        "kitchen_ticket": "Kitchen ticket",
        "guest_check": "Guest check",
        "receipt": "Receipt",
        "drawer_kick": "Cash drawer kick",
        "z_report": "Z report",
        "test_page": "Test page",
    }.get(job.kind, "Print job")
    return f"{what} {job.reference} (job {job.id})"
