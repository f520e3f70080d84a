"""Promotions and the items they cover; what a line kept of its promotion lives on the line (orders)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import Date
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime, str_enum
from app.promotions.calculations import RuleKind, Terms


class Promotion(SQLModel, table=True):
    """A price rule with a schedule: a percent off or a set price on a category or items, a quantity deal
    (2 for €X) or a set menu (a fixed price for one dish of each course, each from a list).

    `weekdays` is the days it runs, digits 0 (Monday) to 6; the window is minutes of the day on the venue's
    clock, start included, end excluded (1440 is midnight at the end of the day).
    """

    __tablename__ = "promotion"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    kind: RuleKind = Field(sa_type=str_enum(RuleKind))
    percent_bp: int = Field(default=0, ge=0, le=10000)
    price_cents: int = Field(default=0, ge=0)
    deal_size: int = Field(default=0, ge=0)
    category_id: int | None = Field(default=None, foreign_key="menu_category.id")
    weekdays: str = Field(default="0123456", max_length=7)
    start_minute: int = Field(default=0, ge=0, le=1440)
    end_minute: int = Field(default=1440, ge=0, le=1440)
    first_day: dt.date | None = Field(default=None, sa_type=Date)
    last_day: dt.date | None = Field(default=None, sa_type=Date)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PromotionItem(SQLModel, table=True):
    """An item a promotion covers; for a set menu, with the course it can fill."""

    __tablename__ = "promotion_item"
    __table_args__ = (UniqueConstraint("promotion_id", "menu_item_id", name="uq_promotion_item"),)

    id: int | None = Field(default=None, primary_key=True)
    promotion_id: int = Field(foreign_key="promotion.id", index=True)
    menu_item_id: int = Field(foreign_key="menu_item.id", index=True)
    slot: str | None = Field(default=None, max_length=20)


class LinePromotion(SQLModel, table=True):
    """What a check line kept of the promotion it was rung in under: the rule, its name and its amount.

    A percent off or a set price keeps the cents it takes off each unit; a deal keeps its size and price (and a
    set menu line its course), since what it saves depends on the lines rung in with it. The rule may change or
    end later: the line keeps this. Lines split off from it (a shared share, a voided part) read it through
    their `origin_line_id`.
    """

    __tablename__ = "line_promotion"

    line_id: int = Field(primary_key=True, foreign_key="check_line.id")
    promotion_id: int = Field(foreign_key="promotion.id", index=True)
    name: str = Field(max_length=60)
    kind: RuleKind = Field(sa_type=str_enum(RuleKind))
    unit_off_cents: int = Field(default=0, ge=0)
    deal_size: int = Field(default=0, ge=0)
    deal_price_cents: int = Field(default=0, ge=0)
    slot: str | None = Field(default=None, max_length=20)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def terms(self) -> Terms:
        """The snapshot as the pricing maths reads it."""
        return Terms(
            rule_id=self.promotion_id,
            name=self.name,
            kind=self.kind,
            unit_off=self.unit_off_cents,
            deal_size=self.deal_size,
            deal_price=self.deal_price_cents,
            slot=self.slot,
        )
