"""The print queue's ESC/POS side: laying out the documents stored with jobs for a printer, with banners.

Guest checks, receipts, Z reports and drawer kicks are enqueued by the domains without bytes: the
worker lays each out for its printer when it sends it (`job_bytes`). Kitchen tickets are rendered
when their fire is routed (in the same transaction), for the station printer's profile; their
document is stored with the job so the worker can render them again for a backup printer
("BACKUP FROM Kitchen") or as a REPRINT.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import typing
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen import print_documents, queries
from app.kitchen.allergies import TicketAllergiesErased
from app.kitchen.events import KitchenTicketsFired, KitchenTicketsRushed, TicketReprintRequested
from app.kitchen.models import (
    KitchenTicket,
    KitchenTicketLine,
    Printer,
    PrintJob,
    Station,
    TicketKind,
    quantity_label,
)
from app.kitchen.print_documents import (
    GuestCheckDoc,
    KitchenTicketDoc,
    ReceiptDoc,
    TicketLineDoc,
    ZReportDoc,
    document_from_json,
    document_to_json,
)
from app.kitchen.printing import PrintRequest, enqueue_prints
from app.kitchen.setup import PRINTER_CHECK
from app.lib.clock import utcnow
from app.lib.events import EventBus
from app.lib.settings import Settings
from printers.layouts import (
    late_banner,
    render_drawer_kick,
    render_guest_check,
    render_kitchen_ticket,
    render_receipt,
    render_z_report,
)
from printers.page import Page
from printers.profiles import DEFAULT_PROFILE, PrinterProfile

log = logging.getLogger(__name__)


def profile_for(printer: Printer) -> PrinterProfile:
    """The profile a configured printer prints with (the default one if its settings are unusable)."""
    try:
        return PrinterProfile(
            name=printer.name, capability=printer.profile, columns=printer.columns, code_page=printer.codepage
        )
    except ValueError:
        log.exception("printer %s has an unusable profile; printing with the default one", printer.name)
        return DEFAULT_PROFILE


def render_document(
    doc: Any,
    profile: PrinterProfile,
    *,
    reprint: bool = False,
    backup_from: str | None = None,
    open_drawer: bool = False,
    late_minutes: int | None = None,
) -> bytes:
    """ESC/POS bytes for a stored document, with LATE, REPRINT and BACKUP FROM banners where asked."""
    if isinstance(doc, KitchenTicketDoc):
        doc = dataclasses.replace(
            doc,
            reprint=doc.reprint or reprint,
            backup_from=backup_from or doc.backup_from,
            late_minutes=doc.late_minutes if late_minutes is None else late_minutes,
        )
        return render_kitchen_ticket(doc, profile)
    banners = [late_banner(late_minutes)] if late_minutes is not None else []
    banners += [f"BACKUP FROM {backup_from}"] if backup_from else []
    if isinstance(doc, GuestCheckDoc):
        body = render_guest_check(dataclasses.replace(doc, reprint=doc.reprint or reprint), profile)
    elif isinstance(doc, ReceiptDoc):
        body = render_receipt(
            dataclasses.replace(doc, reprint=doc.reprint or reprint), profile, open_drawer=open_drawer
        )
    elif isinstance(doc, ZReportDoc):
        if reprint:
            banners.insert(1 if late_minutes is not None else 0, "REPRINT")
        body = render_z_report(doc, profile)
    else:
        raise TypeError(f"cannot render {type(doc).__name__}")
    return banner_prefix(banners, profile) + body if banners else body


def banner_prefix(banners: list[str], profile: PrinterProfile) -> bytes:
    """Banner lines to print before a job's own bytes (each job starts with ESC @, which resets the style)."""
    page = Page(profile)
    for banner in banners:
        page.banner(banner)
    return page.output()


def late_minutes(job: PrintJob, now: dt.datetime | None = None) -> int | None:
    """How many minutes late a job that waited for its printer is (None for a job that never waited)."""
    if job.held_at is None:
        return None
    waited = ((now or utcnow()) - job.created_at).total_seconds()
    return max(1, math.ceil(waited / 60))


