"""Tables of the inventory domain: stock items, locations, recipes, operations and their moves, levels.

Stock changes only through moves. A move belongs to an operation (a delivery, a count, a sale's
depletion, a waste entry, a transfer, a refund's return); an operation with a source key happens
once per key. Quantities are thousandths of the item's unit, costs milli-cents per unit (see
app/inventory/calculations.py). Menu items and modifiers are referenced by id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class StockUnit(StrEnum):
    """The unit an item is counted in."""

    GRAM = "g"
    MILLILITRE = "ml"
    PIECE = "piece"

    @property
    def label(self) -> str:
        """'g', 'ml', 'pcs'."""
        return "pcs" if self is StockUnit.PIECE else self.value


class StockItem(SQLModel, table=True):
    """Something the kitchen or bar keeps in stock, with its moving-average unit cost.

    `counted` items are watched: when one runs out, the menu items made with it are 86'd.
    """

    __tablename__ = "stock_item"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    unit: StockUnit = Field(sa_type=str_enum(StockUnit))
    unit_cost_millicents: int = Field(default=0, ge=0, sa_type=BigInteger)
    counted: bool = False
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StockLocation(SQLModel, table=True):
    """A place stock is kept: kitchen, bar, storeroom."""

    __tablename__ = "stock_location"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    sort_order: int = 0
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecipeComponent(SQLModel, table=True):
    """How much of a stock item one unit of a menu item (or one modifier choice) uses.

    A modifier's quantity may be negative ('no onion' takes the onion out of the dish).
    """

    __tablename__ = "recipe_component"
    __table_args__ = (
        UniqueConstraint("menu_item_id", "modifier_id", "stock_item_id"),
        CheckConstraint("(menu_item_id IS NULL) <> (modifier_id IS NULL)", name="ck_recipe_component_one_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    menu_item_id: int | None = Field(default=None, foreign_key="menu_item.id", index=True)
    modifier_id: int | None = Field(default=None, foreign_key="modifier.id", index=True)
    stock_item_id: int = Field(foreign_key="stock_item.id", index=True)
    quantity_milli: int = Field(sa_type=BigInteger)


class OperationKind(StrEnum):
    """Why stock moved."""

    RECEIPT = "receipt"
    SALE = "sale"
    WASTE = "waste"
    COUNT = "count"
    TRANSFER = "transfer"
    REFUND = "refund"
    SUPPLIER_RETURN = "supplier_return"

    @property
    def label(self) -> str:
        """The word a manager reads."""
        return _OPERATION_LABELS[self]


_OPERATION_LABELS = {
    OperationKind.RECEIPT: "Delivery",
    OperationKind.SALE: "Sale",
    OperationKind.WASTE: "Waste",
    OperationKind.COUNT: "Count",
    OperationKind.TRANSFER: "Transfer",
    OperationKind.REFUND: "Refund return",
    OperationKind.SUPPLIER_RETURN: "Return to supplier",
}


class MoveKind(StrEnum):
    """What one move did to one item at one location."""

    RECEIPT = "receipt"
    SALE = "sale"
    WASTE = "waste"
    COUNT_VARIANCE = "count_variance"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    REFUND_RETURN = "refund_return"
    SUPPLIER_RETURN = "supplier_return"


class StockOperation(SQLModel, table=True):
    """One event that moved stock; `source_key` makes it happen once (a closed check, a form submit)."""

    __tablename__ = "stock_operation"

    id: int | None = Field(default=None, primary_key=True)
    kind: OperationKind = Field(sa_type=str_enum(OperationKind), index=True)
    source_key: str | None = Field(default=None, max_length=200, unique=True)
    supplier: str | None = Field(default=None, max_length=80)
    reference: str | None = Field(default=None, max_length=80)
    note: str | None = Field(default=None, max_length=200)
    actor_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class StockMove(SQLModel, table=True):
    """A signed quantity of one item at one location, valued at the unit cost it moved at; never edited."""

    __tablename__ = "stock_move"

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="stock_operation.id", index=True)
    kind: MoveKind = Field(sa_type=str_enum(MoveKind))
    stock_item_id: int = Field(foreign_key="stock_item.id", index=True)
    location_id: int = Field(foreign_key="stock_location.id", index=True)
    quantity_milli: int = Field(sa_type=BigInteger)
    unit_cost_millicents: int = Field(sa_type=BigInteger)
    value_cents: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StockLevel(SQLModel, table=True):
    """On hand and its value per item and location (sums of its moves, kept in the same transaction), and its par."""

    __tablename__ = "stock_level"
    __table_args__ = (UniqueConstraint("stock_item_id", "location_id"),)

    id: int | None = Field(default=None, primary_key=True)
    stock_item_id: int = Field(foreign_key="stock_item.id", index=True)
    location_id: int = Field(foreign_key="stock_location.id", index=True)
    on_hand_milli: int = Field(default=0, sa_type=BigInteger)
    value_cents: int = Field(default=0, sa_type=BigInteger)
    par_milli: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StockOutage(SQLModel, table=True):
    """A menu item inventory 86'd because a counted ingredient ran out; restocking it un-86s the item."""

    __tablename__ = "stock_outage"

    id: int | None = Field(default=None, primary_key=True)
    menu_item_id: int = Field(foreign_key="menu_item.id", unique=True)
    stock_item_id: int = Field(foreign_key="stock_item.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
