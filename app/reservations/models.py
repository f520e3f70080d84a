"""The book: reservations, the table slots they hold, the walk-in waitlist, and the host's settings."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum

NAME_MAX_LENGTH = 80
PHONE_MAX_LENGTH = 32
NOTES_MAX_LENGTH = 300
ALLERGIES_MAX_LENGTH = 300
MAX_PARTY = 40


class ReservationStatus(StrEnum):
    """A reservation's life: booked, then seated, or cancelled, or a no-show."""

    BOOKED = "booked"
    SEATED = "seated"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class ReservationSource(StrEnum):
    """Where a booking came from."""

    HOST = "host"
    API = "api"


class Reservation(SQLModel, table=True):
    """A party booked for a time, on the tables it was given; versioned against two hosts changing it at once."""

    __tablename__ = "reservation"

    id: int | None = Field(default=None, primary_key=True)
    party_size: int = Field(ge=1, le=MAX_PARTY)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    phone: str = Field(default="", max_length=PHONE_MAX_LENGTH)
    notes: str = Field(default="", sa_type=Text)
    allergies: str = Field(default="", sa_type=Text)
    status: ReservationStatus = Field(default=ReservationStatus.BOOKED, sa_type=str_enum(ReservationStatus), index=True)
    source: ReservationSource = Field(default=ReservationSource.HOST, sa_type=str_enum(ReservationSource))
    # The tables given, by id, as "3" or "3,4" (a combination); kept after the slots are released.
    table_ids: str = Field(max_length=200)
    guest_id: int | None = Field(default=None, foreign_key="guest.id", index=True)
    check_id: int | None = Field(default=None, foreign_key="guest_check.id")
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    no_show_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1

    @property
    def tables(self) -> list[int]:
        """The ids of the tables given."""
        return [int(part) for part in self.table_ids.split(",") if part]


class ReservationSlot(SQLModel, table=True):
    """One quarter hour of one table held by a reservation: the unique key is what refuses a double booking."""

    __tablename__ = "reservation_slot"
    __table_args__ = (UniqueConstraint("table_id", "slot_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)
    table_id: int = Field(foreign_key="dining_table.id")
    slot_at: datetime = Field(sa_type=UTCDateTime)


class WaitStatus(StrEnum):
    """A walk-in party's life on the waitlist."""

    WAITING = "waiting"
    READY = "ready"
    SEATED = "seated"
    LEFT = "left"


class WaitlistEntry(SQLModel, table=True):
    """A walk-in party waiting for a table, with the wait they were quoted and their own status page's token."""

    __tablename__ = "waitlist_entry"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    phone: str = Field(default="", max_length=PHONE_MAX_LENGTH)
    party_size: int = Field(ge=1, le=MAX_PARTY)
    notes: str = Field(default="", sa_type=Text)
    allergies: str = Field(default="", sa_type=Text)
    quoted_minutes: int = Field(ge=0)
    token: str = Field(max_length=64, unique=True)
    status: WaitStatus = Field(default=WaitStatus.WAITING, sa_type=str_enum(WaitStatus), index=True)
    table_id: int | None = Field(default=None, foreign_key="dining_table.id")
    guest_id: int | None = Field(default=None, foreign_key="guest.id")
    check_id: int | None = Field(default=None, foreign_key="guest_check.id")
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    version: int = 1


class ReservationSettings(SQLModel, table=True):
    """How the book runs (one row): booking hours, slot length, the floor's look-ahead, pacing. Managers edit it."""

    __tablename__ = "reservation_settings"

    id: int = Field(default=1, primary_key=True)
    slot_minutes: int = Field(default=15, ge=15, le=60)
    first_seating: time = time(17, 0)
    last_seating: time = time(22, 0)
    hold_minutes: int = Field(default=60, ge=0, le=480)
    max_party_size: int = Field(default=12, ge=1, le=MAX_PARTY)
    # Covers that may start in one slot, so the kitchen is not hit by every table at once; 0 means no limit.
    max_covers_per_slot: int = Field(default=0, ge=0, le=999)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="staff.id")


class TurnTime(SQLModel, table=True):
    """How long a party of up to `max_party` guests keeps its table."""

    __tablename__ = "reservation_turn_time"

    id: int | None = Field(default=None, primary_key=True)
    max_party: int = Field(ge=1, le=MAX_PARTY, unique=True)
    minutes: int = Field(ge=15, le=600)


class TableCombination(SQLModel, table=True):
    """Tables that may be pushed together for one party, and how many that seats."""

    __tablename__ = "table_combination"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    table_ids: str = Field(max_length=200)
    seats: int = Field(ge=2, le=MAX_PARTY * 2)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def tables(self) -> list[int]:
        """The ids of the tables combined."""
        return [int(part) for part in self.table_ids.split(",") if part]
