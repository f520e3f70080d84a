"""Purchasing commands: suppliers and their items, weekday pars, purchase orders, receiving.

Each command runs in the caller's transaction and is audited. Stock moves only through inventory: a
receipt books its goods with `receive_delivery` (the same moves, levels and moving-average cost as any
delivery), at the order's price (credit notes, which send goods back, live in credit_notes.py). Neither
writes the stockroom's own ledger row: each writes one `purchasing.booked` outbox row (payload:
operation_id), and the posting layer books inventory, purchase price variance and the supplier's
accounts payable from it once, under the key `stock:<operation>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final, NamedTuple

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import services as inventory
from app.inventory.calculations import format_quantity
from app.inventory.models import StockItem, StockLocation, StockOperation
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.inputs import clean_text
from app.lib.outbox import enqueue
from app.lib.sql import is_postgres
from app.purchasing import calculations
from app.purchasing.models import (
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
    SupplierItem,
    WeekdayPar,
)

BOOKED_TOPIC: Final = "purchasing.booked"
"""Outbox topic of a receipt or a credit note whose value the ledger is owed (payload: operation_id)."""
LINES_MAX: Final = 200
MONEY_MAX_CENTS: Final = 10**11


class OrderLine(NamedTuple):
    """Whole packs of one supplier item to order."""

    supplier_item_id: int
    packs: int


class ReceivedLine(NamedTuple):
    """What came in for one order line: the item delivered (another one for a substitute), quantity, invoice total."""

    order_line_id: int
    stock_item_id: int
    quantity_milli: int
    invoice_cents: int


def _whole(value: object, *, label: str, allow_zero: bool = True, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.")
    if value < 0:
        raise InvalidInput(f"{label} cannot be negative.")
    if value == 0 and not allow_zero:
        raise InvalidInput(f"{label} must be more than zero.")
    if value > most:
        raise InvalidInput(f"{label} is beyond any real order.")
    return value


def _cents(value: object, *, label: str) -> int:
    return _whole(value, label=label, most=MONEY_MAX_CENTS)


# Suppliers and their items ------------------------------------------------------------------------------------


async def create_supplier(
    session: AsyncSession, *, name: str, email: str = "", phone: str = "", actor_id: int | None = None
) -> Supplier:
    """Add someone to buy stock from."""
    name = clean_text(name, label="Name", max_length=80)
    email = clean_text(email, label="Email", max_length=120, required=False)
    phone = clean_text(phone, label="Phone", max_length=40, required=False)
    if email and ("@" not in email or " " in email):
        raise InvalidInput("Email must look like orders@example.com.")
    clash = (await session.exec(select(Supplier).where(func.lower(Supplier.name) == name.lower()))).first()
    if clash is not None:
        raise Conflict(f"A supplier named “{clash.name}” already exists.")
    supplier = Supplier(name=name, email=email or None, phone=phone or None)
    session.add(supplier)
    await session.flush()
    await audit.record(
        session,
        "purchasing.supplier.create",
        actor_id=actor_id,
        subject=f"supplier:{supplier.id}",
        after={"name": name, "email": email or None, "phone": phone or None},
    )
    return supplier


async def _supplier(session: AsyncSession, supplier_id: int) -> Supplier:
    supplier = await session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound("No such supplier.")
    if supplier.archived_at is not None:
        raise Conflict(f"{supplier.name} is archived.")
    return supplier


async def set_supplier_item(
    session: AsyncSession,
    *,
    supplier_id: int,
    stock_item_id: int,
    units_per_pack: int,
    unit_size_milli: int,
    size_unit: str,
    pack_cost_cents: int,
    lead_time_days: int,
    code: str = "",
    actor_id: int | None = None,
) -> SupplierItem:
    """Say how a supplier sells a stock item: its pack (6 x 750 ml), pack price and lead time in days."""
    supplier = await _supplier(session, supplier_id)
    item = await session.get(StockItem, stock_item_id)
    if item is None:
        raise NotFound("No such stock item.")
    if item.archived_at is not None:
        raise Conflict(f"{item.name} is archived.")
    units = _whole(units_per_pack, label="Units per pack", allow_zero=False, most=calculations.PACKS_MAX)
    size = _whole(unit_size_milli, label="Unit size", allow_zero=False, most=10**12)
    cost = _cents(pack_cost_cents, label="Pack price")
    lead = _whole(lead_time_days, label="Lead time", most=calculations.LEAD_TIME_MAX_DAYS)
    code = clean_text(code, label="Supplier's code", max_length=40, required=False)
    try:
        pack_milli = calculations.pack_quantity_milli(units, size, size_unit, item.unit.value)
    except calculations.PackError as exc:
        raise InvalidInput(f"{item.name}: {exc}") from None
    label = f"{units} x {format_quantity(size)} {size_unit}"
    existing = (
        await session.exec(
            select(SupplierItem).where(
                SupplierItem.supplier_id == supplier_id, SupplierItem.stock_item_id == stock_item_id
            )
        )
    ).first()
    before = (
        {
            "pack_milli": existing.pack_milli,
            "pack_cost_cents": existing.pack_cost_cents,
            "lead": existing.lead_time_days,
        }
        if existing is not None
        else None
    )
    row = existing or SupplierItem(
        supplier_id=supplier_id, stock_item_id=stock_item_id, pack_label=label, pack_milli=0, pack_cost_cents=0
    )
    row.pack_label, row.pack_milli, row.pack_cost_cents = label, pack_milli, cost
    row.lead_time_days, row.code, row.archived_at = lead, code or None, None
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "purchasing.supplier_item.set",
        actor_id=actor_id,
        subject=f"supplier:{supplier.id}:stock_item:{stock_item_id}",
        before=before,
        after={"pack": label, "pack_milli": pack_milli, "pack_cost_cents": cost, "lead": lead},
    )
    return row


async def set_weekday_par(
    session: AsyncSession,
    *,
    stock_item_id: int,
    location_id: int,
    weekday: int,
    par_milli: int | None,
    actor_id: int | None = None,
) -> WeekdayPar | None:
    """Set an item's par at a location for one weekday (0 = Monday); None goes back to the everyday par."""
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise InvalidInput("Choose a weekday.")
    item = await session.get(StockItem, stock_item_id)
    if item is None or item.archived_at is not None:
        raise NotFound("No such stock item.")
    location = await session.get(StockLocation, location_id)
    if location is None or location.archived_at is not None:
        raise InvalidInput("Unknown stock location.")
    if par_milli is not None:
        par_milli = inventory._quantity(par_milli, label="Par level", allow_zero=True)
    row = (
        await session.exec(
            select(WeekdayPar).where(
                WeekdayPar.stock_item_id == stock_item_id,
                WeekdayPar.location_id == location_id,
                WeekdayPar.weekday == weekday,
            )
        )
    ).first()
    before = row.par_milli if row is not None else None
    if par_milli is None:
        if row is not None:
            await session.delete(row)
        result = None
    else:
        result = row or WeekdayPar(stock_item_id=stock_item_id, location_id=location_id, weekday=weekday, par_milli=0)
        result.par_milli = par_milli
        session.add(result)
    await session.flush()
    await audit.record(
        session,
        "purchasing.weekday_par.set",
        actor_id=actor_id,
        subject=f"stock_level:{stock_item_id}:{location_id}",
        before={"weekday": weekday, "par_milli": before},
        after={"weekday": weekday, "par_milli": par_milli},
    )
    return result


