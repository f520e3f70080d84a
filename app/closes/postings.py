"""The restaurant's posting rules: closed checks, reopenings, refunds, tip adjustments and voids into the books.

Each outbox message posts once: its source key ("close:<check>:<n>", "reopen:<check>:<n>", "refund:<id>",
"tip:<payment>:<message>", "void-waste:<line>") is unique on `check_posting`, the journal entry carries
the same key, and stock moves are keyed the same way. The stockroom's own deliveries, counts and waste post
under "stock:<operation>", the key of their journal entry. A posting that cannot be made (a missing mapping,
a locked day, figures that do not add up) is rolled back to its savepoint and kept as a posting exception
with its reason; the manager fixes the cause and retries, which posts once. A day that is already closed
sends what arrives for it to the next open day, and the posting says so (`late`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from types import EllipsisType
from typing import Any, Protocol

from sqlalchemy import literal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry
from app.accounting.services import PostingLine, entry_by_key, next_open_day, post_entry, reverse_entry
from app.checks import services as checks
from app.checks.models import CheckClosing, Payment, Refund, RefundLine, RefundStatus, Tender
from app.checks.queries import check_money, settings_of
from app.closes import calculations as calc
from app.closes import promotion_postings
from app.closes.models import CheckPosting, ExceptionStatus, MappingKind, PostingException, PostingKind, PostingMapping
from app.giftcards import services as giftcards
from app.inventory import services as inventory
from app.inventory.models import OperationKind, RecipeComponent, StockLocation, StockOperation
from app.kitchen.models import Station
from app.lib.clock import utcnow
from app.lib.db import Database
from app.lib.errors import Conflict, DomainError
from app.lib.outbox import OutboxDispatcher, OutboxMessage, RetryLater
from app.lib.settings import Settings
from app.menu.models import MenuCategory, TaxRate
from app.orders.models import Check, CheckLine, LineModifier, LineState
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


class _Runtime(Protocol):
    settings: Settings
    db: Database
    dispatcher: OutboxDispatcher


def wire(runtime: _Runtime) -> None:
    """Post closed checks, reopenings, refunds, tip adjustments and stockroom operations as they are delivered."""
    runtime.dispatcher.register(CLOSED_TOPIC, deliver)
    runtime.dispatcher.register(REOPENED_TOPIC, deliver)
    runtime.dispatcher.register(REFUNDED_TOPIC, deliver)
    runtime.dispatcher.register(TIP_ADJUSTED_TOPIC, deliver)
    runtime.dispatcher.register(STOCK_TOPIC, deliver)
    runtime.dispatcher.register(PURCHASING_TOPIC, deliver)


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


async def deliver(session: AsyncSession, message: OutboxMessage) -> None:
    """The outbox deliverer for every check topic: post, or keep the problem as an exception."""
    payload = dict(message.payload)
    if message.topic == TIP_ADJUSTED_TOPIC:
        payload.setdefault("message_id", message.id)
    await attempt(session, message.topic, payload)


async def attempt(session: AsyncSession, topic: str, payload: dict[str, Any], *, actor_id: int | None = None) -> bool:
    """Post one message's effects in a savepoint; on a refusal keep (or update) its exception. True when posted."""
    key = source_key(topic, payload)
    posted, exception = await _standing(session, key)
    if posted:
        await _resolve(session, exception, actor_id)
        return True
    try:
        async with session.begin_nested():
            await RULES[topic](session, payload)
    except RetryLater:
        raise
    except DomainError as exc:
        await _record_exception(session, key, topic, payload, exc.message)
        return False
    await _resolve(session, exception, actor_id)
    return True


async def _standing(session: AsyncSession, key: str) -> tuple[bool, PostingException | None]:
    """Whether the source key was posted already, and its exception if it has one: one read for both."""
    wanted = select(literal(key).label("source_key")).subquery()
    row = (
        await session.exec(
            select(CheckPosting.id, PostingException)
            .select_from(wanted)
            .outerjoin(CheckPosting, col(CheckPosting.source_key) == wanted.c.source_key)
            .outerjoin(PostingException, col(PostingException.source_key) == wanted.c.source_key)
        )
    ).one()
    return row[0] is not None, row[1]


async def _record_exception(session: AsyncSession, key: str, topic: str, payload: dict[str, Any], reason: str) -> None:
    # Read again rather than reusing the row read before the rule: the rule's savepoint was rolled back.
    existing = (await session.exec(select(PostingException).where(PostingException.source_key == key))).first()
    now = utcnow()
    if existing is None:
        check_id = payload.get("check_id")
        session.add(
            PostingException(
                source_key=key,
                topic=topic,
                payload=payload,
                check_id=check_id if isinstance(check_id, int) else None,
                reason=reason[:1000],
            )
        )
    else:
        existing.reason = reason[:1000]
        existing.status = ExceptionStatus.OPEN
        existing.attempts += 1
        existing.last_tried_at = now
        session.add(existing)
    await session.flush()


