"""The sender: sync records leave for head office in batches, in sequence order, and are resent until held.

It never stands in the venue's way. It runs beside the outbox dispatcher, sends what has committed, and on
any failure (head office down, the link cut mid-batch, a refusal) records the error and tries again later,
waiting longer each time. Head office answers each batch with the highest sequence it holds without a hole;
the next batch starts right after that, so whatever was lost in between is simply sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx

from app.group.protocol import ENROL_PATH, RECORDS_PATH, STATUS_PATH
from app.lib.clock import utcnow
from app.lib.db import Database, Turn, unreachable
from app.lib.errors import DomainError
from app.lib.settings import Settings
from app.sync import capture, services
from app.sync.models import LinkStatus, SyncRecord

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
NOT_LINKED = "This venue is not linked to a head office; join one with `brigade head-office join URL TOKEN`."
REVOKED = "Head office revoked this venue; join again with a new enrolment token."
# How often a running sender prunes the records head office acknowledged (and at its start).
PRUNE_EVERY_SECONDS = 3600.0


class SyncRefused(DomainError):
    """Head office refused this venue (a used token, a revoked venue, a wrong credential)."""

    status_code = 409
    code = "sync_refused"


@dataclass(frozen=True)
class SendOutcome:
    """What one sending pass did."""

    sent: int
    acked: int
    error: str | None = None


class _Runtime(Protocol):
    settings: Settings
    db: Database
    tasks: list[asyncio.Task[None]]


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"head office answered {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"head office answered {response.status_code}"


async def join(
    db: Database,
    url: str,
    token: str,
    *,
    actor_id: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Exchange an enrolment token at head office for this venue's credential, and keep it; the venue code."""
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise SyncRefused("The head office address starts with http:// or https://.")
    async with db.read() as session:
        link = await services.current_link(session)
    if link is not None and link.status is LinkStatus.LINKED:
        raise SyncRefused(f"This venue is already linked to {link.url} as {link.venue_code}.")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as client:
            response = await client.post(base + ENROL_PATH, json={"token": token.strip()})
    except httpx.HTTPError as exc:
        raise SyncRefused(f"Head office at {base} could not be reached: {exc!r}") from None
    if response.status_code != 200:
        raise SyncRefused(_message(response))
    body = response.json()
    venue = body["venue"]
    state = capture.link_state(db)
    mark = state.mark() if state is not None else 0
    async with db.write() as session:
        await services.save_link(
            session,
            url=base,
            venue_code=venue["code"],
            venue_name=venue["name"],
            credential=body["credential"],
            actor_id=actor_id,
        )
    if state is not None:
        await _write_owed(db, state.joined(mark))
    return str(venue["code"])


def _wire_record(record: SyncRecord) -> dict[str, Any]:
    return {
        "sequence": record.sequence,
        "kind": record.kind,
        "key": record.key,
        "occurred_at": record.occurred_at.isoformat(),
        "payload": record.payload,
    }


