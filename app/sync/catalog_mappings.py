"""A catalog release reaches the venue's ledger: its tax rates and categories map to accounts, or it is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.chart import SALES_TAX_PARENT
from app.accounting.models import Account
from app.closes.models import MappingKind, PostingMapping
from app.lib.clock import utcnow
from app.lib.errors import DomainError
from app.menu.models import Course, MenuCategory, TaxRate


class CatalogRefused(DomainError):
    """A release this venue cannot apply as it stands; nothing of it was applied."""

    status_code = 409
    code = "catalog_refused"


def _percent(rate_bp: int) -> str:
    return f"{(Decimal(rate_bp) / 100).normalize():f} %"


async def _live_accounts(session: AsyncSession) -> dict[str, Account]:
    return {a.code: a for a in (await session.exec(select(Account).where(col(Account.archived_at).is_(None)))).all()}


async def ensure_mappings(
    session: AsyncSession, rates: dict[str, TaxRate], categories: dict[str, MenuCategory], catalog: dict[str, Any]
) -> None:
    """Every tax rate and category of the release must reach the venue's ledger, or the release does not apply.

    A rate or category new here is mapped the way the standard chart would (a rate to the tax payable account
    of its percentage, or of another rate with the same percentage; a category to food or beverage sales), when
    that account exists; otherwise the release is refused, saying what to map.
    """
    accounts = await _live_accounts(session)
    mappings = {(m.kind, m.subject): m for m in (await session.exec(select(PostingMapping))).all()}
    parent = accounts.get(SALES_TAX_PARENT)
    for raw in catalog["tax_rates"]:
        rate = rates[raw["name"]]
        current = mappings.get((MappingKind.TAX_RATE, str(rate.id)))
        if current is not None and current.account_code in accounts:
            continue
        code: str | None = None
        for other in rates.values():
            mapped = mappings.get((MappingKind.TAX_RATE, str(other.id)))
            if other.rate_bp == rate.rate_bp and mapped is not None and mapped.account_code in accounts:
                code = mapped.account_code
                break
        if code is None:
            wanted = f"Sales tax payable {_percent(rate.rate_bp)}"
            for account in accounts.values():
                if account.name == wanted and (parent is None or account.parent_id == parent.id):
                    code = account.code
                    break
        if code is None:
            raise CatalogRefused(
                f"Tax rate {rate.name} ({_percent(rate.rate_bp)}) has no tax payable account in this venue's ledger: "
                f"add an account “{wanted}” or map the rate on the posting mappings page, then retry."
            )
        _map(session, mappings, MappingKind.TAX_RATE, str(rate.id), code)
    for raw in catalog["categories"]:
        category = categories[raw["name"]]
        current = mappings.get((MappingKind.CATEGORY, str(category.id)))
        if current is not None and current.account_code in accounts:
            continue
        code = "4020" if category.course is Course.DRINKS else "4010"
        if code not in accounts:
            raise CatalogRefused(
                f"Category {category.name} has no revenue account in this venue's ledger: map it on the posting "
                "mappings page, then retry."
            )
        _map(session, mappings, MappingKind.CATEGORY, str(category.id), code)


def _map(
    session: AsyncSession,
    mappings: dict[tuple[MappingKind, str], PostingMapping],
    kind: MappingKind,
    subject: str,
    code: str,
) -> None:
    mapping = mappings.get((kind, subject)) or PostingMapping(kind=kind, subject=subject)
    mapping.account_code = code
    mapping.updated_at = utcnow()
    session.add(mapping)
    mappings[(kind, subject)] = mapping
