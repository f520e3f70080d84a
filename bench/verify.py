"""After the run: what the database says was fired, made, printed and posted, against what screens and printers got."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from app.accounting.models import JournalEntry
from app.closes.models import CheckPosting, PostingKind
from app.kitchen.models import KitchenTicket, PrintJob
from app.lib.db import Database
from app.orders.models import Check, CheckStatus, KitchenFire
from bench.clients import BoardClient
from bench.printer import FakePrinter


@dataclass
class Ledger:
    """Losses and duplicates by kind; the run's `lost` and `duplicated` are their sums."""

    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    reprints: int = 0
    notes: list[str] = field(default_factory=list)

    def as_report(self) -> dict[str, Any]:
        return {
            "lost": sum(self.lost.values()),
            "duplicated": sum(self.duplicated.values()),
            "lost_by_kind": {kind: n for kind, n in sorted(self.lost.items()) if n},
            "duplicated_by_kind": {kind: n for kind, n in sorted(self.duplicated.items()) if n},
            "reprints": self.reprints,
        }


@dataclass(frozen=True)
class TicketRow:
    """A kitchen ticket as the database has it."""

    id: int
    check_id: int
    station_id: int


async def tickets_of(db: Database, check_ids: Iterable[int]) -> list[TicketRow]:
    """Every kitchen ticket of these checks."""
    wanted = sorted(set(check_ids))
    rows: list[TicketRow] = []
    async with db.read() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = await session.exec(select(KitchenTicket).where(col(KitchenTicket.check_id).in_(chunk)))
            rows.extend(TicketRow(t.id or 0, t.check_id, t.station_id) for t in found.all())
    return rows


async def verify(
    db: Database,
    *,
    fired: dict[int, float],
    paid: set[int],
    expected_stations: dict[int, str],
    printed_stations: dict[int, str],
    boards: list[BoardClient],
    printers: list[FakePrinter],
) -> Ledger:
    """Every acknowledged fire made exactly one ticket per station, which each board of that station showed once
    and the station's printer printed once; every acknowledged payment closed its check; every closed check of the
    day has exactly one sale posting and one journal entry."""
    ledger = Ledger()
    check_ids = sorted(fired)
    async with db.read() as session:
        fires: Counter[int] = Counter()
        for start in range(0, len(check_ids), 500):
            chunk = check_ids[start : start + 500]
            for fire in (await session.exec(select(KitchenFire).where(col(KitchenFire.check_id).in_(chunk)))).all():
                fires[fire.check_id] += 1
    for check_id in check_ids:
        if fires[check_id] == 0:
            ledger.lost["fires"] += 1
        elif fires[check_id] > 1:
            ledger.duplicated["fires"] += fires[check_id] - 1

    tickets = await tickets_of(db, check_ids)
    per_station: Counter[tuple[int, int]] = Counter((t.check_id, t.station_id) for t in tickets)
    for check_id in check_ids:
        for station_id in expected_stations:
            made = per_station[(check_id, station_id)]
            if made == 0:
                ledger.lost["tickets"] += 1
            elif made > 1:
                ledger.duplicated["tickets"] += made - 1
    unexpected = [t for t in tickets if t.station_id not in expected_stations]
    if unexpected:
        ledger.notes.append(f"{len(unexpected)} tickets went to stations the order has no items for")
        ledger.duplicated["tickets"] += len(unexpected)

    for board in boards:
        for ticket in tickets:
            if ticket.station_id == board.station_id and ticket.id not in board.first_seen:
                ledger.lost["board_cards"] += 1
        ledger.duplicated["board_cards"] += board.duplicates

    by_ticket = {t.id: t for t in tickets}
    printed: Counter[tuple[int, str]] = Counter()
    for printer in printers:
        for job in printer.jobs:
            if job.station is None or job.check_number not in fired:
                continue
            if job.reprint:
                ledger.reprints += 1
                continue
            printed[(job.check_number, job.station)] += 1
    for ticket in tickets:
        station = printed_stations.get(ticket.station_id)
        if station is None:
            continue
        count = printed[(ticket.check_id, station)]
        if count == 0:
            ledger.lost["prints"] += 1
        elif count > 1:
            ledger.duplicated["prints"] += count - 1
    async with db.read() as session:
        jobs: Counter[str] = Counter()
        for start in range(0, len(tickets), 500):
            references = [f"ticket:{t.id}" for t in tickets[start : start + 500]]
            rows = await session.exec(
                select(PrintJob.reference).where(
                    col(PrintJob.reference).in_(references), PrintJob.kind == "kitchen_ticket"
                )
            )
            jobs.update(rows.all())
    for ticket_id, ticket in by_ticket.items():
        if ticket.station_id in printed_stations and jobs[f"ticket:{ticket_id}"] > 1:
            ledger.duplicated["print_jobs"] += jobs[f"ticket:{ticket_id}"] - 1

    async with db.read() as session:
        closed = {
            check_id
            for check_id in (await session.exec(select(Check.id).where(Check.status == CheckStatus.CLOSED))).all()
            if check_id is not None
        }
        sales: Counter[int] = Counter(
            row
            for row in (
                await session.exec(
                    select(CheckPosting.check_id).where(
                        CheckPosting.kind == PostingKind.SALE, col(CheckPosting.entry_id).is_not(None)
                    )
                )
            ).all()
            if row is not None
        )
        entries: Counter[int] = Counter(
            int(source.split(":", 1)[0])
            for source in (
                await session.exec(select(JournalEntry.source_id).where(JournalEntry.source_type == "check"))
            ).all()
        )
    ledger.lost["payments"] += len(paid - closed)
    for check_id in closed:
        for kind, counter in (("postings", sales), ("journal_entries", entries)):
            if counter[check_id] == 0:
                ledger.lost[kind] += 1
            elif counter[check_id] > 1:
                ledger.duplicated[kind] += counter[check_id] - 1
    return ledger
