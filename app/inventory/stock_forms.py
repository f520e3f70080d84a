"""The stockroom pages' forms, typed: Litestar decodes each one before its handler runs, and a missing or
malformed field (an id, a quantity, a row of a delivery or a count sheet) is refused here, by its label, as
every typed form is (app/lib/forms.py). The services still check what only the stockroom knows (an archived
item, more than a location holds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from msgspec import Meta

from app.inventory import calculations, form_fields
from app.inventory.counts import CountLine
from app.inventory.deliveries import REFERENCE_MAX, SUPPLIER_MAX, ReceiptLine
from app.inventory.items import LOCATION_NAME_MAX, NAME_MAX
from app.inventory.models import StockUnit
from app.inventory.operations import NOTE_MAX
from app.lib import forms
from app.lib.errors import InvalidInput
from app.lib.idempotency import check_key

T = TypeVar("T")
Item = Annotated[int, Meta(title="Item", ge=1)]
Location = Annotated[int, Meta(title="Location", ge=1)]
Quantity = Annotated[str, Meta(title="Quantity")]
Note = Annotated[str, Meta(title="Note"), forms.Text(max_length=NOTE_MAX, required=False)]


def _read(reader: Callable[[], T]) -> T:
    """What `reader` reads; its refusal raised where msgspec makes it the form's refusal (the same words)."""
    try:
        return reader()
    except InvalidInput as refused:
        raise ValueError(refused.message) from None


class KeyedForm(forms.Form, kw_only=True):
    """A form that moves stock: booked once per idempotency key, however often it is sent."""

    idempotency_key: str = ""

    def check(self) -> None:
        _read(lambda: check_key(self.idempotency_key))

    def source_key(self, scope: str) -> str:
        """The key this form's booking is made under once: its scope and the form's idempotency key."""
        return f"form:{scope}:{self.idempotency_key}"


class ParForm(forms.Form, kw_only=True):
    """An item's par level at a location; blank clears it."""

    stock_item_id: Item
    location_id: Location
    par: Annotated[str, Meta(title="Par level")] = ""

    def check(self) -> None:
        _read(lambda: self.par_milli)

    @property
    def par_milli(self) -> int | None:
        """The par level in thousandths, or None to clear it."""
        return form_fields.quantity(self.par, label="Par level", allow_zero=True) if self.par else None


class CountedForm(forms.Form, kw_only=True):
    """Whether an item is watched for auto-86 (a ticked box sends "on")."""

    counted: str = ""

    @property
    def watched(self) -> bool:
        return self.counted == "on"


class StockItemForm(CountedForm, kw_only=True):
    """A new stock item: its name, the unit it is counted in, and whether it is watched for auto-86."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=NAME_MAX)]
    unit: Annotated[StockUnit, Meta(title="Unit")]

    def fields(self) -> StockItemForm:
        return self


class LocationForm(forms.Form, kw_only=True):
    """A new stock location."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=LOCATION_NAME_MAX)]


class ReceiveForm(KeyedForm, kw_only=True):
    """A delivery: where it went, from whom, and a table of rows (item, quantity, invoice cost); blank rows are
    left out."""

    location_id: Annotated[int, Meta(title="Where it was delivered", ge=1)]
    supplier: Annotated[str, Meta(title="Supplier"), forms.Text(max_length=SUPPLIER_MAX, required=False)] = ""
    reference: Annotated[str, Meta(title="Delivery note"), forms.Text(max_length=REFERENCE_MAX, required=False)] = ""
    stock_item_id: Annotated[list[str], Meta(title="Item"), forms.Column()] = []
    quantity: Annotated[list[str], Meta(title="Quantity"), forms.Column()] = []
    cost: Annotated[list[str], Meta(title="Cost"), forms.Column()] = []

    def check(self) -> None:
        super().check()
        _read(self._rows)

    def _rows(self) -> list[tuple[int, int, int, str]]:
        """(line number, item id, quantity, cost as typed) for each row that is not blank."""
        columns = (self.stock_item_id, self.quantity, self.cost)
        if len({len(column) for column in columns}) > 1:
            raise InvalidInput("The delivery's rows do not line up; reload the page.")
        rows = []
        for position, (item, quantity, cost) in enumerate(zip(*columns, strict=True), start=1):
            if not item.strip() and not quantity.strip() and not cost.strip():
                continue
            if not item.strip().isdigit():
                raise InvalidInput(f"Line {position}: choose an item.")
            rows.append((position, int(item), form_fields.quantity(quantity, label=f"Line {position} quantity"), cost))
        return rows

    def lines(self, currency: str) -> list[ReceiptLine]:
        """The delivery's lines, each cost read in the venue's currency (refused by its line number)."""
        return [
            ReceiptLine(item, quantity, form_fields.cents(cost, label=f"Line {position} cost", currency=currency))
            for position, item, quantity, cost in self._rows()
        ]