async def _resolve(session: AsyncSession, existing: PostingException | None, actor_id: int | None) -> None:
    if existing is not None and existing.status is ExceptionStatus.OPEN:
        existing.status = ExceptionStatus.RESOLVED
        existing.resolved_at = utcnow()
        existing.resolved_by = actor_id
        existing.last_tried_at = existing.resolved_at
        session.add(existing)
        await session.flush()


async def posting_for(session: AsyncSession, key: str) -> CheckPosting | None:
    """The posting made for a source key, if any."""
    return (await session.exec(select(CheckPosting).where(CheckPosting.source_key == key))).first()


async def posting_day(session: AsyncSession, day: dt.date) -> dt.date:
    """The day a posting goes on: its own business day, or the next open one when that day is closed."""
    return await next_open_day(session, day)


# ---------------------------------------------------------------------------------------------- mappings


async def _mapping_rows(session: AsyncSession, kind: MappingKind) -> dict[str, PostingMapping]:
    return (await _mappings(session, [kind])).get(kind, {})


async def _mappings(
    session: AsyncSession, kinds: Sequence[MappingKind]
) -> dict[MappingKind, dict[str, PostingMapping]]:
    """The mappings of several kinds in one read, by kind and subject."""
    found: dict[MappingKind, dict[str, PostingMapping]] = {}
    if kinds:
        for row in await session.exec(select(PostingMapping).where(col(PostingMapping.kind).in_(sorted(set(kinds))))):
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
        live = set(
            (
                await session.exec(
                    select(Account.code).where(col(Account.code).in_(sorted(codes)), col(Account.archived_at).is_(None))
                )
            ).all()
        )
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
        rows = await session.exec(
            select(MenuCategory.id, MenuCategory.name).where(col(MenuCategory.id).in_(category_ids))
        )
        names.categories = {row_id or 0: name for row_id, name in rows.all()}
    if rate_ids:
        rates.update({t.id or 0: t for t in await session.exec(select(TaxRate).where(col(TaxRate.id).in_(rate_ids)))})
    if tender_ids:
        tender_rows.update(
            {t.id or 0: t for t in await session.exec(select(Tender).where(col(Tender.id).in_(tender_ids)))}
        )
    names.tax_rates = {rate_id: calc.tax_rate_title(rate.name, rate.rate_bp) for rate_id, rate in rates.items()}
    names.tenders = {tender_id: tender.name for tender_id, tender in tender_rows.items()}
    return names


async def _stock_lines(
    session: AsyncSession,
    lines: Sequence[CheckLine],
    *,
    modifiers_of: Mapping[int, Sequence[LineModifier]] | None = None,
) -> list[inventory.SaleLine]:
    """The lines as the stockroom sees them, each at the location its station draws from.

    Only lines whose item or modifiers have a recipe need a location, so a venue without recipes needs no mapping.
    `modifiers_of` holds the lines' modifiers by line id, oldest first, when the caller has read them already.
    """
    if not lines:
        return []
    line_ids = [line.id or 0 for line in lines]
    if modifiers_of is None:
        read: dict[int, list[LineModifier]] = {}
        for modifier in (
            await session.exec(
                select(LineModifier).where(col(LineModifier.line_id).in_(line_ids)).order_by(col(LineModifier.id))
            )
        ).all():
            read.setdefault(modifier.line_id, []).append(modifier)
        modifiers_of = read
    modifiers = {
        line_id: [modifier.modifier_id for modifier in modifiers_of[line_id]]
        for line_id in line_ids
        if modifiers_of.get(line_id)
    }
    item_ids = {line.menu_item_id for line in lines}
    modifier_ids = {m for ids in modifiers.values() for m in ids}
    with_recipe = (
        await session.exec(
            select(RecipeComponent.menu_item_id, RecipeComponent.modifier_id).where(
                col(RecipeComponent.menu_item_id).in_(item_ids) | col(RecipeComponent.modifier_id).in_(modifier_ids)
            )
        )
    ).all()
    recipe_items = {item for item, _ in with_recipe if item is not None}
    recipe_modifiers = {modifier for _, modifier in with_recipe if modifier is not None}
    needing = [
        line
        for line in lines
        if line.menu_item_id in recipe_items or any(m in recipe_modifiers for m in modifiers.get(line.id or 0, []))
    ]
    if not needing:
        return []
    rows = await _mapping_rows(session, MappingKind.STATION)
    live_locations = {
        loc.id
        for loc in (await session.exec(select(StockLocation).where(col(StockLocation.archived_at).is_(None)))).all()
    }
    unmapped: list[int] = []  # stations (0: none) whose lines have no live stock location
    result: list[inventory.SaleLine] = []
    for line in needing:
        row = rows.get(str(line.station_id)) if line.station_id is not None else None
        row = row if row is not None and row.stock_location_id is not None else rows.get("default")
        if row is None or row.stock_location_id is None or row.stock_location_id not in live_locations:
            unmapped.append(line.station_id or 0)
            continue
        result.append(
            inventory.SaleLine(
                line.menu_item_id, tuple(modifiers.get(line.id or 0, [])), line.quantity, row.stock_location_id
            )
        )
    if unmapped:
        stations = (await subject_names(session)).stations
        missing = [
            f"no stock location is mapped for {stations.get(station_id, 'items without a station')}"
            for station_id in unmapped
        ]
        raise PostingProblem(
            "Missing mapping: " + "; ".join(sorted(set(missing))) + ". Fix it on the mappings page, then retry."
        )
    return result