def job_bytes(job: PrintJob, *, primary: Printer, target: Printer) -> bytes:
    """What to send for a job now: its bytes as enqueued, or its document laid out for `target`, with banners.

    Never raises: a job that cannot be laid out prints a slip saying so, rather than stopping the queue.
    """
    try:
        return _job_bytes(job, primary=primary, target=target)
    except Exception:
        log.exception("print job %s (%s) could not be laid out for %s", job.id, job.reference, target.name)
        return _cannot_print(job, target)


def _job_bytes(job: PrintJob, *, primary: Printer, target: Printer) -> bytes:
    backup_from = primary.name if job.on_backup else None
    late = late_minutes(job)
    if not job.mark_reprint and backup_from is None and late is None:
        if job.data:
            return job.data
        if job.kind == "drawer_kick":
            return render_drawer_kick(profile_for(target))
        doc = _document(job)
        if doc is None:
            return _cannot_print(job, target)
        return render_document(doc, profile_for(target), open_drawer=job.open_drawer)
    if job.kind == "drawer_kick":
        return render_drawer_kick(profile_for(target))
    doc = _document(job)
    if doc is not None:
        return render_document(
            doc,
            profile_for(target),
            reprint=job.mark_reprint,
            backup_from=backup_from,
            open_drawer=job.open_drawer,
            late_minutes=late,
        )
    if not job.data:
        return _cannot_print(job, target)
    banners = (
        ([late_banner(late)] if late is not None else [])
        + (["REPRINT"] if job.mark_reprint else [])
        + ([f"BACKUP FROM {backup_from}"] if backup_from else [])
    )
    return banner_prefix(banners, profile_for(target)) + job.data


def _document(job: PrintJob) -> Any:
    if job.document is None:
        return None
    try:
        return document_from_json(job.document)
    except (ValueError, TypeError, KeyError):
        log.exception("print job %s has an unreadable document", job.id)
        return None


def _cannot_print(job: PrintJob, target: Printer) -> bytes:
    page = Page(profile_for(target))
    page.banner("CANNOT PRINT")
    page.line(f"{job.kind.replace('_', ' ')} {job.reference}", bold=True)
    page.line("Print it again from its screen.")
    page.cut()
    return page.output()


# Kitchen tickets -------------------------------------------------------------------------------


def ticket_document(
    ticket: KitchenTicket,
    lines: list[KitchenTicketLine],
    station: Station,
    *,
    timezone: str,
    kind: str | None = None,
    reprint: bool = False,
    void: queries.VoidRecord | None = None,
) -> KitchenTicketDoc:
    """The paper version of a ticket, in the restaurant's time zone; a VOID ticket says who voided it and why."""
    course = ticket.course.label if ticket.course else "Mixed courses"
    zone = ZoneInfo(timezone)
    return KitchenTicketDoc(
        station=station.name,
        table_label=ticket.table_label,
        check_number=str(ticket.check_number),
        server_name=ticket.server_name,
        course_name=course,
        fire_time=ticket.fired_at.astimezone(zone),
        start_at=ticket.fire_at.astimezone(zone) if ticket.fire_at else None,
        kind=typing.cast(print_documents.TicketKind, kind or ticket.kind.value),
        reprint=reprint,
        lines=tuple(_ticket_line(line) for line in lines),
        allergies=ticket.allergies,
        voided_by=void.voided_by if void else None,
        void_approved_by=void.approved_by if void else None,
        void_reason=void.reason if void else None,
    )


async def _void_of(
    session: AsyncSession, ticket: KitchenTicket, lines: list[KitchenTicketLine]
) -> queries.VoidRecord | None:
    if ticket.kind is not TicketKind.VOID:
        return None
    return await queries.void_record(session, ticket, [line.check_line_id for line in lines])


def _ticket_line(line: KitchenTicketLine) -> TicketLineDoc:
    modifiers = list(line.modifiers)
    if line.part_of:
        modifiers.insert(0, f"for {line.part_of}")
    if line.rush:
        modifiers.insert(0, "RUSH")
    note = line.note
    if line.unrouted_reason:
        note = f"NO STATION - {line.unrouted_reason}" + (f" / {note}" if note else "")
    return TicketLineDoc(
        quantity=quantity_label(line.quantity),
        name=line.name,
        seat=str(line.seat) if line.seat is not None else None,
        modifiers=tuple(modifiers),
        note=note,
        voided=line.voided_at is not None,
    )


