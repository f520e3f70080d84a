"""Read models for checks: a check's money as the screen, the printer and the ledger see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import calculations as calc
from app.checks import payment_calculations, pricing, split_calculations
from app.checks.models import (
    AttemptKind,
    AttemptStatus,
    CheckClosing,
    CheckComp,
    CheckDiscount,
    CheckPortion,
    CheckSplit,
    Payment,
    PaymentAttempt,
    Refund,
    RefundLine,
    RefundStatus,
    ServiceChargeWaiver,
    Tender,
)
from app.floor.models import DiningTable
from app.lib.errors import InvalidInput, NotFound
from app.lib.money import allocate
from app.lib.settings import Settings
from app.lib.sql import is_postgres
from app.menu.models import TaxRate
from app.orders.models import Check, CheckLine, CheckStatus, LineModifier, LineState
from app.staff.models import Staff

# What a domain that follows payments adds to the message a server reads after one (a gift card's balance left),
# registered by name in main.py: checks imports no domain above it.
PaymentNote = Callable[[AsyncSession, Payment], Awaitable[str | None]]
PAYMENT_NOTES: dict[str, PaymentNote] = {}


async def payment_notes(session: AsyncSession, payment: Payment) -> list[str]:
    """What the registered domains have to say about a payment just taken."""
    notes = [await note(session, payment) for note in PAYMENT_NOTES.values()]
    return [note for note in notes if note]


def settings_of(session: AsyncSession) -> Settings:
    """The deployment's settings, as the database was wired with them."""
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def tax_settings(settings: Settings) -> calc.TaxSettings:
    """Tax inclusion and rounding as the restaurant set them."""
    return calc.TaxSettings(
        prices_include_tax=settings.prices_include_tax, rounding=calc.TaxRounding(settings.tax_rounding)
    )


@dataclass(frozen=True)
class PortionState:
    """One guest's part of a check split evenly or by amount: what it owes, what it paid, its tax."""

    portion: CheckPortion
    count: int
    owed: int
    paid: int
    part: calc.CheckPart | None

    @property
    def label(self) -> str:
        """'Part 2 of 3'."""
        return f"Part {self.portion.position} of {self.count}"

    @property
    def remaining(self) -> int:
        """What this part still has to pay."""
        return max(self.owed - self.paid, 0)


@dataclass(frozen=True)
class CheckMoney:
    """Everything about a check's money: lines, adjustments, totals, payments, parts."""

    check: Check
    lines: tuple[CheckLine, ...]
    modifiers: Mapping[int, tuple[LineModifier, ...]]
    totals: calc.CheckTotals
    line_totals: Mapping[int, calc.LineTotals]
    discounts: tuple[CheckDiscount, ...]
    comps: tuple[CheckComp, ...]
    waiver: ServiceChargeWaiver | None
    party_covers: int
    service_charge_percent: Decimal | None
    payments: tuple[Payment, ...]
    pending: tuple[PaymentAttempt, ...]
    refunds: tuple[Refund, ...]
    portions: tuple[PortionState, ...]
    tenders: Mapping[int, Tender]
    currency: str
    # The checks priced together with this one (itself included): its split family, or just itself.
    family_ids: tuple[int, ...] = ()
    # The tax rates of its lines (and of the service charge) as they stand now, by id.
    tax_rates: Mapping[int, TaxRate] = field(default_factory=dict)

    @property
    def paid(self) -> int:
        """What payments have put toward the total (tips are beside it)."""
        return sum(payment.amount_cents for payment in self.payments)

    @property
    def tips(self) -> int:
        """Tips taken with the payments."""
        return sum(payment.tip_cents for payment in self.payments)

    @property
    def change_given(self) -> int:
        """Cash handed back over all payments."""
        return sum(payment.change_cents for payment in self.payments)

    @property
    def refunded(self) -> int:
        """Money given back by completed refunds, tips included."""
        return sum(r.amount_cents + r.tip_cents for r in self.refunds if r.status is RefundStatus.COMPLETED)

    @property
    def due(self) -> int:
        """What is still owed; negative when the check is overpaid."""
        return payment_calculations.remaining_due(
            self.totals.total, [payment.amount_cents for payment in self.payments]
        )

    @property
    def check_discount(self) -> CheckDiscount | None:
        """The discount on the whole check, if any."""
        return next((d for d in self.discounts if d.line_id is None), None)

    @property
    def check_comp(self) -> CheckComp | None:
        """The comp of the whole check, if any."""
        return next((c for c in self.comps if c.line_id is None), None)

    def line_discount(self, line_id: int | None) -> CheckDiscount | None:
        """The discount on one line, if any."""
        return next((d for d in self.discounts if d.line_id == line_id and line_id is not None), None)

    def line_comp(self, line_id: int | None) -> CheckComp | None:
        """The comp of one line, if any."""
        return next((c for c in self.comps if c.line_id == line_id and line_id is not None), None)

    def portion(self, portion_id: int | None) -> PortionState | None:
        """One part of an even or by-amount split."""
        return next((p for p in self.portions if p.portion.id == portion_id), None)

    @property
    def live_lines(self) -> tuple[CheckLine, ...]:
        """Lines that count (voided lines left out)."""
        return tuple(line for line in self.lines if line.state is not LineState.VOIDED)

    @property
    def seats(self) -> list[int | None]:
        """The seats with live lines on this check, shared lines (no seat) last."""
        seen = {line.seat for line in self.live_lines}
        return sorted(seen, key=lambda seat: (seat is None, seat or 0))

    @property
    def unsent_lines(self) -> list[CheckLine]:
        """Lines rung in but not yet sent to the kitchen (held ones too)."""
        return [line for line in self.lines if line.state in (LineState.PENDING, LineState.HELD)]

    @property
    def unsent_count(self) -> int:
        """Lines rung in but not yet sent to the kitchen."""
        return len(self.unsent_lines)


