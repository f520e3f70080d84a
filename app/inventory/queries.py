"""Read models of the stockroom: levels with low-stock flags, valuation, moves, recipes, servings left."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations
from app.inventory.models import (
    MoveKind,
    OperationKind,
    RecipeComponent,
    StockItem,
    StockLevel,
    StockLocation,
    StockMove,
    StockOperation,
    StockOutage,
)
from app.menu.models import MenuCategory, MenuItem, Modifier, ModifierGroup


async def items(session: AsyncSession, *, include_archived: bool = False) -> list[StockItem]:
    """Stock items by name."""
    query = select(StockItem).order_by(func.lower(StockItem.name))
    if not include_archived:
        query = query.where(col(StockItem.archived_at).is_(None))
    return list((await session.exec(query)).all())


async def locations(session: AsyncSession) -> list[StockLocation]:
    """Live stock locations in their order."""
    return list(
        (
            await session.exec(
                select(StockLocation)
                .where(col(StockLocation.archived_at).is_(None))
                .order_by(col(StockLocation.sort_order), col(StockLocation.id))
            )
        ).all()
    )


@dataclass(frozen=True)
class LevelCell:
    """One item at one location: on hand, its par, and whether it is low or out."""

    location: StockLocation
    on_hand_milli: int
    par_milli: int | None
    value_cents: int = 0

    @property
    def low(self) -> bool:
        """Below its par level (but not out)."""
        return self.par_milli is not None and 0 < self.on_hand_milli < self.par_milli

    @property
    def out(self) -> bool:
        """Nothing (or less than nothing) left where a par is kept or stock was held."""
        return self.on_hand_milli <= 0 and (self.par_milli is not None and self.par_milli > 0)


@dataclass(frozen=True)
class ItemLevels:
    """An item with its levels at every location and its total."""

    item: StockItem
    cells: list[LevelCell]

    @property
    def total_milli(self) -> int:
        """On hand across every location."""
        return sum(cell.on_hand_milli for cell in self.cells)

    @property
    def value_cents(self) -> int:
        """What the item is worth: the sum of its moves' values (equal to the inventory account)."""
        return sum(cell.value_cents for cell in self.cells)

    @property
    def low(self) -> bool:
        """Low or out anywhere."""
        return any(cell.low or cell.out for cell in self.cells)

    @property
    def out(self) -> bool:
        """Out anywhere a par is kept, or out everywhere."""
        return any(cell.out for cell in self.cells) or (self.total_milli <= 0 and self.item.counted)


async def stock_levels(session: AsyncSession) -> tuple[list[StockLocation], list[ItemLevels]]:
    """Every live item at every live location, low and out flagged."""
    places = await locations(session)
    stock = await items(session)
    levels = {
        (level.stock_item_id, level.location_id): level for level in (await session.exec(select(StockLevel))).all()
    }
    rows = []
    for item in stock:
        cells = []
        for place in places:
            level = levels.get((item.id or 0, place.id or 0))
            cells.append(
                LevelCell(
                    location=place,
                    on_hand_milli=level.on_hand_milli if level else 0,
                    par_milli=level.par_milli if level else None,
                    value_cents=level.value_cents if level else 0,
                )
            )
        rows.append(ItemLevels(item, cells))
    return places, rows


@dataclass(frozen=True)
class LowStock:
    """An item below par at a location."""

    item: StockItem
    location: StockLocation
    on_hand_milli: int
    par_milli: int


async def low_stock(session: AsyncSession) -> list[LowStock]:
    """Every item at or below nothing, or below its par, per location."""
    _, rows = await stock_levels(session)
    return [
        LowStock(row.item, cell.location, cell.on_hand_milli, cell.par_milli or 0)
        for row in rows
        for cell in row.cells
        if cell.low or cell.out
    ]


@dataclass(frozen=True)
class Valuation:
    """The stock's worth per item and location (the sum of move values), and the total."""

    rows: list[ItemLevels]
    places: list[StockLocation]

    @property
    def total_cents(self) -> int:
        """The sum of every item's value."""
        return sum(row.value_cents for row in self.rows)

    def location_total_cents(self, location_id: int) -> int:
        """What one location holds, at average cost."""
        return sum(cell.value_cents for row in self.rows for cell in row.cells if cell.location.id == location_id)


async def valuation(session: AsyncSession) -> Valuation:
    """Stock valued by its moves (deliveries at cost, everything else at moving-average cost)."""
    places, rows = await stock_levels(session)
    return Valuation(rows=rows, places=places)


@dataclass(frozen=True)
class MoveView:
    """A move with the names a manager reads."""

    move: StockMove
    operation: StockOperation
    item: StockItem
    location: StockLocation


async def recent_moves(
    session: AsyncSession, *, limit: int = 200, stock_item_id: int | None = None, kind: OperationKind | None = None
) -> list[MoveView]:
    """The newest moves first."""
    query = (
        select(StockMove, StockOperation, StockItem, StockLocation)
        .join(StockOperation, col(StockOperation.id) == col(StockMove.operation_id))
        .join(StockItem, col(StockItem.id) == col(StockMove.stock_item_id))
        .join(StockLocation, col(StockLocation.id) == col(StockMove.location_id))
        .order_by(col(StockMove.id).desc())
        .limit(limit)
    )
    if stock_item_id is not None:
        query = query.where(StockMove.stock_item_id == stock_item_id)
    if kind is not None:
        query = query.where(StockOperation.kind == kind)
    return [MoveView(*row) for row in (await session.exec(query)).all()]


