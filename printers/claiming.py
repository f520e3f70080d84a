"""Claiming print jobs and recording their sends, for the print worker.

A claim marks a printer's oldest due job printing in one write transaction (one job in flight per
printer); recording a send takes the printer's next job in the same transaction, when the claim saw
one due or a commit has owed a job since. Jobs whose holder died or whose lease ran out may be on
paper already: they go out once more marked REPRINT.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.models import Printer, PrinterHealth, PrinterHealthRecord, PrintJob, PrintJobState
from app.lib.clock import utcnow
from app.lib.db import Database, Turn, UTCDateTime
from app.lib.outbox import holder_is_gone
from printers import outcomes
from printers.queue import job_bytes
from printers.sending import Claimed, Outcome

log = logging.getLogger("printers.worker")

DUE_AT_ONCE = 200
"""The most due jobs one claim reads."""

# The worker's statements, built once: a statement built per call costs more CPU than its execution.
_NOW = bindparam("now", type_=UTCDateTime())
_EXPIRED = bindparam("expired", type_=UTCDateTime())
_NEXT_DUE_AND_OLDEST_CLAIM: Any = select(
    select(func.min(PrintJob.available_at)).where(PrintJob.state == PrintJobState.PENDING).scalar_subquery(),
    select(func.min(PrintJob.claimed_at)).where(PrintJob.state == PrintJobState.PRINTING).scalar_subquery(),
)
"""When the next job is due and when the oldest claim was taken."""
_BUSY_PRINTERS: Any = select(PrintJob.target_printer_id).where(
    PrintJob.state == PrintJobState.PRINTING, col(PrintJob.claimed_at) >= _EXPIRED
)
"""The printers with a job in flight whose claim has not run out (`expired`)."""
_DUE_LOCKED: Any = (
    select(PrintJob)
    .where(PrintJob.state == PrintJobState.PENDING, col(PrintJob.available_at) <= _NOW)
    .order_by(col(PrintJob.id))
    .limit(DUE_AT_ONCE)
    .with_for_update(skip_locked=True)
)
"""The jobs due by `now`, oldest first, locked (PostgreSQL)."""
_IN_FLIGHT_AND_DUE: Any = (
    select(PrintJob)
    .where(
        or_(
            col(PrintJob.state) == PrintJobState.PRINTING,
            (col(PrintJob.state) == PrintJobState.PENDING) & (col(PrintJob.available_at) <= _NOW),
        )
    )
    # the jobs in flight first (a printer has at most one, or two when one was abandoned): the limit never hides one
    .order_by(case((col(PrintJob.state) == PrintJobState.PRINTING, 0), else_=1), col(PrintJob.id))
    .limit(DUE_AT_ONCE)
)
"""The jobs in flight and those due by `now`, in one read (SQLite, whose one writer is this transaction)."""
_PRINTERS_AND_HEALTH: Any = select(Printer, PrinterHealthRecord.health).outerjoin(
    PrinterHealthRecord, col(PrinterHealthRecord.printer_id) == col(Printer.id)
)
"""Every printer with its last known health."""
_ABANDONED: Any = select(PrintJob).where(
    PrintJob.state == PrintJobState.PRINTING,
    or_(col(PrintJob.claimed_at).is_(None), col(PrintJob.claimed_at) < _EXPIRED),
)
"""The jobs in flight whose claim ran out (`expired`): their holder stopped mid-send."""
_ABANDONED_LOCKED: Any = _ABANDONED.with_for_update(skip_locked=True)
_PRINTER_LOCKED: Any = select(Printer.id).where(Printer.id == bindparam("printer_id")).with_for_update(skip_locked=True)
"""The printer's row locked, unless another process holds it (PostgreSQL)."""
_NEXT_FOR_PRINTER: Any = (
    select(PrintJob)
    .where(
        PrintJob.state == PrintJobState.PENDING,
        PrintJob.target_printer_id == bindparam("printer_id"),
        col(PrintJob.available_at) <= _NOW,
    )
    .order_by(col(PrintJob.id))
    .limit(2)
)
"""The printer's next two jobs due by `now`: the next to send, and whether another waits."""
_NEXT_FOR_PRINTER_LOCKED: Any = _NEXT_FOR_PRINTER.with_for_update(skip_locked=True)


