"""86 and back: dishes whose counted ingredient ran out are 86'd, and un-86'd once all of them are back."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.levels import total_on_hand
from app.inventory.models import RecipeComponent, StockItem, StockOutage
from app.menu import availability
from app.menu.models import MenuItem


async def follow_outages(session: AsyncSession, stock_item_ids: set[int]) -> None:
    """86 dishes whose counted ingredient ran out; un-86 the ones stock 86'd once all are back."""
    if not stock_item_ids:
        return
    counted = (
        await session.exec(
            select(StockItem).where(col(StockItem.id).in_(stock_item_ids), col(StockItem.counted).is_(True))
        )
    ).all()
    for item in counted:
        on_hand = await total_on_hand(session, item.id or 0)
        dishes = (
            await session.exec(
                select(MenuItem)
                .join(RecipeComponent, col(RecipeComponent.menu_item_id) == col(MenuItem.id))
                .where(
                    RecipeComponent.stock_item_id == item.id,
                    col(RecipeComponent.quantity_milli) > 0,
                    col(MenuItem.archived_at).is_(None),
                )
                .order_by(col(MenuItem.id))
            )
        ).all()
        if on_hand <= 0:
            for dish in dishes:
                if dish.eighty_sixed_at is not None:
                    continue  # 86'd by a person: leave it to them
                await availability.eighty_six(session, dish.id or 0, f"Out of {item.name} (stock count)", None)
                session.add(StockOutage(menu_item_id=dish.id or 0, stock_item_id=item.id or 0))
            await session.flush()
            continue
        for dish in dishes:
            outage = (await session.exec(select(StockOutage).where(StockOutage.menu_item_id == dish.id))).first()
            if outage is None or await _still_short(session, dish.id or 0):
                continue
            await session.delete(outage)
            await session.flush()
            await availability.un_eighty_six(session, dish.id or 0, f"{item.name} back in stock", None)


async def _still_short(session: AsyncSession, menu_item_id: int) -> bool:
    """Whether any counted ingredient of the dish is still out."""
    ingredients = (
        await session.exec(
            select(StockItem)
            .join(RecipeComponent, col(RecipeComponent.stock_item_id) == col(StockItem.id))
            .where(
                RecipeComponent.menu_item_id == menu_item_id,
                col(RecipeComponent.quantity_milli) > 0,
                col(StockItem.counted).is_(True),
            )
        )
    ).all()
    for ingredient in ingredients:
        if await total_on_hand(session, ingredient.id or 0) <= 0:
            return True
    return False