def _stock_json(lines: Sequence[inventory.SaleLine]) -> list[dict[str, Any]]:
    return [
        {
            "menu_item_id": line.menu_item_id,
            "modifier_ids": list(line.modifier_ids),
            "num": Fraction(line.quantity).numerator,
            "den": Fraction(line.quantity).denominator,
            "location_id": line.location_id,
        }
        for line in lines
    ]


def _stock_from_json(raw: Sequence[Mapping[str, Any]]) -> list[inventory.SaleLine]:
    return [
        inventory.SaleLine(
            int(item["menu_item_id"]),
            tuple(int(m) for m in item["modifier_ids"]),
            Fraction(int(item["num"]), int(item["den"])),
            int(item["location_id"]),
        )
        for item in raw
    ]


def _posting_lines(lines: Sequence[calc.EntryLine]) -> list[PostingLine]:
    return [PostingLine(line.account, line.amount_cents, line.memo[:200], dict(line.dimensions)) for line in lines]


# ---------------------------------------------------------------------------------------------- closed checks


async def post_closing(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A check's n-th closing: revenue, contra revenue, tax, service charge, tips, tenders, COGS; stock out."""
    check_id, sequence = int(payload["check_id"]), int(payload["sequence"])
    key = f"close:{check_id}:{sequence}"
    found = (
        await session.exec(
            select(Check, CheckClosing)
            .join(CheckClosing, col(CheckClosing.check_id) == col(Check.id))
            .where(Check.id == check_id, CheckClosing.sequence == sequence)
        )
    ).first()
    if found is None:
        raise PostingProblem(f"Check {check_id} has no closing number {sequence}; nothing can be posted for it.")
    check, closing = found
    settings = settings_of(session)
    own_day = checks.business_day(settings, closing.closed_at)
    day = await posting_day(session, own_day)
    if closing.reopened_at is not None:
        # Reopened before it reached the books: its closing and its reversal cancel out, so neither posts.
        posting = CheckPosting(
            source_key=key,
            kind=PostingKind.SALE,
            check_id=check_id,
            server_id=check.server_id,
            business_day=own_day,
            posted_day=day,
            late=day != own_day,
            note="reopened before it was posted; nothing to post",
        )
        session.add(posting)
        await session.flush()
        return posting
    money = await check_money(session, check)
    sold = [line for line in money.lines if line.state is not LineState.VOIDED]
    stock_lines = await _stock_lines(session, sold, modifiers_of=money.modifiers)
    figures = calc.sale_figures(money.totals, [(p.tender_id, p.amount_cents, p.tip_cents) for p in money.payments])
    if figures.imbalance:
        raise PostingProblem(
            f"Check #{check.number} took {figures.takings / 100:.2f} but owed {figures.total / 100:.2f} "
            f"plus {figures.tips / 100:.2f} in tips; it cannot be posted until its payments match."
        )
    roles = ["discounts", "comps", "service_charge", "tips_payable"] + (["promotions"] if figures.promotions else [])
    if stock_lines:
        roles += ["cogs", "inventory"]
    names = await _names_of(
        session,
        categories=figures.gross_by_category,
        tax_rates=figures.tax_by_rate,
        tenders=figures.takings_by_tender,
        held_rates=money.tax_rates,
        held_tenders=money.tenders,
    )
    # Gift cards sold are no sale: the Z report counts them apart from net sales.
    gift_category = giftcards.sale_category_of(sold)
    accounts = await resolve_accounts(
        session,
        gift_category=gift_category,
        category_ids=list(figures.gross_by_category),
        rate_ids=[r for r, tax in figures.tax_by_rate.items() if tax],
        tender_ids=list(figures.takings_by_tender),
        roles=roles,
        names=names,
    )
    stock_key = f"sale:check:{check_id}:{sequence}"
    cost = 0
    if stock_lines:
        moves = await inventory.deplete_for_sale(session, source_key=stock_key, lines=stock_lines)
        cost = inventory.total_cost_cents(moves)
    figures = replace(figures, cost=cost)
    lines = _by_house_account(calc.sale_entry(figures, accounts, labels=names.labels()), money.payments)
    entry_id = None
    if len(lines) >= 2:
        entry = await post_entry(
            session,
            date=day,
            description=f"Check #{check.number} closed" + (f" (closing {sequence})" if sequence > 1 else ""),
            lines=_posting_lines(lines),
            source_type=SOURCE_TYPE,
            source_id=f"{check_id}:{sequence}",
            idempotency_key=f"check-close:{check_id}:{sequence}",
        )
        entry_id = entry.id
    gift_gross = figures.gross_by_category.get(gift_category, 0) if gift_category is not None else 0
    gift_net = figures.net_by_category.get(gift_category, 0) if gift_category is not None else 0
    voided_after_send = [line for line in money.lines if line.state is LineState.VOIDED and line.sent_at is not None]
    void_ids = {line.id for line in voided_after_send}
    voids_cents = sum(t.void for t in money.totals.lines if t.line_id in void_ids)
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.SALE,
        check_id=check_id,
        server_id=check.server_id,
        entry_id=entry_id,
        stock_operation_key=stock_key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=figures.gross - gift_gross,
        voids_cents=voids_cents,
        void_count=len(voided_after_send),
        discounts_cents=figures.discounts,
        discount_count=len(money.discounts),
        comps_cents=figures.comps,
        comp_count=len(money.comps),
        net_sales_cents=figures.net_sales - gift_net,
        service_charge_cents=figures.service_charge,
        tax_cents=figures.tax,
        tips_cents=figures.tips,
        total_cents=figures.total,
        cost_cents=cost,
        covers=check.covers,
        breakdown={
            "gross_by_category": {str(k): v for k, v in figures.gross_by_category.items() if k != gift_category},
            "net_by_category": {str(k): v for k, v in figures.net_by_category.items() if k != gift_category},
            "gift_cards_sold": gift_gross,
            "tax_by_rate": {str(k): v for k, v in figures.tax_by_rate.items()},
            "tax_base_by_rate": {str(t.rate.id): t.taxable_base for t in money.totals.taxes},
            "takings_by_tender": {str(k): v for k, v in figures.takings_by_tender.items()},
            "count_by_tender": _count_by_tender(money.payments),
            "payment_tips": {str(p.id): p.tip_cents for p in money.payments},
            "stock_lines": _stock_json(stock_lines),
            "closed_at": closing.closed_at.isoformat(),
            "promotions": promotion_postings.sale_breakdown(money),
        },
        note=f"belongs to {own_day.isoformat()}, which was closed" if day != own_day else None,
    )
    session.add(posting)
    await session.flush()
    if settings_waste(settings):
        for line in voided_after_send:
            await waste_voided_line(session, line)
    return posting