async def _tickets_with_lines(
    session: AsyncSession, ticket_ids: tuple[int, ...]
) -> list[tuple[KitchenTicket, list[KitchenTicketLine], Station]]:
    held = queries.held_tickets(session, ticket_ids)
    if held is not None:
        return held
    tickets = (await session.exec(select(KitchenTicket).where(col(KitchenTicket.id).in_(ticket_ids)))).all()
    lines = (
        await session.exec(
            select(KitchenTicketLine)
            .where(col(KitchenTicketLine.ticket_id).in_(ticket_ids))
            .order_by(col(KitchenTicketLine.position), col(KitchenTicketLine.id))
        )
    ).all()
    stations = {s.id: s for s in (await session.exec(select(Station))).all()}
    by_ticket: dict[int, list[KitchenTicketLine]] = {}
    for line in lines:
        by_ticket.setdefault(line.ticket_id, []).append(line)
    result = []
    for ticket in sorted(tickets, key=lambda t: t.id or 0):
        station = stations.get(ticket.station_id)
        if station is not None:
            result.append((ticket, by_ticket.get(ticket.id or 0, []), station))
    return result


async def _printer(session: AsyncSession, printer_id: int | None) -> Printer | None:
    if printer_id is None:
        return None
    printer = await session.get(Printer, printer_id)
    return printer if printer is not None and printer.archived_at is None else None


async def _load_printers(session: AsyncSession, stations: list[Station]) -> None:
    # one statement for every station's printer the session does not hold yet (the routing transaction holds
    # them all); `_printer` then finds each in the session
    known = session.sync_session.identity_map
    ids = {
        station.printer_id
        for station in stations
        if station.printer_id is not None and identity_key(Printer, station.printer_id) not in known
    }
    if len(ids) > 1:
        (await session.exec(select(Printer).where(col(Printer.id).in_(ids)))).all()


async def _fallback_printer(session: AsyncSession) -> Printer | None:
    stations = (
        await session.exec(
            select(Station)
            .where(col(Station.archived_at).is_(None), col(Station.printer_id).is_not(None))
            .order_by(col(Station.sort_order), col(Station.id))
        )
    ).all()
    for station in stations:
        printer = await _printer(session, station.printer_id)
        if printer is not None:
            return printer
    return None


def _timezone(session: AsyncSession) -> str:
    settings: Settings | None = session.info.get("settings")
    return settings.timezone if settings else "UTC"


def _ticket_job(
    printer: Printer, doc: KitchenTicketDoc, ticket: KitchenTicket, requested_by: int | None
) -> PrintRequest:
    try:
        data = render_kitchen_ticket(doc, profile_for(printer))
    except Exception:
        # A ticket that cannot be laid out must not hold the fire back from the boards: the job keeps its document,
        # and the print worker prints it, or a slip saying it could not (`job_bytes`).
        log.exception("ticket %s could not be laid out for %s", ticket.id, printer.name)
        data = b""
    return PrintRequest(
        printer_id=printer.id or 0,
        data=data,
        kind="kitchen_ticket",
        reference=f"ticket:{ticket.id}",
        document=document_to_json(doc),
        requested_by=requested_by,
    )


async def _enqueue_ticket(
    session: AsyncSession, printer: Printer, doc: KitchenTicketDoc, ticket: KitchenTicket, requested_by: int | None
) -> PrintJob:
    (job,) = await enqueue_prints(session, [_ticket_job(printer, doc, ticket, requested_by)])
    return job


async def print_fired_tickets(session: AsyncSession, event: KitchenTicketsFired) -> None:
    """Subscriber: each new ticket prints on its station's printer, in the fire's transaction (the fire's jobs
    written together, by one statement)."""
    timezone = _timezone(session)
    tickets = await _tickets_with_lines(session, event.ticket_ids)
    await _load_printers(session, [station for _ticket, _lines, station in tickets])
    jobs: list[PrintRequest] = []
    for ticket, lines, station in tickets:
        printer = await _printer(session, station.printer_id)
        if printer is not None:
            void = await _void_of(session, ticket, lines)
            doc = ticket_document(ticket, lines, station, timezone=timezone, void=void)
            jobs.append(_ticket_job(printer, doc, ticket, None))
            continue
        unrouted = [line for line in lines if line.unrouted_reason]
        if unrouted:
            # Lines no station takes still reach paper: the first station printer, flagged.
            fallback = await _fallback_printer(session)
            if fallback is not None:
                doc = ticket_document(ticket, unrouted, station, timezone=timezone)
                jobs.append(_ticket_job(fallback, dataclasses.replace(doc, station="NO STATION"), ticket, None))
    await enqueue_prints(session, jobs)


