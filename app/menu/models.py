"""The menu: tax rates, categories, items, modifier groups and modifiers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from app.lib import revisions
from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum


class Course(StrEnum):
    """When a dish goes out; categories give the default, a line may change it."""

    DRINKS = "drinks"
    STARTERS = "starters"
    MAINS = "mains"
    DESSERT = "dessert"

    @property
    def order(self) -> int:
        """Position in the meal."""
        return list(Course).index(self)

    @property
    def label(self) -> str:
        """The name a server reads."""
        return self.value.capitalize()


class TaxRate(SQLModel, table=True):
    """A sales tax rate, in basis points (2100 = 21 %) so no float ever touches it."""

    __tablename__ = "tax_rate"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    rate_bp: int = Field(ge=0, le=10000)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def rate(self) -> Decimal:
        """The rate as a fraction, e.g. Decimal('0.21')."""
        return Decimal(self.rate_bp) / Decimal(10000)

    @property
    def label(self) -> str:
        """'21 %', '5.5 %'."""
        return f"{(Decimal(self.rate_bp) / 100).normalize():f} %"


class MenuCategory(SQLModel, table=True):
    """A section of the menu: it decides the default course, the kitchen station and the tax rate."""

    __tablename__ = "menu_category"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    course: Course = Field(default=Course.MAINS, sa_type=str_enum(Course))
    station_id: int | None = Field(default=None, foreign_key="station.id")
    tax_rate_id: int = Field(foreign_key="tax_rate.id")
    sort_order: int = 0
    color: str = Field(default="#4a6fa5", max_length=9)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MenuItem(SQLModel, table=True):
    """Something a guest can order, priced in integer cents."""

    __tablename__ = "menu_item"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=80)
    price_cents: int = Field(ge=0)
    category_id: int = Field(foreign_key="menu_category.id", index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    description: str = Field(default="", max_length=300)
    sort_order: int = 0
    # Minutes from fire to ready at the pass: pacing times courses with it, and stations finish together by it.
    prep_minutes: int = Field(default=0, ge=0, le=240)
    eighty_sixed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    eighty_six_reason: str | None = Field(default=None, max_length=200)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # How many more the counted stock it is made with allows, after what open checks have rung in (inventory
    # keeps it); None when it is made with no counted stock.
    portions_left: int | None = None

    @property
    def is_86d(self) -> bool:
        """Whether the kitchen has run out of it."""
        return self.eighty_sixed_at is not None

    @property
    def sold_out(self) -> bool:
        """Whether it cannot be ordered now: 86'd, or no portion of its counted stock left."""
        return self.eighty_sixed_at is not None or self.portions_left == 0


class ModifierGroup(SQLModel, table=True):
    """A question the server must (forced) or may answer: 'Temperature', 'Sides', 'Extras'."""

    __tablename__ = "modifier_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    min_choices: int = Field(default=0, ge=0)
    max_choices: int = Field(default=1, ge=1)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def forced(self) -> bool:
        """A forced group must be answered before the line can be added."""
        return self.min_choices > 0


class Modifier(SQLModel, table=True):
    """One answer in a modifier group, with its price change (a paid extra or a free 'no onion')."""

    __tablename__ = "modifier"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="modifier_group.id", index=True)
    name: str = Field(max_length=60)
    price_delta_cents: int = 0
    station_id: int | None = Field(default=None, foreign_key="station.id")
    sort_order: int = 0
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Whether its recipe uses counted stock (inventory keeps it), so a line with it is checked against what is left.
    counts_stock: bool = False


class MenuItemModifierGroup(SQLModel, table=True):
    """Which modifier groups an item asks, in order."""

    __tablename__ = "menu_item_modifier_group"
    __table_args__ = (UniqueConstraint("item_id", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="menu_item.id", index=True)
    group_id: int = Field(foreign_key="modifier_group.id")
    sort_order: int = 0


MENU_REVISION = "menu"
"""Counts changes to what the order pad draws: categories, items (86'd, portions left), and the choices they ask."""

revisions.watch(
    MENU_REVISION,
    [MenuCategory.__table__, MenuItem.__table__, ModifierGroup.__table__, MenuItemModifierGroup.__table__],  # type: ignore[attr-defined]
)
