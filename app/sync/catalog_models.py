"""Venue-side table: the catalog releases this venue received from head office, and how applying each went."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime


class ReceivedRelease(SQLModel, table=True):
    """A catalog release as this venue received it (its view: its assortment, its prices), applied or waiting."""

    __tablename__ = "catalog_release_received"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, ge=1)
    note: str = Field(default="", max_length=300)
    effective_day: dt.date | None = None
    published_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it last failed to apply (it and every later release wait until it applies).
    error: str | None = Field(default=None, max_length=2000)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
