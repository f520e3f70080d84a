"""Tables of the checks domain: tenders, discounts and comps, splits, payments, closings and refunds.

Money is integer cents everywhere. A card is known only by its processor reference, brand, last four
digits and auth code; no table here has room for a card number.
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


class TenderKind(StrEnum):
    """How a guest pays; decides change, tips, the drawer and the terminal."""

    CASH = "cash"
    CARD = "card"
    GIFT_CARD = "gift_card"
    HOUSE_ACCOUNT = "house_account"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The name a server reads."""
        return self.value.replace("_", " ").capitalize()


class Tender(SQLModel, table=True):
    """A way to pay that a manager configures, with the ledger account its money goes to."""

    __tablename__ = "tender"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    kind: TenderKind = Field(sa_type=str_enum(TenderKind))
    ledger_account_code: str = Field(max_length=20)
    allows_tip: bool = False
    opens_drawer: bool = False
    uses_terminal: bool = False
    sort_order: int = 0
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def gives_change(self) -> bool:
        """Only cash hands money back."""
        return self.kind is TenderKind.CASH


class AdjustmentKind(StrEnum):
    """How a discount is written."""

    PERCENT = "percent"
    AMOUNT = "amount"


class CheckDiscount(SQLModel, table=True):
    """A discount on one line (line_id) or on the whole check, with its reason and approver."""

    __tablename__ = "check_discount"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    line_id: int | None = Field(default=None, foreign_key="check_line.id", index=True)
    kind: AdjustmentKind = Field(sa_type=str_enum(AdjustmentKind))
    percent_bp: int | None = Field(default=None, ge=1, le=10000)
    amount_cents: int | None = Field(default=None, ge=1)
    reason: str = Field(max_length=200)
    created_by: int = Field(foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: int | None = Field(default=None, foreign_key="staff.id")


class CheckComp(SQLModel, table=True):
    """A line (line_id) or the whole check given away by the house, with its reason and approver."""

    __tablename__ = "check_comp"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    line_id: int | None = Field(default=None, foreign_key="check_line.id", index=True)
    reason: str = Field(max_length=200)
    created_by: int = Field(foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: int | None = Field(default=None, foreign_key="staff.id")


class ServiceChargeWaiver(SQLModel, table=True):
    """A manager's decision to take the automatic large-party service charge off a check."""

    __tablename__ = "service_charge_waiver"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    reason: str = Field(max_length=200)
    created_by: int = Field(foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SplitKind(StrEnum):
    """How a check was split."""

    SEAT = "seat"
    ITEMS = "items"
    SHARE = "share"
    EVEN = "even"
    AMOUNT = "amount"

    @property
    def label(self) -> str:
        """What the server tapped."""
        return {
            "seat": "by seat",
            "items": "by item",
            "share": "shared item",
            "even": "evenly",
            "amount": "by amount",
        }[self.value]


class CheckSplit(SQLModel, table=True):
    """One split of a check's family, with what it did so it can be undone exactly while nothing is paid.

    `moves` lists {line_id, from_check_id, to_check_id}; `shares` lists {line_id, quantity_num,
    quantity_den, new_line_ids} for a line shared out; `new_check_ids` the checks the split opened.
    """

    __tablename__ = "check_split"

    id: int | None = Field(default=None, primary_key=True)
    root_check_id: int = Field(foreign_key="guest_check.id", index=True)
    check_id: int = Field(foreign_key="guest_check.id")
    kind: SplitKind = Field(sa_type=str_enum(SplitKind))
    new_check_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    moves: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    shares: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: int | None = Field(default=None, foreign_key="staff.id")


class CheckPortion(SQLModel, table=True):
    """One guest's part of a check split evenly or by amount; the lines stay on the check.

    `weight` is 1 for an even split and the chosen cents for a split by amount; what each part owes
    is the check's due allocated by these weights, so the parts always add up to the check.
    """

    __tablename__ = "check_portion"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    split_id: int = Field(foreign_key="check_split.id", index=True)
    position: int = Field(ge=1)
    weight: int = Field(ge=1)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AttemptKind(StrEnum):
    """What the terminal was asked to do."""

    CHARGE = "charge"
    REFUND = "refund"


class AttemptStatus(StrEnum):
    """Where a payment attempt stands; `pending` means the outcome is not known yet."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    FAILED = "failed"


class PaymentAttempt(SQLModel, table=True):
    """A payment (or card refund) asked for, committed before anything is asked of a terminal.

    After a crash, a pending attempt is resolved by asking the terminal about `reference`.
    """

    __tablename__ = "payment_attempt"
    __table_args__ = (Index("ix_payment_attempt_pending", "status", "requested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: AttemptKind = Field(default=AttemptKind.CHARGE, sa_type=str_enum(AttemptKind))
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    portion_id: int | None = Field(default=None, foreign_key="check_portion.id")
    tender_id: int = Field(foreign_key="tender.id")
    reference: str = Field(max_length=64, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=100, unique=True)
    amount_cents: int = Field(ge=0)
    tip_cents: int = Field(default=0, ge=0)
    tendered_cents: int | None = None
    # Plain ids, not foreign keys: payments and refunds point back at attempts.
    refund_id: int | None = None
    original_payment_id: int | None = None
    original_reference: str | None = Field(default=None, max_length=64)
    status: AttemptStatus = Field(default=AttemptStatus.PENDING, sa_type=str_enum(AttemptStatus))
    terminal: str | None = Field(default=None, max_length=40)
    message: str | None = Field(default=None, max_length=200)
    requested_by: int = Field(foreign_key="staff.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    """Money taken on a check: the amount applied to the check, a tip beside it, and for cash the change."""

    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    portion_id: int | None = Field(default=None, foreign_key="check_portion.id")
    tender_id: int = Field(foreign_key="tender.id")
    attempt_id: int | None = Field(default=None, foreign_key="payment_attempt.id", unique=True)
    amount_cents: int = Field(ge=0)
    tip_cents: int = Field(default=0, ge=0)
    tendered_cents: int | None = None
    change_cents: int = Field(default=0, ge=0)
    processor_reference: str | None = Field(default=None, max_length=64)
    card_brand: str | None = Field(default=None, max_length=20)
    card_last4: str | None = Field(default=None, min_length=4, max_length=4)
    auth_code: str | None = Field(default=None, max_length=20)
    refunded_cents: int = Field(default=0, ge=0)
    business_day: dt.date = Field(sa_type=Date, index=True)
    taken_by: int = Field(foreign_key="staff.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    # The cash drawer session cash went into, placed there by whoever keeps the drawers (CashHandled).
    drawer_id: int | None = Field(default=None, index=True)
    # The house account (charge account) a house-account payment was charged to.
    house_account_id: int | None = Field(default=None, index=True)
    taken_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    tip_adjusted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tip_adjusted_by: int | None = Field(default=None, foreign_key="staff.id")
    tips_locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def charged_cents(self) -> int:
        """What the guest handed over in the end: the amount and the tip."""
        return self.amount_cents + self.tip_cents

    @property
    def refundable_cents(self) -> int:
        """What can still go back to the guest on this payment."""
        return self.charged_cents - self.refunded_cents


class CheckClosing(SQLModel, table=True):
    """The n-th time a check was closed, with what it came to; reopening marks it, never edits it."""

    __tablename__ = "check_closing"
    __table_args__ = (UniqueConstraint("check_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    sequence: int = Field(ge=1)
    total_cents: int
    paid_cents: int
    tips_cents: int
    closed_by: int = Field(foreign_key="staff.id")
    closed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_by: int | None = Field(default=None, foreign_key="staff.id")
    reopen_approved_by: int | None = Field(default=None, foreign_key="staff.id")
    reopen_reason: str | None = Field(default=None, max_length=200)


class RefundStatus(StrEnum):
    """A card refund waits for the terminal; cash and other tenders complete at once."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class Refund(SQLModel, table=True):
    """Money given back on a closed check, against one payment: a reversing effect, never an edit."""

    __tablename__ = "check_refund"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="guest_check.id", index=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    tender_id: int = Field(foreign_key="tender.id")
    amount_cents: int = Field(ge=1)
    tip_cents: int = Field(default=0, ge=0)
    full: bool = False
    reason: str = Field(max_length=200)
    status: RefundStatus = Field(default=RefundStatus.PENDING, sa_type=str_enum(RefundStatus))
    processor_reference: str | None = Field(default=None, max_length=64)
    refunded_by: int = Field(foreign_key="staff.id")
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    # The cash drawer session a cash refund was paid out of (CashHandled), like a cash payment's.
    drawer_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefundLine(SQLModel, table=True):
    """What a refund gives back for one check line: its net revenue and its tax, for the ledger."""

    __tablename__ = "check_refund_line"

    id: int | None = Field(default=None, primary_key=True)
    refund_id: int = Field(foreign_key="check_refund.id", index=True)
    line_id: int | None = Field(default=None, foreign_key="check_line.id", index=True)
    category_id: int | None = None
    tax_rate_id: int | None = None
    tax_rate_bp: int | None = None
    description: str = Field(max_length=80)
    net_cents: int
    tax_cents: int


class DeviceReceiptPrinter(SQLModel, table=True):
    """Which printer a device's receipts, guest checks and cash drawer use, when not the venue's default."""

    __tablename__ = "device_receipt_printer"

    device_id: int = Field(primary_key=True, foreign_key="device.id")
    printer_id: int = Field(foreign_key="printer.id")
    set_by: int = Field(foreign_key="staff.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
