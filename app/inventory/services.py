"""Inventory commands: items, locations, pars, recipes; and every way stock moves.

Stock changes only through `_apply`, which writes an operation, its moves and the matching level
rows in the caller's transaction. Operations with a source key happen once per key: calling again
returns the moves already made. After every operation, counted ingredients that ran out 86 the
menu items made with them, and ingredients back in stock un-86 what stock had 86'd.

The functions a posting layer calls: `deplete_for_sale`, `waste_for_void`, `return_for_refund`;
each returns its moves, and `total_cost_cents(moves)` is what left the stockroom. What the stockroom
does on its own (a delivery, a count, waste it records) owes the ledger an entry: those operations
write an outbox message on `STOCK_BOOKED_TOPIC` in their own transaction, and the posting layer
delivers it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, Final, NamedTuple

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations, portions
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
    StockUnit,
)
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import DomainEvent, emit
from app.lib.inputs import clean_text
from app.lib.outbox import enqueue
from app.lib.sql import is_postgres
from app.menu import services as menu_services
from app.menu.models import MenuItem, Modifier

NAME_MAX: Final = 80
NOTE_MAX: Final = 200
LINES_MAX: Final = 200
KEY_MAX: Final = 200
STOCK_BOOKED_TOPIC: Final = "inventory.stock_booked"
"""Outbox topic of a delivery, count or recorded waste whose value the ledger is owed (payload: operation_id)."""


@dataclass(frozen=True)
class StockMoved(DomainEvent):
    """Stock moved: `cost_cents` is the value that left stock (negative when stock came in)."""

    name: ClassVar[str] = "inventory.stock_moved"
    operation_id: int
    kind: str
    source_key: str | None
    cost_cents: int


class SaleLine(NamedTuple):
    """What a sold (or voided, or refunded) line used: its item, modifiers, quantity and stock location."""

    menu_item_id: int
    modifier_ids: Sequence[int]
    quantity: Fraction
    location_id: int


class ReceiptLine(NamedTuple):
    """A delivered quantity of one item and what the invoice charges for it in total."""

    stock_item_id: int
    quantity_milli: int
    cost_cents: int


class CountLine(NamedTuple):
    """How much of one item a count found at a location."""

    stock_item_id: int
    counted_milli: int


@dataclass
class _Change:
    item_id: int
    location_id: int
    kind: MoveKind
    quantity_milli: int
    unit_cost_millicents: int | None = None
    value_cents: int | None = None


@dataclass
class _Operation:
    kind: OperationKind
    changes: list[_Change] = field(default_factory=list)
    source_key: str | None = None
    supplier: str | None = None
    reference: str | None = None
    note: str | None = None
    actor_id: int | None = None


def total_cost_cents(moves: Sequence[StockMove]) -> int:
    """The value that left stock with these moves (what COGS or waste expense is debited)."""
    return -sum(move.value_cents for move in moves)


def _quantity(value: object, *, label: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number of thousandths.")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(f"{label} must be more than zero." if not allow_zero else f"{label} cannot be negative.")
    if value > calculations.QUANTITY_MAX_MILLI:
        raise InvalidInput(f"{label} is beyond any real stock.")
    return value


# Items, locations, pars ---------------------------------------------------------------------------------


async def create_stock_item(
    session: AsyncSession, *, name: str, unit: str, counted: bool = False, actor_id: int | None = None
) -> StockItem:
    """Add an item to keep in stock."""
    name = clean_text(name, label="Name", max_length=NAME_MAX)
    try:
        stock_unit = StockUnit(unit)
    except ValueError:
        raise InvalidInput(f"Unit must be one of {', '.join(u.value for u in StockUnit)}.") from None
    clash = (await session.exec(select(StockItem).where(func.lower(StockItem.name) == name.lower()))).first()
    if clash is not None:
        raise Conflict(f"A stock item named “{clash.name}” already exists.")
    item = StockItem(name=name, unit=stock_unit, counted=counted)
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        "inventory.item.create",
        actor_id=actor_id,
        subject=f"stock_item:{item.id}",
        after={"name": name, "unit": stock_unit.value, "counted": counted},
    )
    return item


async def set_item_counted(
    session: AsyncSession, item_id: int, counted: bool, *, actor_id: int | None = None
) -> StockItem:
    """Watch (or stop watching) an item for auto-86."""
    item = await _item(session, item_id)
    item.counted = counted
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        "inventory.item.counted",
        actor_id=actor_id,
        subject=f"stock_item:{item_id}",
        after={"counted": counted},
    )
    if counted:
        await _follow_outages(session, {item_id})
    await portions.refresh(session, stock_item_ids={item_id})
    return item


async def archive_stock_item(session: AsyncSession, item_id: int, *, actor_id: int | None = None) -> StockItem:
    """Retire an item: refused while it is on hand anywhere or still in a recipe."""
    item = await _item(session, item_id)
    if item.archived_at is not None:
        return item
    on_hand = await _total_on_hand(session, item_id)
    if on_hand != 0:
        raise Conflict(
            f"{item.name} still shows {calculations.format_quantity(on_hand)} {item.unit.label} on hand; "
            "count it to zero first."
        )
    used = (await session.exec(select(func.count()).where(RecipeComponent.stock_item_id == item_id))).one()
    if int(used):
        raise Conflict(f"{item.name} is still in {int(used)} recipe line(s); take it out of them first.")
    item.archived_at = utcnow()
    session.add(item)
    await session.flush()
    await audit.record(session, "inventory.item.archive", actor_id=actor_id, subject=f"stock_item:{item_id}")
    return item


async def create_location(session: AsyncSession, *, name: str, actor_id: int | None = None) -> StockLocation:
    """Add a place stock is kept."""
    name = clean_text(name, label="Name", max_length=60)
    clash = (await session.exec(select(StockLocation).where(func.lower(StockLocation.name) == name.lower()))).first()
    if clash is not None:
        raise Conflict(f"A stock location named “{clash.name}” already exists.")
    count = (await session.exec(select(func.count()).select_from(StockLocation))).one()
    location = StockLocation(name=name, sort_order=int(count))
    session.add(location)
    await session.flush()
    await audit.record(session, "inventory.location.create", actor_id=actor_id, subject=f"stock_location:{location.id}")
    return location


async def set_par(
    session: AsyncSession, *, item_id: int, location_id: int, par_milli: int | None, actor_id: int | None = None
) -> StockLevel:
    """Set (or clear, with None) the level below which an item is low at a location."""
    await _live_item(session, item_id)
    await _live_location(session, location_id)
    if par_milli is not None:
        _quantity(par_milli, label="Par level", allow_zero=True)
    level = await _level(session, item_id, location_id)
    before = level.par_milli
    level.par_milli = par_milli
    session.add(level)
    await session.flush()
    await audit.record(
        session,
        "inventory.par.set",
        actor_id=actor_id,
        subject=f"stock_level:{item_id}:{location_id}",
        before={"par_milli": before},
        after={"par_milli": par_milli},
    )
    return level


async def _item(session: AsyncSession, item_id: int) -> StockItem:
    query = select(StockItem).where(StockItem.id == item_id)
    if is_postgres(session):
        query = query.with_for_update()
    item = (await session.exec(query)).first()
    if item is None:
        raise NotFound("No such stock item.")
    return item


async def _live_item(session: AsyncSession, item_id: int) -> StockItem:
    item = await _item(session, item_id)
    if item.archived_at is not None:
        raise Conflict(f"{item.name} is archived.")
    return item


async def _live_location(session: AsyncSession, location_id: int) -> StockLocation:
    location = await session.get(StockLocation, location_id)
    if location is None:
        raise InvalidInput("Unknown stock location.")
    if location.archived_at is not None:
        raise Conflict(f"{location.name} is archived.")
    return location


async def _level(session: AsyncSession, item_id: int, location_id: int) -> StockLevel:
    """The level row for an item at a location, created at zero if missing, locked on PostgreSQL."""
    values = {
        "stock_item_id": item_id,
        "location_id": location_id,
        "on_hand_milli": 0,
        "value_cents": 0,
        "updated_at": utcnow(),
    }
    table = StockLevel.__table__  # type: ignore[attr-defined]
    # Two first moves for the same pair must not both insert; the loser's insert does nothing.
    statement = (pg_insert if is_postgres(session) else sqlite_insert)(table).values(**values)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["stock_item_id", "location_id"]))
    query = select(StockLevel).where(StockLevel.stock_item_id == item_id, StockLevel.location_id == location_id)
    if is_postgres(session):
        query = query.with_for_update()
    level = (await session.exec(query.execution_options(populate_existing=True))).one()
    return level


async def _total_on_hand(session: AsyncSession, item_id: int) -> int:
    return (await _totals(session, item_id))[0]


async def _totals(session: AsyncSession, item_id: int) -> tuple[int, int]:
    """An item's quantity and value across every location."""
    quantity, value = (
        await session.exec(
            select(
                func.coalesce(func.sum(StockLevel.on_hand_milli), 0), func.coalesce(func.sum(StockLevel.value_cents), 0)
            ).where(StockLevel.stock_item_id == item_id)
        )
    ).one()
    return int(quantity), int(value)


