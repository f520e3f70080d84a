"""Read models for the purchasing pages: suppliers, the suggested order, orders with what came in, payables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import JournalEntry, JournalLine
from app.inventory.models import StockItem, StockLevel, StockLocation
from app.purchasing import calculations
from app.purchasing.models import (
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
    SupplierCredit,
    SupplierItem,
    WeekdayPar,
)

OPEN_STATUSES = (OrderStatus.DRAFT, OrderStatus.SENT, OrderStatus.PARTIAL)


async def suppliers(session: AsyncSession) -> list[Supplier]:
    """Live suppliers by name."""
    return list(
        (await session.exec(select(Supplier).where(col(Supplier.archived_at).is_(None)).order_by(Supplier.name))).all()
    )


@dataclass(frozen=True)
class CatalogRow:
    """One item a supplier sells, with the stock item it fills."""

    supplier_item: SupplierItem
    item: StockItem


async def catalog(session: AsyncSession, supplier_id: int) -> list[CatalogRow]:
    """What a supplier sells, by item name."""
    rows = (
        await session.exec(
            select(SupplierItem, StockItem)
            .join(StockItem, col(StockItem.id) == col(SupplierItem.stock_item_id))
            .where(SupplierItem.supplier_id == supplier_id, col(SupplierItem.archived_at).is_(None))
            .order_by(StockItem.name)
        )
    ).all()
    return [CatalogRow(si, item) for si, item in rows]


async def on_order_milli(session: AsyncSession, location_id: int) -> dict[int, int]:
    """Per stock item, what sent orders into a location still have to bring (never below zero per line)."""
    rows = (
        await session.exec(
            select(PurchaseOrderLine)
            .join(PurchaseOrder, col(PurchaseOrder.id) == col(PurchaseOrderLine.order_id))
            .where(
                PurchaseOrder.location_id == location_id,
                col(PurchaseOrder.status).in_([OrderStatus.SENT, OrderStatus.PARTIAL]),
            )
        )
    ).all()
    owed: dict[int, int] = defaultdict(int)
    for line in rows:
        owed[line.stock_item_id] += max(0, line.ordered_milli - line.received_milli)
    return dict(owed)


@dataclass(frozen=True)
class SuggestionRow:
    """One line of a suggested order: why it suggests what it does."""

    supplier_item: SupplierItem
    item: StockItem
    delivery_day: dt.date
    par_milli: int | None
    on_hand_milli: int
    on_order_milli: int
    packs: int

    @property
    def cost_cents(self) -> int:
        """What the suggested packs cost at the supplier's price."""
        return self.packs * self.supplier_item.pack_cost_cents


async def suggested_order(
    session: AsyncSession, *, supplier_id: int, location_id: int, today: dt.date
) -> list[SuggestionRow]:
    """Per item the supplier sells: the par on its delivery day less on hand and on order, in whole packs."""
    rows = await catalog(session, supplier_id)
    item_ids = [row.item.id for row in rows]
    levels = {
        level.stock_item_id: level
        for level in (
            await session.exec(
                select(StockLevel).where(
                    StockLevel.location_id == location_id, col(StockLevel.stock_item_id).in_(item_ids)
                )
            )
        ).all()
    }
    weekday_pars: dict[int, dict[int, int]] = defaultdict(dict)
    for weekday_par in (
        await session.exec(
            select(WeekdayPar).where(WeekdayPar.location_id == location_id, col(WeekdayPar.stock_item_id).in_(item_ids))
        )
    ).all():
        weekday_pars[weekday_par.stock_item_id][weekday_par.weekday] = weekday_par.par_milli
    owed = await on_order_milli(session, location_id)
    result = []
    for row in rows:
        item_id = row.item.id or 0
        level = levels.get(item_id)
        day = calculations.delivery_day(today, row.supplier_item.lead_time_days)
        par = calculations.par_for_day(level.par_milli if level else None, weekday_pars.get(item_id, {}), day)
        on_hand = level.on_hand_milli if level else 0
        result.append(
            SuggestionRow(
                supplier_item=row.supplier_item,
                item=row.item,
                delivery_day=day,
                par_milli=par,
                on_hand_milli=on_hand,
                on_order_milli=owed.get(item_id, 0),
                packs=calculations.suggested_packs(par, on_hand, owed.get(item_id, 0), row.supplier_item.pack_milli),
            )
        )
    return result


async def weekday_pars(session: AsyncSession, location_id: int) -> dict[int, dict[int, int]]:
    """Weekday pars at a location: item → weekday → par."""
    found: dict[int, dict[int, int]] = defaultdict(dict)
    for par in (await session.exec(select(WeekdayPar).where(WeekdayPar.location_id == location_id))).all():
        found[par.stock_item_id][par.weekday] = par.par_milli
    return dict(found)


@dataclass(frozen=True)
class OrderSummary:
    """An order on the orders list."""

    order: PurchaseOrder
    supplier: Supplier
    location: StockLocation
    ordered_cents: int


