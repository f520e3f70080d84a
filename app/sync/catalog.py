"""A venue takes head office's catalog releases: pulled over its credential, each applied whole or not at all.

Each pass (the sender's timer, `brigade sync now`, the head-office page's "Send now") tells head office which
release this venue trades on and which one failed, receives the releases after it, keeps them, and applies
every one that is due, in order, each in one transaction. A release that cannot apply (a tax rate the venue's
ledger cannot map to a tax payable account, a category without a revenue account) rolls back entirely, is kept
with its reason, shown here and reported to head office; the releases after it wait, and the next pass tries
it again, so fixing the mapping is all it takes. A release with an effective business day waits for that day.

What belongs to the venue is never overwritten: 86s and portions left, stations and routing (an item's,
category's or modifier's station), printers, stock and recipes, and items of its own (kept unless head office
forbids local items). An item, category, tax rate, modifier group or modifier head office removed is archived
here, never deleted. Lines already rung in keep their own name and price, as always.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import delete, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks.services import business_day
from app.group.catalog_controllers import CATALOG_PATH
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.db import Database, unreachable
from app.lib.errors import DomainError
from app.lib.settings import Settings
from app.menu.models import Course, MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup, TaxRate
from app.promotions import services as promotions
from app.sync import catalog_mappings, services
from app.sync.catalog_mappings import CatalogRefused
from app.sync.catalog_models import ReceivedRelease
from app.sync.models import LinkStatus

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class Applied:
    """What applying one release changed."""

    number: int
    added: int = 0
    changed: int = 0
    archived: int = 0
    # What head office took off the menu, archived here besides items: categories, tax rates, modifier groups
    # and modifiers, by kind.
    retired: dict[str, int] = field(default_factory=dict)


@dataclass
class PullOutcome:
    """What one catalog pass did."""

    received: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    waiting: int | None = None
    failed: int | None = None
    error: str | None = None


def _set(obj: Any, values: dict[str, Any]) -> bool:
    """Set only what differs (so an unchanged item is not written, nor redrawn on the tablets)."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


