"""Recipes: how much of each stock item one unit of a menu item, or a modifier, uses."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations, portions
from app.inventory.levels import locked_item
from app.inventory.models import RecipeComponent
from app.lib import audit
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.menu.models import MenuItem, Modifier


async def set_recipe_component(
    session: AsyncSession,
    *,
    stock_item_id: int,
    quantity_milli: int,
    menu_item_id: int | None = None,
    modifier_id: int | None = None,
    actor_id: int | None = None,
) -> RecipeComponent | None:
    """Say how much of a stock item one unit of a menu item (or a modifier) uses; 0 takes it out."""
    if (menu_item_id is None) == (modifier_id is None):
        raise InvalidInput("A recipe line belongs to a menu item or to a modifier.")
    if isinstance(quantity_milli, bool) or not isinstance(quantity_milli, int):
        raise InvalidInput("Quantity must be a whole number of thousandths.")
    if abs(quantity_milli) > calculations.QUANTITY_MAX_MILLI:
        raise InvalidInput("That quantity is beyond any real recipe.")
    if menu_item_id is not None:
        owner = await session.get(MenuItem, menu_item_id)
        if owner is None:
            raise NotFound("No such menu item.")
        if quantity_milli < 0:
            raise InvalidInput("A dish uses a positive quantity; only a modifier can take something out.")
        subject = f"menu_item:{menu_item_id}"
    else:
        modifier = await session.get(Modifier, modifier_id)
        if modifier is None:
            raise NotFound("No such modifier.")
        subject = f"modifier:{modifier_id}"
    item = await locked_item(session, stock_item_id)
    existing = (
        await session.exec(
            select(RecipeComponent).where(
                RecipeComponent.menu_item_id == menu_item_id,
                RecipeComponent.modifier_id == modifier_id,
                RecipeComponent.stock_item_id == stock_item_id,
            )
        )
    ).first()
    before = existing.quantity_milli if existing is not None else None
    result: RecipeComponent | None
    if quantity_milli == 0:
        if existing is not None:
            await session.delete(existing)
        result = None
    else:
        if item.archived_at is not None:
            raise Conflict(f"{item.name} is archived; restore it or pick another item.")
        result = existing or RecipeComponent(
            menu_item_id=menu_item_id, modifier_id=modifier_id, stock_item_id=stock_item_id, quantity_milli=0
        )
        result.quantity_milli = quantity_milli
        session.add(result)
    await session.flush()
    await audit.record(
        session,
        "inventory.recipe.set",
        actor_id=actor_id,
        subject=subject,
        before={"stock_item_id": stock_item_id, "quantity_milli": before},
        after={"stock_item_id": stock_item_id, "quantity_milli": quantity_milli or None},
    )
    dishes = {menu_item_id} if menu_item_id is not None else set()
    await portions.refresh(session, stock_item_ids={stock_item_id}, menu_item_ids=dishes)
    return result
