"""What every posting rule shares: the topics and source keys, the day a posting lands on, and the accounts
it resolves through the posting mappings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import EllipsisType
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account
from app.accounting.services import PostingLine, next_open_day
from app.checks import services as checks
from app.checks.models import Tender
from app.closes import calculations as calc
from app.closes.models import CheckPosting, MappingKind, PostingMapping
from app.giftcards import services as giftcards
from app.inventory import services as inventory
from app.kitchen.models import Station
from app.lib.errors import Conflict
from app.menu.models import MenuCategory, TaxRate
from app.purchasing import services as purchasing

CLOSED_TOPIC = checks.CLOSED_TOPIC


REOPENED_TOPIC = checks.REOPENED_TOPIC


REFUNDED_TOPIC = checks.REFUNDED_TOPIC


TIP_ADJUSTED_TOPIC = checks.TIP_ADJUSTED_TOPIC


STOCK_TOPIC = inventory.STOCK_BOOKED_TOPIC


PURCHASING_TOPIC = purchasing.BOOKED_TOPIC


SOURCE_TYPE = "check"


class PostingProblem(Conflict):
    """A posting the rules cannot make as things stand; it waits on the exceptions page."""

    code = "posting_problem"


# ---------------------------------------------------------------------------------------------- delivery


def source_key(topic: str, payload: Mapping[str, Any], message_id: int | None = None) -> str:
    """The posting's key: one posting per closing, reopening, refund or tip change."""
    if topic == CLOSED_TOPIC:
        return f"close:{payload['check_id']}:{payload['sequence']}"
    if topic == REOPENED_TOPIC:
        return f"reopen:{payload['check_id']}:{payload['sequence']}"
    if topic == REFUNDED_TOPIC:
        return f"refund:{payload['refund_id']}"
    if topic == TIP_ADJUSTED_TOPIC:
        return f"tip:{payload['payment_id']}:{payload.get('message_id', message_id)}"
    if topic in (STOCK_TOPIC, PURCHASING_TOPIC):
        return f"stock:{payload['operation_id']}"
    raise ValueError(f"no posting rule for {topic}")


async def posting_for(session: AsyncSession, key: str) -> CheckPosting | None:
    """The posting made for a source key, if any."""
    return (await session.exec(select(CheckPosting).where(CheckPosting.source_key == key))).first()


async def posting_day(session: AsyncSession, day: dt.date) -> dt.date:
    """The day a posting goes on: its own business day, or the next open one when that day is closed."""
    return await next_open_day(session, day)


# ---------------------------------------------------------------------------------------------- mappings


# Read by every posting: built once (a statement built per call costs more CPU than its execution).
_MAPPINGS_OF_KINDS = select(PostingMapping).where(col(PostingMapping.kind).in_(bindparam("kinds", expanding=True)))
_CATEGORY_NAMES = select(MenuCategory.id, MenuCategory.name).where(
    col(MenuCategory.id).in_(bindparam("ids", expanding=True))
)
_TAX_RATES = select(TaxRate).where(col(TaxRate.id).in_(bindparam("ids", expanding=True)))
_TENDERS = select(Tender).where(col(Tender.id).in_(bindparam("ids", expanding=True)))
_LIVE_CODES = select(Account.code).where(
    col(Account.code).in_(bindparam("codes", expanding=True)), col(Account.archived_at).is_(None)
)


async def _mapping_rows(session: AsyncSession, kind: MappingKind) -> dict[str, PostingMapping]:
    return (await _mappings(session, [kind])).get(kind, {})


async def _mappings(
    session: AsyncSession, kinds: Sequence[MappingKind]
) -> dict[MappingKind, dict[str, PostingMapping]]:
    """The mappings of several kinds in one read, by kind and subject."""
    found: dict[MappingKind, dict[str, PostingMapping]] = {}
    if kinds:
        for row in await session.exec(_MAPPINGS_OF_KINDS, params={"kinds": sorted(set(kinds))}):
            found.setdefault(row.kind, {})[row.subject] = row
    return found


