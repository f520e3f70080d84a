"""Head office's catalog: publish numbered releases of the group's menu, serve each venue its view, hear back.

A release is a whole snapshot, not a diff: tax rates, categories, modifier groups with their modifiers, and
every item on sale by SKU, plus each venue's assortment (what it does not sell, where its price differs).
Things are named the way both sides can match them: tax rates, categories and modifier groups by name,
modifiers by their group and name, items by SKU. A venue receives its own view of each release and applies
it whole (see `app/sync/catalog.py` and docs/adr/0011-catalog-releases.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.group.catalog_models import CatalogAssortment, CatalogRelease, CatalogVenueState
from app.group.models import Venue
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup, TaxRate
from app.promotions import services as promotions

# Releases a venue is sent in one answer; it asks again for the rest.
RELEASES_AT_ONCE = 10


async def snapshot(session: AsyncSession) -> dict[str, Any]:
    """The group's catalog as it stands: what a release freezes."""
    rates = (await session.exec(select(TaxRate).where(col(TaxRate.archived_at).is_(None)))).all()
    rate_names = {r.id: r.name for r in rates}
    categories = (
        await session.exec(
            select(MenuCategory).where(col(MenuCategory.archived_at).is_(None)).order_by(col(MenuCategory.sort_order))
        )
    ).all()
    category_names = {c.id: c.name for c in categories}
    for category in categories:
        if category.tax_rate_id not in rate_names:
            raise Conflict(f"Category {category.name} uses an archived tax rate; give it a current one first.")
    groups = (await session.exec(select(ModifierGroup).where(col(ModifierGroup.archived_at).is_(None)))).all()
    twice = [name for name, n in Counter(g.name for g in groups).items() if n > 1]
    if twice:
        raise Conflict(f"Two modifier groups are called {twice[0]}; venues match groups by name, so rename one.")
    group_names = {g.id: g.name for g in groups}
    modifiers = (
        await session.exec(
            select(Modifier).where(col(Modifier.archived_at).is_(None)).order_by(col(Modifier.sort_order))
        )
    ).all()
    by_group: dict[int, list[dict[str, Any]]] = {}
    for modifier in modifiers:
        by_group.setdefault(modifier.group_id, []).append(
            {"name": modifier.name, "price_delta_cents": modifier.price_delta_cents, "sort_order": modifier.sort_order}
        )
    links = (await session.exec(select(MenuItemModifierGroup).order_by(col(MenuItemModifierGroup.sort_order)))).all()
    item_groups: dict[int, list[str]] = {}
    for link in links:
        if link.group_id in group_names:
            item_groups.setdefault(link.item_id, []).append(group_names[link.group_id])
    items = (
        await session.exec(
            select(MenuItem)
            .where(col(MenuItem.archived_at).is_(None))
            .order_by(col(MenuItem.sort_order), col(MenuItem.id))
        )
    ).all()
    on_sale = [i for i in items if i.category_id in category_names]
    skus = {i.id: i.sku for i in on_sale}
    venues = {v.id: v.code for v in (await session.exec(select(Venue))).all()}
    assortment: dict[str, dict[str, Any]] = {}
    for row in (await session.exec(select(CatalogAssortment))).all():
        if row.venue_id not in venues or row.item_id not in skus:
            continue
        view = assortment.setdefault(venues[row.venue_id], {"excluded": [], "prices": {}})
        if not row.sold:
            view["excluded"].append(skus[row.item_id])
        elif row.price_cents is not None:
            view["prices"][skus[row.item_id]] = row.price_cents
    return {
        "tax_rates": [{"name": r.name, "rate_bp": r.rate_bp} for r in rates],
        "categories": [
            {
                "name": c.name,
                "course": c.course.value,
                "tax_rate": rate_names[c.tax_rate_id],
                "sort_order": c.sort_order,
                "color": c.color,
            }
            for c in categories
        ],
        "modifier_groups": [
            {
                "name": g.name,
                "min_choices": g.min_choices,
                "max_choices": g.max_choices,
                "modifiers": by_group.get(g.id or 0, []),
            }
            for g in groups
        ],
        "items": [
            {
                "sku": i.sku,
                "name": i.name,
                "price_cents": i.price_cents,
                "category": category_names[i.category_id],
                "description": i.description,
                "sort_order": i.sort_order,
                "modifier_groups": item_groups.get(i.id or 0, []),
            }
            for i in on_sale
        ],
        "assortment": assortment,
        "promotions": await promotions.catalog_snapshot(session),
    }


async def publish(
    session: AsyncSession,
    *,
    note: str = "",
    effective_day: dt.date | None = None,
    allow_local_items: bool = True,
    actor_id: int | None = None,
) -> CatalogRelease:
    """Freeze the catalog as the next numbered release; venues pull it and apply it whole."""
    note = note.strip()
    if len(note) > 300:
        raise InvalidInput("The note holds at most 300 characters.")
    frozen = await snapshot(session)
    if not frozen["items"]:
        raise InvalidInput("The catalog has no item on sale; there is nothing to publish.")
    last = (await session.exec(select(func.max(CatalogRelease.number)))).one()
    release = CatalogRelease(
        number=int(last or 0) + 1,
        note=note,
        effective_day=effective_day,
        allow_local_items=allow_local_items,
        item_count=len(frozen["items"]),
        published_by=actor_id,
        snapshot=frozen,
    )
    session.add(release)
    await session.flush()
    await audit.record(
        session,
        "catalog.publish",
        actor_id=actor_id,
        subject=f"catalog_release:{release.number}",
        after={
            "items": release.item_count,
            "effective_day": effective_day.isoformat() if effective_day else None,
            "note": note,
        },
    )
    return release


