"""Portions left: how many more of a dish its counted stock allows, kept on the menu item for order entry.

A dish made with counted stock items shows on every tablet how many more can be ordered: for each counted
ingredient, what is on hand less what checks have rung in and the stockroom has not yet taken out (open
checks, and closed ones until their sale is depleted), in whole portions of the dish's recipe; the fewest of
them is the figure. Lines count with their modifiers' recipes, as depletion takes them out.

A line voided after the kitchen had it still holds its stock while voids after fire are booked as waste (the
default), since the food was made; a line taken off before it was sent gives its portions back at once.

Order entry reads `MenuItem.portions_left` with the item it already loads, so a dish without counted stock
costs nothing more to ring in. Orders tells (`PortionsTaken`, `PortionsReturned`) in the ringing transaction;
here the counted stock rows are locked, the figure is worked out again from the rows, and a line that takes
more than is left is refused, so two tablets can never both sell the last portion. Every stock operation
refreshes the dishes made with what it moved; a changed figure reaches the tablets with the menu item's row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from fractions import Fraction

from sqlalchemy import String, and_, cast, exists, func, literal, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.models import OperationKind, RecipeComponent, StockItem, StockLevel, StockOperation
from app.lib.clock import utcnow
from app.lib.errors import Conflict
from app.lib.events import EventBus
from app.lib.settings import Settings
from app.lib.sql import is_postgres
from app.menu.models import MenuItem, Modifier
from app.orders.models import Check, CheckLine, CheckStatus, LineModifier, LineState
from app.orders.services import PortionsReturned, PortionsTaken

DEPLETION_WINDOW = timedelta(days=2)
"""How long after its closing a check's lines may still wait to be taken out of stock."""
SALE_KEY_PREFIX = "sale:check:"
"""How the posting layer keys a closed check's depletion ("sale:check:<id>:<closing>")."""
WASTE_KEY_PREFIX = "void-waste:"
"""How the posting layer keys the waste of a line voided after the kitchen had it ("void-waste:<line id>")."""


def wire(bus: EventBus) -> None:
    """Follow order entry in its own transaction: refuse what is not left, refresh the figures."""
    bus.subscribe(PortionsTaken, take)
    bus.subscribe(PortionsReturned, give_back)


async def take(session: AsyncSession, event: PortionsTaken) -> None:
    """A line took `event.quantity` more of a dish: refused when its counted stock cannot make them."""
    chosen = (
        await session.exec(
            select(LineModifier.modifier_id, LineModifier.name).where(LineModifier.line_id == event.line_id)
        )
    ).all()
    names = dict(chosen)
    parts = await _counted_parts(session, event.menu_item_id, list(names))
    usage = calculations.combine((stock_id, milli) for _owner, stock_id, milli in parts)
    available = await refresh(session, stock_item_ids=set(usage), menu_item_ids={event.menu_item_id})
    short = {stock_id for stock_id in usage if available.get(stock_id, 0) < 0}
    if not short:
        return
    before = {stock_id: available.get(stock_id, 0) + milli * event.quantity for stock_id, milli in usage.items()}
    left = calculations.portions_left(before, usage) or 0
    # Name the choices that use what ran short, so "Only 2 Burger with Bacon left" says why.
    extras = sorted({names[owner] for owner, stock_id, _ in parts if owner is not None and stock_id in short})
    dish = event.item_name + (f" with {', '.join(extras)}" if extras else "")
    refusal = f"Only {left} {dish} left." if left > 0 else f"No {dish} left."
    raise Conflict(f"{refusal} Nothing was added.")


async def give_back(session: AsyncSession, event: PortionsReturned) -> None:
    """Lines were voided or made smaller: the dishes' figures go up again."""
    await refresh(session, menu_item_ids=set(event.menu_item_ids))


async def _counted_parts(
    session: AsyncSession, menu_item_id: int, modifier_ids: list[int]
) -> list[tuple[int | None, int, int]]:
    """(modifier or None for the dish, counted stock item, thousandths per unit) of a dish with these modifiers."""
    owner = col(RecipeComponent.menu_item_id) == menu_item_id
    if modifier_ids:
        owner = or_(owner, col(RecipeComponent.modifier_id).in_(modifier_ids))
    rows = (
        await session.exec(
            select(RecipeComponent.modifier_id, RecipeComponent.stock_item_id, RecipeComponent.quantity_milli)
            .join(StockItem, col(StockItem.id) == col(RecipeComponent.stock_item_id))
            .where(owner, col(StockItem.counted).is_(True))
        )
    ).all()
    return [(modifier_id, stock_id, milli) for modifier_id, stock_id, milli in rows]