class SyncSender:
    """Sends the venue's sync records to head office, batch by batch, and keeps the acknowledged mark."""

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 200,
        poll_seconds: float = 2.0,
        retention_days: int = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.retention = timedelta(days=retention_days)
        self._stopping = False
        self._wake = asyncio.Event()
        self._pruned_at: float | None = None

    def wake(self) -> None:
        """Send now instead of at the next poll (called after a commit that wrote sync records)."""
        self._wake.set()

    def stop(self) -> None:
        """Leave the loop after the current batch."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send whenever due, until stopped; a failure waits out its backoff, the venue never waits on it."""
        while not self._stopping:
            try:
                await self.send_all(respect_backoff=True)
            except Exception as exc:  # the loop outlives a database outage and anything head office does
                if unreachable(exc):
                    log.warning("sync: the database is not reachable (%r); retrying", exc)
                else:
                    log.exception("sync pass failed; retrying")
            try:
                if self._pruned_at is None or time.monotonic() - self._pruned_at >= PRUNE_EVERY_SECONDS:
                    self._pruned_at = time.monotonic()
                    await self.prune()
            except Exception as exc:  # pruning waits for the next turn; sending goes on
                log.warning("sync: pruning acknowledged records failed (%r); retrying later", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def prune(self) -> int:
        """Delete the records head office acknowledged that are older than the retention period; how many went.

        In short transactions, so a first pass over a long history never holds the venue's writer for long.
        """
        before = utcnow() - self.retention
        total = 0
        while not self._stopping:
            async with self.db.write() as session:
                pruned = await services.prune(session, before=before)
            total += pruned
            if pruned < services.PRUNE_AT_ONCE:
                break
        if total:
            log.info("sync: pruned %s record(s) head office acknowledged before %s", total, before.isoformat())
        return total

    async def send_all(self, *, respect_backoff: bool = False, max_batches: int | None = None) -> SendOutcome:
        """Send batches until nothing is left, a batch fails, or `max_batches` went."""
        total = 0
        batches = 0
        while True:
            outcome = await self.send_batch(respect_backoff=respect_backoff)
            total += outcome.sent
            batches += 1
            if outcome.error is not None or outcome.sent < self.batch_size or self._stopping:
                return SendOutcome(total, outcome.acked, outcome.error)
            if max_batches is not None and batches >= max_batches:
                return SendOutcome(total, outcome.acked, None)

    async def send_batch(self, *, respect_backoff: bool = False) -> SendOutcome:
        """Number what committed, send the next batch after the acknowledged mark, and take head office's answer."""
        async with self.db.write(turn=Turn.DELIVERY) as session:
            state = capture.link_state(self.db)
            mark = state.mark() if state is not None else 0
            link = await services.current_link(session, lock=True)
            if state is not None:
                await session.run_sync(capture.write_owed, state.learn(None if link is None else link.status, mark))
            if link is None:
                return SendOutcome(0, 0, NOT_LINKED)
            if link.status is not LinkStatus.LINKED:
                return SendOutcome(0, link.acked_sequence, link.last_error or REVOKED)
            if respect_backoff and link.next_attempt_at is not None and link.next_attempt_at > utcnow():
                return SendOutcome(0, link.acked_sequence, link.last_error)
            await services.number_records(session, link)
            link_id, url, credential, acked = link.id or 0, link.url, link.credential, link.acked_sequence
        async with self.db.read() as session:
            records = await services.batch_after(session, acked, self.batch_size)
        if not records and respect_backoff:
            return SendOutcome(0, acked, None)
        error: str | None = None
        revoked = False
        # Head office gone back below what this venue pruned (a restore from an old backup): those records are gone
        # here, and sending what follows would leave head office waiting on the hole for ever. Ask where it stands.
        pruned_below = (records[0].sequence or 0) if records and (records[0].sequence or 0) > acked + 1 else None
        if pruned_below is not None:
            records = []
        headers = {"authorization": f"Bearer {credential}"}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self.transport) as client:
                if records:
                    body = {"records": [_wire_record(r) for r in records]}
                    response = await client.post(url + RECORDS_PATH, json=body, headers=headers)
                else:
                    # Asked to send with nothing queued (`brigade sync now`): ask where head office stands, so a
                    # revocation or a head office that lost records is known now, not at the next sale.
                    response = await client.get(url + STATUS_PATH, headers=headers)
            if response.status_code == 200:
                head_office_acked = int(response.json()["acked"])
                if pruned_below is not None and head_office_acked < pruned_below - 1:
                    error = (
                        f"Head office holds records up to {head_office_acked} only; {head_office_acked + 1} to "
                        f"{pruned_below - 1} were pruned here after head office had acknowledged them. Restore "
                        "head office from a newer backup, or have it enrol this venue again."
                    )
            else:
                error = _message(response)
                revoked = response.status_code == 403
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            error = f"head office at {url} could not be reached: {exc!r}"
        if error is not None:
            async with self.db.write(turn=Turn.DELIVERY) as session:
                await services.failed(session, link_id, error, revoked=revoked)
            state = capture.link_state(self.db)
            if revoked and state is not None:
                state.learn(LinkStatus.REVOKED, state.mark())
            log.warning("sync: %s", error)
            return SendOutcome(0, acked, error)
        async with self.db.write(turn=Turn.DELIVERY) as session:
            await services.acknowledged(session, link_id, head_office_acked, sent_after=acked)
        return SendOutcome(len(records), head_office_acked, None)


async def _write_owed(db: Database, owed: list[tuple[int, tuple[str, int]]]) -> None:
    """Write the records of commits this process let through before it heard of the join."""
    if not owed:
        return
    async with db.write() as session:
        await session.run_sync(capture.write_owed, owed)


async def learn_link(db: Database) -> None:
    """Read the link into this process's memory (at start, and at each poll of a process that does not send)."""
    state = capture.link_state(db)
    if state is None:
        return
    mark = state.mark()
    try:
        async with db.read() as session:
            link = await services.current_link(session)
    except Exception as exc:  # a database not there yet: the first transaction that captures reads it instead
        log.warning("sync: the link to head office could not be read (%r)", exc)
        return
    await _write_owed(db, state.learn(None if link is None else link.status, mark))


async def watch_link(db: Database, poll_seconds: float) -> None:
    """Keep this process's knowledge of the link fresh where no sender runs (web processes without workers)."""
    while True:
        await learn_link(db)
        await asyncio.sleep(poll_seconds)


_SENDER = "sync_sender"
WAKE = capture.WAKE


def start(runtime: _Runtime, *, send: bool = True) -> asyncio.Task[None] | None:
    """Run the sender in this process (a venue's; head office sends nothing up), or only watch the link."""
    if runtime.settings.role != "venue":
        return None
    if not send:
        return asyncio.create_task(watch_link(runtime.db, runtime.settings.sync_poll_seconds))
    sender = SyncSender(
        runtime.db,
        batch_size=runtime.settings.sync_batch_size,
        poll_seconds=runtime.settings.sync_poll_seconds,
        retention_days=runtime.settings.sync_retention_days,
    )
    runtime.db.context[_SENDER] = sender
    runtime.db.context[WAKE] = sender.wake
    return asyncio.create_task(sender.run())


def stop(runtime: _Runtime) -> None:
    """Ask this process's sender to stop."""
    sender: SyncSender | None = runtime.db.context.get(_SENDER)
    if sender is not None:
        sender.stop()
