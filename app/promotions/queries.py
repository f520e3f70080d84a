"""Read models for the promotions page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.menu.models import MenuCategory, MenuItem
from app.promotions import calculations as calc
from app.promotions.models import Promotion, PromotionItem
from app.promotions.services import schedule_of


@dataclass(frozen=True)
class PromotionRow:
    """A rule as the manager's list shows it, with what it covers and when it runs."""

    promotion: Promotion
    category: str | None
    items: list[tuple[int, str, str | None]]
    runs_now: bool

    @property
    def item_ids(self) -> list[int]:
        """The ids of the items it covers, for the form."""
        return [item_id for item_id, _, _ in self.items]

    def course_item_ids(self, course: str) -> list[int]:
        """A set menu's choices for one course, for the form."""
        return [item_id for item_id, _, slot in self.items if slot == course]

    @property
    def schedule(self) -> str:
        """'Mon-Fri, 17:00-19:00'."""
        p = self.promotion
        text = calc.schedule_text(frozenset(int(d) for d in p.weekdays), p.start_minute, p.end_minute)
        if p.first_day or p.last_day:
            first = p.first_day.isoformat() if p.first_day else "…"
            last = p.last_day.isoformat() if p.last_day else "…"
            text += f" ({first} to {last})"
        return text

    @property
    def terms(self) -> str:
        """'-30 %', 'at 4.00', '2 for 15.00', 'menu at 25.00'."""
        p = self.promotion
        if p.kind is calc.RuleKind.PERCENT:
            return f"-{p.percent_bp / 100:g} %"
        if p.kind is calc.RuleKind.SET_PRICE:
            return f"at {p.price_cents / 100:.2f}"
        if p.kind is calc.RuleKind.QUANTITY:
            return f"{p.deal_size} for {p.price_cents / 100:.2f}"
        return f"menu at {p.price_cents / 100:.2f}"

    @property
    def covers(self) -> str:
        """What it applies to, in words."""
        if self.promotion.kind is calc.RuleKind.SET_MENU:
            parts = []
            for course in ("starters", "mains", "dessert"):
                names = [name for _, name, slot in self.items if slot == course]
                parts.append(f"{course}: {', '.join(names) or '—'}")
            return "; ".join(parts)
        names = [name for _, name, _ in self.items]
        whole = [f"all of {self.category}"] if self.category else []
        return ", ".join(whole + names)


async def promotion_rows(
    session: AsyncSession, *, archived: bool = False, timezone: str = "UTC", now: datetime | None = None
) -> list[PromotionRow]:
    """Live rules (or archived ones), newest first, each with its items and whether it runs right now."""
    moment = now or utcnow()
    query = select(Promotion).order_by(col(Promotion.id).desc())
    query = query.where(col(Promotion.archived_at).is_not(None) if archived else col(Promotion.archived_at).is_(None))
    promotions = list((await session.exec(query)).all())
    ids = [p.id or 0 for p in promotions]
    items: dict[int, list[tuple[int, str, str | None]]] = {}
    if ids:
        for row, name in await session.exec(
            select(PromotionItem, MenuItem.name)
            .join(MenuItem, col(MenuItem.id) == col(PromotionItem.menu_item_id))
            .where(col(PromotionItem.promotion_id).in_(ids))
            .order_by(col(MenuItem.name))
        ):
            items.setdefault(row.promotion_id, []).append((row.menu_item_id, name, row.slot))
    categories = {c.id: c.name for c in await session.exec(select(MenuCategory))}
    return [
        PromotionRow(
            promotion=p,
            category=categories.get(p.category_id) if p.category_id else None,
            items=items.get(p.id or 0, []),
            runs_now=p.archived_at is None and schedule_of(p).runs_at(moment, timezone),
        )
        for p in promotions
    ]


async def menu_choices(session: AsyncSession) -> tuple[list[MenuCategory], list[MenuItem]]:
    """Live categories and items to choose from, in menu order."""
    categories = list(
        (
            await session.exec(
                select(MenuCategory)
                .where(col(MenuCategory.archived_at).is_(None))
                .order_by(col(MenuCategory.sort_order), col(MenuCategory.name))
            )
        ).all()
    )
    items = list(
        (
            await session.exec(select(MenuItem).where(col(MenuItem.archived_at).is_(None)).order_by(col(MenuItem.name)))
        ).all()
    )
    return categories, items
