"""Promotion commands: create, edit, archive and restore rules; the snapshot a line takes when it is rung in.

Each command runs in the caller's write transaction, refuses bad input with a message a manager can act on
(and then changes nothing), and leaves an audit entry. Rules are archived, never deleted: lines point at them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.inputs import clean_text
from app.lib.settings import Settings
from app.lib.sql import is_postgres
from app.menu.inputs import parse_percent, parse_price
from app.menu.models import Course, MenuCategory, MenuItem
from app.promotions import calculations as calc
from app.promotions.models import LinePromotion, Promotion, PromotionItem
from app.staff.models import Staff
from app.staff.permissions import Perm

NAME_MAX: Final = 60
DEAL_SIZE_MAX: Final = 20
ITEMS_MAX: Final = 200
SET_MENU_COURSES: Final = (Course.STARTERS, Course.MAINS, Course.DESSERT)
_CLOCK: Final = re.compile(r"(?P<hour>[0-9]{1,2})[:.h](?P<minute>[0-9]{2})")


@dataclass(frozen=True)
class PromotionInput:
    """A rule as a manager typed it. Texts are parsed here so every caller gets the same refusals.

    `item_ids` are the items a percent, set price or quantity deal covers (with or instead of `category_id`);
    a set menu lists its choices per course in `set_menu`.
    """

    name: str
    kind: str
    percent: str = ""
    price: str = ""
    deal_size: str = ""
    category_id: int | None = None
    item_ids: Sequence[int] = ()
    set_menu: dict[str, Sequence[int]] = field(default_factory=dict)
    weekdays: Sequence[int] = tuple(range(7))
    start: str = "00:00"
    end: str = "24:00"
    first_day: str = ""
    last_day: str = ""


@dataclass(frozen=True)
class _Parsed:
    name: str
    kind: calc.RuleKind
    percent_bp: int
    price_cents: int
    deal_size: int
    category_id: int | None
    items: list[tuple[int, str | None]]
    weekdays: str
    start_minute: int
    end_minute: int
    first_day: dt.date | None
    last_day: dt.date | None


def _require(actor: Staff, doing: str) -> None:
    if not actor.can(Perm.MENU_MANAGE):
        raise InvalidInput(f"{actor.name} cannot {doing}; a manager can.")


def parse_clock(text: str, *, label: str) -> int:
    """'17:30' (or '17.30', '17h30') as minutes since midnight; '24:00' is the end of the day."""
    match = _CLOCK.fullmatch(str(text or "").strip())
    if not match:
        raise InvalidInput(f'{label} must be a time like "17:00".')
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise InvalidInput(f'{label} must be a time between "00:00" and "24:00".')
    return hour * 60 + minute


def _parse_day(text: str, *, label: str) -> dt.date | None:
    cleaned = str(text or "").strip()
    if not cleaned:
        return None
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(f'{label} must be a date like "2026-12-24".') from None


async def _parse(session: AsyncSession, form: PromotionInput, currency: str) -> _Parsed:
    name = clean_text(form.name, label="The name", max_length=NAME_MAX)
    try:
        kind = calc.RuleKind(form.kind)
    except ValueError:
        raise InvalidInput(
            "Choose what the promotion does: percent off, set price, quantity deal or set menu."
        ) from None
    days = sorted(set(form.weekdays))
    if not days:
        raise InvalidInput("Choose at least one weekday the promotion runs on.")
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise InvalidInput("Weekdays are Monday to Sunday.")
    start = parse_clock(form.start, label="The start time")
    end = parse_clock(form.end, label="The end time")
    if end <= start:
        raise InvalidInput(
            f"The end time ({calc.clock_text(end)}) must be after the start time ({calc.clock_text(start)}); "
            "a promotion past midnight is two: one to 24:00 and one from 00:00 the next day."
        )
    first_day = _parse_day(form.first_day, label="The first day")
    last_day = _parse_day(form.last_day, label="The last day")
    if first_day and last_day and last_day < first_day:
        raise InvalidInput(f"The last day ({last_day:%d %b %Y}) is before the first day ({first_day:%d %b %Y}).")
    percent_bp = price_cents = deal_size = 0
    category_id = form.category_id
    items: list[tuple[int, str | None]] = []
    if kind is calc.RuleKind.PERCENT:
        percent_bp = parse_percent(form.percent, label="The percent off")
        if percent_bp <= 0:
            raise InvalidInput("The percent off must be more than 0 and at most 100.")
    else:
        price_cents = parse_price(form.price, label="The price", currency=currency)
        if kind is not calc.RuleKind.SET_PRICE and price_cents <= 0:
            raise InvalidInput("A deal's price must be more than zero; comp the items instead.")
    if kind is calc.RuleKind.QUANTITY:
        text = str(form.deal_size or "").strip()
        if not text.isdigit() or not 2 <= int(text) <= DEAL_SIZE_MAX:
            raise InvalidInput(f"A quantity deal is for 2 to {DEAL_SIZE_MAX} items (2 for the price, 3 for…).")
        deal_size = int(text)
    if kind is calc.RuleKind.SET_MENU:
        category_id = None
        chosen: dict[int, str] = {}
        for course in SET_MENU_COURSES:
            ids = list(dict.fromkeys(form.set_menu.get(course.value, ())))
            if not ids:
                raise InvalidInput(f"A set menu needs at least one dish to choose from for {course.label.lower()}.")
            for item_id in ids:
                if item_id in chosen:
                    raise InvalidInput("A dish can be in one course of a set menu only.")
                chosen[item_id] = course.value
        items = list(chosen.items())
        deal_size = len(SET_MENU_COURSES)
    else:
        items = [(item_id, None) for item_id in dict.fromkeys(form.item_ids)]
        if category_id is None and not items:
            raise InvalidInput("Choose a category or at least one item the promotion applies to.")
    if len(items) > ITEMS_MAX:
        raise InvalidInput(f"A promotion covers at most {ITEMS_MAX} items; use a category instead.")
    if category_id is not None:
        category = await session.get(MenuCategory, category_id)
        if category is None or category.archived_at is not None:
            raise NotFound("That category is not on the menu.")
    if items:
        ids = [item_id for item_id, _ in items]
        found = {
            item.id: item
            for item in await session.exec(select(MenuItem).where(col(MenuItem.id).in_(ids)))
            if item.archived_at is None
        }
        missing = [item_id for item_id in ids if item_id not in found]
        if missing:
            raise NotFound(f"Item {missing[0]} is not on the menu; reload the page.")
        if kind is calc.RuleKind.QUANTITY or kind is calc.RuleKind.SET_MENU:
            dearest = sorted((found[item_id].price_cents for item_id in ids), reverse=True)
            if kind is calc.RuleKind.SET_MENU:
                by_course: dict[str, int] = {}
                for item_id, slot in items:
                    by_course[slot or ""] = max(by_course.get(slot or "", 0), found[item_id].price_cents)
                top = sum(by_course.values())
            else:
                top = (dearest[0] if dearest else 0) * deal_size
            if top and price_cents >= top:
                raise InvalidInput(
                    f"At {price_cents / 100:.2f} the deal saves the guest nothing: its dishes cost at most "
                    f"{top / 100:.2f} together."
                )
    return _Parsed(
        name=name,
        kind=kind,
        percent_bp=percent_bp,
        price_cents=price_cents,
        deal_size=deal_size,
        category_id=category_id,
        items=items,
        weekdays="".join(str(d) for d in days),
        start_minute=start,
        end_minute=end,
        first_day=first_day,
        last_day=last_day,
    )


def _snapshot(promotion: Promotion, items: Sequence[tuple[int, str | None]]) -> dict[str, Any]:
    return {
        "name": promotion.name,
        "kind": promotion.kind.value,
        "percent_bp": promotion.percent_bp,
        "price_cents": promotion.price_cents,
        "deal_size": promotion.deal_size,
        "category_id": promotion.category_id,
        "items": [[item_id, slot] for item_id, slot in items],
        "weekdays": promotion.weekdays,
        "start_minute": promotion.start_minute,
        "end_minute": promotion.end_minute,
        "first_day": promotion.first_day.isoformat() if promotion.first_day else None,
        "last_day": promotion.last_day.isoformat() if promotion.last_day else None,
        "archived": promotion.archived_at is not None,
    }


async def items_of(session: AsyncSession, promotion_id: int) -> list[tuple[int, str | None]]:
    """The items a promotion covers, with their set-menu course."""
    rows = await session.exec(
        select(PromotionItem).where(PromotionItem.promotion_id == promotion_id).order_by(col(PromotionItem.id))
    )
    return [(row.menu_item_id, row.slot) for row in rows]


async def create_promotion(
    session: AsyncSession, form: PromotionInput, *, actor: Staff, currency: str = "EUR"
) -> Promotion:
    """A new rule, running from now on its schedule."""
    _require(actor, "create promotions")
    parsed = await _parse(session, form, currency)
    promotion = Promotion(name=parsed.name, kind=parsed.kind)
    _fill(promotion, parsed)
    session.add(promotion)
    await session.flush()
    await _replace_items(session, promotion.id or 0, parsed.items)
    await audit.record(
        session,
        "promotion.create",
        actor_id=actor.id,
        subject=f"promotion:{promotion.id}",
        after=_snapshot(promotion, parsed.items),
    )
    return promotion


async def update_promotion(
    session: AsyncSession, promotion_id: int, form: PromotionInput, *, actor: Staff, currency: str = "EUR"
) -> Promotion:
    """Change a rule; lines already rung in keep what they took."""
    _require(actor, "edit promotions")
    promotion = await _get(session, promotion_id)
    if promotion.archived_at is not None:
        raise Conflict(f"{promotion.name} is archived; restore it before editing.")
    before = _snapshot(promotion, await items_of(session, promotion_id))
    parsed = await _parse(session, form, currency)
    _fill(promotion, parsed)
    session.add(promotion)
    await _replace_items(session, promotion_id, parsed.items)
    await audit.record(
        session,
        "promotion.update",
        actor_id=actor.id,
        subject=f"promotion:{promotion_id}",
        before=before,
        after=_snapshot(promotion, parsed.items),
    )
    return promotion


async def archive_promotion(session: AsyncSession, promotion_id: int, *, actor: Staff) -> Promotion:
    """Stop a rule: nothing new is rung in under it; lines that have it keep it."""
    _require(actor, "archive promotions")
    promotion = await _get(session, promotion_id)
    if promotion.archived_at is not None:
        raise Conflict(f"{promotion.name} is already archived.")
    promotion.archived_at = utcnow()
    session.add(promotion)
    await audit.record(session, "promotion.archive", actor_id=actor.id, subject=f"promotion:{promotion_id}")
    return promotion


async def restore_promotion(session: AsyncSession, promotion_id: int, *, actor: Staff) -> Promotion:
    """Run an archived rule again on its schedule."""
    _require(actor, "restore promotions")
    promotion = await _get(session, promotion_id)
    if promotion.archived_at is None:
        raise Conflict(f"{promotion.name} is not archived.")
    promotion.archived_at = None
    session.add(promotion)
    await audit.record(session, "promotion.restore", actor_id=actor.id, subject=f"promotion:{promotion_id}")
    return promotion


def _fill(promotion: Promotion, parsed: _Parsed) -> None:
    promotion.name = parsed.name
    promotion.kind = parsed.kind
    promotion.percent_bp = parsed.percent_bp
    promotion.price_cents = parsed.price_cents
    promotion.deal_size = parsed.deal_size
    promotion.category_id = parsed.category_id
    promotion.weekdays = parsed.weekdays
    promotion.start_minute = parsed.start_minute
    promotion.end_minute = parsed.end_minute
    promotion.first_day = parsed.first_day
    promotion.last_day = parsed.last_day


async def _replace_items(session: AsyncSession, promotion_id: int, items: Sequence[tuple[int, str | None]]) -> None:
    existing = {
        row.menu_item_id: row
        for row in await session.exec(select(PromotionItem).where(PromotionItem.promotion_id == promotion_id))
    }
    wanted = dict(items)
    for item_id, row in existing.items():
        if item_id not in wanted:
            await session.delete(row)
    for item_id, slot in items:
        kept = existing.get(item_id)
        if kept is None:
            session.add(PromotionItem(promotion_id=promotion_id, menu_item_id=item_id, slot=slot))
        elif kept.slot != slot:
            kept.slot = slot
            session.add(kept)
    await session.flush()


async def _get(session: AsyncSession, promotion_id: int) -> Promotion:
    query = select(Promotion).where(Promotion.id == promotion_id)
    if is_postgres(session):
        query = query.with_for_update()
    promotion = (await session.exec(query)).first()
    if promotion is None:
        raise NotFound("No such promotion.")
    return promotion


# ---------------------------------------------------------------------------------------------- ring-in


def _settings(session: AsyncSession) -> Settings:
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def schedule_of(promotion: Promotion) -> calc.Schedule:
    """A rule's schedule as the maths reads it."""
    return calc.Schedule(
        weekdays=frozenset(int(d) for d in promotion.weekdays),
        start_minute=promotion.start_minute,
        end_minute=promotion.end_minute,
        first_day=promotion.first_day,
        last_day=promotion.last_day,
    )