async def load_check(session: AsyncSession, check_id: int, *, for_update: bool = False) -> Check:
    """A check by id (locked on PostgreSQL when asked), or a clear refusal."""
    query = select(Check).where(Check.id == check_id)
    if for_update and is_postgres(session):
        query = query.with_for_update()
    check = (await session.exec(query)).first()
    if check is None:
        raise NotFound(f"There is no check {check_id}.")
    return check


class AttemptKeyTaken(Exception):
    """A payment attempt is already recorded under the idempotency key `check_money` was asked about."""


_PAYMENTS = (
    select(Payment, Tender)
    .outerjoin(Tender, col(Tender.id) == col(Payment.tender_id))
    .where(col(Payment.check_id) == bindparam("check_id"))
    .order_by(col(Payment.id))
)
_PENDING = (
    select(PaymentAttempt, Tender)
    .outerjoin(Tender, col(Tender.id) == col(PaymentAttempt.tender_id))
    .where(col(PaymentAttempt.check_id) == bindparam("check_id"), col(PaymentAttempt.status) == AttemptStatus.PENDING)
    .order_by(col(PaymentAttempt.id))
)
_REFUNDS = select(Refund).where(col(Refund.check_id) == bindparam("check_id")).order_by(col(Refund.id))
_PORTIONS = (
    select(CheckPortion)
    .where(col(CheckPortion.check_id) == bindparam("check_id"), col(CheckPortion.removed_at).is_(None))
    .order_by(col(CheckPortion.position))
)