async def on_hand_from_moves(session: AsyncSession) -> dict[tuple[int, int], tuple[int, int]]:
    """Each (item, location)'s quantity and value as plain sums of its moves (the level rows must agree)."""
    rows = await session.exec(
        select(
            StockMove.stock_item_id,
            StockMove.location_id,
            func.sum(StockMove.quantity_milli),
            func.sum(StockMove.value_cents),
        ).group_by(col(StockMove.stock_item_id), col(StockMove.location_id))
    )
    return {(int(i), int(loc)): (int(quantity), int(value)) for i, loc, quantity, value in rows.all()}


@dataclass(frozen=True)
class RecipeLine:
    """One ingredient of a dish or modifier."""

    component: RecipeComponent
    item: StockItem

    @property
    def cost_cents(self) -> int:
        """What the ingredient costs at today's average."""
        return calculations.value_cents(self.component.quantity_milli, self.item.unit_cost_millicents)


@dataclass(frozen=True)
class DishRecipe:
    """A menu item with its ingredients, what they cost, and whether stock has 86'd it."""

    dish: MenuItem
    category: str
    lines: list[RecipeLine]
    stock_86: bool

    @property
    def cost_cents(self) -> int:
        """The plate cost at today's averages."""
        return sum(line.cost_cents for line in self.lines)

    @property
    def cost_percent(self) -> int | None:
        """Plate cost as a whole percentage of the price (None without a price)."""
        if not self.dish.price_cents:
            return None
        return round(100 * self.cost_cents / self.dish.price_cents)


async def dish_recipes(session: AsyncSession, *, only_with_recipe: bool = False) -> list[DishRecipe]:
    """Every live menu item with its recipe lines, by category then name."""
    dishes = (
        await session.exec(
            select(MenuItem, MenuCategory)
            .join(MenuCategory, col(MenuCategory.id) == col(MenuItem.category_id))
            .where(col(MenuItem.archived_at).is_(None))
            .order_by(col(MenuCategory.sort_order), col(MenuItem.sort_order), col(MenuItem.name))
        )
    ).all()
    lines = await _recipe_lines(session, select(RecipeComponent).where(col(RecipeComponent.menu_item_id).is_not(None)))
    outages = set((await session.exec(select(StockOutage.menu_item_id))).all())
    by_dish: dict[int, list[RecipeLine]] = defaultdict(list)
    for line in lines:
        by_dish[line.component.menu_item_id or 0].append(line)
    result = [
        DishRecipe(dish, category.name, by_dish.get(dish.id or 0, []), (dish.id or 0) in outages)
        for dish, category in dishes
    ]
    return [r for r in result if r.lines] if only_with_recipe else result


@dataclass(frozen=True)
class ModifierRecipe:
    """A modifier choice and what it adds to (or takes out of) a dish."""

    modifier: Modifier
    group: str
    lines: list[RecipeLine]


async def modifier_recipes(session: AsyncSession) -> list[ModifierRecipe]:
    """Every live modifier with its recipe lines, by group."""
    modifiers = (
        await session.exec(
            select(Modifier, ModifierGroup)
            .join(ModifierGroup, col(ModifierGroup.id) == col(Modifier.group_id))
            .where(col(Modifier.archived_at).is_(None), col(ModifierGroup.archived_at).is_(None))
            .order_by(col(ModifierGroup.name), col(Modifier.sort_order))
        )
    ).all()
    lines = await _recipe_lines(session, select(RecipeComponent).where(col(RecipeComponent.modifier_id).is_not(None)))
    by_modifier: dict[int, list[RecipeLine]] = defaultdict(list)
    for line in lines:
        by_modifier[line.component.modifier_id or 0].append(line)
    return [ModifierRecipe(m, g.name, by_modifier.get(m.id or 0, [])) for m, g in modifiers]


async def _recipe_lines(session: AsyncSession, query: object) -> list[RecipeLine]:
    components = list((await session.exec(query)).all())  # type: ignore[call-overload]
    stock = {i.id: i for i in await items(session, include_archived=True)}
    return [
        RecipeLine(c, stock[c.stock_item_id])
        for c in sorted(components, key=lambda c: stock[c.stock_item_id].name.lower())
    ]


async def servings_left(session: AsyncSession, menu_item_ids: Iterable[int]) -> dict[int, int]:
    """How many more of each dish its counted ingredients allow (dishes without any are left out)."""
    ids = list(menu_item_ids)
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(RecipeComponent, StockItem)
            .join(StockItem, col(StockItem.id) == col(RecipeComponent.stock_item_id))
            .where(
                col(RecipeComponent.menu_item_id).in_(ids),
                col(RecipeComponent.quantity_milli) > 0,
                col(StockItem.counted).is_(True),
            )
        )
    ).all()
    totals = {
        int(item_id): int(total)
        for item_id, total in (
            await session.exec(
                select(StockLevel.stock_item_id, func.sum(StockLevel.on_hand_milli)).group_by(
                    col(StockLevel.stock_item_id)
                )
            )
        ).all()
    }
    left: dict[int, int] = {}
    for component, item in rows:
        servings = max(0, totals.get(item.id or 0, 0)) // component.quantity_milli
        dish = component.menu_item_id or 0
        left[dish] = min(left.get(dish, servings), servings)
    return left


async def move_kind_totals(session: AsyncSession) -> dict[MoveKind, int]:
    """Total value per kind of move (positive in, negative out), for the variance and waste report."""
    rows = await session.exec(select(StockMove.kind, func.sum(StockMove.value_cents)).group_by(col(StockMove.kind)))
    return {MoveKind(kind): int(total or 0) for kind, total in rows.all()}