def _by_house_account(lines: Sequence[calc.EntryLine], payments: Sequence[Payment]) -> list[calc.EntryLine]:
    """The tender lines of house-account payments split per account, each with its `house_account` dimension.

    The receivable is then a sub-ledger: its lines for one account add up to that account's balance.
    """
    per_tender: dict[str, dict[int, int]] = {}
    for payment in payments:
        if payment.house_account_id is not None:
            accounts = per_tender.setdefault(str(payment.tender_id), {})
            accounts[payment.house_account_id] = accounts.get(payment.house_account_id, 0) + payment.charged_cents
    if not per_tender:
        return list(lines)
    result: list[calc.EntryLine] = []
    for line in lines:
        charged = per_tender.get(line.dimensions.get("tender", ""))
        if not charged:
            result.append(line)
            continue
        sign = 1 if line.amount_cents > 0 else -1
        left = line.amount_cents
        for account_id, cents in sorted(charged.items()):
            # A refund's line gives back part of one payment: it carries the account, for its own amount.
            part = sign * min(cents, abs(left))
            if part:
                result.append(
                    replace(line, amount_cents=part, dimensions={**line.dimensions, "house_account": str(account_id)})
                )
                left -= part
        if left:
            result.append(replace(line, amount_cents=left))
    return result


