"""Posting rules for purchasing: a receipt against a purchase order and a supplier's credit note.

A receipt debits inventory with what its goods were booked at (the order's price), books the invoice's
difference to purchase price variance, and credits accounts payable with the invoice, on the one line
that carries the supplier as its `supplier` dimension (the payables sub-ledger). A credit note debits accounts
payable with the credit, credits inventory with the goods' value as they left, and the difference is
price variance. The entry's key is `stock:<operation>`, as for every stockroom operation, so each posts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import JournalEntry
from app.accounting.services import PostingLine, entry_by_key, post_entry
from app.checks.queries import settings_of
from app.checks.services import business_day
from app.closes import calculations as calc
from app.closes.posting_base import PostingProblem, posting_day, resolve_accounts
from app.inventory import services as inventory
from app.inventory.models import StockOperation
from app.purchasing.models import PurchaseOrder, PurchaseReceipt, Supplier, SupplierCredit
from app.purchasing.services import BOOKED_TOPIC

TOPIC = BOOKED_TOPIC
SOURCE_TYPE = "purchasing"
ROLES = ["inventory", "price_variance", "accounts_payable"]


def source_key(payload: Mapping[str, Any]) -> str:
    """The same key as every stockroom operation's entry."""
    return f"stock:{payload['operation_id']}"


async def post_purchase(session: AsyncSession, payload: Mapping[str, Any]) -> JournalEntry | None:
    """Post a receipt or a credit note once: inventory, price variance, and the supplier's payable."""
    operation_id = int(payload["operation_id"])
    key = source_key(payload)
    existing = await entry_by_key(session, key)
    if existing is not None:
        return existing
    operation = await session.get(StockOperation, operation_id)
    if operation is None:
        raise PostingProblem(f"Stock operation {operation_id} does not exist; nothing can be posted for it.")
    stock_value = sum(move.value_cents for move in await inventory.moves_of(session, operation_id))
    receipt = (
        await session.exec(select(PurchaseReceipt).where(PurchaseReceipt.stock_operation_id == operation_id))
    ).first()
    credit = (
        await session.exec(select(SupplierCredit).where(SupplierCredit.stock_operation_id == operation_id))
    ).first()
    accounts = await resolve_accounts(session, roles=ROLES)
    stock, variance, payable = (accounts.roles[role] for role in ROLES)
    if receipt is not None:
        order = await session.get(PurchaseOrder, receipt.order_id)
        supplier = await session.get(Supplier, order.supplier_id if order else 0)
        owed = -receipt.invoice_cents
        number = order.number if order is not None else "an order"
        reference = f", {receipt.reference}" if receipt.reference else ""
        description = f"Received from {supplier.name if supplier else 'a supplier'} against {number}{reference}"
    elif credit is not None:
        supplier = await session.get(Supplier, credit.supplier_id)
        owed = credit.credit_cents
        reference = f" {credit.reference}" if credit.reference else ""
        description = f"Credit note{reference} from {supplier.name if supplier else 'a supplier'}: {credit.kind.label}"
    else:
        raise PostingProblem(f"Stock operation {operation_id} is neither a receipt nor a credit note.")
    name = supplier.name if supplier is not None else ""
    lines = [
        calc.EntryLine(stock, stock_value, f"{operation.kind.label}: stock"),
        calc.EntryLine(payable, owed, "Accounts payable", {"supplier": name}),
        calc.EntryLine(variance, -(stock_value + owed), f"Purchase price variance: {name}"),
    ]
    if not any(line.amount_cents for line in lines):
        return None  # free goods credited at nothing: nothing for the books
    day = await posting_day(session, business_day(settings_of(session), operation.created_at))
    return await post_entry(
        session,
        date=day,
        description=description[:200],
        lines=[
            PostingLine(line.account, line.amount_cents, line.memo, dict(line.dimensions))
            for line in lines
            if line.amount_cents
        ],
        source_type=SOURCE_TYPE,
        source_id=str(operation_id),
        idempotency_key=key,
        actor_id=operation.actor_id,
    )
