"""The kitchen: stations and printers, tickets per station per fire, bump history, the print queue and its alerts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.menu.models import Course


class StationKind(StrEnum):
    """What a station does with a ticket."""

    PREP = "prep"
    BAR = "bar"
    EXPO = "expo"


class PrinterRole(StrEnum):
    """What a printer prints."""

    PREP = "prep"
    RECEIPT = "receipt"


class Printer(SQLModel, table=True):
    """An ESC/POS printer: where it is (tcp://, serial://, file://) and how it speaks."""

    __tablename__ = "printer"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    uri: str = Field(max_length=300)
    role: PrinterRole = Field(default=PrinterRole.PREP, sa_type=str_enum(PrinterRole))
    profile: str = Field(default="default", max_length=60)
    columns: int = Field(default=42, ge=24, le=80)
    codepage: str = Field(default="CP858", max_length=20)
    backup_printer_id: int | None = Field(default=None, foreign_key="printer.id")
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StationPacing(StrEnum):
    """When a station gets its part of a course."""

    AT_ONCE = "at_once"  # as the course is fired
    FINISH_TOGETHER = "finish_together"  # later by the difference in prep time, so it is ready with the slowest

    @property
    def label(self) -> str:
        """How a manager reads it."""
        return "At once" if self is StationPacing.AT_ONCE else "Finish together"


class Station(SQLModel, table=True):
    """A place in the kitchen or bar that makes part of an order, or expo that assembles it."""

    __tablename__ = "station"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    kind: StationKind = Field(default=StationKind.PREP, sa_type=str_enum(StationKind))
    printer_id: int | None = Field(default=None, foreign_key="printer.id")
    shows_on_kds: bool = True
    yellow_after_s: int = Field(default=480, ge=30)
    red_after_s: int = Field(default=900, ge=60)
    pacing: StationPacing = Field(default=StationPacing.AT_ONCE, sa_type=str_enum(StationPacing))
    sort_order: int = 0
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PrinterHealth(StrEnum):
    """What the print worker last learned about a printer."""

    UNKNOWN = "unknown"
    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"

    @property
    def is_down(self) -> bool:
        """Whether jobs cannot print there now: its new jobs go to its backup until a probe finds it back."""
        return self in _DOWN

    @property
    def waits_for_a_person(self) -> bool:
        """Whether the printer says what a person must fix (paper, cover): jobs wait for it rather than fail."""
        return self in (PrinterHealth.PAPER_OUT, PrinterHealth.COVER_OPEN, PrinterHealth.OFFLINE)

    @property
    def label(self) -> str:
        """How a person reads it."""
        return _HEALTH_LABELS[self]


_HEALTH_LABELS = {
    PrinterHealth.UNKNOWN: "not used yet",
    PrinterHealth.OK: "ready",
    PrinterHealth.PAPER_LOW: "paper low",
    PrinterHealth.PAPER_OUT: "out of paper",
    PrinterHealth.COVER_OPEN: "offline, cover open",
    PrinterHealth.OFFLINE: "offline (error or paper feed)",
    PrinterHealth.UNREACHABLE: "not answering",
}
_DOWN = frozenset({PrinterHealth.PAPER_OUT, PrinterHealth.COVER_OPEN, PrinterHealth.OFFLINE, PrinterHealth.UNREACHABLE})


class PrinterHealthRecord(SQLModel, table=True):
    """A printer's last known health, kept apart from its configuration so the worker never edits settings."""

    __tablename__ = "printer_health"

    printer_id: int = Field(primary_key=True, foreign_key="printer.id")
    health: PrinterHealth = Field(default=PrinterHealth.UNKNOWN, sa_type=str_enum(PrinterHealth))
    detail: str | None = Field(default=None, max_length=300)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_printed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketKind(StrEnum):
    """What a kitchen ticket tells its station."""

    NEW = "new"
    ADDITION = "addition"
    VOID = "void"


class TicketState(StrEnum):
    """A ticket's life on its board: open until bumped (expo: until marked ready)."""

    OPEN = "open"
    BUMPED = "bumped"


class KitchenTicket(SQLModel, table=True):
    """What one station (or expo) was told by one fire: the record of what the kitchen has seen."""

    __tablename__ = "kitchen_ticket"
    __table_args__ = (UniqueConstraint("fire_id", "station_id", name="uq_kitchen_ticket_fire_station"),)

    id: int | None = Field(default=None, primary_key=True)
    fire_id: int = Field(foreign_key="kitchen_fire.id", index=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    is_expo: bool = False
    kind: TicketKind = Field(default=TicketKind.NEW, sa_type=str_enum(TicketKind))
    course: Course | None = Field(default=None, sa_type=str_enum(Course))
    check_number: int
    table_label: str = Field(max_length=60)
    server_id: int = Field(foreign_key="staff.id")
    server_name: str = Field(max_length=80)
    covers: int = 0
    fired_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # When the station should start it, if later than the fire: its dishes are quicker than the course's slowest.
    fire_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: TicketState = Field(default=TicketState.OPEN, sa_type=str_enum(TicketState), index=True)
    bumped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bumped_by: int | None = Field(default=None, foreign_key="staff.id")
    rush_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    has_unrouted: bool = False
    # The attached guest's allergies as the check held them (app/guests snapshots them there): a banner on the card
    # and the paper; attached later, every open ticket of the check gets them.
    allergies: str | None = Field(default=None, max_length=300)
    version: int = 1

    @property
    def is_open(self) -> bool:
        """Whether the ticket is still on its board."""
        return self.state is TicketState.OPEN


class KitchenTicketLine(SQLModel, table=True):
    """One item (or a modifier routed to another station) on a ticket, as the station saw it."""

    __tablename__ = "kitchen_ticket_line"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="kitchen_ticket.id", index=True)
    check_line_id: int = Field(foreign_key="check_line.id", index=True)
    position: int = 0
    name: str = Field(max_length=80)
    part_of: str | None = Field(default=None, max_length=80)
    quantity_num: int = 1
    quantity_den: int = 1
    seat: int | None = None
    course: Course | None = Field(default=None, sa_type=str_enum(Course))
    note: str | None = Field(default=None, max_length=140)
    modifiers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unrouted_reason: str | None = Field(default=None, max_length=200)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rush: bool = False
    bumped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def quantity(self) -> Fraction:
        """How much, as a fraction (a shared bottle is 1/4)."""
        return Fraction(self.quantity_num, self.quantity_den)

    @property
    def quantity_label(self) -> str:
        """'2', '1/4', '1 1/2'."""
        return quantity_label(self.quantity)


def quantity_label(quantity: Fraction) -> str:
    """A quantity as the kitchen reads it: whole numbers plain, shares as fractions."""
    if quantity.denominator == 1:
        return str(quantity.numerator)
    whole, rest = divmod(quantity.numerator, quantity.denominator)
    fraction = f"{rest}/{quantity.denominator}"
    return f"{whole} {fraction}" if whole else fraction


class TicketAction(StrEnum):
    """Something a station did to a ticket."""

    BUMP = "bump"
    BUMP_ITEM = "bump_item"
    RECALL = "recall"
    READY = "ready"
    RUSH = "rush"
    REPRINT = "reprint"


class KitchenTicketEvent(SQLModel, table=True):
    """The bump and recall history of tickets, for recall and for ticket-time reports."""

    __tablename__ = "kitchen_ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="kitchen_ticket.id", index=True)
    ticket_line_id: int | None = Field(default=None, foreign_key="kitchen_ticket_line.id")
    fire_id: int | None = Field(default=None, foreign_key="kitchen_fire.id")
    station_id: int = Field(foreign_key="station.id", index=True)
    action: TicketAction = Field(sa_type=str_enum(TicketAction))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")


class PrintJobState(StrEnum):
    """A print job's life in the durable queue."""

    PENDING = "pending"
    PRINTING = "printing"
    HELD = "held"
    PRINTED = "printed"
    FAILED = "failed"


class PrintJob(SQLModel, table=True):
    """Bytes owed to a printer, written in the transaction that caused them and claimed by a print worker."""

    __tablename__ = "print_job"
    __table_args__ = (Index("ix_print_job_due", "state", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    printer_id: int = Field(foreign_key="printer.id", index=True)
    target_printer_id: int = Field(foreign_key="printer.id", index=True)
    kind: str = Field(max_length=30)
    reference: str = Field(max_length=120, index=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    open_drawer: bool = False
    state: PrintJobState = Field(default=PrintJobState.PENDING, sa_type=str_enum(PrintJobState))
    on_backup: bool = False
    tries: int = 0
    attempts: int = 0
    duplicate_sent: bool = False
    mark_reprint: bool = False
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    printed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    printed_on_id: int | None = Field(default=None, foreign_key="printer.id")
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # when the job began to wait for paper (or a closed cover); kept once it prints, which it does marked LATE
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    reprint_of_id: int | None = Field(default=None, foreign_key="print_job.id")
    requested_by: int | None = Field(default=None, foreign_key="staff.id")

    @property
    def is_drawer_kick(self) -> bool:
        """Whether sending it again could open the cash drawer a second time."""
        return self.open_drawer or self.kind == "drawer_kick"


class AlertKind(StrEnum):
    """Why a printer needs a person."""

    UNREACHABLE = "unreachable"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    JOB_FAILED = "job_failed"
    DRAWER_UNCERTAIN = "drawer_uncertain"
    PRINTED_ON_BACKUP = "printed_on_backup"


class PrinterAlert(SQLModel, table=True):
    """A printer problem that stays on the status page and the tablets' badge until a manager acknowledges it."""

    __tablename__ = "printer_alert"

    id: int | None = Field(default=None, primary_key=True)
    printer_id: int = Field(foreign_key="printer.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="print_job.id")
    kind: AlertKind = Field(sa_type=str_enum(AlertKind))
    message: str = Field(max_length=500)
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    occurrences: int = 1
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="staff.id")
