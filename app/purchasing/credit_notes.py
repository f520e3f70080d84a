"""Supplier credit notes: goods sent back to a supplier (returned, or damaged on arrival), stock out and payable down.

A credit note sends its goods back through inventory's `return_to_supplier` and, like a receipt, writes one
`purchasing.booked` outbox row (payload: operation_id) from which the posting layer books it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import services as inventory
from app.inventory import supplier_returns
from app.inventory.models import StockOperation
from app.lib import audit
from app.lib.errors import InvalidInput
from app.lib.inputs import clean_text
from app.lib.outbox import enqueue
from app.purchasing.models import CreditKind, PurchaseOrder, SupplierCredit, SupplierItem
from app.purchasing.services import BOOKED_TOPIC, _cents, _supplier


class CreditLine(NamedTuple):
    """A quantity of one item going back to the supplier, and what the supplier credits for it."""

    stock_item_id: int
    quantity_milli: int
    credit_cents: int


async def record_credit(
    session: AsyncSession,
    *,
    supplier_id: int,
    kind: str,
    location_id: int,
    lines: Sequence[CreditLine | tuple[int, int, int]],
    source_key: str,
    reference: str = "",
    order_id: int | None = None,
    actor_id: int | None = None,
) -> SupplierCredit:
    """A supplier's credit note for goods sent back (returned, or damaged on arrival): stock out, payable down.

    The goods leave at their average cost; what the supplier credits beyond or short of that is
    purchase price variance. Once per `source_key`.
    """
    key = clean_text(source_key, label="Source key", max_length=inventory.KEY_MAX)
    reference = clean_text(reference, label="Credit note", max_length=80, required=False)
    done = (
        await session.exec(
            select(SupplierCredit)
            .join(StockOperation, col(StockOperation.id) == col(SupplierCredit.stock_operation_id))
            .where(StockOperation.source_key == key)
        )
    ).first()
    if done is not None:
        return done
    try:
        credit_kind = CreditKind(kind)
    except ValueError:
        raise InvalidInput("Say whether the goods were returned or damaged.") from None
    supplier = await _supplier(session, supplier_id)
    if order_id is not None:
        order = await session.get(PurchaseOrder, order_id)
        if order is None or order.supplier_id != supplier_id:
            raise InvalidInput(f"That purchase order is not one of {supplier.name}'s.")
    sold = set(
        (await session.exec(select(SupplierItem.stock_item_id).where(SupplierItem.supplier_id == supplier_id))).all()
    )
    if not lines:
        raise InvalidInput("A credit note needs at least one line with an item and a quantity.")
    checked: list[CreditLine] = []
    for position, raw in enumerate(lines, start=1):
        line = CreditLine(*raw)
        if line.stock_item_id not in sold:
            raise InvalidInput(f"Line {position}: {supplier.name} does not sell that item.")
        quantity = inventory._quantity(line.quantity_milli, label=f"Line {position} quantity")
        checked.append(
            CreditLine(line.stock_item_id, quantity, _cents(line.credit_cents, label=f"Line {position} credit"))
        )
    moves = await supplier_returns.return_to_supplier(
        session,
        location_id=location_id,
        lines=[(line.stock_item_id, line.quantity_milli) for line in checked],
        supplier=supplier.name,
        reference=reference,
        source_key=key,
        actor_id=actor_id,
    )
    operation_id = moves[0].operation_id
    twin = (await session.exec(select(SupplierCredit).where(SupplierCredit.stock_operation_id == operation_id))).first()
    if twin is not None:
        return twin  # a concurrent submit of the same form booked it first
    credit = SupplierCredit(
        supplier_id=supplier_id,
        order_id=order_id,
        kind=credit_kind,
        stock_operation_id=operation_id,
        reference=reference or None,
        credit_cents=sum(line.credit_cents for line in checked),
        stock_cents=inventory.total_cost_cents(moves),
        actor_id=actor_id,
    )
    session.add(credit)
    await session.flush()
    await enqueue(session, BOOKED_TOPIC, {"operation_id": operation_id}, dedupe_key=f"{BOOKED_TOPIC}:{operation_id}")
    await audit.record(
        session,
        "purchasing.credit.record",
        actor_id=actor_id,
        subject=f"supplier:{supplier_id}",
        after={
            "credit": credit.id,
            "kind": credit_kind.value,
            "operation": operation_id,
            "credit_cents": credit.credit_cents,
            "stock_cents": credit.stock_cents,
            "order": order_id,
        },
    )
    return credit
