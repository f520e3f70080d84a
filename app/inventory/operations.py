"""One stock operation: the only way stock changes.

`apply_operation` writes an operation, its moves and the matching level rows in the caller's transaction.
Operations with a source key happen once per key: calling again returns the moves already made. After every
operation, counted ingredients that ran out 86 the menu items made with them, and ingredients back in stock
un-86 what stock had 86'd. What the stockroom does on its own (a delivery, a count, waste it records) owes the
ledger an entry: `owe_ledger` writes an outbox message on `STOCK_BOOKED_TOPIC` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import calculations, portions
from app.inventory.levels import item_totals, level_for, locked_item
from app.inventory.models import MoveKind, OperationKind, StockMove, StockOperation
from app.inventory.outages import follow_outages
from app.lib.clock import utcnow
from app.lib.errors import Conflict
from app.lib.events import DomainEvent, emit
from app.lib.outbox import enqueue

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


@dataclass
class Change:
    """One item moving at one location within a planned operation (valued at the average cost unless given)."""

    item_id: int
    location_id: int
    kind: MoveKind
    quantity_milli: int
    unit_cost_millicents: int | None = None
    value_cents: int | None = None


@dataclass
class Plan:
    """An operation about to be applied: its kind, its changes and what it records about itself."""

    kind: OperationKind
    changes: list[Change] = field(default_factory=list)
    source_key: str | None = None
    supplier: str | None = None
    reference: str | None = None
    note: str | None = None
    actor_id: int | None = None


def total_cost_cents(moves: Sequence[StockMove]) -> int:
    """The value that left stock with these moves (what COGS or waste expense is debited)."""
    return -sum(move.value_cents for move in moves)


async def existing_moves(session: AsyncSession, source_key: str | None, kind: OperationKind) -> list[StockMove] | None:
    """The moves already made under `source_key`, or None if the key is unspent; refused if spent on another kind."""
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


async def apply_operation(session: AsyncSession, plan: Plan) -> list[StockMove]:
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
        twin = await existing_moves(session, plan.source_key, plan.kind)
        if twin is None:
            raise
        return twin
    moves: list[StockMove] = []
    touched: set[int] = set()
    for change in plan.changes:
        item = await locked_item(session, change.item_id)
        level = await level_for(session, change.item_id, change.location_id)
        cost = change.unit_cost_millicents if change.unit_cost_millicents is not None else item.unit_cost_millicents
        if change.value_cents is not None:
            value = change.value_cents
        else:
            value = calculations.value_cents(change.quantity_milli, cost)
            await session.flush()
            quantity, worth = await item_totals(session, change.item_id)
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
    await follow_outages(session, touched)
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


async def owe_ledger(session: AsyncSession, moves: Sequence[StockMove]) -> list[StockMove]:
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
