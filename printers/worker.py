"""The print worker: claims print jobs, sends them in a thread, retries, falls back, alerts.

A job's life: pending → printing (claimed; its send may have started) → printed, or back to
pending after a failure that left the paper untouched, or failed with an alert that stays until
a manager acknowledges it. Rules, in the order they apply:

- One job at a time per printer, oldest first, so tickets come out in the order they were fired.
- A job is printed only when the printer confirmed it (see printers.transports): a printer that
  takes the connection but answers nothing is unreachable, not done.
- Unreachable: retried with backoff, then sent to the printer's backup printer with a
  "BACKUP FROM <printer>" banner, then failed with an alert. Nothing is dropped: failed jobs stay
  on the status page to be sent again.
- Out of paper, cover open or offline (DLE EOT): no retries on that printer; straight to the backup.
  With no backup left to try, the job is held (an alert says so) and prints marked LATE as soon as
  a probe hears the printer report paper again.
- A printer given up on is known down: its new jobs go straight to its backup, with no retries,
  until a probe (a status query every few seconds to each printer that is down) finds it back.
- The connection broke mid-job (AmbiguousDelivery), or the worker holding the claim died: the
  job may have printed, so it is sent once more marked REPRINT, never a second time; a cash
  drawer kick is never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen import printing
from app.kitchen.models import AlertKind, Printer, PrinterHealth, PrinterHealthRecord, PrintJob, PrintJobState
from app.lib.clock import utcnow
from app.lib.db import Database, unreachable
from app.lib.outbox import holder_is_gone, worker_name
from printers.errors import (
    AmbiguousDelivery,
    PrinterCoverOpen,
    PrinterError,
    PrinterOffline,
    PrinterPaperOut,
    PrinterUnreachable,
)
from printers.queue import job_bytes
from printers.status import PrinterStatus
from printers.transports import Transport, transport_from_uri

log = logging.getLogger(__name__)

TransportFactory = Callable[[str], Transport]
BUSY_RETRY_SECONDS = 0.05

_HEALTH = {
    PrinterStatus.OK: PrinterHealth.OK,
    PrinterStatus.PAPER_LOW: PrinterHealth.PAPER_LOW,
    PrinterStatus.PAPER_OUT: PrinterHealth.PAPER_OUT,
    PrinterStatus.COVER_OPEN: PrinterHealth.COVER_OPEN,
    PrinterStatus.OFFLINE: PrinterHealth.OFFLINE,
    # a transport says UNKNOWN only for a printer set up not to be asked; it took the connection
    PrinterStatus.UNKNOWN: PrinterHealth.OK,
}


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds, with what it needs to send it outside any transaction."""

    job_id: int
    uri: str
    data: bytes
    printer_id: int = 0


@dataclass(frozen=True)
class Outcome:
    """How one send went."""

    error: PrinterError | None = None


