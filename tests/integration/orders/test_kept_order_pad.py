"""The order pad is drawn once per menu revision and kept: a check page on an unchanged menu reads only the check,
and any change to the menu, made anywhere, draws it again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from app.lib.settings import Settings
from app.menu.models import MenuItem, MenuItemModifierGroup
from tests.integration.orders.conftest import Restaurant
from tests.support.statements import listing, statements_sent


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The app without its outbox dispatcher and print worker: every statement counted is the page's own."""
    return settings.model_copy(update={"run_workers": False})


async def _change(runtime: Any, sku: str, **values: Any) -> None:
    """Change a menu item in the database directly, as a script or another process would: nobody tells the app."""
    async with runtime.db.write() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).one()
        for name, value in values.items():
            setattr(item, name, value)
        session.add(item)


async def test_a_check_page_on_an_unchanged_menu_reads_only_the_check(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    first = await restaurant.open_table(server, "12", 2)
    second = await restaurant.open_table(server, "13", 2)
    assert (await server.get(f"/checks/{first}")).status_code == 200
    risotto = await restaurant.item_id("PA-RIS")
    with statements_sent(runtime) as sent:
        page = await server.get(f"/checks/{second}")
    assert page.status_code == 200, page.text
    assert len(sent) == 1, f"the page read more than its check:\n{listing(sent)}"
    assert f'hx-post="/checks/{second}/lines" hx-vals=\'{{"menu_item_id": "{risotto}"}}\'' in page.text
    assert f"/checks/{first}/" not in page.text, "every button names the check on the page, not the one drawn first"
    assert "<check>" not in page.text
    assert "Mushroom Risotto" in page.text


async def test_the_pad_is_drawn_again_when_the_menu_changes_anywhere(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    risotto = await restaurant.item_id("PA-RIS")
    before = (await server.get(f"/checks/{check_id}")).text
    assert "Mushroom Risotto" in before
    assert "is-86" not in before

    await _change(runtime, "PA-RIS", eighty_sixed_at=datetime.now(UTC), eighty_six_reason="no rice")
    page = (await server.get(f"/checks/{check_id}")).text
    assert f'id="menu-item-{risotto}" class="item is-86"' in page
    assert "86'd · no rice" in page

    await _change(runtime, "PA-RIS", eighty_sixed_at=None, eighty_six_reason=None, name="Risotto of the day")
    page = (await server.get(f"/checks/{check_id}")).text
    assert "is-86" not in page
    assert "Risotto of the day" in page
    assert "Mushroom Risotto" not in page

    # A change to the choices an item asks (another table of the menu) counts too.
    carbonara = await restaurant.item_id("PA-CAR")
    assert f'hx-post="/checks/{check_id}/lines" hx-vals=\'{{"menu_item_id": "{carbonara}"}}\'' in page
    async with runtime.db.write() as session:
        rib = (await session.exec(select(MenuItem).where(MenuItem.sku == "GR-RIB"))).one()
        asked = (await session.exec(select(MenuItemModifierGroup).where(MenuItemModifierGroup.item_id == rib.id))).all()
        session.add(MenuItemModifierGroup(item_id=carbonara, group_id=asked[0].group_id, sort_order=0))
    page = (await server.get(f"/checks/{check_id}")).text
    assert f'hx-get="/checks/{check_id}/items/{carbonara}"' in page, "the item now asks its question first"


async def test_a_name_like_the_slot_for_the_check_is_shown_as_typed(
    server: Any, restaurant: Restaurant, runtime: Any
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await _change(runtime, "PA-RIS", name="<check> risotto")
    page = (await server.get(f"/checks/{check_id}")).text
    assert "&lt;check&gt; risotto" in page
    assert "<check>" not in page


async def test_the_panel_alone_draws_no_pad(server: Any, restaurant: Restaurant, runtime: Any) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    page = await server.get(f"/checks/{check_id}", htmx=True)
    assert page.status_code == 200, page.text
    assert 'id="check-panel"' in page.text
    assert 'class="cats"' not in page.text, "htmx asks for the check panel alone"
    assert "order pad" not in runtime.db.kept, "and no pad was drawn for it"