# Purchase orders -------------------------------------------------------------------------------------------------


async def create_order(
    session: AsyncSession,
    *,
    supplier_id: int,
    location_id: int,
    lines: Sequence[OrderLine | tuple[int, int]],
    expected_on: dt.date | None = None,
    note: str = "",
    send: bool = False,
    actor_id: int | None = None,
) -> PurchaseOrder:
    """Write an order to a supplier for delivery into a location; lines of zero packs are left out."""
    supplier = await _supplier(session, supplier_id)
    location = await session.get(StockLocation, location_id)
    if location is None or location.archived_at is not None:
        raise InvalidInput("Choose where the order is delivered.")
    note = clean_text(note, label="Note", max_length=200, required=False)
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines on one order.")
    items = {
        row.id: row
        for row in (await session.exec(select(SupplierItem).where(SupplierItem.supplier_id == supplier_id))).all()
    }
    chosen: list[tuple[SupplierItem, int]] = []
    seen: set[int] = set()
    for position, raw in enumerate(lines, start=1):
        line = OrderLine(*raw)
        packs = _whole(line.packs, label=f"Line {position} packs", most=calculations.PACKS_MAX)
        row = items.get(line.supplier_item_id)
        if row is None or row.archived_at is not None:
            raise InvalidInput(
                f"Line {position}: {supplier.name} does not sell that item; add it to the supplier first."
            )
        if row.id in seen:
            raise InvalidInput(f"Line {position}: that item is already on this order; add the packs up.")
        seen.add(row.id or 0)
        if packs:
            chosen.append((row, packs))
    if not chosen:
        raise InvalidInput("An order needs at least one line with one pack or more.")
    order = PurchaseOrder(
        supplier_id=supplier_id,
        location_id=location_id,
        expected_on=expected_on,
        note=note or None,
        created_by=actor_id,
    )
    session.add(order)
    await session.flush()
    for row, packs in chosen:
        session.add(
            PurchaseOrderLine(
                order_id=order.id or 0,
                supplier_item_id=row.id or 0,
                stock_item_id=row.stock_item_id,
                packs=packs,
                pack_label=row.pack_label,
                pack_milli=row.pack_milli,
                pack_cost_cents=row.pack_cost_cents,
            )
        )
    await session.flush()
    await audit.record(
        session,
        "purchasing.order.create",
        actor_id=actor_id,
        subject=f"purchase_order:{order.id}",
        after={"supplier": supplier.name, "lines": [[row.id, packs] for row, packs in chosen]},
    )
    if send:
        await send_order(session, order.id or 0, actor_id=actor_id)
    return order


