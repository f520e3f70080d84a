"""The kitchen configuration check: every item reaches a station, nothing is routed twice or nowhere."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.models import Printer, Station, StationKind
from app.lib.errors import InvalidInput
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup


@dataclass
class RoutingReport:
    """Problems that stop food reaching a station (errors) and settings worth a second look (warnings)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every item can be routed."""
        return not self.errors


def _station_problem(station_id: int | None, stations: dict[int, Station]) -> str | None:
    if station_id is None:
        return None
    station = stations.get(station_id)
    if station is None:
        return "a station that does not exist"
    if station.archived_at is not None:
        return f"the archived station {station.name}"
    if station.kind is StationKind.EXPO:
        return f"{station.name}, which is expo (expo sees every ticket; it does not cook)"
    return None


async def check_configuration(session: AsyncSession) -> RoutingReport:
    """Check stations, printers and the menu's routing; the manager page shows the result."""
    report = RoutingReport()
    stations = {s.id or 0: s for s in (await session.exec(select(Station))).all()}
    live = {sid: s for sid, s in stations.items() if s.archived_at is None}
    printers = {p.id or 0: p for p in (await session.exec(select(Printer))).all()}
    categories = {
        c.id or 0: c for c in (await session.exec(select(MenuCategory).where(col(MenuCategory.archived_at).is_(None))))
    }
    items = (
        await session.exec(
            select(MenuItem)
            .where(col(MenuItem.archived_at).is_(None))
            .order_by(col(MenuItem.category_id), MenuItem.name)
        )
    ).all()

    if not any(s.kind is StationKind.EXPO for s in live.values()):
        report.warnings.append("There is no expo station: orders are marked ready when every station has bumped them.")
    if not any(s.kind is not StationKind.EXPO for s in live.values()):
        report.errors.append("There is no prep station: fired food has nowhere to go.")
    seen_names: dict[str, str] = {}
    for station in live.values():
        key = station.name.casefold()
        if key in seen_names:
            report.warnings.append(f"Stations {seen_names[key]} and {station.name} have the same name.")
        seen_names[key] = station.name
        if station.printer_id is not None:
            printer = printers.get(station.printer_id)
            if printer is None or printer.archived_at is not None:
                report.errors.append(f"Station {station.name} prints on an archived printer.")
        if station.red_after_s <= station.yellow_after_s:
            report.warnings.append(f"Station {station.name} turns red before it turns yellow.")

    for category in categories.values():
        problem = _station_problem(category.station_id, stations)
        if problem:
            report.errors.append(f"Category {category.name} is routed to {problem}.")

    by_name: dict[str, list[str]] = defaultdict(list)
    for item in items:
        home = categories.get(item.category_id)
        by_name[item.name.casefold()].append(home.name if home else "?")
        item_problem = _station_problem(item.station_id, stations)
        if item_problem:
            report.errors.append(f"Item {item.name} is routed to {item_problem}.")
        resolved = None
        for candidate in (item.station_id, home.station_id if home else None):
            if candidate is not None and _station_problem(candidate, stations) is None:
                resolved = candidate
                break
        if resolved is None:
            label = f" (category {home.name})" if home else ""
            report.errors.append(f"Item {item.name}{label} has no kitchen station: it cannot be sent to the kitchen.")
        elif home is not None and item.station_id is not None and item.station_id == home.station_id:
            report.warnings.append(
                f"Item {item.name} repeats its category's station {live[resolved].name}; the override is not needed."
            )
    for name, homes in by_name.items():
        if len(homes) > 1:
            report.warnings.append(
                f"{len(homes)} items are called {name!r} ({', '.join(sorted(homes))}): "
                "the kitchen cannot tell them apart."
            )

    modifier_rows = (
        await session.exec(
            select(Modifier, ModifierGroup)
            .join(ModifierGroup, col(ModifierGroup.id) == Modifier.group_id)
            .where(col(Modifier.archived_at).is_(None), col(Modifier.station_id).is_not(None))
        )
    ).all()
    for modifier, group in modifier_rows:
        problem = _station_problem(modifier.station_id, stations)
        if problem:
            report.errors.append(f"Modifier {group.name}: {modifier.name} is routed to {problem}.")
            continue
        users = (
            await session.exec(
                select(MenuItem)
                .join(MenuItemModifierGroup, col(MenuItemModifierGroup.item_id) == MenuItem.id)
                .where(MenuItemModifierGroup.group_id == group.id, col(MenuItem.archived_at).is_(None))
            )
        ).all()
        for item in users:
            home = categories.get(item.category_id)
            own = item.station_id or (home.station_id if home else None)
            if own is not None and own == modifier.station_id and own in live:
                report.warnings.append(
                    f"Modifier {group.name}: {modifier.name} is routed to {live[own].name}, "
                    f"where {item.name} already goes; the routing is not needed."
                )

    seen_uris: dict[str, str] = {}
    for printer in printers.values():
        if printer.archived_at is not None:
            continue
        if printer.uri in seen_uris:
            report.warnings.append(
                f"Printers {seen_uris[printer.uri]} and {printer.name} are the same device ({printer.uri})."
            )
        seen_uris[printer.uri] = printer.name
        if printer.backup_printer_id is not None:
            backup = printers.get(printer.backup_printer_id)
            if backup is None or backup.archived_at is not None:
                report.errors.append(f"Printer {printer.name} backs up to an archived printer.")
    return report


async def require_station(session: AsyncSession, item_id: int) -> int:
    """The station an item goes to now, or a clear refusal when none would take it."""
    item = await session.get(MenuItem, item_id)
    if item is None:
        raise InvalidInput("That item is not on the menu.")
    stations = {s.id or 0: s for s in (await session.exec(select(Station))).all()}
    category = await session.get(MenuCategory, item.category_id)
    for candidate in (item.station_id, category.station_id if category else None):
        if candidate is not None and _station_problem(candidate, stations) is None:
            return candidate
    raise InvalidInput(
        f"{item.name} has no kitchen station, so it cannot be sent to the kitchen. "
        "A manager sets one for its category or the item under Stations & printers."
    )