def rule_of(promotion: Promotion) -> calc.Rule:
    """A rule's figures as the maths reads them."""
    return calc.Rule(
        id=promotion.id or 0,
        name=promotion.name,
        kind=promotion.kind,
        percent=Decimal(promotion.percent_bp) / 100,
        price_cents=promotion.price_cents,
        deal_size=promotion.deal_size,
    )


def may_apply() -> Any:
    """Whether a live promotion names the item or the category of the enclosing query (`MenuItem`,
    `MenuCategory`): order entry reads it with the item it rings in, so most items cost no look-up of their own."""
    named = (
        select(PromotionItem.id)
        .where(
            col(PromotionItem.promotion_id) == col(Promotion.id),
            col(PromotionItem.menu_item_id) == col(MenuItem.id),
        )
        .correlate(Promotion, MenuItem)
        .exists()
    )
    return (
        select(Promotion.id)
        .where(col(Promotion.archived_at).is_(None), (col(Promotion.category_id) == col(MenuCategory.id)) | named)
        .correlate(MenuItem, MenuCategory)
        .exists()
    )


async def snapshot_for_line(
    session: AsyncSession,
    *,
    line_id: int,
    menu_item_id: int,
    category_id: int,
    unit_price: int,
    timezone: str | None = None,
    at: datetime | None = None,
) -> LinePromotion | None:
    """Apply the promotion running now that gives this item its best price, and keep it on the line.

    Called by order entry in the ringing transaction. The precedence: docs/adr/0012-promotion-precedence.md.
    """
    moment = at or utcnow()
    terms = await terms_for_item(
        session, menu_item_id=menu_item_id, category_id=category_id, unit_price=unit_price, timezone=timezone, at=moment
    )
    if terms is None:
        return None
    snapshot = LinePromotion(
        line_id=line_id,
        promotion_id=terms.rule_id,
        name=terms.name,
        kind=terms.kind,
        unit_off_cents=terms.unit_off,
        deal_size=terms.deal_size,
        deal_price_cents=terms.deal_price,
        slot=terms.slot,
        applied_at=moment,
    )
    session.add(snapshot)
    return snapshot


