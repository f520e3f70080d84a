"""Waste the stockroom records: spoiled, dropped or expired stock out at its average cost, with a reason."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.levels import checked_quantity, live_item, live_location
from app.inventory.models import MoveKind, OperationKind, StockMove
from app.inventory.operations import NOTE_MAX, Change, Plan, apply_operation, existing_moves, owe_ledger
from app.lib.inputs import clean_text


async def record_waste(
    session: AsyncSession,
    *,
    stock_item_id: int,
    location_id: int,
    quantity_milli: int,
    reason: str,
    actor_id: int | None = None,
    source_key: str | None = None,
) -> list[StockMove]:
    """Take spoiled, dropped or expired stock out at its average cost, with a reason; the ledger is owed its cost."""
    note = clean_text(reason, label="Reason", max_length=NOTE_MAX)
    quantity = checked_quantity(quantity_milli, label="Quantity")
    existing = await existing_moves(session, source_key, OperationKind.WASTE)
    if existing is not None:
        return existing
    await live_item(session, stock_item_id)
    await live_location(session, location_id)
    plan = Plan(kind=OperationKind.WASTE, source_key=source_key, note=note, actor_id=actor_id)
    plan.changes.append(Change(stock_item_id, location_id, MoveKind.WASTE, -quantity))
    return await owe_ledger(session, await apply_operation(session, plan))
