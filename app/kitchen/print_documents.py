"""What a printer is asked to print, in the restaurant's words and independent of any database.

The domains build these documents and hand them to the print queue (`app.kitchen.printing.enqueue_print`);
a job stores its document as JSON (`document_to_json`) and the print worker lays it out for the printer it
is sent to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

TicketKind = Literal["new", "addition", "void", "rush"]


@dataclass(frozen=True, kw_only=True)
class MoneyFormat:
    """How a venue writes an amount of money: symbol, its side and the decimal mark."""

    symbol: str = "€"
    symbol_after: bool = False
    decimal_mark: str = "."
    group_mark: str = ""

    def format(self, cents: int) -> str:
        """Write an amount of integer cents, e.g. "€12.50" or "-€1.00"."""
        return format_cents(
            cents,
            self.symbol,
            symbol_after=self.symbol_after,
            decimal_mark=self.decimal_mark,
            group_mark=self.group_mark,
        )


def format_cents(
    cents: int,
    symbol: str = "€",
    *,
    symbol_after: bool = False,
    decimal_mark: str = ".",
    group_mark: str = "",
) -> str:
    """Write an amount of integer cents with its currency symbol, the minus sign first."""
    # bool is an int subclass; a True total is always a bug upstream
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, got {type(cents).__name__}")
    units, minor = divmod(abs(cents), 100)
    whole = f"{units:,}".replace(",", group_mark)
    number = f"{whole}{decimal_mark}{minor:02d}"
    sign = "-" if cents < 0 else ""
    if symbol_after:
        return f"{sign}{number} {symbol}" if symbol else f"{sign}{number}"
    return f"{sign}{symbol}{number}"


def _require_aware(value: dt.datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be a timezone-aware datetime")


def _require_cents(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be integer cents, got {type(value).__name__}")


@dataclass(frozen=True, kw_only=True)
class TicketLineDoc:
    """One item on a kitchen ticket: quantity as the kitchen reads it ("2", "1/4")."""

    quantity: str
    name: str
    seat: str | None = None
    modifiers: tuple[str, ...] = ()
    note: str | None = None
    voided: bool = False


@dataclass(frozen=True, kw_only=True)
class KitchenTicketDoc:
    """A ticket for one station: what to cook, for which table and when it was fired."""

    station: str
    table_label: str
    check_number: str
    server_name: str
    course_name: str
    fire_time: dt.datetime
    kind: TicketKind = "new"
    reprint: bool = False
    backup_from: str | None = None
    # minutes the ticket waited for a printer (out of paper, cover open): it prints marked LATE
    late_minutes: int | None = None
    # when the station should start it, if later than the fire (timed to finish with a slower station)
    start_at: dt.datetime | None = None
    lines: tuple[TicketLineDoc, ...] = ()
    # the guest's allergies, printed reversed so a cook cannot miss them
    allergies: str | None = None
    # a VOID ticket says who took the food off the check, who approved it and why; `fire_time` is when
    voided_by: str | None = None
    void_approved_by: str | None = None
    void_reason: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.fire_time, "fire_time")
        if self.kind not in ("new", "addition", "void", "rush"):
            raise ValueError(f"unknown ticket kind {self.kind!r}")


@dataclass(frozen=True, kw_only=True)
class CheckLineDoc:
    """One line of a guest check or receipt, its amount already computed."""

    quantity: str
    name: str
    amount_cents: int
    modifiers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, kw_only=True)
class AmountLineDoc:
    """A labelled amount: a discount, a comp, a service charge, a category total."""

    label: str
    amount_cents: int

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, kw_only=True)
class SeatSubtotalDoc:
    """What one seat ordered, before tax and discounts."""

    seat: str
    amount_cents: int

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, kw_only=True)
class TaxLineDoc:
    """Tax at one rate; `included` taxes are already inside the prices and not added.

    A tax `rounded_per_line` is the sum of its lines' rounded tax, so it is printed without a base it may not match.
    """

    label: str
    tax_cents: int
    base_cents: int | None = None
    included: bool = False
    rounded_per_line: bool = False

    def __post_init__(self) -> None:
        _require_cents(self.tax_cents, "tax_cents")
        if self.base_cents is not None:
            _require_cents(self.base_cents, "base_cents")


@dataclass(frozen=True, kw_only=True)
class PaymentDoc:
    """One tender on a receipt; cards show only brand, last four digits and auth code."""

    tender: str
    amount_cents: int
    tip_cents: int = 0
    card_brand: str | None = None
    card_last4: str | None = None
    auth_code: str | None = None

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")
        _require_cents(self.tip_cents, "tip_cents")
        # a full card number must never reach paper
        last4 = self.card_last4
        if last4 is not None and not (len(last4) == 4 and last4.isdigit()):
            raise ValueError("card_last4 must be exactly four digits")


@dataclass(frozen=True, kw_only=True)
class GuestCheckDoc:
    """The check printed for guests before they pay."""

    venue_name: str
    venue_lines: tuple[str, ...] = ()
    check_number: str
    table_label: str
    server_name: str
    opened_at: dt.datetime
    covers: int | None = None
    lines: tuple[CheckLineDoc, ...] = ()
    seat_subtotals: tuple[SeatSubtotalDoc, ...] = ()
    subtotal_cents: int
    adjustments: tuple[AmountLineDoc, ...] = ()
    service_charge: AmountLineDoc | None = None
    taxes: tuple[TaxLineDoc, ...] = ()
    total_cents: int
    footer_lines: tuple[str, ...] = ()
    money: MoneyFormat = MoneyFormat()
    reprint: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.opened_at, "opened_at")
        _require_cents(self.subtotal_cents, "subtotal_cents")
        _require_cents(self.total_cents, "total_cents")


@dataclass(frozen=True, kw_only=True)
class QrCodeDoc:
    """A code printed under the receipt for a phone or a scanner to read (a gift card's number), with its caption."""

    label: str
    data: str
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class ReceiptDoc:
    """The receipt for a paid check: the guest check plus payments and change."""

    venue_name: str
    venue_lines: tuple[str, ...] = ()
    check_number: str
    table_label: str
    server_name: str
    opened_at: dt.datetime
    closed_at: dt.datetime
    covers: int | None = None
    lines: tuple[CheckLineDoc, ...] = ()
    seat_subtotals: tuple[SeatSubtotalDoc, ...] = ()
    subtotal_cents: int
    adjustments: tuple[AmountLineDoc, ...] = ()
    service_charge: AmountLineDoc | None = None
    taxes: tuple[TaxLineDoc, ...] = ()
    total_cents: int
    payments: tuple[PaymentDoc, ...] = ()
    change_due_cents: int = 0
    footer_lines: tuple[str, ...] = ()
    qr_codes: tuple[QrCodeDoc, ...] = ()
    money: MoneyFormat = MoneyFormat()
    reprint: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.opened_at, "opened_at")
        _require_aware(self.closed_at, "closed_at")
        _require_cents(self.subtotal_cents, "subtotal_cents")
        _require_cents(self.total_cents, "total_cents")
        _require_cents(self.change_due_cents, "change_due_cents")


