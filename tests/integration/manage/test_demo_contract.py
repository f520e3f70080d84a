"""The demo restaurant keeps its promises: floors, menu, stations, printers and the demo PINs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import col, select

from app.floor import queries as floor_queries
from app.kitchen.models import Printer, Station
from app.menu import queries as menu_queries
from app.menu.models import MenuItem, MenuItemModifierGroup, Modifier
from app.staff.models import Staff
from app.staff.permissions import Role
from app.staff.services import pin_lookup


async def test_the_demo_floors_have_their_tables_and_bar_seats(runtime: Any, demo: None) -> None:
    async with runtime.db.read() as session:
        floors = {f.name: f for f in await floor_queries.floors(session)}
        assert {"Dining Room", "Patio", "Bar"} <= set(floors)
        dining = await floor_queries.tables_on(session, floors["Dining Room"].id or 0)
        patio = await floor_queries.tables_on(session, floors["Patio"].id or 0)
        bar = await floor_queries.tables_on(session, floors["Bar"].id or 0)
    assert len(dining) >= 20
    assert len(patio) >= 8
    assert sum(1 for t in bar if t.shape == "bar_seat") >= 8
    for floor_name, tables in (("Dining Room", dining), ("Patio", patio), ("Bar", bar)):
        plan = floors[floor_name]
        names = [t.name for t in tables]
        assert len(names) == len(set(names)), f"{floor_name} repeats a table name"
        for t in tables:
            assert min(t.x, t.y) >= 0, f"{floor_name} {t.name} sticks out"
            assert t.x + t.width <= plan.width, f"{floor_name} {t.name} sticks out"
            assert t.y + t.height <= plan.height, f"{floor_name} {t.name} sticks out"


async def test_the_demo_menu_has_sixty_items_in_ten_categories_with_real_modifier_groups(
    runtime: Any, demo: None
) -> None:
    async with runtime.db.read() as session:
        sections = await menu_queries.menu_sections(session)
        groups = await menu_queries.modifier_groups(session)
        asked = (await session.exec(select(MenuItemModifierGroup.group_id))).all()
        paid = (await session.exec(select(Modifier).where(col(Modifier.price_delta_cents) > 0))).all()
        items = (await session.exec(select(MenuItem))).all()
    assert sum(len(s.items) for s in sections) >= 60
    assert sum(1 for s in sections if s.items) >= 10
    assert all(s.station for s in sections), "every category is routed to a kitchen station"
    assert len({i.sku for i in items}) == len(items)
    assert all(i.price_cents > 0 for i in items)
    forced = [g for g in groups if g.group.forced]
    optional = [g for g in groups if not g.group.forced]
    assert len(forced) >= 3
    assert len(optional) >= 3
    assert all(len(g.modifiers) >= g.group.max_choices or len(g.modifiers) >= 2 for g in groups)
    assert all(g.warning is None for g in groups), "every forced group can be answered"
    assert paid, "some answers are paid extras"
    uses = Counter(asked)
    assert len(uses) == len(groups), "every modifier group is asked by at least one item"


async def test_the_demo_kitchen_has_its_stations_and_printers(runtime: Any, demo: None) -> None:
    async with runtime.db.read() as session:
        stations = {s.name for s in (await session.exec(select(Station))).all()}
        printers = {p.name for p in (await session.exec(select(Printer))).all()}
    assert {"Grill", "Fry", "Cold", "Pastry", "Bar", "Expo"} <= stations
    assert {"Kitchen", "Bar"} <= printers


async def test_the_demo_pins_belong_to_the_promised_roles(runtime: Any, demo: None) -> None:
    promised = {"1111": Role.SERVER, "2222": Role.BARTENDER, "3333": Role.COOK, "9999": Role.MANAGER}
    async with runtime.db.read() as session:
        for pin, role in promised.items():
            lookup = await pin_lookup(session, pin)
            person = (await session.exec(select(Staff).where(Staff.pin_lookup == lookup))).one()
            assert person.role == role, pin
            assert person.archived_at is None
