"""Tables of purchasing: suppliers and what they sell, weekday pars, purchase orders, receipts, credit notes.

Stock still moves only through inventory's operations: a receipt books a delivery, a credit note a
return to the supplier, and each keeps the id of the stock operation it made. Quantities are
thousandths of the stock item's unit, money whole cents; an order line keeps the pack size and
price it was ordered at, so editing the supplier's item never rewrites an order.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class Supplier(SQLModel, table=True):
    """Someone the restaurant buys stock from; accounts payable is kept per supplier."""

    __tablename__ = "supplier"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    email: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SupplierItem(SQLModel, table=True):
    """A stock item as one supplier sells it: its pack (in the item's unit), pack price and lead time."""

    __tablename__ = "supplier_item"
    __table_args__ = (UniqueConstraint("supplier_id", "stock_item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    stock_item_id: int = Field(foreign_key="stock_item.id", index=True)
    code: str | None = Field(default=None, max_length=40)
    pack_label: str = Field(max_length=60)
    pack_milli: int = Field(sa_type=BigInteger)
    pack_cost_cents: int = Field(sa_type=BigInteger)
    lead_time_days: int = 1
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WeekdayPar(SQLModel, table=True):
    """An item's par at a location on one weekday (0 = Monday), over its everyday par."""

    __tablename__ = "weekday_par"
    __table_args__ = (UniqueConstraint("stock_item_id", "location_id", "weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    stock_item_id: int = Field(foreign_key="stock_item.id", index=True)
    location_id: int = Field(foreign_key="stock_location.id")
    weekday: int
    par_milli: int = Field(sa_type=BigInteger)


class OrderStatus(StrEnum):
    """Where a purchase order stands."""

    DRAFT = "draft"
    SENT = "sent"
    PARTIAL = "partial"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The word a manager reads."""
        return "Partly received" if self is OrderStatus.PARTIAL else self.value.capitalize()

    @property
    def open(self) -> bool:
        """Whether goods can still be received against it."""
        return self in (OrderStatus.SENT, OrderStatus.PARTIAL)


class PurchaseOrder(SQLModel, table=True):
    """What the restaurant asked one supplier for, delivered into one stock location."""

    __tablename__ = "purchase_order"

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    location_id: int = Field(foreign_key="stock_location.id")
    status: OrderStatus = Field(default=OrderStatus.DRAFT, sa_type=str_enum(OrderStatus), index=True)
    expected_on: dt.date | None = Field(default=None, sa_type=Date)
    note: str | None = Field(default=None, max_length=200)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def number(self) -> str:
        """'PO-00042': how the order is named on paper and to the supplier."""
        return f"PO-{self.id or 0:05d}"


class PurchaseOrderLine(SQLModel, table=True):
    """Packs of one supplier item ordered, at the pack size and price of the day; what has come in so far."""

    __tablename__ = "purchase_order_line"
    __table_args__ = (UniqueConstraint("order_id", "supplier_item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="purchase_order.id", index=True)
    supplier_item_id: int = Field(foreign_key="supplier_item.id")
    stock_item_id: int = Field(foreign_key="stock_item.id")
    packs: int
    pack_label: str = Field(max_length=60)
    pack_milli: int = Field(sa_type=BigInteger)
    pack_cost_cents: int = Field(sa_type=BigInteger)
    received_milli: int = Field(default=0, sa_type=BigInteger)

    @property
    def ordered_milli(self) -> int:
        """The ordered quantity in thousandths of the item's unit."""
        return self.packs * self.pack_milli


class PurchaseReceipt(SQLModel, table=True):
    """One delivery received against an order, with the stock operation that booked it."""

    __tablename__ = "purchase_receipt"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="purchase_order.id", index=True)
    stock_operation_id: int = Field(foreign_key="stock_operation.id", unique=True)
    reference: str | None = Field(default=None, max_length=80)
    invoice_cents: int = Field(sa_type=BigInteger)
    ordered_cents: int = Field(sa_type=BigInteger)
    actor_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PurchaseReceiptLine(SQLModel, table=True):
    """A received quantity, what the invoice charged and what the order's price made it.

    `order_line_id` is the line it was ordered on (also for a substitute, which names another item).
    """

    __tablename__ = "purchase_receipt_line"

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: int = Field(foreign_key="purchase_receipt.id", index=True)
    order_line_id: int | None = Field(default=None, foreign_key="purchase_order_line.id")
    stock_item_id: int = Field(foreign_key="stock_item.id")
    substitute: bool = False
    quantity_milli: int = Field(sa_type=BigInteger)
    invoice_cents: int = Field(sa_type=BigInteger)
    ordered_cents: int = Field(sa_type=BigInteger)


class CreditKind(StrEnum):
    """Why a supplier credits the restaurant."""

    RETURN = "return"
    DAMAGED = "damaged"

    @property
    def label(self) -> str:
        """The word a manager reads."""
        return "Returned goods" if self is CreditKind.RETURN else "Damaged goods"


class SupplierCredit(SQLModel, table=True):
    """A supplier's credit note: goods leave stock back to the supplier, and accounts payable drops."""

    __tablename__ = "supplier_credit"

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="purchase_order.id", index=True)
    kind: CreditKind = Field(sa_type=str_enum(CreditKind))
    stock_operation_id: int = Field(foreign_key="stock_operation.id", unique=True)
    reference: str | None = Field(default=None, max_length=80)
    credit_cents: int = Field(sa_type=BigInteger)
    stock_cents: int = Field(sa_type=BigInteger)
    actor_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
