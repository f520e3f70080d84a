"""Posting mappings (what posts to which account or stock location) and retrying posting exceptions.

Each command runs in the caller's write transaction and refuses bad input with a message before it
changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code
from app.accounting.chart import sales_tax_code
from app.accounting.models import Account, AccountType
from app.checks.events import CashHandled, TenderSaved
from app.checks.models import Tender, TenderKind
from app.closes import calculations as calc
from app.closes import posting_base, postings
from app.closes.drawers import place_cash
from app.closes.guards import _require
from app.closes.models import ExceptionStatus, MappingKind, PostingException, PostingMapping
from app.inventory.models import StockLocation
from app.kitchen.models import Station
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.events import EventBus
from app.lib.outbox import RetryLater
from app.menu.models import Course, MenuCategory, TaxRate
from app.staff.models import Staff
from app.staff.permissions import Perm

DEMO_REVENUE: Final[dict[str, str]] = {
    "Cocktails": "4030",
    "Beer & Cider": "4030",
    "Wine": "4030",
    "Soft Drinks & Coffee": "4020",
}


TENDER_ACCOUNTS: Final[dict[TenderKind, str]] = {
    TenderKind.CASH: "1010",
    TenderKind.CARD: "1020",
    TenderKind.HOUSE_ACCOUNT: "1030",
    TenderKind.OTHER: "1040",
    TenderKind.GIFT_CARD: "2010",
}


ROLE_ACCOUNTS: Final[dict[str, str]] = {
    "discounts": "4500",
    "comps": "4510",
    "promotions": "4520",
    "service_charge": "4100",
    "tips_payable": "2020",
    "cogs": "5010",
    "inventory": "1100",
    "waste": "5020",
    "accounts_payable": "2030",
    "stock_variance": "5030",
    "price_variance": "5040",
    "over_short": "6010",
    "cash_drawers": "1010",
    "cash_safe": "1900",
    "pay_outs": "6000",
    "gift_cards": "2010",
}


async def seed_posting_mappings(session: AsyncSession) -> int:
    """Map the menu, tenders, tax rates, stations and house accounts to the standard chart, where unmapped.

    Only accounts that exist are used, so a venue with its own chart keeps its gaps for a person to fill.
    Returns how many mappings were added.
    """
    existing = {(m.kind, m.subject) for m in (await session.exec(select(PostingMapping))).all()}
    codes = {a.code for a in (await session.exec(select(Account).where(col(Account.archived_at).is_(None)))).all()}
    added = 0

    def add(kind: MappingKind, subject: str, code: str | None = None, location_id: int | None = None) -> None:
        nonlocal added
        if (kind, subject) in existing or (code is not None and code not in codes):
            return
        session.add(PostingMapping(kind=kind, subject=subject, account_code=code, stock_location_id=location_id))
        existing.add((kind, subject))
        added += 1

    for category in (await session.exec(select(MenuCategory))).all():
        code = DEMO_REVENUE.get(category.name) or ("4020" if category.course is Course.DRINKS else "4010")
        add(MappingKind.CATEGORY, str(category.id), code)
    for tender in (await session.exec(select(Tender))).all():
        # The tender's own ledger account when the chart has it, so the tender page and the postings agree.
        own = tender.ledger_account_code if tender.ledger_account_code in codes else None
        add(MappingKind.TENDER, str(tender.id), own or TENDER_ACCOUNTS.get(tender.kind))
    rates = sorted({r.rate_bp for r in (await session.exec(select(TaxRate))).all()})
    for rate in (await session.exec(select(TaxRate))).all():
        add(MappingKind.TAX_RATE, str(rate.id), sales_tax_code(rates.index(rate.rate_bp)))
    for role, code in ROLE_ACCOUNTS.items():
        add(MappingKind.ACCOUNT, role, code)
    locations = {loc.name: loc.id for loc in (await session.exec(select(StockLocation))).all()}
    if locations:
        kitchen = locations.get("Kitchen") or next(iter(locations.values()))
        for station in (await session.exec(select(Station))).all():
            add(MappingKind.STATION, str(station.id), None, locations.get(station.name) or kitchen)
        add(MappingKind.STATION, "default", None, kitchen)
    await session.flush()
    return added


async def save_mapping(
    session: AsyncSession,
    *,
    kind: MappingKind | str,
    subject: str,
    actor: Staff,
    account_code: str | None = None,
    stock_location_id: int | None = None,
) -> PostingMapping:
    """Point a category, tender, tax rate or house role at an account (or a station at a stock location)."""
    _require(actor, Perm.ACCOUNTING_MANAGE, "change posting mappings")
    try:
        kind = MappingKind(kind)
    except ValueError:
        raise InvalidInput("Unknown kind of mapping.") from None
    subject = (subject or "").strip()
    names = await posting_base.subject_names(session)
    known: Mapping[str, str]
    if kind is MappingKind.CATEGORY:
        known = {str(k): v for k, v in names.categories.items()}
    elif kind is MappingKind.TENDER:
        known = {str(k): v for k, v in names.tenders.items()}
    elif kind is MappingKind.TAX_RATE:
        known = {str(k): v for k, v in names.tax_rates.items()}
    elif kind is MappingKind.STATION:
        known = {**{str(k): v for k, v in names.stations.items()}, "default": "items without a station"}
    else:
        known = calc.ACCOUNT_ROLES
    if subject not in known:
        raise InvalidInput("That mapping's subject does not exist; reload the page.")
    row = await _mapping_row(session, kind, subject)
    before = _mapping_state(row)
    row = row or PostingMapping(kind=kind, subject=subject)
    if kind is MappingKind.STATION:
        if stock_location_id is None:
            raise InvalidInput(f"Choose the stock location {known[subject]} draws from.")
        location = await session.get(StockLocation, stock_location_id)
        if location is None or location.archived_at is not None:
            raise InvalidInput("That stock location does not exist or is archived.")
        row.stock_location_id = stock_location_id
        row.account_code = None
    else:
        code = (account_code or "").strip()
        if not code:
            raise InvalidInput(f"Choose the account for {known[subject]}.")
        account = await account_by_code(session, code)
        if account is None:
            raise InvalidInput(f"Account {code} is not in the chart of accounts.")
        if account.archived_at is not None:
            raise InvalidInput(f"Account {account.label} is archived; choose a live account.")
        if kind is MappingKind.TENDER:
            await _tender_follows_mapping(session, int(subject), account)
        row.account_code = code
        row.stock_location_id = None
    return await _store_mapping(session, row, before, actor_id=actor.id)


async def _mapping_row(session: AsyncSession, kind: MappingKind, subject: str) -> PostingMapping | None:
    query = select(PostingMapping).where(PostingMapping.kind == kind, PostingMapping.subject == subject)
    return (await session.exec(query)).first()


def _mapping_state(row: PostingMapping | None) -> dict[str, Any] | None:
    return {"account_code": row.account_code, "stock_location_id": row.stock_location_id} if row else None


async def _store_mapping(
    session: AsyncSession, row: PostingMapping, before: dict[str, Any] | None, *, actor_id: int | None
) -> PostingMapping:
    """Write a changed mapping, stamped with who changed it, and audit it from `before`."""
    row.updated_by, row.updated_at = actor_id, utcnow()
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        "closes.mapping",
        actor_id=actor_id,
        subject=f"mapping:{MappingKind(row.kind).value}:{row.subject}",
        before=before,
        after=_mapping_state(row),
    )
    return row


async def _tender_follows_mapping(session: AsyncSession, tender_id: int, account: Account) -> None:
    """The tenders page shows the account a tender posts to: a tender's mapping and its account stay one."""
    if account.type not in (AccountType.ASSET, AccountType.LIABILITY):
        raise InvalidInput(
            f"Account {account.label} is not an asset or a liability; a tender's money goes to one of those."
        )
    tender = await session.get(Tender, tender_id)
    if tender is not None and tender.ledger_account_code != account.code:
        tender.ledger_account_code = account.code
        session.add(tender)


