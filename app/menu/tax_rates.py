"""Tax rates: add, change, archive (refused while live categories charge it) and restore."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import Conflict
from app.lib.events import emit
from app.lib.inputs import clean_text, whole_number
from app.menu.events import MenuChanged
from app.menu.guards import listing, record_change, row_to_change, set_archived, snapshot
from app.menu.inputs import NAME_MAX
from app.menu.models import MenuCategory, TaxRate


@dataclass(frozen=True)
class TaxRateFields:
    """A tax rate as a manager describes it."""

    name: str
    rate_bp: int


async def _check_tax_rate(session: AsyncSession, fields: TaxRateFields, tax_id: int | None) -> TaxRateFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    rate_bp = whole_number(fields.rate_bp, label="Rate (basis points)", minimum=0, maximum=10000)
    clash = (
        await session.exec(select(TaxRate).where(func.lower(TaxRate.name) == name.lower(), TaxRate.id != tax_id))
    ).first()
    if clash is not None:
        archived = " (archived; restore it instead)" if clash.archived_at else ""
        raise Conflict(f"A tax rate named “{clash.name}” already exists{archived}.")
    return TaxRateFields(name=name, rate_bp=rate_bp)


async def create_tax_rate(session: AsyncSession, fields: TaxRateFields, *, actor_id: int | None) -> TaxRate:
    """Add a tax rate categories can use."""
    fields = await _check_tax_rate(session, fields, None)
    tax = TaxRate(name=fields.name, rate_bp=fields.rate_bp)
    session.add(tax)
    await session.flush()
    await record_change(session, "menu.tax_rate.create", f"tax_rate:{tax.id}", actor_id, after=snapshot(tax))
    await emit(session, MenuChanged("tax_rate", tax.id or 0))
    return tax


async def update_tax_rate(
    session: AsyncSession, tax_id: int, fields: TaxRateFields, *, actor_id: int | None
) -> TaxRate:
    """Rename a tax rate or change its rate; lines already rung in keep the rate they were sold at."""
    tax = await row_to_change(session, TaxRate, tax_id, what="tax rate")
    fields = await _check_tax_rate(session, fields, tax_id)
    before = snapshot(tax)
    tax.name, tax.rate_bp = fields.name, fields.rate_bp
    session.add(tax)
    await session.flush()
    await record_change(
        session, "menu.tax_rate.update", f"tax_rate:{tax_id}", actor_id, before=before, after=snapshot(tax)
    )
    await emit(session, MenuChanged("tax_rate", tax_id))
    return tax


async def archive_tax_rate(session: AsyncSession, tax_id: int, *, actor_id: int | None) -> TaxRate:
    """Retire a tax rate; refused while live categories still charge it."""
    tax = await row_to_change(session, TaxRate, tax_id, what="tax rate")
    if tax.archived_at is not None:
        return tax
    users = (
        await session.exec(
            select(MenuCategory.name).where(MenuCategory.tax_rate_id == tax_id, col(MenuCategory.archived_at).is_(None))
        )
    ).all()
    if users:
        raise Conflict(f"“{tax.name}” is still charged by {listing(users)}; give them another rate first.")
    return await set_archived(session, tax, "menu.tax_rate", "tax_rate", utcnow(), actor_id)


async def restore_tax_rate(session: AsyncSession, tax_id: int, *, actor_id: int | None) -> TaxRate:
    """Bring an archived tax rate back."""
    tax = await row_to_change(session, TaxRate, tax_id, what="tax rate")
    return await set_archived(session, tax, "menu.tax_rate", "tax_rate", None, actor_id)
