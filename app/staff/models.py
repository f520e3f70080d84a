"""Staff, their sessions on shared devices, PIN attempts and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.staff.permissions import Perm, Role, permissions_for


class Staff(SQLModel, table=True):
    """A person who works here; archived, never deleted, because checks and the audit log point to them."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    role: Role = Field(sa_type=str_enum(Role))
    pin_lookup: str = Field(max_length=64, unique=True)
    pin_hash: str = Field(max_length=200)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def permissions(self) -> frozenset[Perm]:
        """What this person may do."""
        return permissions_for(self.role)

    def can(self, perm: Perm) -> bool:
        """Whether this person holds `perm`."""
        return perm in self.permissions

    @property
    def initials(self) -> str:
        """Two letters for tight spaces (table badges, KDS cards)."""
        parts = [p for p in self.name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"


class Device(SQLModel, table=True):
    """A tablet, terminal or kitchen screen, known by a long-lived cookie; staff PINs work only once it is enrolled."""

    __tablename__ = "device"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=80)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unlocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enrolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enrolled_by_id: int | None = Field(default=None, foreign_key="staff.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_address: str | None = Field(default=None, max_length=64)

    @property
    def enrolled(self) -> bool:
        """Whether staff PINs work here: a manager enrolled it and nobody has revoked it since."""
        return self.enrolled_at is not None and self.revoked_at is None


class StaffSession(SQLModel, table=True):
    """A login on a device; a new id at every login, locked when idle."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PinAttempt(SQLModel, table=True):
    """One PIN entry at a device (or at a browser asking to be enrolled), right or wrong, and where it came from."""

    __tablename__ = "pin_attempt"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    success: bool
    staff_id: int | None = None
    address: str | None = Field(default=None, max_length=64, index=True)


class PinLockout(SQLModel, table=True):
    """PIN entry refused for a while after too many wrong PINs: from one source address, or (no address) venue-wide."""

    __tablename__ = "pin_lockout"

    id: int | None = Field(default=None, primary_key=True)
    address: str | None = Field(default=None, max_length=64, index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    until: datetime = Field(sa_type=UTCDateTime, index=True)
    failures: int = 0
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by_id: int | None = Field(default=None, foreign_key="staff.id")


class ApiToken(SQLModel, table=True):
    """A bearer token for an integration (an ERP); only its hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(default="read", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SystemSecret(SQLModel, table=True):
    """Secrets kept with the data they protect (the PIN lookup pepper), shared by every process."""

    __tablename__ = "system_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