async def resolve_accounts(
    session: AsyncSession,
    *,
    category_ids: Sequence[int] = (),
    rate_ids: Sequence[int] = (),
    tender_ids: Sequence[int] = (),
    roles: Sequence[str] = (),
    names: SubjectNames | None = None,
    gift_category: int | EllipsisType | None = ...,
) -> calc.Accounts:
    """Account codes for everything a posting touches, or one refusal naming every missing mapping.

    `names` names the subjects in that refusal; without it they are read only if something is missing.
    `gift_category`, when the caller knows it from the lines it posts, spares the look-up.
    """
    # Gift cards sold are a liability, not revenue: their category posts to the gift-card account by role.
    if gift_category is ...:
        gift_category = await giftcards.sale_category_id(session) if category_ids else None
    if gift_category is not None and gift_category in category_ids:
        category_ids = [c for c in category_ids if c != gift_category]
        roles = [*roles, "gift_cards"]
    else:
        gift_category = None
    wanted = {
        MappingKind.CATEGORY: sorted(set(category_ids)),
        MappingKind.TAX_RATE: sorted(set(rate_ids)),
        MappingKind.TENDER: sorted(set(tender_ids)),
    }
    mappings = await _mappings(
        session, [kind for kind, ids in wanted.items() if ids] + ([MappingKind.ACCOUNT] if roles else [])
    )
    role_rows = mappings.get(MappingKind.ACCOUNT, {})
    chosen = [mappings.get(kind, {}).get(str(subject)) for kind, ids in wanted.items() for subject in ids]
    chosen += [role_rows.get(role) for role in roles]
    codes = {row.account_code for row in chosen if row is not None and row.account_code}
    live: set[str] = set()
    if codes:
        live = set((await session.exec(_LIVE_CODES, params={"codes": sorted(codes)})).all())
    found: dict[MappingKind, dict[int, str]] = {kind: {} for kind in wanted}
    # (kind, subject, the code it is mapped to if any) of every subject without a live account
    unmapped: list[tuple[MappingKind, int, str | None]] = []
    for kind, ids in wanted.items():
        rows = mappings.get(kind, {})
        for subject in ids:
            row = rows.get(str(subject))
            if row is not None and row.account_code and row.account_code in live:
                found[kind][subject] = row.account_code
            else:
                unmapped.append((kind, subject, row.account_code if row is not None else None))
    missing: list[str] = []
    if unmapped:
        known = names if names is not None else await subject_names(session)
        for kind, subject, code in unmapped:
            what, name_of = _SUBJECTS[kind]
            label = name_of(known).get(subject, f"#{subject}")
            if not code:
                missing.append(f"no {what} account is mapped for {label}")
            else:
                missing.append(f"{what} account {code} for {label} is not a live account in the chart")
    role_codes: dict[str, str] = {}
    for role in sorted(set(roles)):
        row = role_rows.get(role)
        label = calc.ACCOUNT_ROLES.get(role, role)
        if row is None or not row.account_code:
            missing.append(f"no account is mapped for {label}")
        elif row.account_code not in live:
            missing.append(f"the {label} account {row.account_code} is not a live account in the chart")
        else:
            role_codes[role] = row.account_code
    if missing:
        raise PostingProblem("Missing mapping: " + "; ".join(missing) + ". Fix it on the mappings page, then retry.")
    if gift_category is not None:
        found[MappingKind.CATEGORY][gift_category] = role_codes["gift_cards"]
    return calc.Accounts(
        category=found[MappingKind.CATEGORY],
        tax_rate=found[MappingKind.TAX_RATE],
        tender=found[MappingKind.TENDER],
        roles=role_codes,
    )


class SubjectNames:
    """Names of the things postings are mapped by, for messages and memos."""

    def __init__(
        self,
        categories: dict[int, str],
        tax_rates: dict[int, str],
        tenders: dict[int, str],
        stations: dict[int, str],
    ) -> None:
        self.categories = categories
        self.tax_rates = tax_rates
        self.tenders = tenders
        self.stations = stations

    def labels(self) -> dict[str, str]:
        """Memo labels keyed 'category:<id>', 'tax:<id>', 'tender:<id>'."""
        labels = {f"category:{k}": v for k, v in self.categories.items()}
        labels.update({f"tax:{k}": v for k, v in self.tax_rates.items()})
        labels.update({f"tender:{k}": v for k, v in self.tenders.items()})
        return labels


# What each kind of subject is mapped to, as a refusal names it, and where the names of its subjects are.
_SUBJECTS: dict[MappingKind, tuple[str, Callable[[SubjectNames], Mapping[int, str]]]] = {
    MappingKind.CATEGORY: ("revenue", lambda names: names.categories),
    MappingKind.TAX_RATE: ("tax payable", lambda names: names.tax_rates),
    MappingKind.TENDER: ("clearing", lambda names: names.tenders),
}


async def subject_names(session: AsyncSession) -> SubjectNames:
    """Every category, tax rate, tender and station by id."""
    return SubjectNames(
        {c.id or 0: c.name for c in (await session.exec(select(MenuCategory))).all()},
        {t.id or 0: calc.tax_rate_title(t.name, t.rate_bp) for t in (await session.exec(select(TaxRate))).all()},
        {t.id or 0: t.name for t in (await session.exec(select(Tender))).all()},
        {s.id or 0: s.name for s in (await session.exec(select(Station))).all()},
    )


async def _names_of(
    session: AsyncSession,
    *,
    categories: Iterable[int],
    tax_rates: Iterable[int],
    tenders: Iterable[int],
    held_rates: Mapping[int, TaxRate] | None = None,
    held_tenders: Mapping[int, Tender] | None = None,
) -> SubjectNames:
    """The names of just these categories, tax rates and tenders (no stations): what one posting's memos need.

    Tax rates and tenders this transaction holds already (`held_*`, by id) are not read again.
    """
    held_rates, held_tenders = held_rates or {}, held_tenders or {}
    rates = {rate_id: held_rates[rate_id] for rate_id in set(tax_rates) if rate_id in held_rates}
    tender_rows = {tender_id: held_tenders[tender_id] for tender_id in set(tenders) if tender_id in held_tenders}
    category_ids = sorted(set(categories))
    rate_ids = sorted(set(tax_rates) - rates.keys())
    tender_ids = sorted(set(tenders) - tender_rows.keys())
    names = SubjectNames({}, {}, {}, {})
    if category_ids:
        rows = await session.exec(_CATEGORY_NAMES, params={"ids": category_ids})
        names.categories = {row_id or 0: name for row_id, name in rows.all()}
    if rate_ids:
        rates.update({t.id or 0: t for t in await session.exec(_TAX_RATES, params={"ids": rate_ids})})
    if tender_ids:
        tender_rows.update({t.id or 0: t for t in await session.exec(_TENDERS, params={"ids": tender_ids})})
    names.tax_rates = {rate_id: calc.tax_rate_title(rate.name, rate.rate_bp) for rate_id, rate in rates.items()}
    names.tenders = {tender_id: tender.name for tender_id, tender in tender_rows.items()}
    return names


def _posting_lines(lines: Sequence[calc.EntryLine]) -> list[PostingLine]:
    return [PostingLine(line.account, line.amount_cents, line.memo[:200], dict(line.dimensions)) for line in lines]