async def apply_release(
    session: AsyncSession, release: ReceivedRelease, previous: dict[str, Any] | None, *, actor_id: int | None = None
) -> Applied:
    """Make the venue's menu what the release says, in the caller's transaction; raise to leave it all untouched.

    `previous` is the catalog of the release applied before, so an item head office removed (or stopped
    sending this venue) is told apart from an item of the venue's own.
    """
    catalog: dict[str, Any] = release.payload["catalog"]
    allow_local = bool(release.payload.get("allow_local_items", True))
    now = utcnow()
    done = Applied(release.number)

    rates = {r.name: r for r in (await session.exec(select(TaxRate))).all()}
    for raw in catalog["tax_rates"]:
        rate = rates.get(raw["name"])
        if rate is None:
            rate = rates[raw["name"]] = TaxRate(name=raw["name"], rate_bp=raw["rate_bp"])
            session.add(rate)
        elif _set(rate, {"rate_bp": raw["rate_bp"], "archived_at": None}):
            session.add(rate)
    await session.flush()

    categories = {c.name: c for c in (await session.exec(select(MenuCategory))).all()}
    for raw in catalog["categories"]:
        values = {
            "course": Course(raw["course"]),
            "tax_rate_id": rates[raw["tax_rate"]].id,
            "sort_order": raw["sort_order"],
            "color": raw["color"],
            "archived_at": None,
        }
        category = categories.get(raw["name"])
        if category is None:  # no station: routing is the venue's (until set, firing says the dish reaches none)
            category = categories[raw["name"]] = MenuCategory(name=raw["name"], **values)
            session.add(category)
        elif _set(category, values):
            session.add(category)
    await session.flush()
    await catalog_mappings.ensure_mappings(session, rates, categories, catalog)

    groups = {g.name: g for g in (await session.exec(select(ModifierGroup))).all()}
    modifiers = {(m.group_id, m.name): m for m in (await session.exec(select(Modifier))).all()}
    wanted_modifiers: set[tuple[str, str]] = set()
    for raw in catalog["modifier_groups"]:
        values = {"min_choices": raw["min_choices"], "max_choices": raw["max_choices"], "archived_at": None}
        group = groups.get(raw["name"])
        if group is None:
            group = groups[raw["name"]] = ModifierGroup(name=raw["name"], **values)
            session.add(group)
            await session.flush()
        elif _set(group, values):
            session.add(group)
        for raw_modifier in raw["modifiers"]:
            wanted_modifiers.add((raw["name"], raw_modifier["name"]))
            mod_values = {
                "price_delta_cents": raw_modifier["price_delta_cents"],
                "sort_order": raw_modifier["sort_order"],
                "archived_at": None,
            }
            modifier = modifiers.get((group.id or 0, raw_modifier["name"]))
            if modifier is None:
                session.add(Modifier(group_id=group.id or 0, name=raw_modifier["name"], **mod_values))
            elif _set(modifier, mod_values):
                session.add(modifier)
    if previous is not None:  # modifiers head office stopped sending are archived; the venue's own stay
        group_by_id = {g.id: g.name for g in groups.values()}
        before = {(g["name"], m["name"]) for g in previous["modifier_groups"] for m in g["modifiers"]}
        for (group_id, name), modifier in modifiers.items():
            key = (group_by_id.get(group_id, ""), name)
            if key in before and key not in wanted_modifiers and modifier.archived_at is None:
                modifier.archived_at = now
                session.add(modifier)
                done.retired["modifiers"] = done.retired.get("modifiers", 0) + 1
    await session.flush()

    items = {i.sku: i for i in (await session.exec(select(MenuItem))).all()}
    links: dict[int, list[tuple[int, int]]] = {}
    for link in (await session.exec(select(MenuItemModifierGroup))).all():
        links.setdefault(link.item_id, []).append((link.group_id, link.sort_order))
    asks: dict[str, list[str]] = {}
    new_rows: list[dict[str, Any]] = []
    for raw in catalog["items"]:
        sku = raw["sku"]
        asks[sku] = raw["modifier_groups"]
        values = {
            "name": raw["name"],
            "price_cents": raw["price_cents"],
            "category_id": categories[raw["category"]].id,
            "description": raw["description"],
            "sort_order": raw["sort_order"],
            "archived_at": None,
        }
        item = items.get(sku)
        if item is None:
            new_rows.append({"sku": sku, "created_at": now, **values})
        elif _set(item, values):  # the 86, the portions left and the station stay the venue's
            session.add(item)
            done.changed += 1
    await session.flush()
    if new_rows:  # new dishes in one statement (a first release brings hundreds); tablets show them on reload
        table: Any = MenuItem.__table__  # type: ignore[attr-defined]
        await (await session.connection()).execute(insert(table), new_rows)
        done.added = len(new_rows)
        items = {i.sku: i for i in (await session.exec(select(MenuItem))).all()}
    sent = set(asks)
    link_rows: list[dict[str, Any]] = []
    for sku, names in asks.items():
        item = items[sku]
        wanted = [(groups[name].id or 0, order) for order, name in enumerate(names)]
        if sorted(links.get(item.id or 0, [])) == sorted(wanted):
            continue
        if item.id in links:
            await session.exec(delete(MenuItemModifierGroup).where(col(MenuItemModifierGroup.item_id) == item.id))
        link_rows += [{"item_id": item.id, "group_id": group_id, "sort_order": order} for group_id, order in wanted]
    if link_rows:
        link_table: Any = MenuItemModifierGroup.__table__  # type: ignore[attr-defined]
        await (await session.connection()).execute(insert(link_table), link_rows)
    before_skus = {i["sku"] for i in previous["items"]} if previous is not None else set()
    for sku, item in items.items():
        if sku in sent or item.archived_at is not None:
            continue
        if sku in before_skus or not allow_local:  # removed at head office, or local items are not allowed
            item.archived_at = now
            session.add(item)
            done.archived += 1
    await session.flush()
    if previous is not None:
        await _retire(session, previous, catalog, now, done)
    # the group's promotions, matched by name, once the items they name are in place
    previous_promotions = previous.get("promotions", []) if previous is not None else None
    await promotions.apply_catalog(session, catalog.get("promotions", []), previous_promotions, actor_id=actor_id)
    await audit.record(
        session,
        "catalog.apply",
        actor_id=actor_id,
        subject=f"catalog_release:{release.number}",
        after={
            "items": len(sent),
            "added": done.added,
            "changed": done.changed,
            "archived": done.archived,
            "retired": done.retired,
        },
    )
    return done


def _names(raw: list[dict[str, Any]]) -> set[str]:
    return {str(entry["name"]) for entry in raw}