async def refresh(
    session: AsyncSession, *, stock_item_ids: Iterable[int] = (), menu_item_ids: Iterable[int] = ()
) -> dict[int, int]:
    """Work the figure out again for the given dishes and every dish made with the given stock items.

    The counted stock items involved are locked first (PostgreSQL; SQLite writes one at a time), so what is
    read is what the next writer will see. Returns each involved counted stock item's free thousandths.
    """
    stock_ids = set(stock_item_ids)
    dish_ids = set(menu_item_ids)
    if stock_ids:
        dish_ids |= set(
            (
                await session.exec(
                    select(RecipeComponent.menu_item_id).where(
                        col(RecipeComponent.stock_item_id).in_(stock_ids), col(RecipeComponent.menu_item_id).isnot(None)
                    )
                )
            ).all()
        ) - {None}  # type: ignore[arg-type]
    recipes: dict[int, dict[int, int]] = defaultdict(dict)
    if dish_ids:
        for dish_id, stock_id, milli in (
            await session.exec(
                select(RecipeComponent.menu_item_id, RecipeComponent.stock_item_id, RecipeComponent.quantity_milli)
                .join(StockItem, col(StockItem.id) == col(RecipeComponent.stock_item_id))
                .where(col(RecipeComponent.menu_item_id).in_(dish_ids), col(StockItem.counted).is_(True))
            )
        ).all():
            if dish_id is not None and milli > 0:
                recipes[dish_id][stock_id] = milli
    counted = set(await _counted(session, stock_ids)) | {s for parts in recipes.values() for s in parts}
    if stock_ids:
        await _mark_modifiers(session, stock_ids)
    available = await free_stock(session, counted)
    if dish_ids:
        dishes = (await session.exec(select(MenuItem).where(col(MenuItem.id).in_(dish_ids)))).all()
        for dish in dishes:
            figure = calculations.portions_left(available, recipes.get(dish.id or 0, {}))
            if dish.portions_left != figure:
                dish.portions_left = figure
                session.add(dish)
        await session.flush()
    return available


async def moved(session: AsyncSession, stock_item_ids: set[int]) -> None:
    """Stock of these items moved: the dishes made with the counted ones among them are worked out again."""
    counted = await _counted(session, stock_item_ids)
    if counted:
        await refresh(session, stock_item_ids=set(counted))


async def refresh_all(session: AsyncSession) -> None:
    """Work every counted dish's figure out afresh (after an upgrade, or whenever in doubt)."""
    counted = (await session.exec(select(StockItem.id).where(col(StockItem.counted).is_(True)))).all()
    await refresh(session, stock_item_ids={stock_id for stock_id in counted if stock_id is not None})


async def _mark_modifiers(session: AsyncSession, stock_ids: set[int]) -> None:
    """Say on each modifier made with these stock items whether its recipe uses counted stock."""
    owners = set(
        (
            await session.exec(
                select(RecipeComponent.modifier_id).where(
                    col(RecipeComponent.stock_item_id).in_(stock_ids), col(RecipeComponent.modifier_id).isnot(None)
                )
            )
        ).all()
    )
    if not owners:
        return
    counting = set(
        (
            await session.exec(
                select(RecipeComponent.modifier_id)
                .join(StockItem, col(StockItem.id) == col(RecipeComponent.stock_item_id))
                .where(
                    col(RecipeComponent.modifier_id).in_(owners),
                    col(RecipeComponent.quantity_milli) > 0,
                    col(StockItem.counted).is_(True),
                )
            )
        ).all()
    )
    for modifier in (await session.exec(select(Modifier).where(col(Modifier.id).in_(owners)))).all():
        if modifier.counts_stock != (modifier.id in counting):
            modifier.counts_stock = modifier.id in counting
            session.add(modifier)