class Claiming:
    """The print worker's claims: taking due jobs, taking back abandoned ones, recording how sends went."""

    db: Database
    worker_id: str
    lease: timedelta
    parallel: int
    retry_delays: tuple[float, ...]
    _wake: asyncio.Event
    _wakes: int
    _wakes_at_claim: int
    _stopping: bool
    _winding_down: bool
    _waiting_on_busy: bool
    _looked: bool
    _next_due: datetime | None
    _oldest_claim: datetime | None = None

    # Claiming -----------------------------------------------------------------------------------

    async def _anything_to_do(self, now: datetime, expired: datetime) -> bool:
        await self._look()
        return (self._next_due is not None and self._next_due <= now) or (
            self._oldest_claim is not None and self._oldest_claim < expired
        )

    async def _look(self) -> None:
        """When the next job is due and when the oldest claim was taken, in one read.

        A read first: an idle worker never takes the write lock (SQLite has one writer at a time).
        """
        async with self.db.lookup() as session:
            row = (await session.exec(_NEXT_DUE_AND_OLDEST_CLAIM)).one()
        self._next_due, self._oldest_claim = row
        self._looked = True

    async def claim(self, *, look_first: bool = True) -> list[Claimed]:
        """Take the oldest due job of each printer that has nothing printing, up to `parallel` printers.

        `look_first`: read whether anything is due before taking the write lock (an idle poll never takes it).
        """
        self._waiting_on_busy = False
        self._wakes_at_claim = self._wakes
        now = utcnow()
        expired = now - self.lease
        if look_first and not await self._anything_to_do(now, expired):
            return []
        self._looked = False
        async with self.db.write(turn=Turn.DELIVERY) as session:
            due, busy, every_due = await self._due_and_busy(session, now, expired)
            if not due:
                return []
            printers, down = await self._printers(session)
            claimed: list[Claimed] = []
            for job in due:
                if not job.on_backup and job.printer_id in down:
                    await self._route_around(session, job, printers, down)
                printer_id = job.target_printer_id
                if printer_id in busy or len(claimed) >= self.parallel:
                    self._waiting_on_busy = True
                    continue
                if not await self._lock_printer(session, printer_id):
                    busy.add(printer_id)
                    continue
                busy.add(printer_id)
                primary, target = printers.get(job.printer_id), printers.get(job.target_printer_id)
                if primary is None or target is None:
                    continue
                job.state = PrintJobState.PRINTING
                job.claimed_at = now
                job.claimed_by = self.worker_id
                job.attempts += 1
                session.add(job)
                claimed.append(
                    Claimed(job.id or 0, target.uri, job_bytes(job, primary=primary, target=target), printer_id)
                )
            if not every_due:
                return claimed
            # a printer with no other job due now needs no look for one when its send is recorded
            waiting = {job.target_printer_id for job in due if job.state is PrintJobState.PENDING}
            return [replace(job, more=job.printer_id in waiting) for job in claimed]

    async def _due_and_busy(
        self, session: AsyncSession, now: datetime, expired: datetime
    ) -> tuple[list[PrintJob], set[int], bool]:
        """The jobs due now, oldest first; the printers with a job in flight; whether every due job was read.

        Jobs whose claim outlived its lease are taken back first (their holder stopped mid-send).
        """
        if not self.db.is_sqlite:
            await self._recover_abandoned(session, expired)
            busy_rows = await session.exec(_BUSY_PRINTERS, params={"expired": expired})
            due = list((await session.exec(_DUE_LOCKED, params={"now": now})).all())
            return due, set(busy_rows.all()), len(due) < DUE_AT_ONCE
        # SQLite has one writer, this transaction: nothing changes under it, and one read finds all three.
        jobs = list((await session.exec(_IN_FLIGHT_AND_DUE, params={"now": now})).all())
        busy: set[int] = set()
        for job in jobs:
            if job.state is not PrintJobState.PRINTING:
                continue
            if job.claimed_at is not None and job.claimed_at >= expired:
                busy.add(job.target_printer_id)
                continue
            log.warning("print job %s was abandoned by %s mid-send", job.id, job.claimed_by)
            await outcomes.ambiguous(session, job, f"the print worker {job.claimed_by} stopped while sending it")
        # taken back just now, after `now`: like the jobs on PostgreSQL, they are due at the next claim
        due = [job for job in jobs if job.state is PrintJobState.PENDING and job.available_at <= now]
        return due, busy, len(jobs) < DUE_AT_ONCE

    async def _printers(self, session: AsyncSession) -> tuple[dict[int, Printer], set[int]]:
        """Every printer, and those last found down, in one read: a due job may name any of them, or its backup.

        Every printer down is read, not only those of due jobs: whether a job may go to its backup depends on the
        backup too.
        """
        rows = await session.exec(_PRINTERS_AND_HEALTH)
        printers: dict[int, Printer] = {}
        down: set[int] = set()
        for printer, health in rows.all():
            printers[printer.id or 0] = printer
            if health is not None and PrinterHealth(health).is_down:
                down.add(printer.id or 0)
        return printers, down

    async def _route_around(
        self, session: AsyncSession, job: PrintJob, printers: dict[int, Printer], down: set[int]
    ) -> None:
        """Send a job of a printer known to be down straight to its backup, skipping the retries that would fail."""
        backup = await outcomes.backup_for(session, printers.get(job.printer_id))
        if backup is None or backup.id in down:
            # nothing better to try: the printer itself may be back before its probe says so
            return
        printers[backup.id or 0] = backup
        job.on_backup = True
        job.target_printer_id = backup.id or 0
        job.tries = 0
        session.add(job)

    async def _lock_printer(self, session: AsyncSession, printer_id: int) -> bool:
        # Two processes claiming at once must not both pick a job for the same printer.
        if self.db.is_sqlite:
            return True
        row = await session.exec(_PRINTER_LOCKED, params={"printer_id": printer_id})
        return row.first() is not None

    async def recover_from_stopped_workers(self) -> int:
        """Take back at once the jobs a worker of this host held when its process died (a crash, kill -9).

        They may be on paper already, so each goes out once more marked REPRINT, as after a lease runs
        out; waiting out the lease would hold those tickets back for a minute and a half after a restart.
        """
        async with self.db.read() as session:
            held = (
                await session.exec(
                    select(PrintJob.id, PrintJob.claimed_by).where(PrintJob.state == PrintJobState.PRINTING)
                )
            ).all()
        orphans = [(job_id, holder) for job_id, holder in held if holder is not None and holder_is_gone(holder)]
        taken = 0
        for job_id, holder in orphans:
            async with self.db.write() as session:
                query = select(PrintJob).where(
                    PrintJob.id == job_id, PrintJob.state == PrintJobState.PRINTING, PrintJob.claimed_by == holder
                )
                if not self.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                job = (await session.exec(query)).first()
                if job is None:
                    continue
                log.warning("print job %s was held by %s, which stopped mid-send", job.id, holder)
                await outcomes.ambiguous(session, job, f"the print worker {holder} stopped while sending it")
                taken += 1
        if taken:
            self._wake.set()
        return taken

    async def _recover_abandoned(self, session: AsyncSession, expired: datetime) -> None:
        query = _ABANDONED if self.db.is_sqlite else _ABANDONED_LOCKED
        for job in (await session.exec(query, params={"expired": expired})).all():
            log.warning("print job %s was abandoned by %s mid-send", job.id, job.claimed_by)
            await outcomes.ambiguous(session, job, f"the print worker {job.claimed_by} stopped while sending it")

    async def finish(self, job_id: int, outcome: Outcome) -> None:
        """Record how a send went, in one transaction; the claim must still be ours."""
        async with self.db.write(turn=Turn.DELIVERY) as session:
            await self._finish_in(session, job_id, outcome)

    async def _finish_and_take_next(self, sent: Claimed, outcome: Outcome) -> Claimed | None:
        """Record a send and, after a good one, claim the oldest due job for the same printer, in one transaction.

        The printer keeps exactly one job in flight: its next job is marked printing as the last is marked done.
        """
        async with self.db.write(turn=Turn.DELIVERY) as session:
            recorded = await self._finish_in(session, sent.job_id, outcome)
            if not recorded or outcome.error is not None or self._stopping or self._winding_down:
                return None
            if not sent.more and self._wakes == self._wakes_at_claim:
                # nothing was due for this printer at the claim, and no commit has owed a job since
                return None
            query = _NEXT_FOR_PRINTER if self.db.is_sqlite else _NEXT_FOR_PRINTER_LOCKED
            due = list((await session.exec(query, params={"printer_id": sent.printer_id, "now": utcnow()})).all())
            if not due:
                return None
            job = due[0]
            primary = await session.get(Printer, job.printer_id)
            target = await session.get(Printer, job.target_printer_id)
            if primary is None or target is None:
                return None
            job.state = PrintJobState.PRINTING
            job.claimed_at = utcnow()
            job.claimed_by = self.worker_id
            job.attempts += 1
            session.add(job)
            data = job_bytes(job, primary=primary, target=target)
            return Claimed(job.id or 0, target.uri, data, sent.printer_id, more=len(due) > 1)

    async def _finish_in(self, session: AsyncSession, job_id: int, outcome: Outcome) -> bool:
        """Record how a send went; False if the claim is no longer ours."""
        if outcome.error is None:
            if await outcomes.printed(session, job_id, self.worker_id):
                return True
            log.warning("print job %s was taken from this worker before its send finished", job_id)
            return False
        query = select(PrintJob).where(
            PrintJob.id == job_id, PrintJob.claimed_by == self.worker_id, PrintJob.state == PrintJobState.PRINTING
        )
        if not self.db.is_sqlite:
            query = query.with_for_update()
        job = (await session.exec(query)).first()
        if job is None:
            log.warning("print job %s was taken from this worker before its send finished", job_id)
            return False
        await outcomes.record_failure(session, job, outcome.error, self.retry_delays)
        return True
