"""Stock counts: what was counted against what the books say, posted as variance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.levels import checked_quantity, level_for, live_item, live_location
from app.inventory.models import MoveKind, OperationKind, StockMove
from app.inventory.operations import NOTE_MAX, Change, Plan, apply_operation, existing_moves, owe_ledger
from app.lib.errors import InvalidInput
from app.lib.inputs import clean_text


class CountLine(NamedTuple):
    """How much of one item a count found at a location."""

    stock_item_id: int
    counted_milli: int


async def record_count(
    session: AsyncSession,
    *,
    location_id: int,
    counts: Sequence[CountLine | tuple[int, int]],
    actor_id: int | None = None,
    note: str = "",
    source_key: str | None = None,
) -> list[StockMove]:
    """Post the difference between what was counted and what the books say, as variance moves owed to the ledger."""
    note = clean_text(note, label="Note", max_length=NOTE_MAX, required=False)
    existing = await existing_moves(session, source_key, OperationKind.COUNT)
    if existing is not None:
        return existing
    await live_location(session, location_id)
    if not counts:
        raise InvalidInput("Enter at least one counted quantity.")
    plan = Plan(kind=OperationKind.COUNT, source_key=source_key, note=note or None, actor_id=actor_id)
    seen: set[int] = set()
    for position, raw in enumerate(counts, start=1):
        line = CountLine(*raw)
        counted = checked_quantity(line.counted_milli, label=f"Line {position} count", allow_zero=True)
        if line.stock_item_id in seen:
            raise InvalidInput(f"Line {position}: that item was already counted on this sheet.")
        seen.add(line.stock_item_id)
        await live_item(session, line.stock_item_id)
        level = await level_for(session, line.stock_item_id, location_id)
        variance = counted - level.on_hand_milli
        if variance:
            plan.changes.append(Change(line.stock_item_id, location_id, MoveKind.COUNT_VARIANCE, variance))
    return await owe_ledger(session, await apply_operation(session, plan))
