"""A guest the restaurant knows: contact, allergies, preferences and marketing consent; erased on request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime

NAME_MAX_LENGTH = 80
PHONE_MAX_LENGTH = 32
EMAIL_MAX_LENGTH = 254
ALLERGIES_MAX_LENGTH = 300
PREFERENCES_MAX_LENGTH = 1000


class Guest(SQLModel, table=True):
    """A guest on file; once erased the row stays (checks point at it) with every personal field emptied."""

    __tablename__ = "guest"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX_LENGTH)
    phone: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH)
    # Digits only, so "+44 20 7946 0000" and "020-7946-0000" are found by the same "7946".
    phone_digits: str | None = Field(default=None, max_length=PHONE_MAX_LENGTH, index=True)
    email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH, index=True)
    allergies: str = Field(default="", sa_type=Text)
    preferences: str = Field(default="", sa_type=Text)
    marketing_consent: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