def _count_by_tender(payments: Sequence[Payment]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for payment in payments:
        counts[str(payment.tender_id)] = counts.get(str(payment.tender_id), 0) + 1
    return counts


def settings_waste(settings: Settings) -> bool:
    """Whether a void after the kitchen had the line books its ingredients as waste (a setting)."""
    return settings.void_after_fire_is_waste


async def waste_voided_line(session: AsyncSession, line: CheckLine) -> CheckPosting | None:
    """A line voided after it was fired: its ingredients were used, so they leave stock as waste, once."""
    key = f"void-waste:{line.id}"
    existing = await posting_for(session, key)
    if existing is not None:
        return existing
    stock_lines = await _stock_lines(session, [line])
    settings = settings_of(session)
    own_day = checks.business_day(settings, line.voided_at or utcnow())
    day = await posting_day(session, own_day)
    cost = 0
    entry_id = None
    if stock_lines:
        accounts = await resolve_accounts(session, roles=["waste", "inventory"])
        moves = await inventory.waste_for_void(
            session,
            source_key=key,
            lines=stock_lines,
            reason=(line.void_reason or "voided after it was fired")[:200],
            actor_id=line.voided_by,
        )
        cost = inventory.total_cost_cents(moves)
        if cost:
            entry = await post_entry(
                session,
                date=day,
                description=f"Waste: {line.name} voided after it was fired",
                lines=_posting_lines(
                    calc.cost_entry(cost, accounts.roles["waste"], accounts.roles["inventory"], "Voided after fire")
                ),
                source_type="void",
                source_id=str(line.id),
                idempotency_key=f"void-waste:{line.id}",
            )
            entry_id = entry.id
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.WASTE,
        check_id=line.check_id,
        entry_id=entry_id,
        stock_operation_key=key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        cost_cents=cost,
        breakdown={"line_id": line.id, "reason": line.void_reason or ""},
    )
    session.add(posting)
    await session.flush()
    return posting


# ---------------------------------------------------------------------------------------------- reopen


async def post_reopening(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A reopened check: its closing's entry reversed on an open day, and its stock put back (it will sell again)."""
    check_id, sequence = int(payload["check_id"]), int(payload["sequence"])
    key = f"reopen:{check_id}:{sequence}"
    sale = await posting_for(session, f"close:{check_id}:{sequence}")
    if sale is None:
        raise RetryLater(f"closing {sequence} of check {check_id} is not posted yet", delay=10.0)
    closing = (
        await session.exec(
            select(CheckClosing).where(CheckClosing.check_id == check_id, CheckClosing.sequence == sequence)
        )
    ).first()
    settings = settings_of(session)
    moment = closing.reopened_at if closing is not None and closing.reopened_at else utcnow()
    own_day = checks.business_day(settings, moment)
    day = await posting_day(session, own_day)
    reason = (closing.reopen_reason if closing is not None else None) or "check reopened"
    if sale.entry_id is not None:
        await reverse_entry(session, sale.entry_id, f"Check reopened: {reason}"[:200], date=day)
        for tip in await _tip_postings(session, check_id, sequence):
            if tip.entry_id is not None:
                await reverse_entry(session, tip.entry_id, "Check reopened", date=day)
    if sale.stock_operation_key and sale.breakdown.get("stock_lines"):
        await inventory.return_for_refund(
            session,
            source_key=f"reopen:check:{check_id}:{sequence}",
            lines=_stock_from_json(sale.breakdown["stock_lines"]),
            resaleable=True,
            sale_source_key=sale.stock_operation_key,
        )
    tips = sale.tips_cents + sum(t.tips_cents for t in await _tip_postings(session, check_id, sequence))
    takings = dict(sale.breakdown.get("takings_by_tender", {}))
    for tip in await _tip_postings(session, check_id, sequence):
        for tender, amount in tip.breakdown.get("takings_by_tender", {}).items():
            takings[tender] = takings.get(tender, 0) + amount
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.REVERSAL,
        check_id=check_id,
        server_id=sale.server_id,
        entry_id=None,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=sale.gross_cents,
        voids_cents=sale.voids_cents,
        void_count=sale.void_count,
        discounts_cents=sale.discounts_cents,
        discount_count=sale.discount_count,
        comps_cents=sale.comps_cents,
        comp_count=sale.comp_count,
        net_sales_cents=sale.net_sales_cents,
        service_charge_cents=sale.service_charge_cents,
        tax_cents=sale.tax_cents,
        tips_cents=tips,
        total_cents=sale.total_cents,
        cost_cents=sale.cost_cents,
        covers=sale.covers,
        breakdown={**sale.breakdown, "takings_by_tender": takings, "reverses": sale.source_key},
        note=f"reverses {sale.source_key}: {reason}"[:200],
    )
    if sale.entry_id is not None:
        from app.accounting.services import reversal_of

        reversal = await reversal_of(session, sale.entry_id)
        posting.entry_id = reversal.id if reversal is not None else None
    session.add(posting)
    await session.flush()
    return posting


