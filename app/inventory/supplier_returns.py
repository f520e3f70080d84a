"""Goods going back to a supplier: stock out at its average cost, once per source key.

Built on `operations.apply_operation`, so a return moves stock, levels, average value,
outages and portions left exactly as every other operation does. The ledger entry (accounts payable
against inventory) is the purchasing posting's to make, not the stockroom's: no outbox row here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.levels import checked_quantity, level_for, live_item, live_location
from app.inventory.models import MoveKind, OperationKind, StockMove
from app.inventory.operations import KEY_MAX, LINES_MAX, Change, Plan, apply_operation, existing_moves
from app.lib.errors import Conflict, InvalidInput
from app.lib.inputs import clean_text


class ReturnLine(NamedTuple):
    """A quantity of one item sent back to the supplier."""

    stock_item_id: int
    quantity_milli: int


async def return_to_supplier(
    session: AsyncSession,
    *,
    location_id: int,
    lines: Sequence[ReturnLine | tuple[int, int]],
    supplier: str,
    reference: str = "",
    source_key: str,
    actor_id: int | None = None,
) -> list[StockMove]:
    """Take goods out of a location back to their supplier; refused for more than the location holds."""
    key = clean_text(source_key, label="Source key", max_length=KEY_MAX)
    supplier = clean_text(supplier, label="Supplier", max_length=80)
    reference = clean_text(reference, label="Credit note", max_length=80, required=False)
    existing = await existing_moves(session, key, OperationKind.SUPPLIER_RETURN)
    if existing is not None:
        return existing
    location = await live_location(session, location_id)
    if not lines:
        raise InvalidInput("A return needs at least one line with an item and a quantity.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines at a time.")
    plan = Plan(
        kind=OperationKind.SUPPLIER_RETURN,
        source_key=key,
        supplier=supplier,
        reference=reference or None,
        actor_id=actor_id,
    )
    seen: set[int] = set()
    for position, raw in enumerate(lines, start=1):
        line = ReturnLine(*raw)
        quantity = checked_quantity(line.quantity_milli, label=f"Line {position} quantity")
        if line.stock_item_id in seen:
            raise InvalidInput(f"Line {position}: that item is already on this return; add the quantities up.")
        seen.add(line.stock_item_id)
        item = await live_item(session, line.stock_item_id)
        level = await level_for(session, line.stock_item_id, location_id)
        if level.on_hand_milli < quantity:
            raise Conflict(
                f"{location.name} has {calculations.format_quantity(level.on_hand_milli)} {item.unit.label} of "
                f"{item.name}; it cannot send back {calculations.format_quantity(quantity)}."
            )
        plan.changes.append(Change(line.stock_item_id, location_id, MoveKind.SUPPLIER_RETURN, -quantity))
    return await apply_operation(session, plan)
