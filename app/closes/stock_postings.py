"""Stock postings: the stock a sold check takes, voids after fire booked as waste, and the stockroom's own
operations and purchasing into the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import JournalEntry
from app.accounting.services import entry_by_key, post_entry
from app.checks import services as checks
from app.checks.queries import settings_of
from app.closes import calculations as calc
from app.closes.models import CheckPosting, MappingKind, PostingKind
from app.closes.posting_base import (
    STOCK_TOPIC,
    PostingProblem,
    _mapping_rows,
    _posting_lines,
    posting_day,
    posting_for,
    resolve_accounts,
    source_key,
    subject_names,
)
from app.inventory import services as inventory
from app.inventory.models import OperationKind, RecipeComponent, StockLocation, StockOperation
from app.lib.clock import utcnow
from app.lib.settings import Settings
from app.orders.models import CheckLine, LineModifier

# Which of the items and choices sold have a recipe: built once, as every statement of a delivery.
_WITH_RECIPE = select(RecipeComponent.menu_item_id, RecipeComponent.modifier_id).where(
    col(RecipeComponent.menu_item_id).in_(bindparam("item_ids", expanding=True))
    | col(RecipeComponent.modifier_id).in_(bindparam("modifier_ids", expanding=True))
)


async def _stock_lines(
    session: AsyncSession,
    lines: Sequence[CheckLine],
    *,
    modifiers_of: Mapping[int, Sequence[LineModifier]] | None = None,
) -> list[inventory.SaleLine]:
    """The lines as the stockroom sees them, each at the location its station draws from.

    Only lines whose item or modifiers have a recipe need a location, so a venue without recipes needs no mapping.
    `modifiers_of` holds the lines' modifiers by line id, oldest first, when the caller has read them already.
    """
    if not lines:
        return []
    line_ids = [line.id or 0 for line in lines]
    if modifiers_of is None:
        read: dict[int, list[LineModifier]] = {}
        for modifier in (
            await session.exec(
                select(LineModifier).where(col(LineModifier.line_id).in_(line_ids)).order_by(col(LineModifier.id))
            )
        ).all():
            read.setdefault(modifier.line_id, []).append(modifier)
        modifiers_of = read
    modifiers = {
        line_id: [modifier.modifier_id for modifier in modifiers_of[line_id]]
        for line_id in line_ids
        if modifiers_of.get(line_id)
    }
    item_ids = {line.menu_item_id for line in lines}
    modifier_ids = {m for ids in modifiers.values() for m in ids}
    with_recipe = (
        await session.exec(_WITH_RECIPE, params={"item_ids": list(item_ids), "modifier_ids": list(modifier_ids)})
    ).all()
    recipe_items = {item for item, _ in with_recipe if item is not None}
    recipe_modifiers = {modifier for _, modifier in with_recipe if modifier is not None}
    needing = [
        line
        for line in lines
        if line.menu_item_id in recipe_items or any(m in recipe_modifiers for m in modifiers.get(line.id or 0, []))
    ]
    if not needing:
        return []
    rows = await _mapping_rows(session, MappingKind.STATION)
    live_locations = {
        loc.id
        for loc in (await session.exec(select(StockLocation).where(col(StockLocation.archived_at).is_(None)))).all()
    }
    unmapped: list[int] = []  # stations (0: none) whose lines have no live stock location
    result: list[inventory.SaleLine] = []
    for line in needing:
        row = rows.get(str(line.station_id)) if line.station_id is not None else None
        row = row if row is not None and row.stock_location_id is not None else rows.get("default")
        if row is None or row.stock_location_id is None or row.stock_location_id not in live_locations:
            unmapped.append(line.station_id or 0)
            continue
        result.append(
            inventory.SaleLine(
                line.menu_item_id, tuple(modifiers.get(line.id or 0, [])), line.quantity, row.stock_location_id
            )
        )
    if unmapped:
        stations = (await subject_names(session)).stations
        missing = [
            f"no stock location is mapped for {stations.get(station_id, 'items without a station')}"
            for station_id in unmapped
        ]
        raise PostingProblem(
            "Missing mapping: " + "; ".join(sorted(set(missing))) + ". Fix it on the mappings page, then retry."
        )
    return result


def settings_waste(settings: Settings) -> bool:
    """Whether a void after the kitchen had the line books its ingredients as waste (a setting)."""
    return settings.void_after_fire_is_waste


async def waste_voided_line(session: AsyncSession, line: CheckLine) -> CheckPosting | None:
    """A line voided after it was fired: its ingredients were used, so they leave stock as waste, once."""
    key = f"void-waste:{line.id}"
    existing = await posting_for(session, key)
    if existing is not None:
        return existing
    stock_lines = await _stock_lines(session, [line])
    settings = settings_of(session)
    own_day = checks.business_day(settings, line.voided_at or utcnow())
    day = await posting_day(session, own_day)
    cost = 0
    entry_id = None
    if stock_lines:
        accounts = await resolve_accounts(session, roles=["waste", "inventory"])
        moves = await inventory.waste_for_void(
            session,
            source_key=key,
            lines=stock_lines,
            reason=(line.void_reason or "voided after it was fired")[:200],
            actor_id=line.voided_by,
        )
        cost = inventory.total_cost_cents(moves)
        if cost:
            entry = await post_entry(
                session,
                date=day,
                description=f"Waste: {line.name} voided after it was fired",
                lines=_posting_lines(
                    calc.cost_entry(cost, accounts.roles["waste"], accounts.roles["inventory"], "Voided after fire")
                ),
                source_type="void",
                source_id=str(line.id),
                idempotency_key=f"void-waste:{line.id}",
            )
            entry_id = entry.id
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.WASTE,
        check_id=line.check_id,
        entry_id=entry_id,
        stock_operation_key=key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        cost_cents=cost,
        breakdown={"line_id": line.id, "reason": line.void_reason or ""},
    )
    session.add(posting)
    await session.flush()
    return posting


# ---------------------------------------------------------------------------------------------- stockroom


async def post_stock_operation(session: AsyncSession, payload: Mapping[str, Any]) -> JournalEntry | None:
    """A delivery (inventory against accounts payable), a count (variance) or recorded waste, at the value it moved.

    The journal entry's key is the posting's key, so a second delivery of the message finds it and posts nothing.
    """
    operation_id = int(payload["operation_id"])
    key = source_key(STOCK_TOPIC, payload)
    existing = await entry_by_key(session, key)
    if existing is not None:
        return existing
    operation = await session.get(StockOperation, operation_id)
    if operation is None:
        raise PostingProblem(f"Stock operation {operation_id} does not exist; nothing can be posted for it.")
    values = [move.value_cents for move in await inventory.moves_of(session, operation_id)]
    gained, lost = sum(v for v in values if v > 0), -sum(v for v in values if v < 0)
    if operation.kind is OperationKind.RECEIPT:
        roles = ["inventory", "accounts_payable"]
        reference = f" ({operation.reference})" if operation.reference else ""
        description = f"Delivery from {operation.supplier or 'a supplier'}{reference}"
    elif operation.kind is OperationKind.COUNT:
        roles = ["inventory", "stock_variance"]
        description = f"Stock count: {operation.note}" if operation.note else "Stock count"
    elif operation.kind is OperationKind.WASTE:
        roles = ["inventory", "waste"]
        description = f"Waste: {operation.note}" if operation.note else "Waste"
    else:
        raise PostingProblem(f"A {operation.kind.label.lower()} is posted with its check, not on its own.")
    if not gained and not lost:
        return None
    accounts = await resolve_accounts(session, roles=roles)
    stock, other = accounts.roles["inventory"], accounts.roles[roles[1]]
    lines = [
        *calc.cost_entry(gained, stock, other, f"{operation.kind.label}: stock in"),
        *calc.cost_entry(lost, other, stock, f"{operation.kind.label}: stock out"),
    ]
    day = await posting_day(session, checks.business_day(settings_of(session), operation.created_at))
    return await post_entry(
        session,
        date=day,
        description=description[:200],
        lines=_posting_lines([line for line in lines if line.amount_cents]),
        source_type="stock",
        source_id=str(operation_id),
        idempotency_key=key,
        actor_id=operation.actor_id,
    )


async def post_purchase(session: AsyncSession, payload: Mapping[str, Any]) -> JournalEntry | None:
    """A receipt against a purchase order or a supplier's credit note (app/closes/purchase_postings.py)."""
    from app.closes import purchase_postings  # built on this module's mappings

    return await purchase_postings.post_purchase(session, payload)