@dataclass(frozen=True, kw_only=True)
class TenderTotalDoc:
    """Takings for one tender over a business day."""

    tender: str
    count: int
    amount_cents: int

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, kw_only=True)
class CountedAmountDoc:
    """How many times something happened and what it came to (voids, comps, discounts)."""

    count: int
    amount_cents: int

    def __post_init__(self) -> None:
        _require_cents(self.amount_cents, "amount_cents")


@dataclass(frozen=True, kw_only=True)
class ZReportDoc:
    """The end-of-day report for a closed business day."""

    venue_name: str
    business_day: dt.date
    printed_at: dt.datetime
    categories: tuple[AmountLineDoc, ...] = ()
    net_sales_cents: int
    tenders: tuple[TenderTotalDoc, ...] = ()
    taxes: tuple[TaxLineDoc, ...] = ()
    voids: CountedAmountDoc
    comps: CountedAmountDoc
    discounts: CountedAmountDoc
    promotions: CountedAmountDoc | None = None
    tips_cents: int
    cash_over_short_cents: int
    money: MoneyFormat = MoneyFormat()

    def __post_init__(self) -> None:
        _require_aware(self.printed_at, "printed_at")
        _require_cents(self.net_sales_cents, "net_sales_cents")
        _require_cents(self.tips_cents, "tips_cents")
        _require_cents(self.cash_over_short_cents, "cash_over_short_cents")


PrintDocument = KitchenTicketDoc | GuestCheckDoc | ReceiptDoc | ZReportDoc
"""A document a print job can carry for the worker to lay out."""

_DOCUMENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == __name__
}


def document_to_json(doc: Any) -> dict[str, Any]:
    """A printer document as JSON-ready data that `document_from_json` turns back into the same document."""
    if not dataclasses.is_dataclass(doc) or isinstance(doc, type):
        raise TypeError(f"not a printer document: {doc!r}")
    return {"type": type(doc).__name__, "fields": _encode(doc)}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    return value


def document_from_json(data: dict[str, Any]) -> Any:
    """The printer document stored by `document_to_json`."""
    cls = _DOCUMENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown printer document type {data.get('type')!r}")
    return _decode(cls, data["fields"])


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _decode(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        (item_hint, *_rest) = typing.get_args(hint)
        return tuple(_decode(item_hint, item) for item in value)
    if origin is typing.Literal:
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(
            **{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(hint) if f.name in value}
        )
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    return value