async def orders(session: AsyncSession, *, limit: int = 100) -> list[OrderSummary]:
    """Recent orders, newest first, with their value at the order's prices."""
    rows = (
        await session.exec(
            select(PurchaseOrder, Supplier, StockLocation)
            .join(Supplier, col(Supplier.id) == col(PurchaseOrder.supplier_id))
            .join(StockLocation, col(StockLocation.id) == col(PurchaseOrder.location_id))
            .order_by(col(PurchaseOrder.id).desc())
            .limit(limit)
        )
    ).all()
    ids = [order.id for order, _, _ in rows]
    totals: dict[int, int] = defaultdict(int)
    for line in (await session.exec(select(PurchaseOrderLine).where(col(PurchaseOrderLine.order_id).in_(ids)))).all():
        totals[line.order_id] += line.packs * line.pack_cost_cents
    return [OrderSummary(order, supplier, place, totals.get(order.id or 0, 0)) for order, supplier, place in rows]


@dataclass(frozen=True)
class OrderLineView:
    """An order line with its item and what is still to come."""

    line: PurchaseOrderLine
    item: StockItem

    @property
    def outstanding_milli(self) -> int:
        """What the supplier still owes on the line (nothing once delivered or over-delivered)."""
        return max(0, self.line.ordered_milli - self.line.received_milli)

    @property
    def over_milli(self) -> int:
        """What came in beyond the order."""
        return max(0, self.line.received_milli - self.line.ordered_milli)

    @property
    def ordered_cents(self) -> int:
        """The line's value at the order's price."""
        return self.line.packs * self.line.pack_cost_cents


@dataclass(frozen=True)
class ReceiptView:
    """A delivery received against the order, its lines and their price flags."""

    receipt: PurchaseReceipt
    lines: list[tuple[PurchaseReceiptLine, StockItem]] = field(default_factory=list)

    @property
    def variance_cents(self) -> int:
        """The invoice less the order's price: what posts to purchase price variance."""
        return self.receipt.invoice_cents - self.receipt.ordered_cents


@dataclass(frozen=True)
class OrderView:
    """One order as its page and its printed copy show it."""

    order: PurchaseOrder
    supplier: Supplier
    location: StockLocation
    lines: list[OrderLineView]
    receipts: list[ReceiptView]
    credits: list[SupplierCredit]

    @property
    def ordered_cents(self) -> int:
        """The order's value at its prices."""
        return sum(line.ordered_cents for line in self.lines)


async def order_view(session: AsyncSession, order_id: int) -> OrderView | None:
    """An order, its lines, the deliveries received against it and credit notes naming it."""
    order = await session.get(PurchaseOrder, order_id)
    if order is None:
        return None
    supplier = await session.get(Supplier, order.supplier_id)
    location = await session.get(StockLocation, order.location_id)
    if supplier is None or location is None:
        raise LookupError(f"purchase order {order_id} names a missing supplier or location")
    lines = [
        OrderLineView(line, item)
        for line, item in (
            await session.exec(
                select(PurchaseOrderLine, StockItem)
                .join(StockItem, col(StockItem.id) == col(PurchaseOrderLine.stock_item_id))
                .where(PurchaseOrderLine.order_id == order_id)
                .order_by(col(PurchaseOrderLine.id))
            )
        ).all()
    ]
    receipts = list(
        (
            await session.exec(
                select(PurchaseReceipt).where(PurchaseReceipt.order_id == order_id).order_by(col(PurchaseReceipt.id))
            )
        ).all()
    )
    by_receipt: dict[int, list[tuple[PurchaseReceiptLine, StockItem]]] = defaultdict(list)
    if receipts:
        for line, item in (
            await session.exec(
                select(PurchaseReceiptLine, StockItem)
                .join(StockItem, col(StockItem.id) == col(PurchaseReceiptLine.stock_item_id))
                .where(col(PurchaseReceiptLine.receipt_id).in_([r.id for r in receipts]))
                .order_by(col(PurchaseReceiptLine.id))
            )
        ).all():
            by_receipt[line.receipt_id].append((line, item))
    credits = list(
        (
            await session.exec(
                select(SupplierCredit).where(SupplierCredit.order_id == order_id).order_by(col(SupplierCredit.id))
            )
        ).all()
    )
    return OrderView(
        order,
        supplier,
        location,
        lines,
        [ReceiptView(r, by_receipt.get(r.id or 0, [])) for r in receipts],
        credits,
    )


async def payables_by_supplier(session: AsyncSession) -> dict[str, int]:
    """What the books owe each supplier: purchasing's accounts payable lines, each carrying its `supplier`."""
    # Only the payable line of a purchasing entry names its supplier; a JSON column cannot be grouped on
    # PostgreSQL, so the lines are summed here.
    rows = (
        await session.exec(
            select(JournalLine.dimensions, JournalLine.amount_cents)
            .join(JournalEntry, col(JournalEntry.id) == col(JournalLine.entry_id))
            .where(JournalEntry.source_type == "purchasing")
        )
    ).all()
    owed: dict[str, int] = defaultdict(int)
    for dimensions, amount in rows:
        supplier = (dimensions or {}).get("supplier")
        if supplier:
            owed[supplier] -= int(amount)
    return dict(owed)