async def terms_for_item(
    session: AsyncSession,
    *,
    menu_item_id: int,
    category_id: int,
    unit_price: int,
    timezone: str | None = None,
    at: datetime | None = None,
) -> calc.Terms | None:
    """The terms an item rung in at `at` would get: the best of the rules running then, or None."""
    moment = at or utcnow()
    zone = timezone or _settings(session).timezone
    rows = (
        await session.exec(
            select(Promotion, PromotionItem.slot)
            .outerjoin(
                PromotionItem,
                (col(PromotionItem.promotion_id) == col(Promotion.id))
                & (col(PromotionItem.menu_item_id) == menu_item_id),
            )
            .where(
                col(Promotion.archived_at).is_(None),
                (col(PromotionItem.id).is_not(None)) | (col(Promotion.category_id) == category_id),
            )
            .order_by(col(Promotion.id))
        )
    ).all()
    running = [(promotion, slot) for promotion, slot in rows if schedule_of(promotion).runs_at(moment, zone)]
    if not running:
        return None
    slots = {promotion.id: slot for promotion, slot in running}
    best = calc.best_rule([rule_of(promotion) for promotion, _ in running], unit_price)
    if best is None:
        return None
    return calc.terms_for(best, unit_price, slots.get(best.id))


async def terms_of_lines(session: AsyncSession, line_ids: Sequence[int]) -> dict[int, calc.Terms]:
    """The promotion each of these lines (or the line they were split off from) was rung in under."""
    if not line_ids:
        return {}
    rows = await session.exec(select(LinePromotion).where(col(LinePromotion.line_id).in_(sorted(set(line_ids)))))
    return {row.line_id: row.terms for row in rows}