async def order_for_update(session: AsyncSession, order_id: int) -> PurchaseOrder:
    """The order, locked on PostgreSQL, or a clear refusal."""
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    if is_postgres(session):
        query = query.with_for_update()
    order = (await session.exec(query.execution_options(populate_existing=True))).first()
    if order is None:
        raise NotFound("No such purchase order.")
    return order


async def send_order(session: AsyncSession, order_id: int, *, actor_id: int | None = None) -> PurchaseOrder:
    """Mark a draft as sent to the supplier: from now on goods are received against it."""
    order = await order_for_update(session, order_id)
    if order.status is not OrderStatus.DRAFT:
        raise Conflict(f"{order.number} is {order.status.label.lower()}; only a draft is sent.")
    order.status, order.sent_at = OrderStatus.SENT, utcnow()
    session.add(order)
    await session.flush()
    await audit.record(session, "purchasing.order.send", actor_id=actor_id, subject=f"purchase_order:{order_id}")
    return order


async def close_order(
    session: AsyncSession, order_id: int, *, reason: str = "", actor_id: int | None = None
) -> PurchaseOrder:
    """Expect nothing more on an order: a draft is cancelled, a sent or partly received one closed short."""
    order = await order_for_update(session, order_id)
    reason = clean_text(reason, label="Reason", max_length=200, required=False)
    if order.status is OrderStatus.DRAFT:
        order.status = OrderStatus.CANCELLED
    elif order.status.open:
        order.status = OrderStatus.CLOSED
    else:
        raise Conflict(f"{order.number} is already {order.status.label.lower()}.")
    order.closed_at = utcnow()
    session.add(order)
    await session.flush()
    await audit.record(
        session,
        "purchasing.order.close",
        actor_id=actor_id,
        subject=f"purchase_order:{order_id}",
        reason=reason or None,
        after={"status": order.status.value},
    )
    return order


async def order_lines(session: AsyncSession, order_id: int) -> list[PurchaseOrderLine]:
    """An order's lines, in the order they were written."""
    return list(
        (
            await session.exec(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.order_id == order_id)
                .order_by(col(PurchaseOrderLine.id))
            )
        ).all()
    )


# Receiving -----------------------------------------------------------------------------------------------------