# Recipes ------------------------------------------------------------------------------------------------------


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
    item = await _item(session, stock_item_id)
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


# Moving stock -----------------------------------------------------------------------------------------------


async def _existing(session: AsyncSession, source_key: str | None, kind: OperationKind) -> list[StockMove] | None:
    if source_key is None:
        return None
    operation = (await session.exec(select(StockOperation).where(StockOperation.source_key == source_key))).first()
    if operation is None:
        return None
    if operation.kind != kind:
        raise Conflict(f"{source_key} was already used for a {operation.kind.label.lower()}.")
    return await moves_of(session, operation.id or 0)


async def moves_of(session: AsyncSession, operation_id: int) -> list[StockMove]:
    """The moves one operation made, in order."""
    return list(
        (
            await session.exec(
                select(StockMove).where(StockMove.operation_id == operation_id).order_by(col(StockMove.id))
            )
        ).all()
    )


async def _apply(session: AsyncSession, plan: _Operation) -> list[StockMove]:
    """Write an operation, its moves and levels; value each move; then follow outages."""
    operation = StockOperation(
        kind=plan.kind,
        source_key=plan.source_key,
        supplier=plan.supplier,
        reference=plan.reference,
        note=plan.note,
        actor_id=plan.actor_id,
    )
    try:
        # A concurrent twin with the same key loses on the unique index.
        async with session.begin_nested():
            session.add(operation)
            await session.flush()
    except IntegrityError:
        twin = await _existing(session, plan.source_key, plan.kind)
        if twin is None:
            raise
        return twin
    moves: list[StockMove] = []
    touched: set[int] = set()
    for change in plan.changes:
        item = await _item(session, change.item_id)
        level = await _level(session, change.item_id, change.location_id)
        cost = change.unit_cost_millicents if change.unit_cost_millicents is not None else item.unit_cost_millicents
        if change.value_cents is not None:
            value = change.value_cents
        else:
            value = calculations.value_cents(change.quantity_milli, cost)
            await session.flush()
            quantity, worth = await _totals(session, change.item_id)
            if change.quantity_milli < 0 and quantity + change.quantity_milli == 0:
                # The last of an item takes whatever value is left, so no stock is never worth something.
                value = -worth
        move = StockMove(
            operation_id=operation.id or 0,
            kind=change.kind,
            stock_item_id=change.item_id,
            location_id=change.location_id,
            quantity_milli=change.quantity_milli,
            unit_cost_millicents=cost,
            value_cents=value,
        )
        session.add(move)
        level.on_hand_milli += change.quantity_milli
        level.value_cents += value
        level.updated_at = utcnow()
        session.add(level)
        moves.append(move)
        touched.add(change.item_id)
    await session.flush()
    await _follow_outages(session, touched)
    await portions.moved(session, touched)
    await emit(
        session,
        StockMoved(
            operation_id=operation.id or 0,
            kind=plan.kind.value,
            source_key=plan.source_key,
            cost_cents=total_cost_cents(moves),
        ),
    )
    return moves


