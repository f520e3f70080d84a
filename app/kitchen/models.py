"""Kitchen configuration: prep stations (and expo) and the printers they use."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.lib.db import UTCDateTime, str_enum


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
    sort_order: int = 0
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
