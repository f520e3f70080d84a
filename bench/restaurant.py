"""The demo restaurant as the benchmark uses it: ids by name, extra tables for a big night, and the earlier
part of the day's checks, rung in and paid through the order and check services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import col, select

from app.checks.delivery import payment_terminal
from app.checks.models import Tender, TenderKind
from app.checks.payments import PaymentRequest, take_payment
from app.floor.models import DiningTable, Floor, TableShape
from app.kitchen.models import Printer, PrinterRole, Station
from app.lib.db import Database
from app.lib.settings import Settings
from app.menu.models import MenuItem
from app.orders import lines as order_lines
from app.orders import seating
from app.staff.models import Staff

# Four lines, two for the Grill and two for the Fry station, all mains: one fire makes a ticket at Grill, at Fry,
# and at Expo; Grill and Fry print on the Kitchen printer.
ORDER = (("PA-CAR", 1), ("PA-RIS", 2), ("SI-MAS", 1), ("SI-SPI", 2))
ORDER_STATIONS = ("Grill", "Fry", "Expo")
SERVER_PINS = ("1111", "4444")
COOK_PIN = "3333"
MANAGER_PIN = "9999"
EXTRA_FLOOR = "Banquet Hall"


@dataclass
class Restaurant:
    """Ids the load needs, read from the database after the demo is loaded."""

    tables: list[int]
    items: list[tuple[int, int]]
    stations: dict[str, int]
    card_tender: int
    servers: list[int]

    @property
    def board_stations(self) -> list[int]:
        """The stations the order's tickets go to, in the order boards are spread over them."""
        return [self.stations[name] for name in ORDER_STATIONS]


async def load(db: Database) -> Restaurant:
    """Read the ids of the demo's tables, the order's items, stations, the card tender and the servers."""
    async with db.read() as session:
        tables = (
            await session.exec(
                select(DiningTable.id)
                .join(Floor, col(Floor.id) == DiningTable.floor_id)
                .where(col(DiningTable.archived_at).is_(None))
                .order_by(col(Floor.sort_order), col(DiningTable.id))
            )
        ).all()
        by_sku = {item.sku: item.id or 0 for item in (await session.exec(select(MenuItem))).all()}
        stations = {s.name: s.id or 0 for s in (await session.exec(select(Station))).all()}
        card = (await session.exec(select(Tender).where(Tender.kind == TenderKind.CARD))).first()
        servers = (await session.exec(select(Staff.id).where(Staff.role == "server").order_by(col(Staff.id)))).all()
    if card is None:
        raise RuntimeError("the demo restaurant has no card tender")
    return Restaurant(
        tables=[t for t in tables if t is not None],
        items=[(by_sku[sku], seat) for sku, seat in ORDER],
        stations=stations,
        card_tender=card.id or 0,
        servers=[s for s in servers if s is not None],
    )


async def add_tables(db: Database, count: int) -> None:
    """A banquet hall with `count` more tables, so every check of the run can stay open until it is paid."""
    if count <= 0:
        return
    async with db.write() as session:
        hall = Floor(name=EXTRA_FLOOR, sort_order=10, width=5000, height=5000)
        session.add(hall)
        await session.flush()
        for index in range(count):
            session.add(
                DiningTable(
                    floor_id=hall.id or 0,
                    name=f"BH{index + 1}",
                    shape=TableShape.SQUARE,
                    seats=4,
                    x=20 + (index % 40) * 120,
                    y=20 + (index // 40) * 120,
                    width=90,
                    height=90,
                )
            )


async def give_stations_printers(db: Database, uris: dict[str, str]) -> None:
    """A printer of its own for each named station (a big kitchen's line), backed up by the Kitchen printer."""
    async with db.write() as session:
        kitchen = (await session.exec(select(Printer).where(Printer.name == "Kitchen"))).one()
        for station_name, uri in uris.items():
            printer = Printer(name=f"{station_name} line", uri=uri, role=PrinterRole.PREP, backup_printer_id=kitchen.id)
            session.add(printer)
            await session.flush()
            station = (await session.exec(select(Station).where(Station.name == station_name))).one()
            station.printer_id = printer.id
            session.add(station)


async def serve_earlier_checks(settings: Settings, count: int, tables: list[int]) -> None:
    """Ring in and pay `count` checks through the order and check services: the day's earlier service.

    Each check is seated, rung in (the same four items) and paid by card; paid in full, it closes itself and owes
    its posting to the books, which the dispatcher delivers here. They are not fired, so they add no kitchen work;
    each payment confirms, as a server would on the settle page, that the guest pays for items never sent.
    """
    from app.main import create_app

    quiet = settings.model_copy(update={"run_workers": False, "redis_url": None})
    app = create_app(quiet)
    runtime = app.state.runtime
    db: Database = runtime.db
    terminal = payment_terminal(db)
    async with app.lifespan():
        async with db.read() as session:
            servers = list((await session.exec(select(Staff).where(Staff.role == "server"))).all())
            by_sku = {item.sku: item.id or 0 for item in (await session.exec(select(MenuItem))).all()}
            card = (await session.exec(select(Tender).where(Tender.kind == TenderKind.CARD))).one()
        for number in range(count):
            server = servers[number % len(servers)]
            async with db.write() as session:
                check = await seating.open_check(
                    session, table_id=tables[number % len(tables)], covers=2, server=server, kind="table"
                )
                for sku, seat in ORDER:
                    await order_lines.add_line(
                        session,
                        check_id=check.id or 0,
                        request=order_lines.LineRequest(menu_item_id=by_sku[sku], seat=seat),
                        actor=server,
                        expected_version=None,
                    )
                check_id = check.id or 0
            outcome = await take_payment(
                db,
                terminal,
                PaymentRequest(
                    check_id=check_id,
                    tender_id=card.id or 0,
                    actor=server,
                    idempotency_key=uuid.uuid4().hex,
                    unsent_confirmed=True,
                ),
            )
            if not outcome.closed:
                raise RuntimeError(f"check {check_id} did not close after its card payment: {outcome.message}")
            if number % 50 == 49:
                await runtime.dispatcher.drain()
        await runtime.dispatcher.drain()
    await db.dispose()


def main() -> None:
    """`python -m bench.restaurant COUNT TABLE_ID,...` with the run's BRIGADE_* settings in the environment."""
    import asyncio
    import sys

    count = int(sys.argv[1])
    tables = [int(part) for part in sys.argv[2].split(",") if part]
    asyncio.run(serve_earlier_checks(Settings(), count, tables))


if __name__ == "__main__":
    main()