async def check_money(session: AsyncSession, check: Check, *, attempt_key: str | None = None) -> CheckMoney:
    """Price a check with the one totals function and gather its payments, refunds and parts.

    A check split from another is priced with the rest of its family, so the family's service charge and
    tax are what the original check's were. With `attempt_key`, raises `AttemptKeyTaken` before pricing when a
    payment attempt is already recorded under that idempotency key (found by the check's first read).
    """
    settings = settings_of(session)
    check_id = check.id or 0
    own = await pricing.price(session, check, settings, await _party_covers(session, check), attempt_key=attempt_key)
    present = own.present
    if present.keyed_attempt_id is not None:
        raise AttemptKeyTaken
    if _in_family(check) or present.children:
        members = await family(session, check)
    else:
        members = [check]
    # Always the same order, so the cents a tie hands out land on the same check whichever is shown.
    ordered = sorted({m.id or 0: m for m in [*members, check]}.values(), key=lambda m: m.id or 0)
    inputs = []
    for member in ordered:
        member_pricing = (
            own
            if member.id == check.id
            else await pricing.price(session, member, settings, await _party_covers(session, member))
        )
        inputs.append((member_pricing.priced, member_pricing.adjustments))
    try:
        family_totals = calc.compute_family_totals(inputs, tax_settings(settings), currency=settings.currency)
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None
    totals = family_totals[[m.id for m in ordered].index(check.id)]
    params = {"check_id": check_id}
    tenders: dict[int, Tender] = {}
    payments: list[Payment] = []
    pending: list[PaymentAttempt] = []
    refunds: list[Refund] = []
    portion_rows: list[CheckPortion] = []
    if present.payments:
        for payment, tender in (await session.exec(_PAYMENTS, params=params)).all():
            payments.append(payment)
            if tender is not None:
                tenders[tender.id or 0] = tender
    if present.pending:
        for attempt, tender in (await session.exec(_PENDING, params=params)).all():
            pending.append(attempt)
            if tender is not None:
                tenders[tender.id or 0] = tender
    if present.refunds:
        refunds = list((await session.exec(_REFUNDS, params=params)).all())
    if present.portions:
        portion_rows = list((await session.exec(_PORTIONS, params=params)).all())
    return CheckMoney(
        check=check,
        lines=tuple(own.lines),
        modifiers={line_id: tuple(items) for line_id, items in own.modifiers.items()},
        totals=totals,
        line_totals={line_total.line_id: line_total for line_total in totals.lines},
        discounts=tuple(own.discounts),
        comps=tuple(own.comps),
        waiver=own.waiver,
        party_covers=own.party_covers,
        service_charge_percent=own.percent,
        payments=tuple(payments),
        pending=tuple(pending),
        refunds=tuple(refunds),
        portions=tuple(_portion_states(totals, portion_rows, payments)),
        tenders={tender_id: tenders[tender_id] for tender_id in sorted(tenders)},
        currency=settings.currency,
        family_ids=tuple(m.id or 0 for m in ordered),
        tax_rates=own.rates,
    )


def with_payment(money: CheckMoney, payment: Payment, tender: Tender) -> CheckMoney:
    """The money of a check, priced and locked in this transaction, after one more payment taken in it."""
    payments = [*money.payments, payment]
    return replace(
        money,
        payments=tuple(payments),
        portions=tuple(_portion_states(money.totals, [state.portion for state in money.portions], payments)),
        tenders={**money.tenders, tender.id or 0: tender},
    )


def _in_family(check: Check) -> bool:
    return check.split_from_id is not None


async def check_totals(session: AsyncSession, check_id: int) -> calc.CheckTotals:
    """The one computation of a check's totals, for screens, printers and the ledger."""
    return (await check_money(session, await load_check(session, check_id))).totals


def _portion_states(
    totals: calc.CheckTotals, portions: Sequence[CheckPortion], payments: Sequence[Payment]
) -> list[PortionState]:
    if not portions:
        return []
    unassigned = sum(p.amount_cents for p in payments if p.portion_id is None)
    to_share = max(totals.total - unassigned, 0)
    owed = allocate(to_share, [portion.weight for portion in portions])
    parts: list[calc.CheckPart | None] = [None] * len(portions)
    weights = [min(unassigned, totals.total), *owed]
    if sum(weights) > 0:
        parts = list(split_calculations.allocate_check_to_parts(totals, weights)[1:])
    paid = {portion.id: sum(p.amount_cents for p in payments if p.portion_id == portion.id) for portion in portions}
    return [
        PortionState(portion=portion, count=len(portions), owed=owed[index], paid=paid[portion.id], part=parts[index])
        for index, portion in enumerate(portions)
    ]


async def root_of(session: AsyncSession, check: Check) -> Check:
    """The check a split family grew from."""
    current = check
    seen = {current.id}
    while current.split_from_id is not None and current.split_from_id not in seen:
        parent = await session.get(Check, current.split_from_id)
        if parent is None:
            break
        seen.add(parent.id)
        current = parent
    return current


async def family(session: AsyncSession, check: Check) -> list[Check]:
    """Every check split from the same original (merged-away ones left out), the original first."""
    root = await root_of(session, check)
    members = [root]
    frontier = [root.id or 0]
    while frontier:
        children = list(
            (
                await session.exec(select(Check).where(col(Check.split_from_id).in_(frontier)).order_by(col(Check.id)))
            ).all()
        )
        members.extend(children)
        frontier = [child.id or 0 for child in children]
    return [member for member in members if member.status is not CheckStatus.MERGED]


async def _party_covers(session: AsyncSession, check: Check) -> int:
    # A split never makes a large party small: the service charge follows the original covers.
    return (await root_of(session, check)).covers


async def latest_split(session: AsyncSession, root_check_id: int) -> CheckSplit | None:
    """The newest split of a family that has not been undone."""
    return (
        await session.exec(
            select(CheckSplit)
            .where(CheckSplit.root_check_id == root_check_id, col(CheckSplit.undone_at).is_(None))
            .order_by(col(CheckSplit.id).desc())
        )
    ).first()


