"""Checks and what is on them: lines by seat and course with their modifiers, and what was fired."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.menu.models import Course


class CheckKind(StrEnum):
    """Where a check lives."""

    TABLE = "table"
    TAB = "tab"
    TAKEOUT = "takeout"
    ONLINE = "online"


class CheckStatus(StrEnum):
    """A check's life: open while it is being served, then closed (paid), voided or merged away."""

    OPEN = "open"
    CLOSED = "closed"
    VOIDED = "voided"
    MERGED = "merged"


class Check(SQLModel, table=True):
    """A guest check: a table's (or a tab's, or a takeout's) order and bill; versioned against stale tablets."""

    __tablename__ = "guest_check"
    # The checks a floor still shows once paid (closed, table not yet cleared): found among a year of closed ones.
    __table_args__ = (Index("ix_guest_check_status_cleared", "status", "table_cleared_at"),)

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(index=True)
    kind: CheckKind = Field(default=CheckKind.TABLE, sa_type=str_enum(CheckKind))
    status: CheckStatus = Field(default=CheckStatus.OPEN, sa_type=str_enum(CheckStatus), index=True)
    table_id: int | None = Field(default=None, foreign_key="dining_table.id", index=True)
    tab_name: str | None = Field(default=None, max_length=60)
    covers: int = Field(default=1, ge=0, le=99)
    server_id: int = Field(foreign_key="staff.id", index=True)
    opened_by: int = Field(foreign_key="staff.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    guest_check_printed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    kitchen_ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    table_cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    split_from_id: int | None = Field(default=None, foreign_key="guest_check.id")
    merged_into_id: int | None = Field(default=None, foreign_key="guest_check.id")
    note: str | None = Field(default=None, max_length=200)
    # The guest attached at the table (app/guests), and their name and allergies as they were then: the kitchen
    # and the floor read these, never the guest record; erasing the guest empties them.
    guest_id: int | None = Field(default=None, foreign_key="guest.id", index=True)
    guest_name: str | None = Field(default=None, max_length=80)
    guest_allergies: str | None = Field(default=None, max_length=300)
    # A course of this check waits on pacing (app/orders/pacing.py): only then do fires and holds look at it.
    paced: bool = False
    version: int = Field(default=1)


class LineState(StrEnum):
    """Where a line is between the tablet and the kitchen."""

    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    VOIDED = "voided"


class CheckLine(SQLModel, table=True):
    """One item rung in: a snapshot of name, price, tax rate and station as they were at that moment."""

    __tablename__ = "check_line"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    menu_item_id: int = Field(foreign_key="menu_item.id")
    sku: str = Field(max_length=40)
    name: str = Field(max_length=80)
    category_id: int = Field(foreign_key="menu_category.id")
    unit_price_cents: int
    modifiers_cents: int = 0
    quantity_num: int = Field(default=1, ge=1)
    quantity_den: int = Field(default=1, ge=1)
    tax_rate_id: int = Field(foreign_key="tax_rate.id")
    tax_rate_bp: int
    station_id: int | None = Field(default=None, foreign_key="station.id")
    prep_minutes: int = Field(default=0, ge=0)
    seat: int | None = Field(default=None, ge=0, le=99)
    course: Course = Field(default=Course.MAINS, sa_type=str_enum(Course))
    note: str | None = Field(default=None, max_length=140)
    state: LineState = Field(default=LineState.PENDING, sa_type=str_enum(LineState), index=True)
    rush: bool = False
    fire_id: int | None = Field(default=None, foreign_key="kitchen_fire.id")
    origin_line_id: int | None = Field(default=None, foreign_key="check_line.id")
    added_by: int = Field(foreign_key="staff.id")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_by: int | None = Field(default=None, foreign_key="staff.id")
    void_approved_by: int | None = Field(default=None, foreign_key="staff.id")
    void_reason: str | None = Field(default=None, max_length=200)

    @property
    def quantity(self) -> Fraction:
        """How much of the item: whole numbers, or a share such as 1/4 of a bottle."""
        return Fraction(self.quantity_num, self.quantity_den)

    @property
    def unit_total_cents(self) -> int:
        """Price of one, modifiers included."""
        return self.unit_price_cents + self.modifiers_cents


class LineModifier(SQLModel, table=True):
    """A modifier chosen on a line, snapshotted like the line."""

    __tablename__ = "line_modifier"

    id: int | None = Field(default=None, primary_key=True)
    line_id: int = Field(foreign_key="check_line.id", index=True)
    modifier_id: int = Field(foreign_key="modifier.id")
    group_name: str = Field(max_length=60)
    name: str = Field(max_length=60)
    price_delta_cents: int = 0
    station_id: int | None = Field(default=None, foreign_key="station.id")


class FireKind(StrEnum):
    """What a fire tells the kitchen."""

    NEW = "new"
    ADDITION = "addition"
    VOID = "void"
    RUSH = "rush"


class KitchenFire(SQLModel, table=True):
    """One message to the kitchen about one check: new food, an addition, a void or a rush."""

    __tablename__ = "kitchen_fire"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    kind: FireKind = Field(default=FireKind.NEW, sa_type=str_enum(FireKind))
    course: Course | None = Field(default=None, sa_type=str_enum(Course))
    fired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    fired_by: int = Field(foreign_key="staff.id")


class FireLine(SQLModel, table=True):
    """What one fire said about one line (what the kitchen has seen): quantity added or voided."""

    __tablename__ = "kitchen_fire_line"

    id: int | None = Field(default=None, primary_key=True)
    fire_id: int = Field(foreign_key="kitchen_fire.id", index=True)
    line_id: int = Field(foreign_key="check_line.id", index=True)
    quantity_num: int = 1
    quantity_den: int = 1


class PacingTrigger(StrEnum):
    """What fires a paced course."""

    BUMPED = "bumped"  # the course before it is ready at the pass (expo bumped it)
    AFTER_FIRE = "after_fire"  # `minutes` after the course before it was fired
    TIMED = "timed"  # timed so its longest dish is ready as the course before is cleared

    def describe(self, after: Course, minutes: int) -> str:
        """How a server reads the rule."""
        if self is PacingTrigger.BUMPED:
            return f"when expo sends the {after.label.lower()}" + (f", +{minutes} min" if minutes else "")
        if self is PacingTrigger.AFTER_FIRE:
            return f"{minutes} min after {after.label.lower()} are fired"
        return f"to land as {after.label.lower()} are cleared ({minutes} min to eat them)"


class PacingState(StrEnum):
    """A pacing rule's life: waiting until it fires its course, or until a server takes the course back."""

    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class CoursePacing(SQLModel, table=True):
    """A held course that fires by itself: when the course before it is ready, after some minutes, or timed.

    `due_at` is set once the rule's moment is known (the course before fired or bumped); each change of it is a
    new `revision`, and the timer (an outbox row available at `due_at`) fires only the revision it was set for.
    """

    __tablename__ = "course_pacing"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    course: Course = Field(sa_type=str_enum(Course))
    after_course: Course = Field(sa_type=str_enum(Course))
    trigger: PacingTrigger = Field(sa_type=str_enum(PacingTrigger))
    minutes: int = Field(default=0, ge=0)
    pushed_minutes: int = Field(default=0, ge=0)
    state: PacingState = Field(default=PacingState.WAITING, sa_type=str_enum(PacingState), index=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revision: int = 1
    set_by: int = Field(foreign_key="staff.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fire_id: int | None = Field(default=None, foreign_key="kitchen_fire.id")
    outcome: str | None = Field(default=None, max_length=200)

    @property
    def rule(self) -> str:
        """The rule in a server's words."""
        return self.trigger.describe(self.after_course, self.minutes)
