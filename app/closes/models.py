"""Tables of the closes domain: posting mappings, check postings and their exceptions, cash drawers,
server checkouts, tip pools and business days.

Money is integer cents. A check posting records what one closed check (or its reversal, refund or
waste) put in the ledger, so the Z report is read from the same numbers the journal entry was built from.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Index
from sqlmodel import JSON, Column, Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class MappingKind(StrEnum):
    """What a posting mapping maps: a category, tender, tax rate or station, or one of the house accounts."""

    CATEGORY = "category"
    TENDER = "tender"
    TAX_RATE = "tax_rate"
    STATION = "station"
    ACCOUNT = "account"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return {
            "category": "Menu category → revenue account",
            "tender": "Tender → clearing account",
            "tax_rate": "Tax rate → tax payable account",
            "station": "Station → stock location",
            "account": "House accounts",
        }[self.value]


class PostingMapping(SQLModel, table=True):
    """Where the ledger (or the stockroom) finds one subject: `subject` is an id, or a house account role."""

    __tablename__ = "posting_mapping"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: MappingKind = Field(sa_type=str_enum(MappingKind))
    subject: str = Field(max_length=40)
    account_code: str | None = Field(default=None, max_length=20)
    stock_location_id: int | None = Field(default=None, foreign_key="stock_location.id")
    updated_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostingKind(StrEnum):
    """What a check posting records."""

    SALE = "sale"
    REVERSAL = "reversal"
    REFUND = "refund"
    TIP_ADJUST = "tip_adjust"
    STOCK_RETURN = "stock_return"
    WASTE = "waste"

    @property
    def sign(self) -> int:
        """+1 when it adds to the day's sales, -1 when it takes away, 0 when it only moves stock."""
        return {"sale": 1, "reversal": -1, "refund": -1, "tip_adjust": 1, "stock_return": 0, "waste": 0}[self.value]


class CheckPosting(SQLModel, table=True):
    """What one source (a check's n-th closing, its reopening, a refund, a void's waste) put in the books, once.

    Amounts are as the source had them (a refund's are positive); `kind.sign` says how they count on the day.
    `breakdown` keeps the detail: net and gross by category, tax by rate, takings by tender, sold lines.
    """

    __tablename__ = "check_posting"
    __table_args__ = (Index("ix_check_posting_day", "posted_day", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=120, unique=True)
    kind: PostingKind = Field(sa_type=str_enum(PostingKind))
    check_id: int | None = Field(default=None, foreign_key="guest_check.id", index=True)
    server_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    stock_operation_key: str | None = Field(default=None, max_length=200)
    business_day: dt.date = Field(sa_type=Date)
    posted_day: dt.date = Field(sa_type=Date)
    late: bool = False
    gross_cents: int = 0
    voids_cents: int = 0
    void_count: int = 0
    discounts_cents: int = 0
    discount_count: int = 0
    comps_cents: int = 0
    comp_count: int = 0
    net_sales_cents: int = 0
    service_charge_cents: int = 0
    tax_cents: int = 0
    tips_cents: int = 0
    total_cents: int = 0
    cost_cents: int = 0
    covers: int = 0
    breakdown: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=200)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ExceptionStatus(StrEnum):
    """An exception waits for a person, then is resolved by a retry that posted."""

    OPEN = "open"
    RESOLVED = "resolved"


class PostingException(SQLModel, table=True):
    """A posting that could not be made (a missing mapping, a locked day): kept with its reason until retried."""

    __tablename__ = "posting_exception"

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=120, unique=True)
    topic: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    check_id: int | None = Field(default=None, index=True)
    reason: str = Field(max_length=1000)
    status: ExceptionStatus = Field(default=ExceptionStatus.OPEN, sa_type=str_enum(ExceptionStatus), index=True)
    attempts: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_tried_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")


class DrawerStatus(StrEnum):
    """A drawer session is open from its float until it is counted."""

    OPEN = "open"
    CLOSED = "closed"