async def _tip_postings(session: AsyncSession, check_id: int, sequence: int) -> list[CheckPosting]:
    rows = (
        await session.exec(
            select(CheckPosting).where(CheckPosting.check_id == check_id, CheckPosting.kind == PostingKind.TIP_ADJUST)
        )
    ).all()
    return [row for row in rows if row.breakdown.get("closing") == sequence]


# ---------------------------------------------------------------------------------------------- refunds


async def post_refund(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting:
    """A refund: revenue, tax, service charge and tip reversed against the tender it was paid back on."""
    refund_id = int(payload["refund_id"])
    refund = await session.get(Refund, refund_id)
    if refund is None or refund.status is not RefundStatus.COMPLETED:
        raise PostingProblem(f"Refund {refund_id} is not completed; nothing can be posted for it.")
    check = await session.get(Check, refund.check_id)
    assert check is not None
    rows = (
        await session.exec(select(RefundLine).where(RefundLine.refund_id == refund_id).order_by(col(RefundLine.id)))
    ).all()
    net: dict[int, int] = {}
    tax: dict[int, int] = {}
    service = 0
    for row in rows:
        if row.category_id is not None:
            net[row.category_id] = net.get(row.category_id, 0) + row.net_cents
        else:
            service += row.net_cents
        if row.tax_rate_id is not None and row.tax_cents:
            tax[row.tax_rate_id] = tax.get(row.tax_rate_id, 0) + row.tax_cents
    figures = calc.RefundFigures(
        net_by_category=net,
        tax_by_rate=tax,
        service_charge=service,
        tip=refund.tip_cents,
        tender_id=refund.tender_id,
        amount=refund.amount_cents,
    )
    if figures.imbalance:
        raise PostingProblem(
            f"Refund {refund_id} on check #{check.number} gave back {refund.amount_cents / 100:.2f} but its lines "
            f"account for {(refund.amount_cents - figures.imbalance) / 100:.2f}; it cannot be posted as it is."
        )
    promoted = await promotion_postings.refunded(session, await check_money(session, check), refund, rows)
    figures = replace(
        figures,
        promotions_by_rule=promoted.by_rule,
        promotions_by_category=promoted.by_category,
        promotion_names=promoted.names,
    )
    roles = ["service_charge"] if service else []
    if promoted.by_rule:
        roles.append("promotions")
    if figures.tip:
        roles.append("tips_payable")
    accounts = await resolve_accounts(
        session,
        category_ids=sorted({*net, *promoted.by_category}),
        rate_ids=list(tax),
        tender_ids=[refund.tender_id],
        roles=roles,
    )
    settings = settings_of(session)
    own_day = checks.business_day(settings, refund.completed_at or refund.created_at)
    day = await posting_day(session, own_day)
    names = await subject_names(session)
    entry = await post_entry(
        session,
        date=day,
        description=f"Refund on check #{check.number}: {refund.reason}"[:200],
        lines=_posting_lines(
            _by_house_account(
                calc.refund_entry(figures, accounts, labels=names.labels()),
                [payment] if (payment := await session.get(Payment, refund.payment_id)) else [],
            )
        ),
        source_type="refund",
        source_id=str(refund_id),
        idempotency_key=f"check-refund:{refund_id}",
    )
    # A card's sale refunded is no sale refunded: the Z report counts it with the gift cards sold.
    gift_category = await giftcards.sale_category_id(session)
    gift_refunded = net.get(gift_category, 0) if gift_category is not None else 0
    posting = CheckPosting(
        source_key=f"refund:{refund_id}",
        kind=PostingKind.REFUND,
        check_id=check.id,
        server_id=check.server_id,
        entry_id=entry.id,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        gross_cents=figures.net_sales + sum(promoted.by_rule.values()) - gift_refunded,
        net_sales_cents=figures.net_sales - gift_refunded,
        service_charge_cents=figures.service_charge,
        tax_cents=figures.tax,
        tips_cents=figures.tip,
        total_cents=figures.amount,
        breakdown={
            "gross_by_category": {
                str(k): net.get(k, 0) + promoted.by_category.get(k, 0)
                for k in sorted({*net, *promoted.by_category})
                if k != gift_category
            },
            "net_by_category": {str(k): v for k, v in net.items() if k != gift_category},
            "gift_cards_sold": gift_refunded,
            "tax_by_rate": {str(k): v for k, v in tax.items()},
            "takings_by_tender": {str(refund.tender_id): refund.amount_cents + refund.tip_cents},
            "count_by_tender": {str(refund.tender_id): 1},
            "line_ids": [row.line_id for row in rows if row.line_id is not None],
            "full": refund.full,
            "reason": refund.reason,
            "promotions": dict(promoted.breakdown),
        },
        note=refund.reason[:200],
    )
    session.add(posting)
    await session.flush()
    if payload.get("resaleable") or getattr(refund, "resaleable", False):
        await return_refund_to_stock(session, refund_id)
    return posting


async def return_refund_to_stock(session: AsyncSession, refund_id: int, *, actor_id: int | None = None) -> CheckPosting:
    """Refunded items that can be sold again go back on the shelf, and their cost comes off COGS; once."""
    key = f"refund-stock:{refund_id}"
    existing = await posting_for(session, key)
    if existing is not None:
        return existing
    refund_posting = await posting_for(session, f"refund:{refund_id}")
    if refund_posting is None:
        raise PostingProblem("This refund is not in the books yet; post it before returning its items to stock.")
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    line_ids = [int(i) for i in refund_posting.breakdown.get("line_ids", [])]
    query = select(CheckLine).where(CheckLine.check_id == refund.check_id, CheckLine.state != LineState.VOIDED)
    if line_ids:
        query = query.where(col(CheckLine.id).in_(line_ids))
    lines = list((await session.exec(query.order_by(col(CheckLine.id)))).all())
    stock_lines = await _stock_lines(session, lines)
    settings = settings_of(session)
    own_day = checks.business_day(settings, utcnow())
    day = await posting_day(session, own_day)
    cost = 0
    entry_id = None
    if stock_lines:
        accounts = await resolve_accounts(session, roles=["cogs", "inventory"])
        sale = (
            await session.exec(
                select(CheckPosting)
                .where(CheckPosting.check_id == refund.check_id, CheckPosting.kind == PostingKind.SALE)
                .order_by(col(CheckPosting.id).desc())
            )
        ).first()
        moves = await inventory.return_for_refund(
            session,
            source_key=key,
            lines=stock_lines,
            resaleable=True,
            sale_source_key=sale.stock_operation_key if sale is not None else None,
            actor_id=actor_id,
        )
        cost = inventory.total_cost_cents(moves)
        if cost:
            entry = await post_entry(
                session,
                date=day,
                description=f"Refund {refund_id}: items back in stock",
                lines=_posting_lines(
                    calc.cost_entry(cost, accounts.roles["cogs"], accounts.roles["inventory"], "Returned to stock")
                ),
                source_type="refund",
                source_id=f"{refund_id}:stock",
                idempotency_key=key,
                actor_id=actor_id,
            )
            entry_id = entry.id
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.STOCK_RETURN,
        check_id=refund.check_id,
        entry_id=entry_id,
        stock_operation_key=key if stock_lines else None,
        business_day=own_day,
        posted_day=day,
        late=False,
        cost_cents=cost,
        breakdown={"refund_id": refund_id},
    )
    session.add(posting)
    await session.flush()
    return posting


