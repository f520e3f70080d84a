"""What sold lines used, by recipe: taken out for a sale, booked as waste for a void, put back for a refund."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.levels import live_location
from app.inventory.models import MoveKind, OperationKind, RecipeComponent, StockMove
from app.inventory.operations import KEY_MAX, LINES_MAX, NOTE_MAX, Change, Plan, apply_operation, existing_moves
from app.lib.errors import InvalidInput
from app.lib.inputs import clean_text


class SaleLine(NamedTuple):
    """What a sold (or voided, or refunded) line used: its item, modifiers, quantity and stock location."""

    menu_item_id: int
    modifier_ids: Sequence[int]
    quantity: Fraction
    location_id: int


def _sale_lines(lines: Sequence[SaleLine | tuple[Any, ...]]) -> list[SaleLine]:
    if isinstance(lines, str | bytes) or not isinstance(lines, Sequence):
        raise InvalidInput("Lines must be a list.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines at a time.")
    checked: list[SaleLine] = []
    for position, raw in enumerate(lines, start=1):
        try:
            line = SaleLine(*raw)
        except TypeError:
            raise InvalidInput(f"Line {position} must be (menu item, modifiers, quantity, location).") from None
        if not isinstance(line.quantity, Fraction | int) or isinstance(line.quantity, bool):
            raise InvalidInput(f"Line {position}: the quantity must be a Fraction, not {type(line.quantity).__name__}.")
        if line.quantity <= 0:
            raise InvalidInput(f"Line {position}: the quantity must be more than zero.")
        checked.append(SaleLine(line.menu_item_id, tuple(line.modifier_ids), Fraction(line.quantity), line.location_id))
    return checked


async def _recipe_usage(session: AsyncSession, lines: list[SaleLine]) -> dict[tuple[int, int], int]:
    """Thousandths of each stock item per location that the lines used, by their recipes."""
    item_ids = {line.menu_item_id for line in lines}
    modifier_ids = {m for line in lines for m in line.modifier_ids}
    components = (
        await session.exec(
            select(RecipeComponent).where(
                col(RecipeComponent.menu_item_id).in_(item_ids) | col(RecipeComponent.modifier_id).in_(modifier_ids)
            )
        )
    ).all()
    by_item: dict[int, list[RecipeComponent]] = defaultdict(list)
    by_modifier: dict[int, list[RecipeComponent]] = defaultdict(list)
    for component in components:
        if component.menu_item_id is not None:
            by_item[component.menu_item_id].append(component)
        elif component.modifier_id is not None:
            by_modifier[component.modifier_id].append(component)
    locations = {line.location_id for line in lines}
    for location_id in locations:
        await live_location(session, location_id)
    usage: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        parts = [*by_item.get(line.menu_item_id, [])]
        for modifier_id in line.modifier_ids:
            parts += by_modifier.get(modifier_id, [])
        # Net per stock item within the line, so 'no onion' cancels the dish's onion and never goes below zero.
        per_line = calculations.combine(
            (c.stock_item_id, calculations.scale_recipe(c.quantity_milli, line.quantity)) for c in parts
        )
        for stock_item_id, milli in per_line.items():
            usage[(stock_item_id, line.location_id)] += milli
    return dict(usage)


async def deplete_for_sale(
    session: AsyncSession,
    *,
    source_key: str,
    lines: Sequence[SaleLine | tuple[Any, ...]],
    actor_id: int | None = None,
) -> list[StockMove]:
    """Take what sold lines used out of stock, by recipe, exactly once per `source_key` (a closed check).

    Stock may go below zero: a sale is never refused for want of a count. Items without a recipe
    move nothing; the operation is still recorded so the key is spent.
    """
    return await _by_recipe(session, source_key, lines, OperationKind.SALE, MoveKind.SALE, None, actor_id)


async def waste_for_void(
    session: AsyncSession,
    *,
    source_key: str,
    lines: Sequence[SaleLine | tuple[Any, ...]],
    reason: str,
    actor_id: int | None = None,
) -> list[StockMove]:
    """Book what voided-after-fire lines used as waste, by recipe, once per `source_key`."""
    note = clean_text(reason, label="Reason", max_length=NOTE_MAX)
    return await _by_recipe(session, source_key, lines, OperationKind.WASTE, MoveKind.WASTE, note, actor_id)


async def _by_recipe(
    session: AsyncSession,
    source_key: str,
    lines: Sequence[SaleLine | tuple[Any, ...]],
    kind: OperationKind,
    move_kind: MoveKind,
    note: str | None,
    actor_id: int | None,
) -> list[StockMove]:
    key = clean_text(source_key, label="Source key", max_length=KEY_MAX)
    existing = await existing_moves(session, key, kind)
    if existing is not None:
        return existing
    usage = await _recipe_usage(session, _sale_lines(lines))
    plan = Plan(kind=kind, source_key=key, note=note, actor_id=actor_id)
    for (stock_item_id, location_id), milli in sorted(usage.items()):
        plan.changes.append(Change(stock_item_id, location_id, move_kind, -milli))
    return await apply_operation(session, plan)


async def return_for_refund(
    session: AsyncSession,
    *,
    source_key: str,
    lines: Sequence[SaleLine | tuple[Any, ...]],
    resaleable: bool,
    sale_source_key: str | None = None,
    actor_id: int | None = None,
) -> list[StockMove]:
    """Put refunded lines' ingredients back in stock, only when they can be sold again.

    Not resaleable (the dish was eaten, the bottle opened): nothing moves and nothing is recorded.
    With `sale_source_key`, items come back at the unit cost the sale took them out at, so the
    cost of sales is reversed exactly; otherwise at today's average.
    """
    key = clean_text(source_key, label="Source key", max_length=KEY_MAX)
    checked = _sale_lines(lines)
    if not resaleable:
        return []
    existing = await existing_moves(session, key, OperationKind.REFUND)
    if existing is not None:
        return existing
    usage = await _recipe_usage(session, checked)
    sale_costs: dict[int, int] = {}
    if sale_source_key:
        sale = await existing_moves(session, sale_source_key, OperationKind.SALE) or []
        sale_costs = {move.stock_item_id: move.unit_cost_millicents for move in sale}
    plan = Plan(kind=OperationKind.REFUND, source_key=key, actor_id=actor_id, note="resaleable")
    for (stock_item_id, location_id), milli in sorted(usage.items()):
        plan.changes.append(
            Change(stock_item_id, location_id, MoveKind.REFUND_RETURN, milli, sale_costs.get(stock_item_id))
        )
    return await apply_operation(session, plan)