async def print_rushed_tickets(session: AsyncSession, event: KitchenTicketsRushed) -> None:
    """Subscriber: a RUSH slip with the rushed lines for each station that has them."""
    timezone = _timezone(session)
    wanted = set(event.check_line_ids)
    for ticket, lines, station in await _tickets_with_lines(session, event.ticket_ids):
        printer = await _printer(session, station.printer_id)
        rushed = [line for line in lines if line.check_line_id in wanted and line.voided_at is None]
        if printer is not None and rushed:
            doc = ticket_document(ticket, rushed, station, timezone=timezone, kind="rush")
            await _enqueue_ticket(session, printer, doc, ticket, None)


async def print_reprint(session: AsyncSession, event: TicketReprintRequested) -> None:
    """Subscriber: a ticket asked for again, marked REPRINT."""
    timezone = _timezone(session)
    for ticket, lines, station in await _tickets_with_lines(session, (event.ticket_id,)):
        printer = await _printer(session, station.printer_id)
        if printer is not None:
            void = await _void_of(session, ticket, lines)
            doc = ticket_document(ticket, lines, station, timezone=timezone, reprint=True, void=void)
            await _enqueue_ticket(session, printer, doc, ticket, event.staff_id)


async def forget_printed_allergies(session: AsyncSession, event: TicketAllergiesErased) -> None:
    """Subscriber: the print queue's copies of these tickets (bytes and document) are written again as the tickets
    now stand, without the erased guest's allergies or a tab named after them; a job still to print prints that way."""
    tickets = {
        f"ticket:{ticket.id}": ticket
        for ticket in (await session.exec(select(KitchenTicket).where(col(KitchenTicket.id).in_(event.ticket_ids))))
    }
    jobs = await session.exec(
        select(PrintJob).where(PrintJob.kind == "kitchen_ticket", col(PrintJob.reference).in_(list(tickets)))
    )
    for job in jobs.all():
        if job.document is None:
            continue
        doc = document_from_json(job.document)
        ticket = tickets[job.reference]
        if not isinstance(doc, KitchenTicketDoc):
            continue
        if doc.allergies is None and doc.table_label == ticket.table_label:
            continue
        doc = dataclasses.replace(doc, allergies=None, table_label=ticket.table_label)
        printer = await session.get(Printer, job.target_printer_id)
        job.document = document_to_json(doc)
        job.data = render_kitchen_ticket(doc, profile_for(printer) if printer is not None else DEFAULT_PROFILE)
        session.add(job)


def subscribe(bus: EventBus) -> None:
    """Print kitchen tickets when the kitchen makes, rushes or reprints them."""
    bus.subscribe(KitchenTicketsFired, print_fired_tickets)
    bus.subscribe(KitchenTicketsRushed, print_rushed_tickets)
    bus.subscribe(TicketReprintRequested, print_reprint)
    bus.subscribe(TicketAllergiesErased, forget_printed_allergies)


def wire(runtime: Any) -> None:
    """Kitchen tickets print; printer settings are checked the way the worker will use them."""
    subscribe(runtime.bus)
    runtime.db.context[PRINTER_CHECK] = check_printer_settings


def check_printer_settings(uri: str, profile: str, columns: int, codepage: str) -> None:
    """Raise ValueError, with a message for a manager, unless a printer with these settings can be driven."""
    from printers.transports import transport_from_uri

    try:
        transport_from_uri(uri)
    except ValueError as exc:
        raise ValueError(
            f"Address: {exc}. Use tcp://host:9100, serial:///dev/ttyUSB0?baudrate=19200 or file:///path/spool.bin."
        ) from None
    try:
        PrinterProfile(capability=profile, columns=columns, code_page=codepage)
    except ValueError as exc:
        raise ValueError(f"Profile: {exc}.") from None
