"""Head office's books of the group: how each venue's accounts, tenders and stock locations map to the
group's chart and warehouses, and what became of each record a venue sent (posted, or an exception)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class MapKind(StrEnum):
    """What a venue mapping maps: a venue account, a venue tender, or a venue stock location."""

    ACCOUNT = "account"
    TENDER = "tender"
    LOCATION = "location"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return {
            "account": "Venue account → group account",
            "tender": "Venue tender → group account",
            "location": "Venue stock location → head-office warehouse",
        }[self.value]


class VenueMapping(SQLModel, table=True):
    """One venue subject (an account code, a tender id, a location name) and where the group books it."""

    __tablename__ = "group_venue_mapping"
    __table_args__ = (UniqueConstraint("venue_id", "kind", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="group_venue.id", index=True)
    kind: MapKind = Field(sa_type=str_enum(MapKind))
    # The venue's own name for it: an account code, a tender id, a stock location's name.
    subject: str = Field(max_length=80)
    label: str = Field(default="", max_length=120)
    # A group account code, or (for a location) the name of a head-office warehouse (a stock location there).
    target: str = Field(max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostingStatus(StrEnum):
    """What head office did with a record: booked it, or could not and says why."""

    POSTED = "posted"
    EXCEPTION = "exception"


class VenuePosting(SQLModel, table=True):
    """What became of one (venue, sequence): posted once (with its group entry, if it made one) or an exception."""

    __tablename__ = "group_venue_posting"
    __table_args__ = (
        UniqueConstraint("venue_id", "sequence"),
        Index("ix_group_venue_posting_day", "venue_id", "business_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="group_venue.id")
    sequence: int
    kind: str = Field(max_length=40)
    business_day: dt.date | None = Field(default=None, sa_type=Date)
    status: PostingStatus = Field(sa_type=str_enum(PostingStatus))
    reason: str = Field(default="", max_length=300)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    # Where a stock move's location lands at head office (the warehouse's name).
    warehouse: str | None = Field(default=None, max_length=80)
    attempts: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VenuePostedMark(SQLModel, table=True):
    """How far a venue's records are booked: every record at or below `sequence` has its posting row.

    Posting looks for unbooked records above the mark only, so finding them costs the same late in the day as
    at its start; an exception keeps its row below the mark, and a retry looks for those on its own.
    """

    __tablename__ = "group_venue_posted_mark"

    venue_id: int = Field(foreign_key="group_venue.id", primary_key=True)
    sequence: int = 0