# ---------------------------------------------------------------------------------------------- group catalog


async def catalog_snapshot(session: AsyncSession) -> list[dict[str, Any]]:
    """Head office's live promotions as a catalog release carries them: items by SKU, a category by name."""
    promotions = list(
        (
            await session.exec(
                select(Promotion).where(col(Promotion.archived_at).is_(None)).order_by(col(Promotion.id))
            )
        ).all()
    )
    if not promotions:
        return []
    categories = {c.id: c.name for c in await session.exec(select(MenuCategory))}
    items: dict[int, list[list[str | None]]] = {}
    for row, sku in await session.exec(
        select(PromotionItem, MenuItem.sku)
        .join(MenuItem, col(MenuItem.id) == col(PromotionItem.menu_item_id))
        .where(col(PromotionItem.promotion_id).in_([p.id for p in promotions]), col(MenuItem.archived_at).is_(None))
        .order_by(col(PromotionItem.id))
    ):
        items.setdefault(row.promotion_id, []).append([sku, row.slot])
    return [
        {
            "name": p.name,
            "kind": p.kind.value,
            "percent_bp": p.percent_bp,
            "price_cents": p.price_cents,
            "deal_size": p.deal_size,
            "category": categories.get(p.category_id) if p.category_id else None,
            "items": items.get(p.id or 0, []),
            "weekdays": p.weekdays,
            "start_minute": p.start_minute,
            "end_minute": p.end_minute,
            "first_day": p.first_day.isoformat() if p.first_day else None,
            "last_day": p.last_day.isoformat() if p.last_day else None,
        }
        for p in promotions
    ]


