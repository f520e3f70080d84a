"""Read models of invoices: the list for the office, one document, and the pages the API serves."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.invoices.models import CustomerInvoice
from app.lib.errors import NotFound


async def recent(session: AsyncSession, *, limit: int = 200) -> list[CustomerInvoice]:
    """The latest invoices and credit notes, newest first."""
    rows = await session.exec(select(CustomerInvoice).order_by(col(CustomerInvoice.sequence).desc()).limit(limit))
    return list(rows.all())


async def document(session: AsyncSession, invoice_id: int) -> CustomerInvoice:
    """One invoice or credit note, or a refusal."""
    found = await session.get(CustomerInvoice, invoice_id)
    if found is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return found


async def related(session: AsyncSession, invoice: CustomerInvoice) -> list[CustomerInvoice]:
    """The invoice a credit note credits, or the credit notes issued against an invoice."""
    if invoice.credits_invoice_id is not None:
        credited = await session.get(CustomerInvoice, invoice.credits_invoice_id)
        return [credited] if credited is not None else []
    rows = await session.exec(
        select(CustomerInvoice)
        .where(CustomerInvoice.credits_invoice_id == invoice.id)
        .order_by(col(CustomerInvoice.sequence))
    )
    return list(rows.all())


async def after(session: AsyncSession, *, sequence: int, limit: int) -> tuple[list[CustomerInvoice], bool]:
    """Documents issued after a place in the venue's issue order, oldest first, and whether more follow."""
    rows = list(
        (
            await session.exec(
                select(CustomerInvoice)
                .where(col(CustomerInvoice.sequence) > sequence)
                .order_by(col(CustomerInvoice.sequence))
                .limit(limit + 1)
            )
        ).all()
    )
    return rows[:limit], len(rows) > limit


async def numbers_of(session: AsyncSession, invoice_ids: list[int]) -> dict[int, str]:
    """The document numbers of these invoices, by id."""
    if not invoice_ids:
        return {}
    rows = await session.exec(
        select(CustomerInvoice.id, CustomerInvoice.document_number).where(col(CustomerInvoice.id).in_(invoice_ids))
    )
    return {row_id or 0: number for row_id, number in rows.all()}