class CountForm(KeyedForm, kw_only=True):
    """A count sheet: a box per item (its id in a hidden column beside it); blank boxes were not counted."""

    location_id: Location
    note: Note = ""
    stock_item_id: Annotated[list[int], Meta(title="Item"), forms.Column()] = []
    count: Annotated[list[str], Meta(title="Count"), forms.Column()] = []

    def check(self) -> None:
        super().check()
        if len(self.stock_item_id) != len(self.count):
            raise ValueError("The count sheet's rows do not line up; reload the page.")
        _read(lambda: self.counts)

    @property
    def counts(self) -> list[CountLine]:
        """What was counted, item by item."""
        return [
            CountLine(item_id, form_fields.quantity(raw, label="Count", allow_zero=True))
            for item_id, raw in zip(self.stock_item_id, self.count, strict=True)
            if raw.strip()
        ]


class WasteForm(KeyedForm, kw_only=True):
    """Stock spoiled, dropped or expired: which, where, how much and why."""

    stock_item_id: Item
    location_id: Location
    quantity: Quantity
    reason: Annotated[str, Meta(title="Reason"), forms.Text(max_length=NOTE_MAX)]

    def check(self) -> None:
        super().check()
        _read(lambda: self.quantity_milli)

    @property
    def quantity_milli(self) -> int:
        return form_fields.quantity(self.quantity, label="Quantity")


class TransferForm(KeyedForm, kw_only=True):
    """Stock sent from one location to another."""

    stock_item_id: Item
    from_location_id: Annotated[int, Meta(title="From", ge=1)]
    to_location_id: Annotated[int, Meta(title="To", ge=1)]
    quantity: Quantity
    note: Note = ""

    def check(self) -> None:
        super().check()
        _read(lambda: self.quantity_milli)

    @property
    def quantity_milli(self) -> int:
        return form_fields.quantity(self.quantity, label="Quantity")


class RecipeForm(forms.Form, kw_only=True):
    """One recipe line: the dish or modifier ("item:12", "modifier:3"), the stock item, and how much one uses
    (a modifier may take some out, as a negative quantity; 0 removes the line)."""

    owner: Annotated[str, Meta(title="Dish or modifier"), forms.Text(max_length=40)]
    stock_item_id: Annotated[int, Meta(title="Stock item", ge=1)]
    quantity: Quantity

    def check(self) -> None:
        kind, _, raw_id = self.owner.partition(":")
        if kind not in ("item", "modifier") or not raw_id.isdigit():
            raise ValueError("Choose a dish or a modifier.")
        _read(lambda: self.quantity_milli)

    @property
    def menu_item_id(self) -> int | None:
        kind, _, raw_id = self.owner.partition(":")
        return int(raw_id) if kind == "item" else None

    @property
    def modifier_id(self) -> int | None:
        kind, _, raw_id = self.owner.partition(":")
        return int(raw_id) if kind == "modifier" else None

    @property
    def quantity_milli(self) -> int:
        try:
            return calculations.parse_quantity(
                self.quantity, allow_zero=True, allow_negative=self.modifier_id is not None
            )
        except calculations.QuantityError as exc:
            raise InvalidInput(f"Quantity: {exc}") from None
