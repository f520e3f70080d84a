"""Head-office tables: the group's venues and every record each venue has sent, stored once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class VenueStatus(StrEnum):
    """A venue is added (its token not yet used), enrolled (sending), or revoked (refused from then on)."""

    PENDING = "pending"
    ENROLLED = "enrolled"
    REVOKED = "revoked"


class Venue(SQLModel, table=True):
    """A restaurant of the group, as head office knows it; only hashes of its token and credential are kept."""

    __tablename__ = "group_venue"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    timezone: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    status: VenueStatus = Field(default=VenueStatus.PENDING, sa_type=str_enum(VenueStatus))
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    credential_hash: str | None = Field(default=None, max_length=64, unique=True)
    # The highest sequence below which every record has arrived: what head office acknowledges.
    acked_sequence: int = 0
    # The highest sequence seen at all (above a gap, records wait for the ones before them).
    highest_sequence: int = 0
    records_received: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enrolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VenueRecord(SQLModel, table=True):
    """One record a venue sent (a closed check, a journal entry, a stock move...), kept once per sequence."""

    __tablename__ = "group_venue_record"
    __table_args__ = (UniqueConstraint("venue_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="group_venue.id")
    sequence: int = Field(ge=1)
    kind: str = Field(max_length=40, index=True)
    key: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
