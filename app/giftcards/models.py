"""Tables of the gift-card domain: each card with its balance, and every movement of that balance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class GiftCardStatus(StrEnum):
    """Where a card stands: sold but not yet paid for, spendable, or cancelled before it was paid."""

    PENDING = "pending"
    ACTIVE = "active"
    VOID = "void"

    @property
    def label(self) -> str:
        """The word a server reads."""
        return {"pending": "Not paid yet", "active": "Active", "void": "Cancelled"}[self.value]


class GiftCard(SQLModel, table=True):
    """A gift card: its number (random, with a check digit), what it was sold for and what it still holds.

    `balance_cents` changes only by a conditional UPDATE in the transaction that records the movement, so the
    sum of the movements of a card is always its balance.
    """

    __tablename__ = "gift_card"
    __table_args__ = (CheckConstraint("balance_cents >= 0", name="ck_gift_card_balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    status: GiftCardStatus = Field(default=GiftCardStatus.PENDING, sa_type=str_enum(GiftCardStatus), index=True)
    initial_cents: int = Field(ge=1)
    balance_cents: int = Field(default=0, ge=0)
    # The line the card was sold as; the check that line stands on when it closes activates the card.
    line_id: int = Field(foreign_key="check_line.id", unique=True)
    sold_check_id: int = Field(foreign_key="guest_check.id", index=True)
    sold_by: int = Field(foreign_key="staff.id")
    sold_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def last4(self) -> str:
        """The last four digits, all a receipt or a list shows."""
        return self.number[-4:]


class MovementKind(StrEnum):
    """Why a card's balance moved."""

    ISSUE = "issue"
    REDEEM = "redeem"
    REFUND = "refund"
    UNISSUE = "unissue"
    SALE_REFUNDED = "sale_refunded"

    @property
    def label(self) -> str:
        """The word a manager reads."""
        return {
            "issue": "Sold and paid",
            "redeem": "Spent",
            "refund": "Refunded to card",
            "unissue": "Sale reopened",
            "sale_refunded": "Sale refunded",
        }[self.value]


class GiftCardMovement(SQLModel, table=True):
    """One change of a card's balance (signed cents: + in, - out), with the check money it belongs to."""

    __tablename__ = "gift_card_movement"
    __table_args__ = (Index("ix_gift_card_movement_card", "card_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="gift_card.id")
    kind: MovementKind = Field(sa_type=str_enum(MovementKind))
    amount_cents: int
    balance_after_cents: int = Field(ge=0)
    check_id: int | None = Field(default=None, foreign_key="guest_check.id", index=True)
    payment_id: int | None = Field(default=None, foreign_key="payment.id", index=True)
    refund_id: int | None = Field(default=None, foreign_key="check_refund.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