# ---------------------------------------------------------------------------------------------- tips


async def post_tip_adjustment(session: AsyncSession, payload: Mapping[str, Any]) -> CheckPosting | None:
    """A tip changed after its check was posted: the difference moves between the tender and tips payable."""
    payment = await session.get(Payment, int(payload["payment_id"]))
    if payment is None:
        raise PostingProblem(f"Payment {payload['payment_id']} does not exist; its tip change cannot be posted.")
    sales = (
        await session.exec(
            select(CheckPosting)
            .where(CheckPosting.check_id == payment.check_id, CheckPosting.kind == PostingKind.SALE)
            .order_by(col(CheckPosting.id).desc())
        )
    ).all()
    live = None
    for sale in sales:
        if await posting_for(session, sale.source_key.replace("close:", "reopen:", 1)) is None:
            live = sale
            break
    key = source_key(TIP_ADJUSTED_TOPIC, payload)
    if live is None or live.entry_id is None:
        # Not in the books yet: the check's closing will post the tip as it is now.
        return None
    sequence = int(live.source_key.rsplit(":", 1)[1])
    posted = int(live.breakdown.get("payment_tips", {}).get(str(payment.id), 0))
    posted += sum(
        t.tips_cents
        for t in await _tip_postings(session, payment.check_id, sequence)
        if t.breakdown.get("payment_id") == payment.id
    )
    difference = payment.tip_cents - posted
    if difference == 0:
        return None
    accounts = await resolve_accounts(session, tender_ids=[payment.tender_id], roles=["tips_payable"])
    own_day = live.posted_day
    day = await posting_day(session, own_day)
    check = await session.get(Check, payment.check_id)
    entry = await post_entry(
        session,
        date=day,
        description=f"Tip adjusted on check #{check.number if check else payment.check_id}",
        lines=[
            PostingLine(
                accounts.tender[payment.tender_id], difference, "Tip adjustment", {"tender": str(payment.tender_id)}
            ),
            PostingLine(accounts.roles["tips_payable"], -difference, "Tip adjustment"),
        ],
        source_type=SOURCE_TYPE,
        source_id=f"{payment.check_id}:tip:{payment.id}",
        idempotency_key=f"check-{key}",
    )
    posting = CheckPosting(
        source_key=key,
        kind=PostingKind.TIP_ADJUST,
        check_id=payment.check_id,
        server_id=live.server_id,
        entry_id=entry.id,
        business_day=own_day,
        posted_day=day,
        late=day != own_day,
        tips_cents=difference,
        breakdown={
            "payment_id": payment.id,
            "closing": sequence,
            "takings_by_tender": {str(payment.tender_id): difference},
        },
    )
    session.add(posting)
    await session.flush()
    return posting