def venue_view(release: CatalogRelease, venue_code: str) -> dict[str, Any]:
    """What one venue receives of a release: only what it sells, at its own prices where they differ."""
    frozen = release.snapshot
    mine = frozen.get("assortment", {}).get(venue_code, {})
    excluded = set(mine.get("excluded", []))
    prices: dict[str, int] = mine.get("prices", {})
    items = [
        {**item, "price_cents": prices.get(item["sku"], item["price_cents"])}
        for item in frozen["items"]
        if item["sku"] not in excluded
    ]
    return {
        "number": release.number,
        "note": release.note,
        "effective_day": release.effective_day.isoformat() if release.effective_day else None,
        "published_at": release.published_at.isoformat(),
        "allow_local_items": release.allow_local_items,
        "catalog": {
            "tax_rates": frozen["tax_rates"],
            "categories": frozen["categories"],
            "modifier_groups": frozen["modifier_groups"],
            "items": items,
            "promotions": promotions.venue_promotions(frozen.get("promotions", []), excluded),
        },
    }


async def releases_after(session: AsyncSession, after: int, *, limit: int = RELEASES_AT_ONCE) -> list[CatalogRelease]:
    """The releases after `after`, oldest first."""
    query = (
        select(CatalogRelease)
        .where(col(CatalogRelease.number) > after)
        .order_by(col(CatalogRelease.number))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def releases(session: AsyncSession) -> Sequence[CatalogRelease]:
    """Every release, newest first."""
    return (await session.exec(select(CatalogRelease).order_by(col(CatalogRelease.number).desc()))).all()


async def latest_number(session: AsyncSession) -> int:
    """The number of the newest release (0 before the first)."""
    return int((await session.exec(select(func.max(CatalogRelease.number)))).one() or 0)


async def report(
    session: AsyncSession, venue: Venue, *, applied: int | None, failed: int | None, error: str | None
) -> CatalogVenueState:
    """Keep what a venue says of its catalog: the release it trades on, and the one that would not apply."""
    state = (await session.exec(select(CatalogVenueState).where(CatalogVenueState.venue_id == venue.id))).first()
    error = (error or "")[:2000] or None if failed is not None else None
    if state is None:
        state = CatalogVenueState(venue_id=venue.id or 0)
    elif (state.applied_release, state.failed_release, state.error) == (applied, failed, error):
        return state  # nothing new: the venue asks on a timer, and head office writes only what changed
    state.applied_release = applied
    state.failed_release = failed
    state.error = error
    state.reported_at = utcnow()
    session.add(state)
    return state


async def venue_states(session: AsyncSession) -> dict[int, CatalogVenueState]:
    """Each venue's last catalog report, by venue id."""
    return {s.venue_id: s for s in (await session.exec(select(CatalogVenueState))).all()}


async def set_assortment(
    session: AsyncSession, *, venue_code: str, sku: str, sold: bool = True, price_cents: int | None = None
) -> CatalogAssortment:
    """Say whether a venue sells an item, and at what price if its own (None: the group's price)."""
    venue = (await session.exec(select(Venue).where(Venue.code == venue_code.strip().upper()))).first()
    if venue is None:
        raise NotFound(f"No venue {venue_code}.")
    item = (await session.exec(select(MenuItem).where(MenuItem.sku == sku.strip()))).first()
    if item is None:
        raise NotFound(f"No item with SKU {sku}.")
    if price_cents is not None and price_cents < 0:
        raise InvalidInput("A price cannot be negative.")
    row = (
        await session.exec(
            select(CatalogAssortment).where(
                CatalogAssortment.venue_id == venue.id, CatalogAssortment.item_id == item.id
            )
        )
    ).first()
    if row is None:
        row = CatalogAssortment(venue_id=venue.id or 0, item_id=item.id or 0)
    row.sold = sold
    row.price_cents = price_cents if sold else None
    session.add(row)
    await session.flush()
    return row


async def assortments(session: AsyncSession) -> list[dict[str, Any]]:
    """Every venue's exceptions to the group menu: dishes it does not sell, dishes at its own price."""
    rows = (
        await session.exec(
            select(CatalogAssortment).where(
                or_(col(CatalogAssortment.sold).is_(False), col(CatalogAssortment.price_cents).is_not(None))
            )
        )
    ).all()
    codes = {v.id: v.code for v in (await session.exec(select(Venue))).all()}
    ids = sorted({row.item_id for row in rows})
    items = {i.id: i for i in (await session.exec(select(MenuItem).where(col(MenuItem.id).in_(ids)))).all()}
    listed = [
        {
            "venue": codes.get(row.venue_id, "?"),
            "sku": items[row.item_id].sku,
            "name": items[row.item_id].name,
            "sold": row.sold,
            "price_cents": row.price_cents,
            "group": items[row.item_id].price_cents,
        }
        for row in rows
        if row.item_id in items
    ]
    return sorted(listed, key=lambda a: (a["venue"], a["sku"]))
