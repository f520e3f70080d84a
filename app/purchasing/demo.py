"""The demo restaurant's suppliers: what each sells in which pack, at what price and lead time, and a Friday par."""

from __future__ import annotations

from typing import Final

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.models import StockItem, StockLocation
from app.purchasing.services import create_supplier, set_supplier_item, set_weekday_par

# supplier, email → [(stock item, units per pack, unit size in thousandths, its unit, pack cents, lead days)]
SUPPLIERS: Final[dict[tuple[str, str], list[tuple[str, int, int, str, int, int]]]] = {
    ("Northside Wine & Spirits", "orders@northside.example"): [
        ("Gin", 6, 700_000, "ml", 9_600, 2),
        ("Campari", 6, 700_000, "ml", 9_000, 2),
        ("Sweet vermouth", 6, 750_000, "ml", 5_400, 2),
    ],
    ("Greenfield Produce", "sales@greenfield.example"): [
        ("Tomatoes", 1, 5_000, "kg", 1_250, 1),
        ("Potatoes", 1, 10_000, "kg", 900, 1),
        ("Onions", 1, 10_000, "kg", 800, 1),
        ("Eggs", 30, 1_000, "piece", 750, 1),
    ],
    ("Harbour Dairy", "dairy@harbour.example"): [
        ("Cheddar", 1, 2_500, "kg", 3_000, 1),
        ("Burrata", 10, 1_000, "piece", 2_500, 1),
    ],
}
# stock item, location, weekday (0 = Monday), par in thousandths: the bar stocks up for the weekend.
WEEKDAY_PARS: Final = [("Gin", "Bar", 4, 4_200_000), ("Gin", "Bar", 5, 4_200_000)]


async def seed_demo_suppliers(session: AsyncSession) -> None:
    """Three suppliers with their packs and prices, and the bar's weekend par for gin."""
    items = {item.name: item.id or 0 for item in (await session.exec(select(StockItem))).all()}
    places = {place.name: place.id or 0 for place in (await session.exec(select(StockLocation))).all()}
    for (name, email), catalog in SUPPLIERS.items():
        supplier = await create_supplier(session, name=name, email=email)
        for item, units, size, unit, cents, lead in catalog:
            await set_supplier_item(
                session,
                supplier_id=supplier.id or 0,
                stock_item_id=items[item],
                units_per_pack=units,
                unit_size_milli=size,
                size_unit=unit,
                pack_cost_cents=cents,
                lead_time_days=lead,
            )
    for item, place, weekday, par in WEEKDAY_PARS:
        await set_weekday_par(
            session, stock_item_id=items[item], location_id=places[place], weekday=weekday, par_milli=par
        )
