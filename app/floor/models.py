"""The floor: floors (or sections) and the tables drawn on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.lib import revisions
from app.lib.db import UTCDateTime, str_enum


class TableShape(StrEnum):
    """How a table is drawn."""

    SQUARE = "square"
    ROUND = "round"
    RECTANGLE = "rectangle"
    BAR_SEAT = "bar_seat"


class Floor(SQLModel, table=True):
    """A room or section with its own plan: Dining Room, Patio, Bar."""

    __tablename__ = "floor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    sort_order: int = 0
    width: int = Field(default=1000, ge=200, le=5000)
    height: int = Field(default=700, ge=200, le=5000)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DiningTable(SQLModel, table=True):
    """A table (or bar seat) where it stands on its floor plan, in plan units."""

    __tablename__ = "dining_table"

    id: int | None = Field(default=None, primary_key=True)
    floor_id: int = Field(foreign_key="floor.id", index=True)
    name: str = Field(max_length=20)
    shape: TableShape = Field(default=TableShape.SQUARE, sa_type=str_enum(TableShape))
    x: int = 0
    y: int = 0
    width: int = Field(default=80, ge=20, le=1000)
    height: int = Field(default=80, ge=20, le=1000)
    rotation: int = Field(default=0, ge=0, lt=360)
    seats: int = Field(default=4, ge=1, le=40)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


FLOOR_REVISION = "floor"
"""Counts changes to the floor plan: floors and their tables."""

revisions.watch(FLOOR_REVISION, [Floor.__table__, DiningTable.__table__])  # type: ignore[attr-defined]