async def _owe_ledger(session: AsyncSession, moves: Sequence[StockMove]) -> list[StockMove]:
    """Owe the ledger the operation these moves made, once (a repeated operation finds its message already there)."""
    if moves:
        operation_id = moves[0].operation_id
        await enqueue(
            session,
            STOCK_BOOKED_TOPIC,
            {"operation_id": operation_id},
            dedupe_key=f"{STOCK_BOOKED_TOPIC}:{operation_id}",
        )
    return list(moves)


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
        await _live_location(session, location_id)
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
    existing = await _existing(session, key, kind)
    if existing is not None:
        return existing
    usage = await _recipe_usage(session, _sale_lines(lines))
    plan = _Operation(kind=kind, source_key=key, note=note, actor_id=actor_id)
    for (stock_item_id, location_id), milli in sorted(usage.items()):
        plan.changes.append(_Change(stock_item_id, location_id, move_kind, -milli))
    return await _apply(session, plan)


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
    existing = await _existing(session, key, OperationKind.REFUND)
    if existing is not None:
        return existing
    usage = await _recipe_usage(session, checked)
    sale_costs: dict[int, int] = {}
    if sale_source_key:
        sale = await _existing(session, sale_source_key, OperationKind.SALE) or []
        sale_costs = {move.stock_item_id: move.unit_cost_millicents for move in sale}
    plan = _Operation(kind=OperationKind.REFUND, source_key=key, actor_id=actor_id, note="resaleable")
    for (stock_item_id, location_id), milli in sorted(usage.items()):
        plan.changes.append(
            _Change(stock_item_id, location_id, MoveKind.REFUND_RETURN, milli, sale_costs.get(stock_item_id))
        )
    return await _apply(session, plan)


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
    quantity = _quantity(quantity_milli, label="Quantity")
    existing = await _existing(session, source_key, OperationKind.WASTE)
    if existing is not None:
        return existing
    await _live_item(session, stock_item_id)
    await _live_location(session, location_id)
    plan = _Operation(kind=OperationKind.WASTE, source_key=source_key, note=note, actor_id=actor_id)
    plan.changes.append(_Change(stock_item_id, location_id, MoveKind.WASTE, -quantity))
    return await _owe_ledger(session, await _apply(session, plan))


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
    supplier = clean_text(supplier, label="Supplier", max_length=80, required=False)
    reference = clean_text(reference, label="Delivery note", max_length=80, required=False)
    existing = await _existing(session, source_key, OperationKind.RECEIPT)
    if existing is not None:
        return existing
    await _live_location(session, location_id)
    if not lines:
        raise InvalidInput("A delivery needs at least one line with an item and a quantity.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines at a time.")
    plan = _Operation(
        kind=OperationKind.RECEIPT,
        source_key=source_key,
        supplier=supplier or None,
        reference=reference or None,
        actor_id=actor_id,
    )
    seen: set[int] = set()
    for position, raw in enumerate(lines, start=1):
        line = ReceiptLine(*raw)
        quantity = _quantity(line.quantity_milli, label=f"Line {position} quantity")
        if isinstance(line.cost_cents, bool) or not isinstance(line.cost_cents, int) or line.cost_cents < 0:
            raise InvalidInput(f"Line {position}: the cost must be zero or more, in whole cents.")
        if line.stock_item_id in seen:
            raise InvalidInput(f"Line {position}: that item is already on this delivery; add the quantities up.")
        seen.add(line.stock_item_id)
        item = await _live_item(session, line.stock_item_id)
        on_hand, worth = await _totals(session, line.stock_item_id)
        item.unit_cost_millicents = calculations.moving_average(on_hand, worth, quantity, line.cost_cents)
        session.add(item)
        plan.changes.append(
            _Change(
                line.stock_item_id,
                location_id,
                MoveKind.RECEIPT,
                quantity,
                calculations.unit_cost_of(line.cost_cents, quantity),
                line.cost_cents,
            )
        )
    moves = await _apply(session, plan)
    return await _owe_ledger(session, moves) if to_ledger else moves


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
    existing = await _existing(session, source_key, OperationKind.COUNT)
    if existing is not None:
        return existing
    await _live_location(session, location_id)
    if not counts:
        raise InvalidInput("Enter at least one counted quantity.")
    plan = _Operation(kind=OperationKind.COUNT, source_key=source_key, note=note or None, actor_id=actor_id)
    seen: set[int] = set()
    for position, raw in enumerate(counts, start=1):
        line = CountLine(*raw)
        counted = _quantity(line.counted_milli, label=f"Line {position} count", allow_zero=True)
        if line.stock_item_id in seen:
            raise InvalidInput(f"Line {position}: that item was already counted on this sheet.")
        seen.add(line.stock_item_id)
        await _live_item(session, line.stock_item_id)
        level = await _level(session, line.stock_item_id, location_id)
        variance = counted - level.on_hand_milli
        if variance:
            plan.changes.append(_Change(line.stock_item_id, location_id, MoveKind.COUNT_VARIANCE, variance))
    return await _owe_ledger(session, await _apply(session, plan))


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
    quantity = _quantity(quantity_milli, label="Quantity")
    existing = await _existing(session, source_key, OperationKind.TRANSFER)
    if existing is not None:
        return existing
    if from_location_id == to_location_id:
        raise InvalidInput("Choose two different locations.")
    item = await _live_item(session, stock_item_id)
    source = await _live_location(session, from_location_id)
    await _live_location(session, to_location_id)
    level = await _level(session, stock_item_id, from_location_id)
    if level.on_hand_milli < quantity:
        raise Conflict(
            f"{source.name} has {calculations.format_quantity(level.on_hand_milli)} {item.unit.label} of "
            f"{item.name}; it cannot send {calculations.format_quantity(quantity)}."
        )
    value = calculations.value_cents(quantity, item.unit_cost_millicents)
    plan = _Operation(kind=OperationKind.TRANSFER, source_key=source_key, note=note or None, actor_id=actor_id)
    plan.changes.append(
        _Change(stock_item_id, from_location_id, MoveKind.TRANSFER_OUT, -quantity, item.unit_cost_millicents, -value)
    )
    plan.changes.append(
        _Change(stock_item_id, to_location_id, MoveKind.TRANSFER_IN, quantity, item.unit_cost_millicents, value)
    )
    return await _apply(session, plan)


# 86 and back -------------------------------------------------------------------------------------------------------


async def _follow_outages(session: AsyncSession, stock_item_ids: set[int]) -> None:
    """86 dishes whose counted ingredient ran out; un-86 the ones stock 86'd once all are back."""
    if not stock_item_ids:
        return
    counted = (
        await session.exec(
            select(StockItem).where(col(StockItem.id).in_(stock_item_ids), col(StockItem.counted).is_(True))
        )
    ).all()
    for item in counted:
        on_hand = await _total_on_hand(session, item.id or 0)
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
                await menu_services.eighty_six(session, dish.id or 0, f"Out of {item.name} (stock count)", None)
                session.add(StockOutage(menu_item_id=dish.id or 0, stock_item_id=item.id or 0))
            await session.flush()
            continue
        for dish in dishes:
            outage = (await session.exec(select(StockOutage).where(StockOutage.menu_item_id == dish.id))).first()
            if outage is None or await _still_short(session, dish.id or 0):
                continue
            await session.delete(outage)
            await session.flush()
            await menu_services.un_eighty_six(session, dish.id or 0, f"{item.name} back in stock", None)


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
        if await _total_on_hand(session, ingredient.id or 0) <= 0:
            return True
    return False