async def receive_order(
    session: AsyncSession,
    *,
    order_id: int,
    lines: Sequence[ReceivedLine | tuple[int, int, int, int]],
    source_key: str,
    reference: str = "",
    actor_id: int | None = None,
) -> PurchaseReceipt:
    """Book what a delivery brought against an order: part, all, more, or a substitute for a line.

    Goods go into stock at the order's price (a substitute, which has none, at its invoice), through
    the same delivery booking as any other; an invoice that differs from the order's price is kept
    line by line and its difference posts to purchase price variance. Once per `source_key`.
    """
    key = clean_text(source_key, label="Source key", max_length=inventory.KEY_MAX)
    reference = clean_text(reference, label="Delivery note", max_length=80, required=False)
    order = await order_for_update(session, order_id)
    # Looked up with the order locked, so a twin submit waiting on the lock finds the first one's receipt.
    done = await _receipt_by_key(session, key)
    if done is not None:
        return done
    if not order.status.open:
        raise Conflict(f"{order.number} is {order.status.label.lower()}; nothing can be received against it.")
    supplier = await session.get(Supplier, order.supplier_id)
    ordered = {line.id: line for line in await order_lines(session, order_id)}
    if not lines:
        raise InvalidInput("Enter at least one received quantity.")
    if len(lines) > LINES_MAX:
        raise InvalidInput(f"At most {LINES_MAX} lines at a time.")
    booked: list[PurchaseReceiptLine] = []
    for position, raw in enumerate(lines, start=1):
        line = ReceivedLine(*raw)
        order_line = ordered.get(line.order_line_id)
        if order_line is None:
            raise InvalidInput(f"Line {position}: that is not a line of {order.number}.")
        quantity = inventory._quantity(line.quantity_milli, label=f"Line {position} quantity")
        invoice = _cents(line.invoice_cents, label=f"Line {position} invoice total")
        substitute = line.stock_item_id != order_line.stock_item_id
        if substitute:
            item = await session.get(StockItem, line.stock_item_id)
            if item is None or item.archived_at is not None:
                raise InvalidInput(f"Line {position}: unknown stock item for the substitute.")
            at_order_price = invoice
        else:
            at_order_price = calculations.ordered_value_cents(
                quantity, order_line.pack_milli, order_line.pack_cost_cents
            )
        booked.append(
            PurchaseReceiptLine(
                receipt_id=0,
                order_line_id=order_line.id,
                stock_item_id=line.stock_item_id,
                substitute=substitute,
                quantity_milli=quantity,
                invoice_cents=invoice,
                ordered_cents=at_order_price,
            )
        )
    moves = await inventory.receive_delivery(
        session,
        location_id=order.location_id,
        lines=[inventory.ReceiptLine(b.stock_item_id, b.quantity_milli, b.ordered_cents) for b in booked],
        supplier=supplier.name if supplier is not None else "",
        reference=reference or order.number,
        actor_id=actor_id,
        source_key=key,
        to_ledger=False,
    )
    operation_id = moves[0].operation_id
    twin = (
        await session.exec(select(PurchaseReceipt).where(PurchaseReceipt.stock_operation_id == operation_id))
    ).first()
    if twin is not None:
        return twin  # a concurrent submit of the same form booked it first
    receipt = PurchaseReceipt(
        order_id=order_id,
        stock_operation_id=operation_id,
        reference=reference or None,
        invoice_cents=sum(b.invoice_cents for b in booked),
        ordered_cents=sum(b.ordered_cents for b in booked),
        actor_id=actor_id,
    )
    session.add(receipt)
    await session.flush()
    for b in booked:
        b.receipt_id = receipt.id or 0
        session.add(b)
        order_line = ordered[b.order_line_id]
        # A substitute stands in for what was ordered: the line is delivered, in another item.
        order_line.received_milli += order_line.ordered_milli if b.substitute else b.quantity_milli
        session.add(order_line)
    before = order.status
    order.status = (
        OrderStatus.RECEIVED
        if all(line.received_milli >= line.ordered_milli for line in ordered.values())
        else OrderStatus.PARTIAL
    )
    session.add(order)
    await session.flush()
    await enqueue(session, BOOKED_TOPIC, {"operation_id": operation_id}, dedupe_key=f"{BOOKED_TOPIC}:{operation_id}")
    await audit.record(
        session,
        "purchasing.order.receive",
        actor_id=actor_id,
        subject=f"purchase_order:{order_id}",
        before={"status": before.value},
        after={
            "status": order.status.value,
            "receipt": receipt.id,
            "operation": operation_id,
            "invoice_cents": receipt.invoice_cents,
            "ordered_cents": receipt.ordered_cents,
            "lines": [[b.order_line_id, b.stock_item_id, b.quantity_milli, b.invoice_cents] for b in booked],
        },
    )
    return receipt


async def _receipt_by_key(session: AsyncSession, key: str) -> PurchaseReceipt | None:
    return (
        await session.exec(
            select(PurchaseReceipt)
            .join(StockOperation, col(StockOperation.id) == col(PurchaseReceipt.stock_operation_id))
            .where(StockOperation.source_key == key)
        )
    ).first()
