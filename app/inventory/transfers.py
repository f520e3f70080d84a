"""Transfers: stock moved between two locations at its average cost."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.levels import checked_quantity, level_for, live_item, live_location
from app.inventory.models import MoveKind, OperationKind, StockMove
from app.inventory.operations import NOTE_MAX, Change, Plan, apply_operation, existing_moves
from app.lib.errors import Conflict, InvalidInput
from app.lib.inputs import clean_text


async def transfer_stock(
    session: AsyncSession,
    *,
    stock_item_id: int,
    from_location_id: int,
    to_location_id: int,
    quantity_milli: int,
    actor_id: int | None = None,
    note: str = "",
    source_key: str | None = None,
) -> list[StockMove]:
    """Move stock between two locations at its average cost (the total value does not change)."""
    note = clean_text(note, label="Note", max_length=NOTE_MAX, required=False)
    quantity = checked_quantity(quantity_milli, label="Quantity")
    existing = await existing_moves(session, source_key, OperationKind.TRANSFER)
    if existing is not None:
        return existing
    if from_location_id == to_location_id:
        raise InvalidInput("Choose two different locations.")
    item = await live_item(session, stock_item_id)
    source = await live_location(session, from_location_id)
    await live_location(session, to_location_id)
    level = await level_for(session, stock_item_id, from_location_id)
    if level.on_hand_milli < quantity:
        raise Conflict(
            f"{source.name} has {calculations.format_quantity(level.on_hand_milli)} {item.unit.label} of "
            f"{item.name}; it cannot send {calculations.format_quantity(quantity)}."
        )
    value = calculations.value_cents(quantity, item.unit_cost_millicents)
    plan = Plan(kind=OperationKind.TRANSFER, source_key=source_key, note=note or None, actor_id=actor_id)
    plan.changes.append(
        Change(stock_item_id, from_location_id, MoveKind.TRANSFER_OUT, -quantity, item.unit_cost_millicents, -value)
    )
    plan.changes.append(
        Change(stock_item_id, to_location_id, MoveKind.TRANSFER_IN, quantity, item.unit_cost_millicents, value)
    )
    return await apply_operation(session, plan)
