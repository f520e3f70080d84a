"""Head office's catalog releases: numbered, immutable snapshots of the group's menu, and which venue sells what.

Head office runs the same schema as a venue, so its own menu tables (tax rates, categories, items by SKU,
modifier groups and modifiers) are the group catalog. These tables add what a venue does not have: a per-venue
assortment (an item a venue does not sell, or sells at its own price), the releases published from it, and
what each venue last reported of applying them.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime


class CatalogAssortment(SQLModel, table=True):
    """One venue's exception for one item: it does not sell it, or sells it at its own price."""

    __tablename__ = "group_catalog_assortment"
    __table_args__ = (UniqueConstraint("venue_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="group_venue.id")
    item_id: int = Field(foreign_key="menu_item.id")
    sold: bool = True
    price_cents: int | None = Field(default=None, ge=0)


class CatalogRelease(SQLModel, table=True):
    """A published catalog, numbered 1, 2, 3 ... for the group; never changed once published."""

    __tablename__ = "group_catalog_release"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, ge=1)
    note: str = Field(default="", max_length=300)
    # The business day from which the venues trade on it (None: as soon as each venue receives it).
    effective_day: dt.date | None = None
    allow_local_items: bool = True
    item_count: int = 0
    published_by: int | None = Field(default=None, foreign_key="staff.id")
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CatalogVenueState(SQLModel, table=True):
    """What a venue last told head office of its catalog: the release it trades on, and a release that failed."""

    __tablename__ = "group_catalog_venue"

    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="group_venue.id", unique=True)
    applied_release: int | None = None
    failed_release: int | None = None
    error: str | None = Field(default=None, max_length=2000)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