def _listing(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


async def _retire(
    session: AsyncSession, previous: dict[str, Any], catalog: dict[str, Any], now: dt.datetime, done: Applied
) -> None:
    """Archive the categories, tax rates and modifier groups head office took off the menu since the last release.

    As on the menu pages: a category is archived only once no live dish sits in it, a tax rate once no live
    category charges it. Head office's own dishes in a removed category were archived above; one of the venue's
    own still in it (or a category of its own still charging a removed rate) refuses the release, saying what to
    move, and nothing of it applies. A modifier group is archived with its modifiers; the items that ask it stop
    asking it, as when a manager archives one. Nothing is deleted: lines rung in keep their own snapshots.
    """
    gone_categories = _names(previous["categories"]) - _names(catalog["categories"])
    gone_rates = _names(previous["tax_rates"]) - _names(catalog["tax_rates"])
    gone_groups = _names(previous["modifier_groups"]) - _names(catalog["modifier_groups"])

    if gone_categories:
        live = (
            await session.exec(
                select(MenuCategory).where(
                    col(MenuCategory.name).in_(gone_categories), col(MenuCategory.archived_at).is_(None)
                )
            )
        ).all()
        for category in sorted(live, key=lambda c: c.name):
            dishes = (
                await session.exec(
                    select(MenuItem.name).where(
                        MenuItem.category_id == category.id, col(MenuItem.archived_at).is_(None)
                    )
                )
            ).all()
            if dishes:
                raise CatalogRefused(
                    f"Head office took the category {category.name} off the menu, but this venue's own "
                    f"{_listing(list(dishes))} still sit in it: move them to another category (or archive them), "
                    "then retry."
                )
            category.archived_at = now
            session.add(category)
            done.retired["categories"] = done.retired.get("categories", 0) + 1
        await session.flush()

    if gone_rates:
        live_rates = (
            await session.exec(
                select(TaxRate).where(col(TaxRate.name).in_(gone_rates), col(TaxRate.archived_at).is_(None))
            )
        ).all()
        for rate in sorted(live_rates, key=lambda r: r.name):
            charging = (
                await session.exec(
                    select(MenuCategory.name).where(
                        MenuCategory.tax_rate_id == rate.id, col(MenuCategory.archived_at).is_(None)
                    )
                )
            ).all()
            if charging:
                raise CatalogRefused(
                    f"Head office took the tax rate {rate.name} off the menu, but this venue's own categories "
                    f"{_listing(list(charging))} still charge it: give them another rate, then retry."
                )
            rate.archived_at = now
            session.add(rate)
            done.retired["tax_rates"] = done.retired.get("tax_rates", 0) + 1

    if gone_groups:
        live_groups = (
            await session.exec(
                select(ModifierGroup).where(
                    col(ModifierGroup.name).in_(gone_groups), col(ModifierGroup.archived_at).is_(None)
                )
            )
        ).all()
        for group in live_groups:
            group.archived_at = now
            session.add(group)
            done.retired["modifier_groups"] = done.retired.get("modifier_groups", 0) + 1
            for modifier in (
                await session.exec(
                    select(Modifier).where(Modifier.group_id == group.id, col(Modifier.archived_at).is_(None))
                )
            ).all():
                modifier.archived_at = now
                session.add(modifier)
                done.retired["modifiers"] = done.retired.get("modifiers", 0) + 1
    await session.flush()


async def _previous_catalog(session: AsyncSession, number: int) -> dict[str, Any] | None:
    row = (
        await session.exec(
            select(ReceivedRelease)
            .where(col(ReceivedRelease.number) < number, col(ReceivedRelease.applied_at).is_not(None))
            .order_by(col(ReceivedRelease.number).desc())
            .limit(1)
        )
    ).first()
    return row.payload["catalog"] if row is not None else None


async def keep(session: AsyncSession, views: list[dict[str, Any]]) -> list[int]:
    """Keep the releases head office sent that this venue does not have yet; their numbers."""
    have = set((await session.exec(select(ReceivedRelease.number))).all())
    kept = []
    for view in views:
        number = int(view["number"])
        if number in have:
            continue
        effective = view.get("effective_day")
        session.add(
            ReceivedRelease(
                number=number,
                note=str(view.get("note") or "")[:300],
                effective_day=dt.date.fromisoformat(effective) if effective else None,
                published_at=dt.datetime.fromisoformat(view["published_at"]),
                payload={"catalog": view["catalog"], "allow_local_items": view.get("allow_local_items", True)},
            )
        )
        kept.append(number)
    return kept


async def apply_due(db: Database, settings: Settings, *, actor_id: int | None = None) -> PullOutcome:
    """Apply every received release that is due, in order, each whole; stop at one that waits or fails."""
    outcome = PullOutcome()
    today = business_day(settings, utcnow())
    while True:
        async with db.read() as session:
            link = await services.current_link(session)
            applied = (link.catalog_release if link is not None else None) or 0
            release = (
                await session.exec(
                    select(ReceivedRelease)
                    .where(col(ReceivedRelease.number) > applied, col(ReceivedRelease.applied_at).is_(None))
                    .order_by(col(ReceivedRelease.number))
                    .limit(1)
                )
            ).first()
        if link is None or release is None:
            return outcome
        if release.effective_day is not None and release.effective_day > today:
            outcome.waiting = release.number
            return outcome
        number = release.number
        try:
            async with db.write() as session:
                link = await services.current_link(session, lock=True)
                row = await session.get(ReceivedRelease, release.id)
                if link is None or row is None or row.applied_at is not None:
                    continue
                try:
                    await apply_release(session, row, await _previous_catalog(session, number), actor_id=actor_id)
                except (KeyError, TypeError, ValueError) as exc:
                    raise CatalogRefused(f"The release is not one this venue can read ({exc!r}).") from None
                row.applied_at = utcnow()
                row.error = row.failed_at = None
                link.catalog_release = number
                session.add_all([row, link])
        except DomainError as exc:
            async with db.write() as session:
                row = await session.get(ReceivedRelease, release.id)
                if row is not None:
                    row.error = exc.message[:2000]
                    row.failed_at = utcnow()
                    session.add(row)
            log.warning("catalog release %s not applied: %s", number, exc.message)
            outcome.failed, outcome.error = number, exc.message
            return outcome
        outcome.applied.append(number)


async def _state(db: Database) -> tuple[str, str, dict[str, Any]] | None:
    async with db.read() as session:
        link = await services.current_link(session)
        if link is None or link.status is not LinkStatus.LINKED:
            return None
        failed = (
            await session.exec(
                select(ReceivedRelease)
                .where(col(ReceivedRelease.failed_at).is_not(None), col(ReceivedRelease.applied_at).is_(None))
                .order_by(col(ReceivedRelease.number))
                .limit(1)
            )
        ).first()
        received = (await session.exec(select(func.max(ReceivedRelease.number)))).one()
    report = {
        "applied": link.catalog_release,
        "received": int(received or 0),
        "failed": failed.number if failed is not None else None,
        "error": failed.error if failed is not None else None,
    }
    return link.url, link.credential, report


async def _exchange(
    url: str, credential: str, report: dict[str, Any], transport: httpx.AsyncBaseTransport | None
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as client:
        response = await client.post(url + CATALOG_PATH, json=report, headers={"authorization": f"Bearer {credential}"})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def pull(
    db: Database,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    actor_id: int | None = None,
) -> PullOutcome:
    """Tell head office where this venue's catalog stands, take the releases it has not got, apply what is due.

    A head office that cannot be reached changes nothing: the venue sells on its last applied release.
    """
    state = await _state(db)
    if state is None:
        return PullOutcome()
    url, credential, report = state
    received: list[int] = []
    try:
        body = await _exchange(url, credential, report, transport)
        async with db.write() as session:
            received = await keep(session, list(body.get("releases") or []))
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("catalog: head office at %s not reached: %r", url, exc)
        outcome = await apply_due(db, settings, actor_id=actor_id)  # an effective day may have come meanwhile
        return outcome
    outcome = await apply_due(db, settings, actor_id=actor_id)
    outcome.received = received
    after = await _state(db)
    if after is not None and after[2] != report:  # tell head office at once what applied, or what failed
        try:
            await _exchange(url, credential, after[2], transport)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("catalog: could not report to head office: %r", exc)
    return outcome


async def failing(session: AsyncSession) -> ReceivedRelease | None:
    """The release that would not apply, holding back those after it (None when none failed)."""
    return (
        await session.exec(
            select(ReceivedRelease)
            .where(col(ReceivedRelease.failed_at).is_not(None), col(ReceivedRelease.applied_at).is_(None))
            .order_by(col(ReceivedRelease.number))
            .limit(1)
        )
    ).first()


async def waiting(session: AsyncSession) -> list[ReceivedRelease]:
    """Releases received and not applied yet (waiting for their day, or behind one that failed)."""
    return list(
        (
            await session.exec(
                select(ReceivedRelease)
                .where(col(ReceivedRelease.applied_at).is_(None))
                .order_by(col(ReceivedRelease.number))
            )
        ).all()
    )


class _Runtime(Protocol):
    settings: Settings
    db: Database


async def run(runtime: _Runtime, *, every: float) -> None:
    """Pull and apply releases on a timer, until cancelled; a failure is logged and the next turn tries again.

    The first pass comes one turn after start, so the sales owed to head office go up first.
    """
    while True:
        await asyncio.sleep(every)
        try:
            await pull(runtime.db, runtime.settings)
        except Exception as exc:  # the loop outlives a database outage and anything head office does
            if unreachable(exc):
                log.warning("catalog: the database is not reachable (%r); retrying", exc)
            else:
                log.exception("catalog pass failed; retrying")


def start(runtime: _Runtime) -> asyncio.Task[None] | None:
    """Pull the catalog in this process (a venue's), every five sender polls (at least each second)."""
    if runtime.settings.role != "venue":
        return None
    return asyncio.create_task(run(runtime, every=max(1.0, runtime.settings.sync_poll_seconds * 5)))
