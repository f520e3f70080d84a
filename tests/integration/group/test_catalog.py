"""Head office publishes the group's catalog as numbered releases; a venue applies each whole, or not at all.

Head office and the venue both start from the demo restaurant (head office's menu is the group catalog, with
the same SKUs), so release 1 changes nothing at the venue; each test then changes something at head office.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.accounts import create_account
from app.group import catalog as head_office_catalog
from app.group import services as head_office
from app.group.catalog_models import CatalogVenueState
from app.kitchen.models import Station
from app.lib.audit import AuditEntry
from app.lib.clock import utcnow
from app.menu.models import MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup, TaxRate
from app.orders import lines as order_lines
from app.orders import seating
from app.orders.models import CheckLine, LineModifier
from app.staff.models import Staff
from app.sync import catalog, queries
from app.sync.catalog_models import ReceivedRelease
from app.sync.models import HeadOfficeLink
from app.sync.sender import join
from tests.support.services import DemoSnapshots

HEAD_OFFICE = "http://head-office.test"


@pytest.fixture
async def venue_demo(venue: Any, demo_snapshots: DemoSnapshots) -> None:
    await demo_snapshots.load(venue.db, venue.settings)


@pytest.fixture
async def joined(runtime: Any, demo: None, venue: Any, venue_demo: None, to_head_office: Any) -> str:
    async with runtime.db.write() as session:
        added = await head_office.add_venue(
            session, code="NORTH", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    return await join(venue.db, HEAD_OFFICE, added.token, transport=to_head_office)


async def _publish(runtime: Any, **options: Any) -> int:
    async with runtime.db.write() as session:
        return (await head_office_catalog.publish(session, **options)).number


async def _pull(venue: Any, transport: httpx.AsyncBaseTransport) -> catalog.PullOutcome:
    return await catalog.pull(venue.db, venue.settings, transport=transport)


async def _item(db: Any, sku: str) -> MenuItem:
    async with db.read() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).one()
    return item


async def _skus(db: Any) -> list[str]:
    async with db.read() as session:
        return list((await session.exec(select(MenuItem.sku).order_by(col(MenuItem.id)))).all())


async def _set_item(db: Any, sku: str, **values: Any) -> None:
    async with db.write() as session:
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).one()
        for name, value in values.items():
            setattr(item, name, value)
        session.add(item)


async def _state(runtime: Any) -> CatalogVenueState:
    async with runtime.db.read() as session:
        return (await session.exec(select(CatalogVenueState))).one()


async def _baseline(runtime: Any, venue: Any, to_head_office: Any) -> list[str]:
    assert await _publish(runtime, note="the menu as it is") == 1
    assert (await _pull(venue, to_head_office)).applied == [1]
    return await _skus(runtime.db)


async def test_a_release_applies_whole_and_leaves_86s_stations_and_local_items_alone(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    skus = await _baseline(runtime, venue, to_head_office)
    repriced, rerouted, removed = skus[0], skus[1], skus[2]
    # The venue's own state: an 86, an item sent to another station, and an item of its own.
    async with venue.db.write() as session:
        stations = (await session.exec(select(Station).order_by(col(Station.id)))).all()
        item = (await session.exec(select(MenuItem).where(MenuItem.sku == rerouted))).one()
        item.station_id = stations[-1].id
        local = MenuItem(sku="LOCAL-SPECIAL", name="Chef's special", price_cents=1800, category_id=item.category_id)
        session.add_all([item, local])
    await _set_item(venue.db, repriced, eighty_sixed_at=utcnow(), eighty_six_reason="out of burrata")
    async with venue.db.read() as session:
        routing_before = {s.id: (s.name, s.kind) for s in (await session.exec(select(Station))).all()}
        categories_before = {c.name: c.station_id for c in (await session.exec(select(MenuCategory))).all()}

    # Head office changes two prices, adds a dish and takes one off the menu.
    await _set_item(runtime.db, repriced, price_cents=1234)
    await _set_item(runtime.db, rerouted, price_cents=2222, name="Renamed at head office")
    await _set_item(runtime.db, removed, archived_at=utcnow())
    async with runtime.db.write() as session:
        category = (await session.exec(select(MenuCategory).order_by(col(MenuCategory.id)))).first()
        assert category is not None
        session.add(MenuItem(sku="NEW-1", name="Winter salad", price_cents=1150, category_id=category.id or 0))
    assert await _publish(runtime, note="winter prices") == 2

    outcome = await _pull(venue, to_head_office)
    assert outcome.applied == [2]
    item = await _item(venue.db, repriced)
    assert item.price_cents == 1234
    assert (item.is_86d, item.eighty_six_reason) == (True, "out of burrata"), "the venue's 86 stays"
    item = await _item(venue.db, rerouted)
    assert (item.price_cents, item.name, item.station_id) == (2222, "Renamed at head office", stations[-1].id)
    assert (await _item(venue.db, removed)).archived_at is not None, "removed at head office: archived here"
    assert (await _item(venue.db, "NEW-1")).price_cents == 1150
    assert (await _item(venue.db, "LOCAL-SPECIAL")).archived_at is None, "local items are allowed"
    async with venue.db.read() as session:
        assert {s.id: (s.name, s.kind) for s in (await session.exec(select(Station))).all()} == routing_before
        assert {c.name: c.station_id for c in (await session.exec(select(MenuCategory))).all()} == categories_before
        link = (await session.exec(select(HeadOfficeLink))).one()
        audited = (await session.exec(select(AuditEntry).where(AuditEntry.action == "catalog.apply"))).all()
        status = await queries.sync_status(session)
    assert link.catalog_release == 2
    assert status.catalog_release == 2
    assert status.catalog_error is None
    assert [a.subject for a in audited] == ["catalog_release:1", "catalog_release:2"]
    assert (await _state(runtime)).applied_release == 2

    # Head office forbids local items: the venue's own dish is archived with the next release.
    assert await _publish(runtime, allow_local_items=False) == 3
    assert (await _pull(venue, to_head_office)).applied == [3]
    assert (await _item(venue.db, "LOCAL-SPECIAL")).archived_at is not None


async def test_a_release_that_cannot_apply_rolls_back_whole_is_shown_on_both_sides_and_applies_after_the_fix(
    app: Litestar, runtime: Any, venue: Any, venue_app: Litestar, joined: str, to_head_office: Any, manager: Any
) -> None:
    skus = await _baseline(runtime, venue, to_head_office)
    before = (await _item(venue.db, skus[0])).price_cents
    # Head office adds a reduced rate the venue's ledger has no tax payable account for, and changes a price.
    async with runtime.db.write() as session:
        rate = TaxRate(name="Takeaway 7 %", rate_bp=700)
        session.add(rate)
        await session.flush()
        category = MenuCategory(name="Takeaway", tax_rate_id=rate.id or 0)
        session.add(category)
        await session.flush()
        session.add(MenuItem(sku="TAKE-1", name="Soup to go", price_cents=650, category_id=category.id or 0))
    await _set_item(runtime.db, skus[0], price_cents=before + 100)
    assert await _publish(runtime, note="takeaway") == 2
    await _set_item(runtime.db, skus[1], price_cents=4321)
    assert await _publish(runtime, note="behind it") == 3

    outcome = await _pull(venue, to_head_office)
    assert outcome.applied == []
    assert outcome.failed == 2
    assert outcome.error is not None
    assert "Takeaway 7 %" in outcome.error
    # Nothing of release 2 is applied: not the price, not the rate, not the category; release 3 waits behind it.
    assert (await _item(venue.db, skus[0])).price_cents == before
    async with venue.db.read() as session:
        assert (await session.exec(select(TaxRate).where(TaxRate.name == "Takeaway 7 %"))).first() is None
        assert (await session.exec(select(MenuCategory).where(MenuCategory.name == "Takeaway"))).first() is None
        assert (await session.exec(select(MenuItem).where(MenuItem.sku == "TAKE-1"))).first() is None
        status = await queries.sync_status(session)
        received = (await session.exec(select(ReceivedRelease.number))).all()
    assert status.catalog_release == 1
    assert status.catalog_error is not None
    assert status.catalog_error.startswith("release 2: Tax rate Takeaway 7 %")
    assert sorted(received) == [1, 2, 3]
    state = await _state(runtime)
    assert (state.applied_release, state.failed_release) == (1, 2)
    assert state.error is not None
    assert "tax payable account" in state.error

    # Both sides show it: head office's venues page (its catalog panel) and the venue's head-office page.
    page = await manager.client.get("/manage/catalog/venues")
    assert "release 2 failed" in page.text
    assert "Takeaway 7 %" in page.text
    assert 'hx-get="/manage/catalog/venues"' in (await manager.client.get("/manage/venues")).text
    template = venue_app.template_engine.get_template("sync/_link.html")  # type: ignore[union-attr]
    shown = template.render(sync=status, request=None)
    assert "not applied" in shown
    assert "release 2: Tax rate Takeaway 7 %" in shown

    # The fix at the venue: a tax payable account for 7 %. The next pass applies 2, then 3.
    async with venue.db.write() as session:
        await create_account(session, code="2109", name="Sales tax payable 7 %", type="liability", parent_code="2100")
    outcome = await _pull(venue, to_head_office)
    assert outcome.applied == [2, 3]
    assert outcome.failed is None
    assert (await _item(venue.db, skus[0])).price_cents == before + 100
    assert (await _item(venue.db, skus[1])).price_cents == 4321
    assert (await _item(venue.db, "TAKE-1")).price_cents == 650
    state = await _state(runtime)
    assert (state.applied_release, state.failed_release, state.error) == (3, None, None)
    async with venue.db.read() as session:
        assert (await queries.sync_status(session)).catalog_error is None


async def test_a_venue_gets_its_own_price_and_only_what_it_sells(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    skus = await _baseline(runtime, venue, to_head_office)
    async with runtime.db.write() as session:
        await head_office_catalog.set_assortment(session, venue_code="NORTH", sku=skus[0], price_cents=1999)
        await head_office_catalog.set_assortment(session, venue_code="north", sku=skus[1], sold=False)
    group_price = (await _item(runtime.db, skus[0])).price_cents
    assert await _publish(runtime) == 2
    assert (await _pull(venue, to_head_office)).applied == [2]
    assert (await _item(venue.db, skus[0])).price_cents == 1999
    assert (await _item(runtime.db, skus[0])).price_cents == group_price, "head office's own price is the group's"
    assert (await _item(venue.db, skus[1])).archived_at is not None, "a dish this venue no longer sells"


async def test_an_item_asks_the_modifier_groups_head_office_gives_it(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    await _baseline(runtime, venue, to_head_office)
    async with runtime.db.write() as session:
        link = (await session.exec(select(MenuItemModifierGroup).order_by(col(MenuItemModifierGroup.id)))).first()
        assert link is not None
        sku = (await session.get(MenuItem, link.item_id)).sku  # type: ignore[union-attr]
        await session.delete(link)
        group = ModifierGroup(name="Spice", min_choices=1, max_choices=1)
        session.add(group)
        await session.flush()
        session.add(Modifier(group_id=group.id or 0, name="Hot", price_delta_cents=50))
        session.add(MenuItemModifierGroup(item_id=link.item_id, group_id=group.id or 0, sort_order=9))
    assert await _publish(runtime) == 2
    assert (await _pull(venue, to_head_office)).applied == [2]
    async with runtime.db.read() as session:
        item_id = (await session.exec(select(MenuItem.id).where(MenuItem.sku == sku))).one()
        wanted = (
            await session.exec(
                select(ModifierGroup.name)
                .join(MenuItemModifierGroup, col(MenuItemModifierGroup.group_id) == ModifierGroup.id)
                .where(MenuItemModifierGroup.item_id == item_id)
                .order_by(col(MenuItemModifierGroup.sort_order))
            )
        ).all()
    async with venue.db.read() as session:
        item_id = (await session.exec(select(MenuItem.id).where(MenuItem.sku == sku))).one()
        asked = (
            await session.exec(
                select(ModifierGroup.name)
                .join(MenuItemModifierGroup, col(MenuItemModifierGroup.group_id) == ModifierGroup.id)
                .where(MenuItemModifierGroup.item_id == item_id)
                .order_by(col(MenuItemModifierGroup.sort_order))
            )
        ).all()
        hot = (await session.exec(select(Modifier).where(Modifier.name == "Hot"))).one()
    assert list(asked) == list(wanted)
    assert "Spice" in asked
    assert hot.price_delta_cents == 50


async def test_a_release_with_an_effective_day_waits_for_that_business_day(
    runtime: Any, venue: Any, joined: str, to_head_office: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    skus = await _baseline(runtime, venue, to_head_office)
    tomorrow = catalog.business_day(venue.settings, utcnow()) + dt.timedelta(days=1)
    await _set_item(runtime.db, skus[0], price_cents=999)
    assert await _publish(runtime, effective_day=tomorrow, note="from tomorrow") == 2
    outcome = await _pull(venue, to_head_office)
    assert (outcome.received, outcome.applied, outcome.waiting) == ([2], [], 2)
    assert (await _item(venue.db, skus[0])).price_cents != 999, "today's guests pay today's price"
    later = utcnow() + dt.timedelta(days=1)
    monkeypatch.setattr(catalog, "utcnow", lambda: later)
    assert (await _pull(venue, to_head_office)).applied == [2]
    assert (await _item(venue.db, skus[0])).price_cents == 999


async def test_a_venue_cut_off_from_head_office_keeps_its_last_release(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    skus = await _baseline(runtime, venue, to_head_office)
    price = (await _item(venue.db, skus[0])).price_cents

    class CutLink(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("the line is down", request=request)

    outcome = await _pull(venue, CutLink())
    assert outcome.applied == []
    assert outcome.failed is None
    assert (await _item(venue.db, skus[0])).price_cents == price
    async with venue.db.read() as session:
        assert (await queries.sync_status(session)).catalog_release == 1


async def test_a_500_item_release_applies_within_a_second(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    async with runtime.db.write() as session:
        category = (await session.exec(select(MenuCategory).order_by(col(MenuCategory.id)))).first()
        assert category is not None
        existing = len((await session.exec(select(MenuItem))).all())
        for n in range(500 - existing):
            session.add(
                MenuItem(sku=f"BULK-{n:04d}", name=f"Dish {n}", price_cents=1000 + n, category_id=category.id or 0)
            )
    assert await _publish(runtime) == 1
    async with venue.db.read() as session:
        link = (await session.exec(select(HeadOfficeLink))).one()
    body = (
        await httpx.AsyncClient(transport=to_head_office).post(
            HEAD_OFFICE + "/api/group/v1/catalog",
            json={"applied": None},
            headers={"authorization": f"Bearer {link.credential}"},
        )
    ).json()
    assert len(body["releases"][0]["catalog"]["items"]) == 500
    async with venue.db.write() as session:
        assert await catalog.keep(session, body["releases"]) == [1]
    started = time.perf_counter()
    outcome = await catalog.apply_due(venue.db, venue.settings)
    elapsed = time.perf_counter() - started
    assert outcome.applied == [1]
    print(f"\n500-item catalog release applied at the venue in {elapsed * 1000:.0f} ms")
    assert elapsed < 3.0, "target 1 s on an idle 2-core machine; this bound leaves room for a busy one"


async def test_a_manager_publishes_from_the_catalog_page_and_a_bad_day_changes_nothing(
    manager: Any, runtime: Any
) -> None:
    page = await manager.get("/manage/catalog")
    assert page.status_code == 200
    assert "<h1>Catalog releases</h1>" in page.text
    assert "Nothing published yet." in page.text
    assert 'href="/manage/catalog"' in page.text
    bad = await manager.post("/manage/catalog/publish", {"note": "x", "effective_day": "14/12/2026"})
    assert bad.status_code == 422
    assert "YYYY-MM-DD" in bad.text
    published = await manager.post(
        "/manage/catalog/publish", {"note": "winter prices", "effective_day": "2026-12-14", "local_items": "allowed"}
    )
    assert published.status_code == 200
    assert "Release 1 published" in published.text
    assert "winter prices" in published.text
    assert "2026-12-14" in published.text
    async with runtime.db.read() as session:
        (release,) = await head_office_catalog.releases(session)
    assert (release.number, release.note, release.effective_day) == (1, "winter prices", dt.date(2026, 12, 14))
    assert release.allow_local_items
    assert release.item_count > 0


async def test_the_catalog_endpoint_takes_only_an_enrolled_venue_and_a_report_it_can_read(
    api: httpx.AsyncClient, runtime: Any, demo: None
) -> None:
    nobody = await api.post("/api/group/v1/catalog", json={"applied": None})
    assert nobody.status_code == 401
    async with runtime.db.write() as session:
        added = await head_office.add_venue(
            session, code="NORTH", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    enrolled = await api.post("/api/group/v1/enrol", json={"token": added.token})
    headers = {"authorization": f"Bearer {enrolled.json()['credential']}"}
    bad = await api.post("/api/group/v1/catalog", json={"applied": "one"}, headers=headers)
    assert bad.status_code == 422
    assert "applied must be a whole number" in bad.text
    assert await _publish(runtime) == 1
    answer = await api.post("/api/group/v1/catalog", json={"applied": None, "received": 0}, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["latest"] == 1
    assert [r["number"] for r in answer.json()["releases"]] == [1]
    caught_up = await api.post("/api/group/v1/catalog", json={"applied": 1, "received": 1}, headers=headers)
    assert caught_up.json() == {"latest": 1, "releases": []}
    assert (await _state(runtime)).applied_release == 1
    async with runtime.db.write() as session:
        await head_office.revoke_venue(session, code="NORTH")
    refused = await api.post("/api/group/v1/catalog", json={"applied": 1}, headers=headers)
    assert refused.status_code == 403


async def test_a_release_the_venue_cannot_read_is_an_exception_not_a_crash(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    await _baseline(runtime, venue, to_head_office)
    async with venue.db.write() as session:
        await catalog.keep(
            session,
            [{"number": 2, "published_at": utcnow().isoformat(), "catalog": {"tax_rates": [{"name": "x"}]}}],
        )
    outcome = await catalog.apply_due(venue.db, venue.settings)
    assert outcome.failed == 2
    assert outcome.error is not None
    assert "not one this venue can read" in outcome.error
    async with venue.db.read() as session:
        assert (await queries.sync_status(session)).catalog_release == 1


async def test_a_manager_sets_a_venues_own_price_and_what_it_does_not_sell_on_the_catalog_page(
    manager: Any, runtime: Any
) -> None:
    async with runtime.db.write() as session:
        await head_office.add_venue(
            session, code="NORTH", name="Brigade North", timezone="Europe/Amsterdam", currency="EUR"
        )
    skus = await _skus(runtime.db)
    own = await manager.post("/manage/catalog/assortment", {"venue": "NORTH", "sku": skus[0], "price": "19,50"})
    assert own.status_code == 200
    assert f"NORTH: {skus[0]} at its own price" in own.text
    assert "19.50" in own.text
    gone = await manager.post("/manage/catalog/assortment", {"venue": "NORTH", "sku": skus[1], "sold": "no"})
    assert "not sold" in gone.text
    bad = await manager.post("/manage/catalog/assortment", {"venue": "NORTH", "sku": skus[2], "price": "a lot"})
    assert bad.status_code == 422
    unknown = await manager.post("/manage/catalog/assortment", {"venue": "NORTH", "sku": "NO-SUCH", "price": "1"})
    assert unknown.status_code == 404
    async with runtime.db.read() as session:
        rows = await head_office_catalog.assortments(session)
    assert [(r["sku"], r["sold"], r["price_cents"]) for r in rows] == sorted(
        [(skus[0], True, 1950), (skus[1], False, None)]
    )
    assert await _publish(runtime) == 1
    async with runtime.db.read() as session:
        (release,) = await head_office_catalog.releases(session)
    view = head_office_catalog.venue_view(release, "NORTH")
    prices = {i["sku"]: i["price_cents"] for i in view["catalog"]["items"]}
    assert prices[skus[0]] == 1950
    assert skus[1] not in prices


async def test_categories_tax_rates_and_modifier_groups_head_office_removed_are_archived_whole_or_not_at_all(
    runtime: Any, venue: Any, joined: str, to_head_office: Any
) -> None:
    # Head office adds a takeaway range (its own rate, category, a dish asking a sauce) and publishes it.
    async with runtime.db.write() as session:
        rate = TaxRate(name="Takeaway 9 %", rate_bp=900)
        sauce = ModifierGroup(name="To-go sauce", min_choices=0, max_choices=1)
        session.add_all([rate, sauce])
        await session.flush()
        category = MenuCategory(name="Takeaway", tax_rate_id=rate.id or 0)
        session.add_all([category, Modifier(group_id=sauce.id or 0, name="Mayo", price_delta_cents=50)])
        await session.flush()
        dish = MenuItem(sku="TAKE-FRIES", name="Fries to go", price_cents=450, category_id=category.id or 0)
        session.add(dish)
        await session.flush()
        session.add(MenuItemModifierGroup(item_id=dish.id or 0, group_id=sauce.id or 0))
    skus = await _baseline(runtime, venue, to_head_office)
    assert "TAKE-FRIES" in skus

    # The venue rings the dish with mayo on an open check, and files a dish of its own under Takeaway.
    async with venue.db.write() as session:
        server = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        fries = (await session.exec(select(MenuItem).where(MenuItem.sku == "TAKE-FRIES"))).one()
        mayo = (await session.exec(select(Modifier).where(Modifier.name == "Mayo"))).one()
        check = await seating.open_check(session, table_id=None, covers=1, server=server, kind="takeout")
        rung = await order_lines.add_line(
            session,
            check_id=check.id or 0,
            request=order_lines.LineRequest(menu_item_id=fries.id or 0, modifier_ids=(mayo.id or 0,)),
            actor=server,
            expected_version=None,
        )
        local = MenuItem(sku="LOCAL-WRAP", name="House wrap", price_cents=800, category_id=fries.category_id)
        session.add(local)
    other_category = (await _item(venue.db, skus[0])).category_id

    # Head office takes the whole range off the menu, and changes a price in the same release.
    async with runtime.db.write() as session:
        for model, name in ((MenuItem, "Fries to go"), (MenuCategory, "Takeaway"), (TaxRate, "Takeaway 9 %")):
            row = (await session.exec(select(model).where(model.name == name))).one()
            row.archived_at = utcnow()
            session.add(row)
        group = (await session.exec(select(ModifierGroup).where(ModifierGroup.name == "To-go sauce"))).one()
        group.archived_at = utcnow()
        session.add(group)
    await _set_item(runtime.db, skus[0], price_cents=3456)
    assert await _publish(runtime, note="no more takeaway") == 2

    async def archived() -> dict[str, bool]:
        async with venue.db.read() as session:
            return {
                "category": (await session.exec(select(MenuCategory).where(MenuCategory.name == "Takeaway")))
                .one()
                .archived_at
                is not None,
                "rate": (await session.exec(select(TaxRate).where(TaxRate.name == "Takeaway 9 %"))).one().archived_at
                is not None,
                "group": (await session.exec(select(ModifierGroup).where(ModifierGroup.name == "To-go sauce")))
                .one()
                .archived_at
                is not None,
                "modifier": (await session.exec(select(Modifier).where(Modifier.name == "Mayo"))).one().archived_at
                is not None,
                "dish": (await _item(venue.db, "TAKE-FRIES")).archived_at is not None,
            }

    # The venue's own dish still sits in the category head office removed: the release is refused, whole.
    outcome = await _pull(venue, to_head_office)
    assert (outcome.applied, outcome.failed) == ([], 2)
    assert outcome.error is not None
    assert "category Takeaway" in outcome.error
    assert "House wrap" in outcome.error
    assert set((await archived()).values()) == {False}, "nothing of the refused release applied"
    assert (await _item(venue.db, skus[0])).price_cents != 3456
    state = await _state(runtime)
    assert (state.applied_release, state.failed_release) == (1, 2)
    assert state.error is not None
    assert "House wrap" in state.error
    async with venue.db.read() as session:
        status = await queries.sync_status(session)
    assert status.catalog_error is not None
    assert "House wrap" in status.catalog_error

    # The manager moves the wrap to another category; the next pass archives the range and keeps the wrap.
    await _set_item(venue.db, "LOCAL-WRAP", category_id=other_category)
    outcome = await _pull(venue, to_head_office)
    assert (outcome.applied, outcome.failed) == ([2], None)
    assert set((await archived()).values()) == {True}
    assert (await _item(venue.db, "LOCAL-WRAP")).archived_at is None, "the venue's own dish stays"
    assert (await _item(venue.db, skus[0])).price_cents == 3456
    async with venue.db.read() as session:
        line = await session.get(CheckLine, rung.id)
        (chosen,) = (await session.exec(select(LineModifier).where(LineModifier.line_id == rung.id))).all()
        applied = (await session.exec(select(AuditEntry).where(AuditEntry.subject == "catalog_release:2"))).one()
        kept = {
            (await session.exec(select(func.count()).select_from(model))).one()
            for model in (MenuCategory, TaxRate, ModifierGroup, Modifier)
        }
    assert line is not None
    assert (line.name, line.unit_price_cents, line.tax_rate_bp) == ("Fries to go", 450, 900), "the line keeps its own"
    assert (chosen.group_name, chosen.name, chosen.price_delta_cents) == ("To-go sauce", "Mayo", 50)
    assert applied.after is not None
    assert applied.after["retired"] == {"categories": 1, "tax_rates": 1, "modifier_groups": 1, "modifiers": 1}
    assert 0 not in kept, "archived, never deleted"
    assert (await _state(runtime)).applied_release == 2
