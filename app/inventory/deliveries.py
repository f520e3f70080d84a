"""Receiving a delivery: stock in at its invoice cost, moving each item's average cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.levels import checked_quantity, item_totals, live_item, live_location
from app.inventory.models import MoveKind, OperationKind, StockMove
from app.inventory.operations import LINES_MAX, Change, Plan, apply_operation, existing_moves, owe_ledger
from app.lib.errors import InvalidInput
from app.lib.inputs import clean_text

SUPPLIER_MAX: Final = 80
REFERENCE_MAX: Final = 80


class ReceiptLine(NamedTuple):
    """A delivered quantity of one item and what the invoice charges for it in total."""

    stock_item_id: int
    quantity_milli: int
    cost_cents: int


async def receive_delivery(
    session: AsyncSession,
    *,
    location_id: int,
    lines: Sequence[ReceiptLine | tuple[int, int, int]],
    supplier: str = "",
    reference: str = "",
    actor_id: int | None = None,
    source_key: str | None = None,
    to_ledger: bool = True,
) -> list[StockMove]:
    """Book a delivery into a location at its invoice cost, moving each item's average cost.

    The ledger is owed the delivery (inventory against accounts payable) unless `to_ledger` is off:
    opening stock, whose value the opening balances already carry.
    """
    supplier = clean_text(supplier, label="Supplier", max_length=SUPPLIER_MAX, required=False)
    reference = clean_text(reference, label="Delivery note", max_length=REFERENCE_MAX, required=False)
    existing = await existing_moves(session, source_key, OperationKind.RECEIPT)
    if existing is not None:
        return existing
    await live_location(session, location_id)
    if not lines:
        raise InvalidInput("A delivery needs at least one line with an item and a quantity.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines at a time.")
    plan = Plan(
        kind=OperationKind.RECEIPT,
        source_key=source_key,
        supplier=supplier or None,
        reference=reference or None,
        actor_id=actor_id,
    )
    seen: set[int] = set()
    for position, raw in enumerate(lines, start=1):
        line = ReceiptLine(*raw)
        quantity = checked_quantity(line.quantity_milli, label=f"Line {position} quantity")
        if isinstance(line.cost_cents, bool) or not isinstance(line.cost_cents, int) or line.cost_cents < 0:
            raise InvalidInput(f"Line {position}: the cost must be zero or more, in whole cents.")
        if line.stock_item_id in seen:
            raise InvalidInput(f"Line {position}: that item is already on this delivery; add the quantities up.")
        seen.add(line.stock_item_id)
        item = await live_item(session, line.stock_item_id)
        on_hand, worth = await item_totals(session, line.stock_item_id)
        item.unit_cost_millicents = calculations.moving_average(on_hand, worth, quantity, line.cost_cents)
        session.add(item)
        plan.changes.append(
            Change(
                line.stock_item_id,
                location_id,
                MoveKind.RECEIPT,
                quantity,
                calculations.unit_cost_of(line.cost_cents, quantity),
                line.cost_cents,
            )
        )
    moves = await apply_operation(session, plan)
    return await owe_ledger(session, moves) if to_ledger else moves