def venue_promotions(promotions: Sequence[dict[str, Any]], excluded_skus: set[str]) -> list[dict[str, Any]]:
    """A release's promotions as one venue receives them: without the items it does not sell; a rule left with
    nothing to act on (or a set menu left without a course) is not sent."""
    sent = []
    for raw in promotions:
        items = [entry for entry in raw["items"] if entry[0] not in excluded_skus]
        if raw["kind"] == calc.RuleKind.SET_MENU.value:
            if {slot for _, slot in items} != {slot for _, slot in raw["items"]}:
                continue
        elif not items and not raw["category"]:
            continue
        sent.append({**raw, "items": items})
    return sent


async def apply_catalog(
    session: AsyncSession,
    promotions: Sequence[dict[str, Any]],
    previous: Sequence[dict[str, Any]] | None,
    *,
    actor_id: int | None = None,
) -> int:
    """Make the venue's promotions from head office what a release says, matched by name, in the caller's
    transaction (after its menu is applied). One head office stopped sending is archived; the venue's own stay.
    Lines already rung in keep what they took. Returns how many rules were added or changed."""
    now = utcnow()
    existing = {p.name: p for p in (await session.exec(select(Promotion))).all()}
    categories = {c.name: c.id for c in (await session.exec(select(MenuCategory))).all()}
    skus = {i.sku: i.id or 0 for i in (await session.exec(select(MenuItem))).all()}
    touched = 0
    for raw in promotions:
        promotion = existing.get(raw["name"])
        values: dict[str, Any] = {
            "kind": calc.RuleKind(raw["kind"]),
            "percent_bp": int(raw["percent_bp"]),
            "price_cents": int(raw["price_cents"]),
            "deal_size": int(raw["deal_size"]),
            "category_id": categories.get(raw["category"]) if raw["category"] else None,
            "weekdays": str(raw["weekdays"]),
            "start_minute": int(raw["start_minute"]),
            "end_minute": int(raw["end_minute"]),
            "first_day": dt.date.fromisoformat(raw["first_day"]) if raw["first_day"] else None,
            "last_day": dt.date.fromisoformat(raw["last_day"]) if raw["last_day"] else None,
            "archived_at": None,
        }
        items = [(skus[sku], slot) for sku, slot in raw["items"] if sku in skus]
        if promotion is None:
            promotion = existing[raw["name"]] = Promotion(name=raw["name"], **values)
            session.add(promotion)
            await session.flush()
            touched += 1
        else:
            before = _snapshot(promotion, await items_of(session, promotion.id or 0))
            for name, value in values.items():
                setattr(promotion, name, value)
            if _snapshot(promotion, items) != before:
                session.add(promotion)
                touched += 1
        await _replace_items(session, promotion.id or 0, items)
    sent = {raw["name"] for raw in promotions}
    for raw in previous or []:
        gone = existing.get(raw["name"])
        if raw["name"] not in sent and gone is not None and gone.archived_at is None:
            gone.archived_at = now
            session.add(gone)
            touched += 1
    await session.flush()
    if touched:
        await audit.record(
            session, "promotion.catalog_apply", actor_id=actor_id, subject="promotions", after={"rules": sorted(sent)}
        )
    return touched