# Read on the way to every settled check's page: built once (a statement built per call costs more CPU than its
# execution).
_CLOSINGS_OF = (
    select(CheckClosing).where(CheckClosing.check_id == bindparam("check_id")).order_by(col(CheckClosing.sequence))
)
_TENDERS_ALL = select(Tender).order_by(col(Tender.sort_order), col(Tender.id))
_TENDERS_LIVE = _TENDERS_ALL.where(col(Tender.archived_at).is_(None))
_TABLE_AND_OTHERS_OPEN = (
    select(DiningTable.name, Check)
    .outerjoin(
        Check,
        (col(Check.table_id) == col(DiningTable.id))
        & (col(Check.status) == CheckStatus.OPEN)
        & (col(Check.id) != bindparam("check_id")),
    )
    .where(DiningTable.id == bindparam("table_id"))
    .order_by(col(Check.id))
)
_STAFF_OF = select(Staff).where(col(Staff.id).in_(bindparam("ids", expanding=True)))


async def closings(session: AsyncSession, check_id: int) -> list[CheckClosing]:
    """Every time the check was closed, oldest first."""
    return list((await session.exec(_CLOSINGS_OF, params={"check_id": check_id})).all())


async def refund_lines(session: AsyncSession, refund_ids: Sequence[int]) -> list[RefundLine]:
    """What each refund gave back, line by line."""
    if not refund_ids:
        return []
    return list(
        (
            await session.exec(
                select(RefundLine).where(col(RefundLine.refund_id).in_(list(refund_ids))).order_by(col(RefundLine.id))
            )
        ).all()
    )


async def tenders(session: AsyncSession, *, include_archived: bool = False) -> list[Tender]:
    """Tenders in the order a server sees them."""
    return list((await session.exec(_TENDERS_ALL if include_archived else _TENDERS_LIVE)).all())


CASH_DRAWER_OPEN = "cash_drawer_open"
"""Key in the database context of `open(session, device_id)`: whether cash taken on that device has an open drawer
to go into, its own or the house drawer (wired in app/main.py by whoever keeps the drawers; checks imports none)."""

CashDrawerOpen = Callable[[AsyncSession, int | None], Awaitable[bool]]


async def cash_drawer_open(session: AsyncSession, device_id: int | None) -> bool | None:
    """Whether cash taken on `device_id` has an open drawer to go into; `None` where nobody keeps drawers."""
    ask: CashDrawerOpen | None = session.info.get(CASH_DRAWER_OPEN)
    return None if ask is None else await ask(session, device_id)


async def open_checks_on_table(session: AsyncSession, table_id: int | None) -> list[Check]:
    """The checks still open on a table (a split leaves several), oldest first."""
    if table_id is None:
        return []
    query = select(Check).where(Check.table_id == table_id, Check.status == CheckStatus.OPEN).order_by(col(Check.id))
    return list((await session.exec(query)).all())


async def table_name_and_others_open(session: AsyncSession, check: Check) -> tuple[str, list[Check]]:
    """The check's table name as printed, and the other checks still open on it (a split leaves several), oldest
    first; one statement, so the page after the last payment can say whether the table may be cleared."""
    if check.table_id is None:
        return "-", []
    rows = (await session.exec(_TABLE_AND_OTHERS_OPEN, params={"check_id": check.id, "table_id": check.table_id})).all()
    if not rows:
        return str(check.table_id), []
    return rows[0][0], [other for _, other in rows if other is not None]


async def table_name(session: AsyncSession, table_id: int | None) -> str:
    """The table's name as printed, or '-' for a tab."""
    if table_id is None:
        return "-"
    table = await session.get(DiningTable, table_id)
    return table.name if table else str(table_id)


async def staff_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    """Names of the staff with these ids."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {s.id or 0: s.name for s in await session.exec(_STAFF_OF, params={"ids": wanted})}


async def pending_attempts(session: AsyncSession, *, kind: AttemptKind | None = None) -> list[PaymentAttempt]:
    """Attempts whose outcome is not known yet, oldest first."""
    query = select(PaymentAttempt).where(PaymentAttempt.status == AttemptStatus.PENDING)
    if kind is not None:
        query = query.where(PaymentAttempt.kind == kind)
    return list((await session.exec(query.order_by(col(PaymentAttempt.id)))).all())
