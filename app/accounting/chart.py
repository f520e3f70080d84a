"""A standard chart of accounts for a business that sells food and drink over the counter.

Only data: the accounting code treats these accounts like any others. Codes are grouped the usual
way (1xxx assets, 2xxx liabilities, 3xxx equity, 4xxx income, 5xxx cost of sales, 6xxx expenses).
Contra-revenue accounts (discounts, comps) are income accounts that carry debit balances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code, create_account
from app.accounting.models import Account, AccountType

A, L, Q, R, X = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.INCOME,
    AccountType.EXPENSE,
)

# (code, name, type, parent code)
STANDARD_CHART: Final[list[tuple[str, str, AccountType, str | None]]] = [
    ("1000", "Current assets", A, None),
    ("1010", "Cash drawers", A, "1000"),
    ("1020", "Card clearing", A, "1000"),
    ("1030", "House accounts receivable", A, "1000"),
    ("1040", "Other tenders clearing", A, "1000"),
    ("1100", "Inventory", A, "1000"),
    ("1900", "Cash in safe", A, "1000"),
    ("2000", "Current liabilities", L, None),
    ("2010", "Gift cards outstanding", L, "2000"),
    ("2020", "Tips payable", L, "2000"),
    ("2030", "Accounts payable", L, "2000"),
    ("2100", "Sales tax payable", L, "2000"),
    ("3000", "Equity", Q, None),
    ("3010", "Opening balances", Q, "3000"),
    ("3900", "Retained earnings", Q, "3000"),
    ("4000", "Sales", R, None),
    ("4010", "Food sales", R, "4000"),
    ("4020", "Beverage sales", R, "4000"),
    ("4030", "Alcohol sales", R, "4000"),
    ("4040", "Other sales", R, "4000"),
    ("4100", "Service charges", R, "4000"),
    ("4500", "Discounts (contra revenue)", R, "4000"),
    ("4510", "Comps (contra revenue)", R, "4000"),
    ("4520", "Promotions (contra revenue)", R, "4000"),
    ("5000", "Cost of sales", X, None),
    ("5010", "Cost of goods sold", X, "5000"),
    ("5020", "Waste and spoilage", X, "5000"),
    ("5030", "Stock count variance", X, "5000"),
    ("5040", "Purchase price variance", X, "5000"),
    ("6000", "Operating expenses", X, None),
    ("6010", "Cash over/short", X, "6000"),
    ("6020", "Rounding differences", X, "6000"),
]

SALES_TAX_PARENT: Final = "2100"


def sales_tax_code(index: int) -> str:
    """The code of the n-th sales tax payable account (2101, 2102, …)."""
    return f"{int(SALES_TAX_PARENT) + 1 + index}"


def _percent(rate_bp: int) -> str:
    return f"{(Decimal(rate_bp) / 100).normalize():f} %"


@dataclass(frozen=True)
class SeededChart:
    """What `seed_chart` left in place: every standard account, and the tax account per rate."""

    accounts: dict[str, Account]
    sales_tax_by_rate_bp: dict[int, str]


async def seed_chart(session: AsyncSession, *, sales_tax_rates_bp: Sequence[int] = ()) -> SeededChart:
    """Put the standard chart in place, plus one sales tax payable account per rate (in basis points).

    Accounts already present (by code) are kept as they are, so seeding twice changes nothing.
    """
    accounts: dict[str, Account] = {}
    for code, name, account_type, parent in STANDARD_CHART:
        accounts[code] = await _ensure(session, code, name, account_type, parent)
    by_rate: dict[int, str] = {}
    for index, rate_bp in enumerate(sorted(set(sales_tax_rates_bp))):
        code = sales_tax_code(index)
        account = await _ensure(session, code, f"Sales tax payable {_percent(rate_bp)}", L, SALES_TAX_PARENT)
        accounts[code] = account
        by_rate[rate_bp] = code
    return SeededChart(accounts=accounts, sales_tax_by_rate_bp=by_rate)


async def _ensure(
    session: AsyncSession, code: str, name: str, account_type: AccountType, parent: str | None
) -> Account:
    existing = await account_by_code(session, code)
    if existing is not None:
        return existing
    return await create_account(session, code=code, name=name, type=account_type, parent_code=parent)