class DrawerSession(SQLModel, table=True):
    """One cash drawer from its opening float to its count; without a device it is the house drawer."""

    __tablename__ = "drawer_session"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    business_day: dt.date = Field(sa_type=Date, index=True)
    status: DrawerStatus = Field(default=DrawerStatus.OPEN, sa_type=str_enum(DrawerStatus), index=True)
    blind: bool = False
    float_cents: int = Field(ge=0)
    opened_by: int = Field(foreign_key="staff.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expected_cents: int | None = None
    counted_cents: int | None = None
    over_short_cents: int | None = None
    count_detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_by: int | None = Field(default=None, foreign_key="staff.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    open_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    close_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")


class MovementKind(StrEnum):
    """Cash in or out of a drawer that is not a sale."""

    CASH_IN = "cash_in"
    PAY_OUT = "pay_out"
    NO_SALE = "no_sale"
    TIP_PAYOUT = "tip_payout"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return {"cash_in": "Cash in", "pay_out": "Pay out", "no_sale": "No sale", "tip_payout": "Tips paid out"}[
            self.value
        ]

    @property
    def sign(self) -> int:
        """How the movement changes the cash expected in the drawer."""
        return {"cash_in": 1, "pay_out": -1, "no_sale": 0, "tip_payout": -1}[self.value]


class DrawerMovement(SQLModel, table=True):
    """Cash put in, paid out or a drawer opened without a sale, with its reason and who did it."""

    __tablename__ = "drawer_movement"

    id: int | None = Field(default=None, primary_key=True)
    drawer_id: int = Field(foreign_key="drawer_session.id", index=True)
    kind: MovementKind = Field(sa_type=str_enum(MovementKind))
    amount_cents: int = Field(default=0, ge=0)
    reason: str = Field(max_length=200)
    account_code: str | None = Field(default=None, max_length=20)
    actor_id: int = Field(foreign_key="staff.id")
    approver_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")


class ServerCheckout(SQLModel, table=True):
    """A server's end of shift: sales, tips and the cash settled with the house for one business day."""

    __tablename__ = "server_checkout"
    __table_args__ = (UniqueConstraint("staff_id", "business_day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    business_day: dt.date = Field(sa_type=Date, index=True)
    check_count: int = 0
    net_sales_cents: int = 0
    total_cents: int = 0
    card_tips_cents: int = 0
    declared_cash_tips_cents: int = 0
    cash_collected_cents: int = 0
    tips_paid_out_cents: int = 0
    owed_to_house_cents: int = 0
    pooled: bool = False
    checked_out_by: int = Field(foreign_key="staff.id")
    checked_out_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")


class PoolMethod(StrEnum):
    """How a tip pool is shared."""

    ROLE_PERCENT = "role_percent"
    HOURS = "hours"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return "By role percentage" if self is PoolMethod.ROLE_PERCENT else "By hours worked"


class TipPoolRule(SQLModel, table=True):
    """The venue's tip pooling rule: shares by role percentage (within a role by hours) or by hours alone."""

    __tablename__ = "tip_pool_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    method: PoolMethod = Field(sa_type=str_enum(PoolMethod))
    role_percents: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    include_cash_tips: bool = False
    active: bool = True
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffHours(SQLModel, table=True):
    """Hours a person worked on a business day, in minutes (for pooling by hours)."""

    __tablename__ = "staff_hours"
    __table_args__ = (UniqueConstraint("staff_id", "business_day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    business_day: dt.date = Field(sa_type=Date, index=True)
    minutes: int = Field(ge=0, le=24 * 60)
    entered_by: int = Field(foreign_key="staff.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TipShare(SQLModel, table=True):
    """One person's share of a business day's tip pool."""

    __tablename__ = "tip_share"
    __table_args__ = (UniqueConstraint("business_day", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    business_day: dt.date = Field(sa_type=Date, index=True)
    rule_id: int = Field(foreign_key="tip_pool_rule.id")
    staff_id: int = Field(foreign_key="staff.id")
    role: str = Field(max_length=20)
    minutes: int = 0
    share_cents: int
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DayStatus(StrEnum):
    """A business day is open until the manager closes it; then its books are locked."""

    OPEN = "open"
    CLOSED = "closed"


class BusinessDay(SQLModel, table=True):
    """A trading day and its close: who closed it, when, and the Z report as it was printed."""

    __tablename__ = "business_day"

    id: int | None = Field(default=None, primary_key=True)
    day: dt.date = Field(sa_type=Date, unique=True)
    status: DayStatus = Field(default=DayStatus.OPEN, sa_type=str_enum(DayStatus))
    closed_by: int | None = Field(default=None, foreign_key="staff.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    z_report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    print_job_id: int | None = Field(default=None, foreign_key="print_job.id")
    late_arrivals: int = 0
