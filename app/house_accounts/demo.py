"""The demo restaurant's house accounts: a firm that sends its clients to lunch and a club with a monthly tab."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.house_accounts.services import AccountFields, open_account
from app.staff.models import Staff
from app.staff.permissions import Role

DEMO_ACCOUNTS = (
    AccountFields(
        name="Quayside Architects",
        credit_limit_cents=150_000,
        contact_name="Office manager",
        email="office@quayside.example",
        billing_address="Prinsengracht 200\n1016 HD Amsterdam",
        vat_number="NL001234567B01",
    ),
    AccountFields(
        name="Amstel Rowing Club",
        credit_limit_cents=50_000,
        contact_name="Treasurer",
        email="treasurer@rowing.example",
        billing_address="Mauritskade 10\n1091 GC Amsterdam",
    ),
)


async def seed_demo_house_accounts(session: AsyncSession) -> None:
    """Open the demo's house accounts, as the demo manager."""
    manager = (
        await session.exec(select(Staff).where(Staff.role == Role.MANAGER).order_by(col(Staff.id)).limit(1))
    ).first()
    if manager is None:
        return
    for fields in DEMO_ACCOUNTS:
        await open_account(session, fields, actor_id=manager.id or 0)
