"""Venue-side tables: the link to head office and the sync outbox of records owed to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class LinkStatus(StrEnum):
    """Linked (sending), or revoked by head office (refused until joined again)."""

    LINKED = "linked"
    REVOKED = "revoked"


class HeadOfficeLink(SQLModel, table=True):
    """This venue's one link to its head office: where it is, the venue's own credential, and how sending goes."""

    __tablename__ = "head_office_link"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=300)
    venue_code: str = Field(max_length=20)
    venue_name: str = Field(max_length=80)
    # The venue's secret; head office keeps only its hash.
    credential: str = Field(max_length=100)
    status: LinkStatus = Field(default=LinkStatus.LINKED, sa_type=str_enum(LinkStatus))
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Every record up to this sequence is stored at head office.
    acked_sequence: int = 0
    # The last sequence handed out; records get theirs when they are first sent, in the order they committed.
    numbered_sequence: int = 0
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failures: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    catalog_release: int | None = None


class SyncRecord(SQLModel, table=True):
    """A record owed to head office, written in the transaction of the change it describes."""

    __tablename__ = "sync_record"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    sequence: int | None = Field(default=None, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
