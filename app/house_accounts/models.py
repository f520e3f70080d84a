"""Tables of house accounts (charge accounts): the customers allowed to sign for a check, and their sub-ledger.

A customer account's balance is what it owes the restaurant, in integer cents. Every change to it is a
`CustomerAccountEntry` (a charge from a check, a refund back onto the account, a payment received), never an
edit: the statement is these rows in order, and the balance on the account row is their sum, kept under the
account's row lock so a credit limit holds against two tablets charging at once.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Date, Index
from sqlmodel import Field, SQLModel

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class CustomerAccountStatus(StrEnum):
    """An account takes charges while active; a closed one keeps its history and can still be paid."""

    ACTIVE = "active"
    CLOSED = "closed"


class CustomerAccount(SQLModel, table=True):
    """A house account (charge account): a named customer who signs for checks up to a credit limit."""

    __tablename__ = "customer_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    contact_name: str = Field(default="", max_length=80)
    email: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=40)
    billing_address: str = Field(default="", max_length=300)
    vat_number: str = Field(default="", max_length=40)
    credit_limit_cents: int = Field(ge=0)
    balance_cents: int = 0
    status: CustomerAccountStatus = Field(default=CustomerAccountStatus.ACTIVE, sa_type=str_enum(CustomerAccountStatus))
    note: str = Field(default="", max_length=300)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, foreign_key="staff.id")

    @property
    def available_cents(self) -> int:
        """What can still be charged before the limit."""
        return max(self.credit_limit_cents - self.balance_cents, 0)


class AccountEntryKind(StrEnum):
    """What moved an account's balance."""

    CHARGE = "charge"
    REFUND = "refund"
    PAYMENT = "payment"

    @property
    def label(self) -> str:
        """What the statement calls it."""
        return {"charge": "Charge", "refund": "Refund", "payment": "Payment received"}[self.value]


class ReceiptMethod(StrEnum):
    """How a customer paid their account, and so where the money lands in the books."""

    CASH = "cash"
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"

    @property
    def label(self) -> str:
        """What a manager reads."""
        return {"cash": "Cash (into the safe)", "card": "Card", "bank_transfer": "Bank transfer"}[self.value]


class CustomerAccountEntry(SQLModel, table=True):
    """One line of an account's statement: signed cents, a charge positive, a refund or payment negative.

    Checks, payments and refunds are plain ids (their number is kept as it was), so the account's history reads
    without the checks' tables.
    """

    __tablename__ = "customer_account_entry"
    __table_args__ = (Index("ix_customer_account_entry_account", "account_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="customer_account.id")
    kind: AccountEntryKind = Field(sa_type=str_enum(AccountEntryKind))
    amount_cents: int
    balance_after_cents: int
    check_id: int | None = Field(default=None, index=True)
    check_number: int | None = None
    payment_id: int | None = Field(default=None, unique=True)
    refund_id: int | None = Field(default=None, unique=True)
    method: ReceiptMethod | None = Field(default=None, sa_type=str_enum(ReceiptMethod))
    reference: str = Field(default="", max_length=64)
    memo: str = Field(default="", max_length=200)
    # The receivable account the charge was booked to (the tender's), so payments credit the same account.
    ledger_account_code: str = Field(max_length=20)
    journal_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    business_day: dt.date = Field(sa_type=Date)
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
