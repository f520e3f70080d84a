"""The demo restaurant: a bistro with a bar, its floors, menu, stations, printers and staff."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.chart import seed_chart
from app.checks.tenders import seed_tenders
from app.closes.mappings import seed_posting_mappings
from app.floor.models import DiningTable, Floor, TableShape
from app.house_accounts.demo import seed_demo_house_accounts
from app.inventory.demo import seed_demo_stock
from app.kitchen.models import Printer, PrinterRole, Station, StationKind
from app.lib.settings import Settings
from app.menu.models import Course, MenuCategory, MenuItem, MenuItemModifierGroup, Modifier, ModifierGroup, TaxRate
from app.purchasing.demo import seed_demo_suppliers
from app.reservations.demo import seed_demo_book
from app.staff.models import Staff
from app.staff.services import add_staff

DEMO_PINS = {"server": "1111", "bartender": "2222", "cook": "3333", "manager": "9999"}

DEMO_STAFF = [
    ("Lena Brooks", "server", "1111"),
    ("Theo Marsh", "bartender", "2222"),
    ("Ravi Okafor", "cook", "3333"),
    ("Nora Vance", "manager", "9999"),
    ("Milo Grant", "server", "4444"),
    ("Ada Pierce", "host", "5555"),
]

# (category, course, station, tax, colour, [(sku, name, price_cents, [modifier groups])])
DEMO_MENU: list[tuple[str, Course, str, str, str, list[tuple[str, str, int, list[str]]]]] = [
    (
        "Cocktails",
        Course.DRINKS,
        "Bar",
        "High",
        "#8e44ad",
        [
            ("CK-NEG", "Negroni", 1150, ["Ice"]),
            ("CK-OLD", "Old Fashioned", 1250, ["Whisky"]),
            ("CK-SPR", "Aperol Spritz", 1050, ["Ice"]),
            ("CK-MAR", "Dry Martini", 1300, ["Martini style"]),
            ("CK-MOJ", "Mojito", 1100, ["Ice"]),
            ("CK-ESP", "Espresso Martini", 1250, []),
        ],
    ),
    (
        "Beer & Cider",
        Course.DRINKS,
        "Bar",
        "High",
        "#d4a017",
        [
            ("BR-PIL", "Pilsner (draft)", 550, ["Beer size"]),
            ("BR-IPA", "House IPA", 650, ["Beer size"]),
            ("BR-WIT", "Witbier", 600, ["Beer size"]),
            ("BR-CID", "Dry Cider", 600, []),
            ("BR-ALC0", "Alcohol-free Lager", 450, []),
        ],
    ),
    (
        "Wine",
        Course.DRINKS,
        "Bar",
        "High",
        "#7b1e3a",
        [
            ("WN-RGL", "Rioja Crianza (glass)", 750, []),
            ("WN-RBT", "Rioja Crianza (bottle)", 3400, []),
            ("WN-WGL", "Albariño (glass)", 800, []),
            ("WN-WBT", "Albariño (bottle)", 3600, []),
            ("WN-ROS", "Provence Rosé (glass)", 750, []),
            ("WN-CAV", "Cava Brut (bottle)", 3900, []),
        ],
    ),
    (
        "Soft Drinks & Coffee",
        Course.DRINKS,
        "Bar",
        "Low",
        "#16a085",
        [
            ("SD-COL", "Cola", 350, ["Ice"]),
            ("SD-LEM", "Homemade Lemonade", 450, []),
            ("SD-SPA", "Sparkling Water 750 ml", 550, []),
            ("SD-ESP", "Espresso", 280, ["Milk"]),
            ("SD-CAP", "Cappuccino", 380, ["Milk"]),
            ("SD-TEA", "Fresh Mint Tea", 380, []),
        ],
    ),
    (
        "Starters",
        Course.STARTERS,
        "Cold",
        "Low",
        "#27ae60",
        [
            ("ST-BUR", "Burrata & Tomatoes", 1250, []),
            ("ST-TAR", "Beef Tartare", 1450, []),
            ("ST-SOU", "Soup of the Day", 750, []),
            ("ST-CEV", "Sea Bass Ceviche", 1350, ["Heat"]),
            ("ST-BRD", "Sourdough & Cultured Butter", 550, []),
            ("ST-OYS", "Oysters (half dozen)", 1800, []),
        ],
    ),
    (
        "Salads",
        Course.STARTERS,
        "Cold",
        "Low",
        "#2ecc71",
        [
            ("SL-CAE", "Caesar Salad", 1350, ["Salad protein"]),
            ("SL-NIC", "Niçoise Salad", 1450, []),
            ("SL-BEE", "Beetroot & Goat Cheese", 1250, []),
            ("SL-GRE", "Green Salad", 650, ["Dressing"]),
        ],
    ),
    (
        "From the Grill",
        Course.MAINS,
        "Grill",
        "Low",
        "#c0392b",
        [
            ("GR-RIB", "Rib-eye 300 g", 3200, ["Temperature", "Side", "Sauce"]),
            ("GR-FIL", "Fillet 200 g", 3400, ["Temperature", "Side", "Sauce"]),
            ("GR-BUR", "Brigade Burger", 1850, ["Temperature", "Burger extras", "Side"]),
            ("GR-CHK", "Half Chicken", 2200, ["Side"]),
            ("GR-LAM", "Lamb Chops", 2900, ["Temperature", "Side"]),
            ("GR-SAL", "Grilled Salmon", 2600, ["Side"]),
            ("GR-VEG", "Grilled Vegetable Skewers", 1900, ["Side"]),
        ],
    ),
    (
        "Fryer",
        Course.STARTERS,
        "Fry",
        "Low",
        "#e67e22",
        [
            ("FR-FRI", "Fries", 550, ["Dip"]),
            ("FR-SWE", "Sweet Potato Fries", 650, ["Dip"]),
            ("FR-CAL", "Fried Calamari", 1150, ["Dip"]),
            ("FR-CRO", "Ham Croquettes (4)", 950, []),
            ("FR-FAF", "Falafel (6)", 900, ["Dip"]),
            ("FR-FSH", "Fish & Chips", 2100, ["Dip"]),
        ],
    ),
    (
        "Pasta & Risotto",
        Course.MAINS,
        "Grill",
        "Low",
        "#d35400",
        [
            ("PA-CAR", "Spaghetti Carbonara", 1750, []),
            ("PA-TRU", "Truffle Tagliatelle", 2300, []),
            ("PA-RIS", "Mushroom Risotto", 1900, []),
            ("PA-LIN", "Linguine alle Vongole", 2200, []),
        ],
    ),
    (
        "Desserts",
        Course.DESSERT,
        "Pastry",
        "Low",
        "#e84393",
        [
            ("DS-CRB", "Crème Brûlée", 850, []),
            ("DS-CHO", "Chocolate Fondant", 950, ["Ice cream"]),
            ("DS-TIR", "Tiramisu", 900, []),
            ("DS-CHE", "Cheese Board", 1400, []),
            ("DS-SOR", "Sorbet (3 scoops)", 750, ["Sorbet flavours"]),
            ("DS-TAR", "Tarte Tatin", 950, ["Ice cream"]),
        ],
    ),
    (
        "Sides",
        Course.MAINS,
        "Fry",
        "Low",
        "#95a5a6",
        [
            ("SI-MAS", "Mashed Potatoes", 500, []),
            ("SI-VEG", "Seasonal Vegetables", 550, []),
            ("SI-SPI", "Creamed Spinach", 550, []),
            ("SI-ONI", "Onion Rings", 550, []),
        ],
    ),
]

# name: (min, max, [(modifier, price delta cents)])
DEMO_MODIFIERS: dict[str, tuple[int, int, list[tuple[str, int]]]] = {
    "Temperature": (1, 1, [("Rare", 0), ("Medium rare", 0), ("Medium", 0), ("Medium well", 0), ("Well done", 0)]),
    "Side": (1, 1, [("Fries", 0), ("Mashed potatoes", 0), ("Green salad", 0), ("Sweet potato fries", 150)]),
    "Sauce": (0, 2, [("Peppercorn", 250), ("Béarnaise", 250), ("Chimichurri", 200), ("Red wine jus", 250)]),
    "Burger extras": (0, 4, [("Cheddar", 150), ("Bacon", 200), ("Fried egg", 150), ("No onion", 0), ("No pickles", 0)]),
    "Dip": (0, 2, [("Mayonnaise", 0), ("Aioli", 50), ("Ketchup", 0), ("Sriracha mayo", 50)]),
    "Salad protein": (0, 1, [("Grilled chicken", 450), ("Prawns", 650)]),
    "Dressing": (1, 1, [("Vinaigrette", 0), ("Honey mustard", 0), ("No dressing", 0)]),
    "Heat": (1, 1, [("Mild", 0), ("Spicy", 0)]),
    "Ice cream": (0, 1, [("Vanilla", 150), ("Salted caramel", 150)]),
    "Sorbet flavours": (3, 3, [("Lemon", 0), ("Raspberry", 0), ("Mango", 0), ("Blackcurrant", 0)]),
    "Ice": (1, 1, [("With ice", 0), ("No ice", 0)]),
    "Whisky": (1, 1, [("Bourbon", 0), ("Rye", 0), ("Japanese", 300)]),
    "Martini style": (1, 1, [("Olive", 0), ("Twist", 0), ("Dirty", 0)]),
    "Beer size": (1, 1, [("25 cl", 0), ("50 cl", 300)]),
    "Milk": (0, 1, [("Oat milk", 40), ("Soy milk", 40), ("Lactose-free", 0)]),
}


async def database_is_empty(session: AsyncSession) -> bool:
    """Whether nobody has set the restaurant up yet (no staff, no menu)."""
    staff = (await session.exec(select(func.count()).select_from(Staff))).one()
    items = (await session.exec(select(func.count()).select_from(MenuItem))).one()
    return int(staff) == 0 and int(items) == 0


async def load_demo(session: AsyncSession, settings: Settings) -> None:
    """Create the demo restaurant; printer addresses come from the settings (file spools by default)."""
    for name, role, pin in DEMO_STAFF:
        await add_staff(session, name=name, role=role, pin=pin)

    taxes = {
        "Low": TaxRate(name="Food & soft drinks 9 %", rate_bp=900),
        "High": TaxRate(name="Alcohol 21 %", rate_bp=2100),
    }
    for tax in taxes.values():
        session.add(tax)

    spool = (settings.var_dir / "spool").resolve()
    # the file printers append to spools here; a missing folder would read as a printer that is down
    spool.mkdir(parents=True, exist_ok=True)
    kitchen = Printer(
        name="Kitchen", uri=settings.demo_kitchen_printer or f"file://{spool}/kitchen.bin", role=PrinterRole.PREP
    )
    bar = Printer(name="Bar", uri=settings.demo_bar_printer or f"file://{spool}/bar.bin", role=PrinterRole.RECEIPT)
    session.add(kitchen)
    session.add(bar)
    await session.flush()
    kitchen.backup_printer_id = bar.id
    bar.backup_printer_id = kitchen.id

    stations = {
        "Grill": Station(
            name="Grill",
            kind=StationKind.PREP,
            printer_id=kitchen.id,
            sort_order=1,
            yellow_after_s=600,
            red_after_s=1020,
        ),
        "Fry": Station(
            name="Fry", kind=StationKind.PREP, printer_id=kitchen.id, sort_order=2, yellow_after_s=360, red_after_s=600
        ),
        "Cold": Station(
            name="Cold", kind=StationKind.PREP, printer_id=kitchen.id, sort_order=3, yellow_after_s=420, red_after_s=720
        ),
        "Pastry": Station(
            name="Pastry",
            kind=StationKind.PREP,
            printer_id=kitchen.id,
            sort_order=4,
            yellow_after_s=420,
            red_after_s=720,
        ),
        "Bar": Station(
            name="Bar", kind=StationKind.BAR, printer_id=bar.id, sort_order=5, yellow_after_s=240, red_after_s=480
        ),
        "Expo": Station(name="Expo", kind=StationKind.EXPO, sort_order=6, yellow_after_s=720, red_after_s=1200),
    }
    for station in stations.values():
        session.add(station)

    groups: dict[str, ModifierGroup] = {}
    for group_name, (low, high, options) in DEMO_MODIFIERS.items():
        group = ModifierGroup(name=group_name, min_choices=low, max_choices=high)
        session.add(group)
        await session.flush()
        groups[group_name] = group
        for position, (option, delta) in enumerate(options):
            session.add(Modifier(group_id=group.id or 0, name=option, price_delta_cents=delta, sort_order=position))
    await session.flush()

    for order, (category_name, course, station_name, tax_key, colour, items) in enumerate(DEMO_MENU):
        category = MenuCategory(
            name=category_name,
            course=course,
            station_id=stations[station_name].id,
            tax_rate_id=taxes[tax_key].id or 0,
            sort_order=order,
            color=colour,
        )
        session.add(category)
        await session.flush()
        for position, (sku, item_name, price, group_names) in enumerate(items):
            item = MenuItem(
                sku=sku, name=item_name, price_cents=price, category_id=category.id or 0, sort_order=position
            )
            session.add(item)
            await session.flush()
            for g_order, group_name in enumerate(group_names):
                session.add(
                    MenuItemModifierGroup(item_id=item.id or 0, group_id=groups[group_name].id or 0, sort_order=g_order)
                )

    dining = Floor(name="Dining Room", sort_order=0, width=1000, height=700)
    patio = Floor(name="Patio", sort_order=1, width=1000, height=700)
    bar_floor = Floor(name="Bar", sort_order=2, width=1000, height=700)
    for floor in (dining, patio, bar_floor):
        session.add(floor)
    await session.flush()
    # Dining room: four rows of tables, numbered 1..22 like a real floor (window row of two-tops first).
    number = 1
    for row in range(4):
        for column in range(6 if row < 3 else 4):
            shape = TableShape.ROUND if row == 1 else TableShape.RECTANGLE if row == 3 else TableShape.SQUARE
            seats = 2 if row == 0 else 4 if row < 3 else 6
            width = 150 if shape == TableShape.RECTANGLE else 90
            session.add(
                DiningTable(
                    floor_id=dining.id or 0,
                    name=str(number),
                    shape=shape,
                    seats=seats,
                    x=40 + column * (160 if row < 3 else 230),
                    y=40 + row * 160,
                    width=width,
                    height=90,
                )
            )
            number += 1
    for index in range(10):
        session.add(
            DiningTable(
                floor_id=patio.id or 0,
                name=f"P{index + 1}",
                shape=TableShape.ROUND,
                seats=4 if index % 3 else 2,
                x=60 + (index % 5) * 180,
                y=80 + (index // 5) * 240,
                width=100,
                height=100,
            )
        )
    for index in range(10):
        session.add(
            DiningTable(
                floor_id=bar_floor.id or 0,
                name=f"B{index + 1}",
                shape=TableShape.BAR_SEAT,
                seats=1,
                x=60 + index * 88,
                y=120,
                width=60,
                height=60,
            )
        )
    for index in range(4):
        session.add(
            DiningTable(
                floor_id=bar_floor.id or 0,
                name=f"H{index + 1}",
                shape=TableShape.ROUND,
                seats=4,
                x=120 + index * 210,
                y=380,
                width=110,
                height=110,
            )
        )
    await session.flush()
    await seed_chart(session, sales_tax_rates_bp=[tax.rate_bp for tax in taxes.values()])
    await seed_tenders(session)
    await seed_demo_stock(session)
    await seed_demo_suppliers(session)
    await seed_posting_mappings(session)
    await seed_demo_book(session)
    await seed_demo_house_accounts(session)