class PrintWorker:
    """Sends print jobs; every app process may run one, claims keep them from sending a job twice."""

    def __init__(
        self,
        db: Database,
        *,
        retry_delays: Sequence[float] = (1.0, 3.0, 10.0),
        lease_seconds: float = 90.0,
        poll_seconds: float = 2.0,
        probe_seconds: float = 5.0,
        parallel: int = 4,
        transport_factory: TransportFactory = transport_from_uri,
    ) -> None:
        self.db = db
        self.retry_delays = tuple(retry_delays)
        # Longer than the slowest send the transports allow (connect + write + confirm timeouts).
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.probe_seconds = probe_seconds
        self.parallel = parallel
        self.transport_factory = transport_factory
        self.worker_id = worker_name(self)
        self._wake = asyncio.Event()
        self._stopping = False
        self._winding_down = False
        self._waiting_on_busy = False

    def wake(self) -> None:
        """Look for jobs now (called after a commit that enqueued one)."""
        self._wake.set()

    def stop(self) -> None:
        """Leave the loop after the sends in flight."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send jobs until stopped; probe printers that are down now and then."""
        loop = asyncio.get_running_loop()
        next_probe = loop.time() + self.probe_seconds
        recovered = False
        woken = False
        while not self._stopping:
            try:
                if not recovered:
                    await self.recover_from_stopped_workers()
                    recovered = True
                await self.drain(woken=woken)
                if loop.time() >= next_probe:
                    next_probe = loop.time() + self.probe_seconds
                    await self.probe_down_printers()
            except Exception as exc:  # the worker must outlive a database outage or a bug in one job
                if unreachable(exc):
                    log.warning("print worker: the database is not reachable (%r); retrying", exc)
                else:
                    log.exception("print worker pass failed; retrying")
                await asyncio.sleep(1.0)
            try:
                idle = await self._idle_seconds()
                if self._waiting_on_busy:
                    # another worker is printing on a printer we have due jobs for: look again soon, since its
                    # run may end before it sees them
                    idle = min(idle, BUSY_RETRY_SECONDS)
            except Exception:  # an outage: poll again soon rather than stop
                idle = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle)
            woken = self._wake.is_set()
            self._wake.clear()

    async def _idle_seconds(self) -> float:
        async with self.db.read() as session:
            due = (
                await session.exec(
                    select(PrintJob.available_at)
                    .where(PrintJob.state == PrintJobState.PENDING)
                    .order_by(col(PrintJob.available_at))
                    .limit(1)
                )
            ).first()
        if due is None:
            return self.poll_seconds
        return max(0.01, min(self.poll_seconds, (due - utcnow()).total_seconds()))

    async def drain(self, *, woken: bool = False) -> int:
        """Send every job that is due now; returns how many sends were made.

        `woken`: a commit that owes a job has just woken the worker, so its first claim need not look first.
        """
        sent = 0
        while not self._stopping:
            claimed = await self.claim(look_first=not woken)
            woken = False
            if not claimed:
                return sent
            self._winding_down = False
            turns = asyncio.ensure_future(asyncio.gather(*(self._print_in_turn(job) for job in claimed)))
            try:
                counts = await asyncio.shield(turns)
            except asyncio.CancelledError:
                # Shutting down: let the sends on the wire be recorded, or they would come back as REPRINTs.
                self._winding_down = True
                await turns
                raise
            sent += sum(counts)
        return sent

    async def _print_in_turn(self, job: Claimed | None) -> int:
        """Send a printer's due jobs one after another; recording each send takes the printer's next job in the
        same transaction, so a backlog costs one write per ticket rather than a claim and a finish."""
        sent = 0
        while job is not None:
            outcome = await self._send(job)
            sent += 1
            job = await self._finish_and_take_next(job, outcome)
        return sent

    async def _send(self, job: Claimed) -> Outcome:
        try:
            await asyncio.to_thread(self._send_blocking, job.uri, job.data)
        except PrinterError as exc:
            return Outcome(exc)
        return Outcome()

    def _send_blocking(self, uri: str, data: bytes) -> None:
        try:
            transport = self.transport_factory(uri)
        except ValueError as exc:
            raise PrinterUnreachable(f"printer address {uri!r} is not usable: {exc}") from exc
        transport.send(data)

    # Claiming -----------------------------------------------------------------------------------

    async def _anything_to_do(self, now: datetime, expired: datetime) -> bool:
        # A read first: an idle worker never takes the write lock (SQLite has one writer at a time).
        async with self.db.read() as session:
            found = await session.exec(
                select(PrintJob.id)
                .where(
                    or_(
                        (col(PrintJob.state) == PrintJobState.PENDING) & (col(PrintJob.available_at) <= now),
                        (col(PrintJob.state) == PrintJobState.PRINTING) & (col(PrintJob.claimed_at) < expired),
                    )
                )
                .limit(1)
            )
            return found.first() is not None

    async def claim(self, *, look_first: bool = True) -> list[Claimed]:
        """Take the oldest due job of each printer that has nothing printing, up to `parallel` printers.

        `look_first`: read whether anything is due before taking the write lock (an idle poll never takes it).
        """
        self._waiting_on_busy = False
        now = utcnow()
        expired = now - self.lease
        if look_first and not await self._anything_to_do(now, expired):
            return []
        async with self.db.write(priority=True) as session:
            await self._recover_abandoned(session, expired)
            busy_rows = await session.exec(
                select(PrintJob.target_printer_id).where(
                    PrintJob.state == PrintJobState.PRINTING, col(PrintJob.claimed_at) >= expired
                )
            )
            busy = set(busy_rows.all())
            query = (
                select(PrintJob)
                .where(PrintJob.state == PrintJobState.PENDING, col(PrintJob.available_at) <= now)
                .order_by(col(PrintJob.id))
                .limit(200)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            claimed: list[Claimed] = []
            printers: dict[int, Printer | None] = {}
            due = list((await session.exec(query)).all())
            wanted = {job.printer_id for job in due} | {job.target_printer_id for job in due}
            if len(wanted) > 1:
                # every printer these jobs name, in one statement rather than one each
                found = (await session.exec(select(Printer).where(col(Printer.id).in_(wanted)))).all()
                printers.update({printer.id or 0: printer for printer in found})
            down = await self._known_down(session, {job.printer_id for job in due if not job.on_backup})
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
                for printer_id in (job.printer_id, job.target_printer_id):
                    if printer_id not in printers:
                        printers[printer_id] = await session.get(Printer, printer_id)
                primary, target = printers[job.printer_id], printers[job.target_printer_id]
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
            return claimed

    async def _known_down(self, session: AsyncSession, printer_ids: set[int]) -> set[int]:
        """The printers last found down, asked only when a due job's own printer is among `printer_ids`.

        Every printer down is read, not only these: whether a job may go to its backup depends on the backup too.
        """
        if not printer_ids:
            return set()
        rows = await session.exec(
            select(PrinterHealthRecord.printer_id, PrinterHealthRecord.health).where(
                col(PrinterHealthRecord.health).in_([health for health in PrinterHealth if health.is_down])
            )
        )
        return {printer_id for printer_id, _health in rows.all()}

    async def _route_around(
        self, session: AsyncSession, job: PrintJob, printers: dict[int, Printer | None], down: set[int]
    ) -> None:
        """Send a job of a printer known to be down straight to its backup, skipping the retries that would fail."""
        if job.printer_id not in printers:
            printers[job.printer_id] = await session.get(Printer, job.printer_id)
        backup = await self._backup_for(session, printers[job.printer_id])
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
        row = await session.exec(select(Printer.id).where(Printer.id == printer_id).with_for_update(skip_locked=True))
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
                await self._ambiguous(session, job, f"the print worker {holder} stopped while sending it")
                taken += 1
        if taken:
            self.wake()
        return taken

    async def _recover_abandoned(self, session: AsyncSession, expired: datetime) -> None:
        query = select(PrintJob).where(
            PrintJob.state == PrintJobState.PRINTING,
            or_(col(PrintJob.claimed_at).is_(None), col(PrintJob.claimed_at) < expired),
        )
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        for job in (await session.exec(query)).all():
            log.warning("print job %s was abandoned by %s mid-send", job.id, job.claimed_by)
            await self._ambiguous(session, job, f"the print worker {job.claimed_by} stopped while sending it")

    # Finishing ----------------------------------------------------------------------------------

    async def finish(self, job_id: int, outcome: Outcome) -> None:
        """Record how a send went, in one transaction; the claim must still be ours."""
        async with self.db.write(priority=True) as session:
            await self._finish_in(session, job_id, outcome)

    async def _finish_and_take_next(self, sent: Claimed, outcome: Outcome) -> Claimed | None:
        """Record a send and, after a good one, claim the oldest due job for the same printer, in one transaction.

        The printer keeps exactly one job in flight: its next job is marked printing as the last is marked done.
        """
        async with self.db.write(priority=True) as session:
            recorded = await self._finish_in(session, sent.job_id, outcome)
            if not recorded or outcome.error is not None or self._stopping or self._winding_down:
                return None
            query = (
                select(PrintJob)
                .where(
                    PrintJob.state == PrintJobState.PENDING,
                    PrintJob.target_printer_id == sent.printer_id,
                    col(PrintJob.available_at) <= utcnow(),
                )
                .order_by(col(PrintJob.id))
                .limit(1)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            job = (await session.exec(query)).first()
            if job is None:
                return None
            primary = await session.get(Printer, job.printer_id)
            target = await session.get(Printer, job.target_printer_id)
            if primary is None or target is None:
                return None
            job.state = PrintJobState.PRINTING
            job.claimed_at = utcnow()
            job.claimed_by = self.worker_id
            job.attempts += 1
            session.add(job)
            return Claimed(job.id or 0, target.uri, job_bytes(job, primary=primary, target=target), sent.printer_id)

    async def _finish_in(self, session: AsyncSession, job_id: int, outcome: Outcome) -> bool:
        """Record how a send went; False if the claim is no longer ours."""
        query = select(PrintJob).where(
            PrintJob.id == job_id, PrintJob.claimed_by == self.worker_id, PrintJob.state == PrintJobState.PRINTING
        )
        if not self.db.is_sqlite:
            query = query.with_for_update()
        job = (await session.exec(query)).first()
        if job is None:
            log.warning("print job %s was taken from this worker before its send finished", job_id)
            return False
        await self._record(session, job, outcome)
        return True

    async def _record(self, session: AsyncSession, job: PrintJob, outcome: Outcome) -> None:
        error = outcome.error
        if error is None:
            await self._printed(session, job)
        elif isinstance(error, AmbiguousDelivery):
            await printing.record_health(session, job.target_printer_id, PrinterHealth.UNREACHABLE, error.message)
            await self._ambiguous(session, job, error.message)
        elif isinstance(error, PrinterPaperOut | PrinterOffline):
            if isinstance(error, PrinterPaperOut):
                health = PrinterHealth.PAPER_OUT
            elif isinstance(error, PrinterCoverOpen):
                health = PrinterHealth.COVER_OPEN
            else:
                health = PrinterHealth.OFFLINE
            await printing.record_health(session, job.target_printer_id, health, error.message)
            await self._give_up_on_target(session, job, error.message, health)
        else:
            # one failed try does not make the printer known down; giving up on it does
            await self._retry_or_give_up(session, job, error.message)

    async def _printed(self, session: AsyncSession, job: PrintJob) -> None:
        now = utcnow()
        job.state = PrintJobState.PRINTED
        job.printed_at = now
        job.printed_on_id = job.target_printer_id
        job.claimed_by = None
        job.last_error = None if not job.on_backup else job.last_error
        session.add(job)
        record = await session.get(PrinterHealthRecord, job.target_printer_id)
        was_down = record is not None and record.health.is_down
        # a paper-low answer is worth keeping; anything else is now known to work
        health = PrinterHealth.PAPER_LOW if record and record.health is PrinterHealth.PAPER_LOW else PrinterHealth.OK
        await printing.record_health(session, job.target_printer_id, health, None, printed=True)
        if was_down:
            # back before its probe said so: what waited for it goes out now, not after the next probe
            await printing.release_held_jobs(session, job.target_printer_id)

    async def _ambiguous(self, session: AsyncSession, job: PrintJob, reason: str) -> None:
        job.last_error = reason[:500]
        job.claimed_by = None
        printer = await session.get(Printer, job.target_printer_id)
        name = printer.name if printer else f"printer {job.target_printer_id}"
        if job.is_drawer_kick:
            await self._fail(
                session,
                job,
                AlertKind.DRAWER_UNCERTAIN,
                f"{_describe(job)} on {name} may or may not have printed and opened the cash drawer; "
                "it is not sent again. Check the drawer and reprint from the check if needed.",
            )
            job.duplicate_sent = True
            return
        if job.duplicate_sent:
            await self._fail(
                session,
                job,
                AlertKind.JOB_FAILED,
                f"{_describe(job)} on {name} broke off twice; it may have printed. "
                "Check the printer, then send it again.",
            )
            return
        # The paper may already hold this job: the one resend says REPRINT so nobody cooks it twice.
        job.duplicate_sent = True
        job.mark_reprint = True
        job.state = PrintJobState.PENDING
        job.available_at = utcnow()
        session.add(job)

    async def _retry_or_give_up(self, session: AsyncSession, job: PrintJob, reason: str) -> None:
        job.tries += 1
        job.last_error = reason[:500]
        job.claimed_by = None
        if job.tries <= len(self.retry_delays):
            job.state = PrintJobState.PENDING
            job.available_at = utcnow() + timedelta(seconds=self.retry_delays[job.tries - 1])
            session.add(job)
            return
        await printing.record_health(session, job.target_printer_id, PrinterHealth.UNREACHABLE, reason)
        await self._give_up_on_target(session, job, reason, PrinterHealth.UNREACHABLE)

    async def _give_up_on_target(
        self, session: AsyncSession, job: PrintJob, reason: str, health: PrinterHealth
    ) -> None:
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
        backup = await self._backup_for(session, primary) if not job.on_backup else None
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
                await self._restate_primary(session, job.printer_id, primary_name, target_name, health)
            return
        if job.on_backup:
            await printing.raise_alert(session, job.target_printer_id, kind, f"{target_name} is {health.label}.")
            await self._restate_primary(session, job.printer_id, primary_name, target_name, health)
        await self._fail(
            session,
            job,
            AlertKind.JOB_FAILED,
            f"{_describe(job)} did not print: {primary_name}"
            + (f" and its backup {target_name}" if job.on_backup else "")
            + f" {'are' if job.on_backup else 'is'} {health.label}. Send it again from the printer status page.",
        )

    async def _restate_primary(
        self, session: AsyncSession, primary_id: int, primary_name: str, backup_name: str, backup_health: PrinterHealth
    ) -> None:
        """The backup went down too: the primary's alert no longer says its jobs print there."""
        record = await session.get(PrinterHealthRecord, primary_id)
        primary_health = record.health if record is not None and record.health.is_down else PrinterHealth.UNREACHABLE
        await printing.restate_alerts(
            session, primary_id, _both_down(primary_name, primary_health, backup_name, backup_health)
        )

    async def _backup_for(self, session: AsyncSession, primary: Printer | None) -> Printer | None:
        if primary is None or primary.backup_printer_id is None or primary.backup_printer_id == primary.id:
            return None
        backup = await session.get(Printer, primary.backup_printer_id)
        if backup is None or backup.archived_at is not None:
            return None
        return backup

    async def _fail(self, session: AsyncSession, job: PrintJob, kind: AlertKind, message: str) -> None:
        job.state = PrintJobState.FAILED
        job.failed_at = utcnow()
        job.claimed_by = None
        session.add(job)
        await session.flush()
        await printing.raise_alert(session, job.printer_id, kind, message, job_id=job.id)

    # Status -------------------------------------------------------------------------------------

    async def probe_down_printers(self) -> None:
        """Ask printers that were down how they are now, so the badge clears when they are back."""
        async with self.db.read() as session:
            rows = (
                await session.exec(
                    select(Printer, PrinterHealthRecord)
                    .join(PrinterHealthRecord, col(PrinterHealthRecord.printer_id) == Printer.id)
                    .where(col(Printer.archived_at).is_(None))
                )
            ).all()
        down = [(printer.id or 0, printer.uri) for printer, record in rows if record.health.is_down]
        released = 0
        for printer_id, uri in down:
            health, detail = await asyncio.to_thread(self._probe_blocking, uri)
            async with self.db.write() as session:
                await printing.record_health(session, printer_id, health, detail)
                if not health.is_down:
                    released += await printing.release_held_jobs(session, printer_id)
        if released:
            log.info("%d held print jobs go out now that their printer is back", released)

    def _probe_blocking(self, uri: str) -> tuple[PrinterHealth, str | None]:
        try:
            status = self.transport_factory(uri).status()
        except (PrinterError, ValueError) as exc:
            return PrinterHealth.UNREACHABLE, str(exc)
        return _HEALTH[status], None


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


WORKER_KEY = "print_worker"


def start(runtime: Any) -> asyncio.Task[None]:
    """Run a print worker in this process (the app's lifespan calls this when it runs workers)."""
    settings = runtime.settings
    worker = PrintWorker(
        runtime.db, retry_delays=settings.print_retry_delays, lease_seconds=settings.print_lease_seconds
    )
    runtime.db.context[printing.PRINT_WAKE] = worker.wake
    runtime.db.context[WORKER_KEY] = worker
    return asyncio.create_task(worker.run())


def stop(runtime: Any) -> None:
    """Let the print worker finish the sends in flight and leave."""
    worker: PrintWorker | None = runtime.db.context.pop(WORKER_KEY, None)
    runtime.db.context.pop(printing.PRINT_WAKE, None)
    if worker is not None:
        worker.stop()


def main() -> None:
    """Run a print worker on its own: `python -m printers.worker` with the app's BRIGADE_* settings."""
    import argparse

    import app.models  # noqa: F401  (every table, so foreign keys between domains resolve)
    from app.kitchen.printing import PRINT_WAKE
    from app.lib.settings import Settings

    parser = argparse.ArgumentParser(description="Send Brigade's print jobs to the printers.")
    parser.add_argument("--lease-seconds", type=float, default=90.0)
    parser.add_argument("--retry-delays", default="1,3,10", help="seconds between tries, comma-separated")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    delays = tuple(float(part) for part in args.retry_delays.split(",") if part.strip())

    async def go() -> None:
        db = Database(settings.resolved_database_url())
        worker = PrintWorker(db, retry_delays=delays, lease_seconds=args.lease_seconds)
        db.context[PRINT_WAKE] = worker.wake
        try:
            await worker.run()
        finally:
            await db.dispose()

    asyncio.run(go())


if __name__ == "__main__":
    main()