async def _counted(session: AsyncSession, stock_ids: set[int]) -> list[int]:
    if not stock_ids:
        return []
    rows = await session.exec(
        select(StockItem.id).where(col(StockItem.id).in_(stock_ids), col(StockItem.counted).is_(True))
    )
    return [stock_id for stock_id in rows.all() if stock_id is not None]


async def free_stock(session: AsyncSession, stock_ids: set[int]) -> dict[int, int]:
    """Each counted stock item's thousandths on hand less what checks have rung in and stock has not taken out.

    Locks the stock items' rows on PostgreSQL, in id order, so two ring-ins of the last portion queue here.
    """
    if not stock_ids:
        return {}
    ordered = sorted(stock_ids)
    if is_postgres(session):
        await session.exec(
            select(StockItem.id).where(col(StockItem.id).in_(ordered)).order_by(col(StockItem.id)).with_for_update()
        )
    on_hand: dict[int, int] = {stock_id: 0 for stock_id in ordered}
    for stock_id, quantity in (
        await session.exec(
            select(StockLevel.stock_item_id, func.coalesce(func.sum(StockLevel.on_hand_milli), 0))
            .where(col(StockLevel.stock_item_id).in_(ordered))
            .group_by(col(StockLevel.stock_item_id))
        )
    ).all():
        on_hand[stock_id] = int(quantity)
    for stock_id, milli in (await rung_in(session, ordered)).items():
        on_hand[stock_id] = on_hand.get(stock_id, 0) - milli
    return on_hand


async def rung_in(session: AsyncSession, stock_ids: list[int]) -> dict[int, int]:
    """Thousandths of each stock item that lines rung in use, until the stockroom takes them out at depletion."""
    depleted = exists().where(
        col(StockOperation.kind) == OperationKind.SALE,
        col(StockOperation.source_key).like(literal(SALE_KEY_PREFIX) + cast(Check.id, String) + literal(":%")),
    )
    # A closing not yet taken out of stock is today's: the day does not close while a closing waits to post.
    waiting = select(Check.id).where(
        or_(
            col(Check.status) == CheckStatus.OPEN,
            and_(
                col(Check.status) == CheckStatus.CLOSED, col(Check.closed_at) >= utcnow() - DEPLETION_WINDOW, ~depleted
            ),
        )
    )
    kept = col(CheckLine.state) != LineState.VOIDED
    settings = session.info.get("settings")
    if not isinstance(settings, Settings) or settings.void_after_fire_is_waste:
        # Voided after the kitchen had it: made and thrown away, booked as waste when its check is posted.
        wasted = exists().where(
            col(StockOperation.source_key) == literal(WASTE_KEY_PREFIX) + cast(CheckLine.id, String)
        )
        kept = or_(kept, and_(col(CheckLine.sent_at).isnot(None), ~wasted))
    held = and_(col(CheckLine.check_id).in_(waiting), kept, col(RecipeComponent.stock_item_id).in_(stock_ids))
    line_columns = (col(CheckLine.id), col(CheckLine.quantity_num), col(CheckLine.quantity_den))
    stock_columns = (col(RecipeComponent.stock_item_id), col(RecipeComponent.quantity_milli))
    from_items = (
        core_select(*line_columns, *stock_columns)
        .join(RecipeComponent, col(RecipeComponent.menu_item_id) == col(CheckLine.menu_item_id))
        .where(held)
    )
    from_modifiers = (
        core_select(*line_columns, *stock_columns)
        .join(LineModifier, col(LineModifier.line_id) == col(CheckLine.id))
        .join(RecipeComponent, col(RecipeComponent.modifier_id) == col(LineModifier.modifier_id))
        .where(held)
    )
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    quantities: dict[int, Fraction] = {}
    for line_id, num, den, stock_id, milli in (await session.exec(union_all(from_items, from_modifiers))).all():  # type: ignore[call-overload]
        quantities[line_id] = Fraction(num, den)
        parts[line_id].append((stock_id, milli))
    used: dict[int, int] = defaultdict(int)
    for line_id, components in parts.items():
        # As depletion does: each part scaled by the line's quantity, then netted per stock item.
        per_line = calculations.combine(
            (stock_id, calculations.scale_recipe(milli, quantities[line_id])) for stock_id, milli in components
        )
        for stock_id, milli in per_line.items():
            used[stock_id] += milli
    return dict(used)
