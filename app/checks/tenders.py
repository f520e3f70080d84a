"""The tenders a restaurant takes: the demo set, saving and archiving."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import live_account
from app.accounting.models import AccountType
from app.checks.events import TenderSaved
from app.checks.models import Tender, TenderKind
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import emit
from app.staff.models import Staff

# ---------------------------------------------------------------------------------------------- tenders


DEMO_TENDERS: tuple[tuple[str, TenderKind, str, bool, bool, bool], ...] = (
    # name, kind, ledger account code, tips, drawer, terminal
    ("Cash", TenderKind.CASH, "1010", False, True, False),
    ("Card", TenderKind.CARD, "1020", True, False, True),
    ("Gift card", TenderKind.GIFT_CARD, "2010", False, False, False),
    ("House account", TenderKind.HOUSE_ACCOUNT, "1030", True, False, False),
)


async def seed_tenders(session: AsyncSession) -> list[Tender]:
    """The usual tenders, each with the ledger account its money goes to; existing names are left alone."""
    existing = {t.name for t in (await session.exec(select(Tender))).all()}
    created: list[Tender] = []
    for position, (name, kind, account, tips, drawer, terminal) in enumerate(DEMO_TENDERS):
        if name in existing:
            continue
        tender = Tender(
            name=name,
            kind=kind,
            ledger_account_code=account,
            allows_tip=tips,
            opens_drawer=drawer,
            uses_terminal=terminal,
            sort_order=position,
        )
        session.add(tender)
        created.append(tender)
    await session.flush()
    return created


async def save_tender(
    session: AsyncSession,
    *,
    actor: Staff,
    name: str,
    kind: TenderKind | str,
    ledger_account_code: str,
    allows_tip: bool = False,
    opens_drawer: bool = False,
    uses_terminal: bool = False,
    sort_order: int = 0,
    tender_id: int | None = None,
) -> Tender:
    """Add or change a tender a manager configures."""
    name = name.strip()
    if not name or len(name) > 40:
        raise InvalidInput("Give the tender a name of at most 40 characters.")
    code = ledger_account_code.strip()
    if not code or len(code) > 20 or not code.replace("-", "").replace(".", "").isalnum():
        raise InvalidInput("The ledger account code is 1 to 20 letters or digits, like 1020.")
    await live_account(session, code, label="Ledger account", types=(AccountType.ASSET, AccountType.LIABILITY))
    try:
        kind = TenderKind(kind)
    except ValueError:
        raise InvalidInput("Choose cash, card, gift card, house account or other.") from None
    if uses_terminal and kind is not TenderKind.CARD:
        raise InvalidInput("Only card tenders go through the payment terminal.")
    clash = (await session.exec(select(Tender).where(Tender.name == name, Tender.id != tender_id))).first()
    if clash is not None:
        raise Conflict(f"A tender called {name} already exists.")
    if tender_id is None:
        tender = Tender(name=name, kind=kind, ledger_account_code=code)
        before = None
    else:
        found = await session.get(Tender, tender_id)
        if found is None:
            raise NotFound("That tender does not exist.")
        tender = found
        before = tender.model_dump(mode="json")
    tender.name, tender.kind, tender.ledger_account_code = name, kind, code
    tender.allows_tip, tender.opens_drawer, tender.uses_terminal = allows_tip, opens_drawer, uses_terminal
    tender.sort_order = sort_order
    session.add(tender)
    await session.flush()
    await emit(session, TenderSaved(tender_id=tender.id or 0, account_code=code, actor_id=actor.id))
    await audit.record(
        session,
        "checks.tender_save",
        actor_id=actor.id,
        subject=f"tender:{tender.id}",
        before=before,
        after=tender.model_dump(mode="json"),
    )
    return tender


async def archive_tender(session: AsyncSession, *, tender_id: int, actor: Staff) -> Tender:
    """Stop offering a tender; payments made with it keep pointing at it."""
    tender = await session.get(Tender, tender_id)
    if tender is None:
        raise NotFound("That tender does not exist.")
    if tender.archived_at is None:
        tender.archived_at = utcnow()
        session.add(tender)
        await audit.record(session, "checks.tender_archive", actor_id=actor.id, subject=f"tender:{tender.id}")
    return tender
