"""Tax rates typed as percentages and kept in basis points; archived only when no category charges them."""

from __future__ import annotations

from typing import Any

import pytest

from app.lib.errors import InvalidInput
from app.menu.inputs import parse_percent
from app.menu.models import MenuCategory, TaxRate
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, text


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [("21", 2100), ("5.5", 550), ("5,5", 550), ("9 %", 900), ("0", 0), ("100", 10000), ("7.25", 725), (" 6 ", 600)],
)
def test_a_rate_is_read_as_a_percentage_in_basis_points(typed: str, basis_points: int) -> None:
    assert parse_percent(typed) == basis_points


@pytest.mark.parametrize("typed", ["abc", "", "-3", "100.5", "5.555", "1e2", "21%%", "0x10"])
def test_a_rate_that_is_not_a_percentage_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_percent(typed)


async def test_the_tax_page_shows_each_rate_and_who_charges_it_as_a_page_and_as_a_fragment(manager: Any) -> None:
    page = await manager.get("/manage/taxes")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Alcohol 21 %" in page.text
    assert "charged by Cocktails, Beer &amp; Cider, Wine" in page.text
    fragment = await manager.get("/manage/taxes", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'value="21"' in fragment.text, "the form shows the rate as it is typed"


async def test_a_manager_adds_and_changes_a_tax_rate(manager: Any, runtime: Any) -> None:
    response = await manager.post("/manage/taxes", {"name": "Takeaway food", "rate": "5.5"})
    assert response.status_code == 200
    assert "Added Takeaway food." in text(response)
    tax = await find(runtime, TaxRate, TaxRate.name == "Takeaway food")
    assert tax.rate_bp == 550
    assert tax.label == "5.5 %"
    changed = await manager.post(f"/manage/taxes/{tax.id}", {"name": "Takeaway food", "rate": "6"})
    assert changed.status_code == 200
    assert (await get(runtime, TaxRate, tax.id or 0)).rate_bp == 600
    [entry] = await audit_entries(runtime, "menu.tax_rate.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["rate_bp"], entry.after["rate_bp"]) == (550, 600)


BAD_RATES = [
    ({"rate": "abc"}, 422, 'Rate must be a percentage like "21" or "5.5".'),
    ({"rate": "101"}, 422, "Rate must be between 0 and 100 %."),
    ({"rate": "5.555"}, 422, "Rate has at most two decimals, like 5.25."),
    ({"rate": "-3"}, 422, "Rate must be a percentage"),
    ({"name": ""}, 422, "Name is required."),
    ({"name": "T" * 61}, 422, "Name is 61 characters; the limit is 60."),
    ({"name": "alcohol 21 %"}, 409, "A tax rate named “Alcohol 21 %” already exists."),
]


async def test_a_bad_tax_rate_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    rates, audits = await count(runtime, TaxRate), await audit_total(runtime)
    alcohol = await find(runtime, TaxRate, TaxRate.rate_bp == 2100)
    for changes, status, message in BAD_RATES:
        form = {"name": "Reduced", "rate": "5.5", **changes}
        with subtests.test(msg=message):
            refused(await manager.post("/manage/taxes", form), status, message)
            assert await count(runtime, TaxRate) == rates
        with subtests.test(msg=f"edit: {message}"):
            if changes.get("name", "").lower() == "alcohol 21 %":
                continue
            response = await manager.post(f"/manage/taxes/{alcohol.id}", form)
            refused(response, status, message)
            assert (await get(runtime, TaxRate, alcohol.id or 0)).rate_bp == 2100
    assert await audit_total(runtime) == audits


async def test_a_tax_rate_in_use_cannot_be_archived(manager: Any, runtime: Any) -> None:
    alcohol = await find(runtime, TaxRate, TaxRate.rate_bp == 2100)
    response = await manager.post(f"/manage/taxes/{alcohol.id}/archive")
    refused(response, 409, "“Alcohol 21 %” is still charged by “Cocktails”, “Beer & Cider”, “Wine”")
    assert (await get(runtime, TaxRate, alcohol.id or 0)).archived_at is None


async def test_an_unused_tax_rate_is_archived_then_restored(manager: Any, runtime: Any) -> None:
    await manager.post("/manage/taxes", {"name": "Zero rated", "rate": "0"})
    zero = await find(runtime, TaxRate, TaxRate.name == "Zero rated")
    response = await manager.post(f"/manage/taxes/{zero.id}/archive")
    assert response.status_code == 200
    assert (await get(runtime, TaxRate, zero.id or 0)).archived_at is not None
    categories = await manager.get("/manage/menu/categories", htmx=True)
    assert "Zero rated" not in categories.text, "categories cannot pick an archived rate"
    food = await find(runtime, MenuCategory, MenuCategory.name == "Starters")
    refused(
        await manager.post(
            f"/manage/menu/categories/{food.id}",
            {
                "name": "Starters",
                "course": "starters",
                "station_id": str(food.station_id),
                "tax_rate_id": str(zero.id),
                "color": "#27ae60",
            },
        ),
        422,
        "Tax rate: unknown or archived tax rate.",
    )
    assert (await manager.post(f"/manage/taxes/{zero.id}/restore")).status_code == 200
    assert (await get(runtime, TaxRate, zero.id or 0)).archived_at is None
    assert len(await audit_entries(runtime, "menu.tax_rate.archive")) == 1
    assert len(await audit_entries(runtime, "menu.tax_rate.restore")) == 1


async def test_a_server_may_not_touch_tax_rates(server: Any, runtime: Any) -> None:
    assert (await server.get("/manage/taxes")).status_code == 403
    alcohol = await find(runtime, TaxRate, TaxRate.rate_bp == 2100)
    assert (await server.post("/manage/taxes", {"name": "Nil", "rate": "0"})).status_code == 403
    assert (await server.post(f"/manage/taxes/{alcohol.id}", {"name": "Nil", "rate": "0"})).status_code == 403
    assert (await server.post(f"/manage/taxes/{alcohol.id}/archive")).status_code == 403
    assert (await get(runtime, TaxRate, alcohol.id or 0)).rate_bp == 2100
    assert await count(runtime, TaxRate, TaxRate.name == "Nil") == 0


async def test_a_tax_change_without_the_csrf_token_is_refused(manager: Any, runtime: Any) -> None:
    alcohol = await find(runtime, TaxRate, TaxRate.rate_bp == 2100)
    response = await manager.client.post(
        f"/manage/taxes/{alcohol.id}", data={"name": "Alcohol", "rate": "1"}, headers={"hx-request": "true"}
    )
    assert response.status_code == 403
    assert (await get(runtime, TaxRate, alcohol.id or 0)).rate_bp == 2100
