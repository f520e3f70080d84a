"""The print worker: claims print jobs, sends them in a thread, retries, falls back, alerts.

This module holds its loop and wake-ups; printers.claiming takes and records jobs, printers.outcomes
says what a send's outcome does to the job, its printer's health and alerts, printers.sending talks
to the printer.

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
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from app.kitchen import printing
from app.kitchen.models import Printer, PrinterHealthRecord
from app.lib.clock import utcnow
from app.lib.db import Database, unreachable
from app.lib.outbox import worker_name
from printers import sending
from printers.claiming import Claiming
from printers.errors import PrinterError
from printers.sending import Claimed, Outcome, TransportFactory
from printers.transports import transport_from_uri

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 0.05


class PrintWorker(Claiming):
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
        self._wakes = 0  # commits that owed a job, counted: a send's record looks for the next job after one
        self._wakes_at_claim = 0
        self._stopping = False
        self._winding_down = False
        self._waiting_on_busy = False
        # what the last look found, while nothing has been claimed or released since: the loop's wait reuses it
        self._looked = False
        self._next_due: datetime | None = None
        self._oldest_claim: datetime | None = None

    def wake(self) -> None:
        """Look for jobs now (called after a commit that enqueued one)."""
        self._wakes += 1
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
        """How long to wait for a wake-up before looking again: until the next job is due, at most a poll."""
        if not self._looked:
            await self._look()
        self._looked = False
        if self._next_due is None:
            return self.poll_seconds
        return max(0.01, min(self.poll_seconds, (self._next_due - utcnow()).total_seconds()))

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
            await asyncio.to_thread(sending.send_blocking, self.transport_factory, job.uri, job.data)
        except PrinterError as exc:
            return Outcome(exc)
        return Outcome()

    # Status -------------------------------------------------------------------------------------

    async def probe_down_printers(self) -> None:
        """Ask printers that were down how they are now, so the badge clears when they are back."""
        self._looked = False
        async with self.db.lookup() as session:
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
            health, detail = await asyncio.to_thread(sending.probe_blocking, self.transport_factory, uri)
            async with self.db.write() as session:
                await printing.record_health(session, printer_id, health, detail)
                if not health.is_down:
                    released += await printing.release_held_jobs(session, printer_id)
        if released:
            log.info("%d held print jobs go out now that their printer is back", released)


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