async def follow_tender_account(session: AsyncSession, event: TenderSaved) -> None:
    """A tender saved with a ledger account posts there from now on: its posting mapping follows, audited."""
    row = await _mapping_row(session, MappingKind.TENDER, str(event.tender_id))
    if row is not None and row.account_code == event.account_code:
        return
    before = _mapping_state(row)
    row = row or PostingMapping(kind=MappingKind.TENDER, subject=str(event.tender_id))
    row.account_code, row.stock_location_id = event.account_code, None
    await _store_mapping(session, row, before, actor_id=event.actor_id)


def wire(bus: EventBus) -> None:
    """Keep a tender's posting mapping on the account the tenders page gives it, and put cash in a drawer,
    in the same transaction."""
    bus.subscribe(TenderSaved, follow_tender_account)
    bus.subscribe(CashHandled, place_cash)


async def retry_exception(session: AsyncSession, *, exception_id: int, actor: Staff) -> PostingException:
    """Try a failed posting again: it posts once, or the exception keeps its (new) reason."""
    _require(actor, Perm.ACCOUNTING_MANAGE, "retry postings")
    query = select(PostingException).where(PostingException.id == exception_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("That posting exception does not exist.")
    if row.status is ExceptionStatus.RESOLVED:
        return row
    try:
        await postings.attempt(session, row.topic, dict(row.payload), actor_id=actor.id)
    except RetryLater as exc:
        raise Conflict(f"Not yet: {exc}. Retry once the earlier posting is in the books.") from None
    await session.refresh(row)
    await audit.record(
        session,
        "closes.posting_retry",
        actor_id=actor.id,
        subject=f"posting:{row.source_key}",
        after={"status": row.status.value, "reason": row.reason if row.status is ExceptionStatus.OPEN else None},
    )
    return row
