"""What the JSON API reads and writes, as typed structures (they are the OpenAPI schema's components)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10**9)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=99)]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Note = Annotated[str, msgspec.Meta(max_length=140)]


class ModifierOut(msgspec.Struct):
    """A modifier chosen on a line."""

    modifier_id: int
    group: str
    name: str
    price_delta_cents: int


class CheckLineOut(msgspec.Struct):
    """A line as it was rung in (name, price and tax as they were then), with its money."""

    id: int
    sku: str
    name: str
    category_id: int
    quantity_num: int
    quantity_den: int
    unit_price_cents: int
    modifiers_cents: int
    tax_rate_bp: int
    seat: int | None
    course: str
    state: str
    void_reason: str | None
    net_cents: int
    tax_cents: int
    discount_cents: int
    comp_cents: int
    modifiers: list[ModifierOut]
    promotion_cents: int = 0
    promotion: str | None = None


class PaymentOut(msgspec.Struct):
    """A payment: tender, amount toward the check, tip, and the card's brand and last four (never its number)."""

    id: int
    tender: str
    tender_kind: str
    amount_cents: int
    tip_cents: int
    change_cents: int
    refunded_cents: int
    card_brand: str | None
    card_last4: str | None
    taken_at: dt.datetime


class CheckOut(msgspec.Struct):
    """A closed check with its totals, lines and payments (gross less promotions, discounts and comps is net
    sales when prices exclude tax)."""

    id: int
    number: int
    kind: str
    status: str
    table: str | None
    tab_name: str | None
    server: str
    covers: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    business_day: dt.date | None
    gross_cents: int
    discounts_cents: int
    comps_cents: int
    net_sales_cents: int
    service_charge_cents: int
    tax_cents: int
    total_cents: int
    tips_cents: int
    lines: list[CheckLineOut]
    payments: list[PaymentOut]
    promotions_cents: int = 0


class CheckPage(msgspec.Struct):
    """A page of closed checks; ask again with `after_id=next_after_id` for the next."""

    items: list[CheckOut]
    next_after_id: int | None


class JournalLineOut(msgspec.Struct):
    """One line of an entry: account and signed cents (debit positive)."""

    account_code: str
    account_name: str
    amount_cents: int
    memo: str
    dimensions: dict[str, str]


class JournalEntryOut(msgspec.Struct):
    """A posted, balanced entry; `reverses_id` names the entry it cancels."""

    id: int
    date: dt.date
    description: str
    source_type: str
    source_id: str
    reverses_id: int | None
    posted_at: dt.datetime
    lines: list[JournalLineOut]


class JournalPage(msgspec.Struct):
    """A page of journal entries."""

    items: list[JournalEntryOut]
    next_after_id: int | None


class StockMoveOut(msgspec.Struct):
    """A stock move: quantities in thousandths of the item's unit, value in cents."""

    id: int
    operation: str
    source_key: str | None
    kind: str
    stock_item_id: int
    stock_item: str
    unit: str
    location: str
    quantity_milli: int
    value_cents: int
    created_at: dt.datetime


class StockMovePage(msgspec.Struct):
    """A page of stock moves."""

    items: list[StockMoveOut]
    next_after_id: int | None


class StockLevelOut(msgspec.Struct):
    """What one location holds of one item, and its value at average cost."""

    stock_item_id: int
    stock_item: str
    unit: str
    location: str
    on_hand_milli: int
    value_cents: int
    par_milli: int | None


class TicketLineOut(msgspec.Struct):
    """An item as a station saw it."""

    name: str
    quantity_num: int
    quantity_den: int
    seat: int | None
    modifiers: list[str]
    note: str | None
    voided: bool
    bumped_at: dt.datetime | None


class KitchenTicketOut(msgspec.Struct):
    """A ticket at one station with its timing (fired to bumped)."""

    id: int
    check_id: int
    check_number: int
    station: str
    expo: bool
    kind: str
    course: str | None
    table: str
    server: str
    fired_at: dt.datetime
    bumped_at: dt.datetime | None
    seconds_to_bump: int | None
    lines: list[TicketLineOut]


class TicketPage(msgspec.Struct):
    """A page of kitchen tickets."""

    items: list[KitchenTicketOut]
    next_after_id: int | None


class MenuItemOut(msgspec.Struct):
    """A menu item as the master data has it."""

    id: int
    sku: str
    name: str
    price_cents: int
    category_id: int
    category: str
    description: str
    eighty_sixed: bool
    archived: bool


class MenuItemIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new menu item pushed by the ERP."""

    sku: Sku
    name: Name
    price_cents: Cents
    category_id: Id
    description: Annotated[str, msgspec.Meta(max_length=300)] = ""


class MenuItemPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a menu item (fields left out stay as they are)."""

    name: Name | None = None
    price_cents: Cents | None = None
    category_id: Id | None = None
    description: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    archived: bool | None = None


class OrderLineIn(msgspec.Struct, forbid_unknown_fields=True):
    """One item of an online or takeout order."""

    sku: Sku
    quantity: Quantity = 1
    modifier_ids: Annotated[list[Id], msgspec.Meta(max_length=12)] = []
    note: Note = ""


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """An order from an online or takeout channel; it reaches the kitchen like a floor order."""

    channel: Literal["online", "takeout"]
    customer_name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    lines: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=50)]
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None


class OrderOut(msgspec.Struct):
    """The order as the kitchen got it: its check, total and lines."""

    check_id: int
    number: int
    channel: str
    customer_name: str
    total_cents: int
    fired: bool
    lines: list[CheckLineOut]