# ---------------------------------------------------------------------------------------------- stockroom


async def post_stock_operation(session: AsyncSession, payload: Mapping[str, Any]) -> JournalEntry | None:
    """A delivery (inventory against accounts payable), a count (variance) or recorded waste, at the value it moved.

    The journal entry's key is the posting's key, so a second delivery of the message finds it and posts nothing.
    """
    operation_id = int(payload["operation_id"])
    key = source_key(STOCK_TOPIC, payload)
    existing = await entry_by_key(session, key)
    if existing is not None:
        return existing
    operation = await session.get(StockOperation, operation_id)
    if operation is None:
        raise PostingProblem(f"Stock operation {operation_id} does not exist; nothing can be posted for it.")
    values = [move.value_cents for move in await inventory.moves_of(session, operation_id)]
    gained, lost = sum(v for v in values if v > 0), -sum(v for v in values if v < 0)
    if operation.kind is OperationKind.RECEIPT:
        roles = ["inventory", "accounts_payable"]
        reference = f" ({operation.reference})" if operation.reference else ""
        description = f"Delivery from {operation.supplier or 'a supplier'}{reference}"
    elif operation.kind is OperationKind.COUNT:
        roles = ["inventory", "stock_variance"]
        description = f"Stock count: {operation.note}" if operation.note else "Stock count"
    elif operation.kind is OperationKind.WASTE:
        roles = ["inventory", "waste"]
        description = f"Waste: {operation.note}" if operation.note else "Waste"
    else:
        raise PostingProblem(f"A {operation.kind.label.lower()} is posted with its check, not on its own.")
    if not gained and not lost:
        return None
    accounts = await resolve_accounts(session, roles=roles)
    stock, other = accounts.roles["inventory"], accounts.roles[roles[1]]
    lines = [
        *calc.cost_entry(gained, stock, other, f"{operation.kind.label}: stock in"),
        *calc.cost_entry(lost, other, stock, f"{operation.kind.label}: stock out"),
    ]
    day = await posting_day(session, checks.business_day(settings_of(session), operation.created_at))
    return await post_entry(
        session,
        date=day,
        description=description[:200],
        lines=_posting_lines([line for line in lines if line.amount_cents]),
        source_type="stock",
        source_id=str(operation_id),
        idempotency_key=key,
        actor_id=operation.actor_id,
    )


async def post_purchase(session: AsyncSession, payload: Mapping[str, Any]) -> JournalEntry | None:
    """A receipt against a purchase order or a supplier's credit note (app/closes/purchase_postings.py)."""
    from app.closes import purchase_postings  # built on this module's mappings

    return await purchase_postings.post_purchase(session, payload)


Rule = Callable[[AsyncSession, Mapping[str, Any]], Awaitable[Any]]

RULES: dict[str, Rule] = {
    CLOSED_TOPIC: post_closing,
    REOPENED_TOPIC: post_reopening,
    REFUNDED_TOPIC: post_refund,
    TIP_ADJUSTED_TOPIC: post_tip_adjustment,
    STOCK_TOPIC: post_stock_operation,
    PURCHASING_TOPIC: post_purchase,
}
