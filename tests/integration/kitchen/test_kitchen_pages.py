"""Manager pages for stations and printers, the printer status page, and the tablets' printer badge."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.kitchen import printing
from app.kitchen.models import AlertKind, Printer, PrinterHealth, PrintJob, PrintJobState, Station, StationKind
from app.menu.models import MenuCategory
from tests.conftest import Device

STATION = {
    "name": "Wok",
    "kind": "prep",
    "printer_id": "",
    "yellow_after_min": "6",
    "red_after_min": "12",
    "sort_order": "3",
}
PRINTER = {
    "name": "Pass",
    "uri": "tcp://192.168.1.60:9100",
    "role": "prep",
    "profile": "TM-T88V",
    "columns": "42",
    "codepage": "CP858",
    "backup_printer_id": "",
}


async def stations(runtime: Any) -> list[Station]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(Station).order_by(col(Station.id)))).all())


async def printers(runtime: Any) -> list[Printer]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(Printer).order_by(col(Printer.id)))).all())


async def test_the_kitchen_page_shows_stations_printers_and_the_routing_check(manager: Device) -> None:
    page = await manager.get("/manage/kitchen")
    fragment = await manager.get("/manage/kitchen", htmx=True)

    assert page.status_code == 200
    assert "Stations &amp; printers" in page.text
    for name in ("Grill", "Fry", "Cold", "Pastry", "Bar", "Expo", "Kitchen"):
        assert f'value="{name}"' in page.text
    assert "Every item on the menu reaches a station." in page.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Routing check" in fragment.text


async def test_a_server_may_not_open_or_change_the_kitchen_setup(server: Device, runtime: Any) -> None:
    before = await stations(runtime)

    page = await server.get("/manage/kitchen")
    post = await server.post("/manage/kitchen/stations", STATION)
    status = await server.get("/manage/kitchen/printers")

    assert page.status_code == 403
    assert post.status_code == 403
    assert status.status_code == 403
    assert len(await stations(runtime)) == len(before)


async def test_a_manager_adds_and_changes_a_station(manager: Device, runtime: Any) -> None:
    added = await manager.post("/manage/kitchen/stations", STATION)
    assert added.status_code == 200
    assert "Station Wok added." in added.text
    wok = next(s for s in await stations(runtime) if s.name == "Wok")
    assert (wok.yellow_after_s, wok.red_after_s, wok.kind) == (360, 720, StationKind.PREP)

    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    changed = await manager.post(
        f"/manage/kitchen/stations/{wok.id}", {**STATION, "yellow_after_min": "4", "printer_id": str(kitchen.id)}
    )
    assert changed.status_code == 200
    wok = next(s for s in await stations(runtime) if s.name == "Wok")
    assert (wok.yellow_after_s, wok.printer_id) == (240, kitchen.id)


async def test_bad_station_input_is_refused_with_a_message_and_changes_nothing(manager: Device, runtime: Any) -> None:
    before = [(s.name, s.yellow_after_s, s.red_after_s) for s in await stations(runtime)]
    cases = [
        ({**STATION, "name": "grill"}, 409, "There is already a station called grill."),
        ({**STATION, "red_after_min": "5"}, 422, "A ticket must turn red later than it turns yellow."),
        ({**STATION, "yellow_after_min": "soon"}, 422, "Yellow after (minutes) must be a whole number."),
        ({**STATION, "printer_id": "9999"}, 422, "Printer: that printer does not exist or is archived."),
        ({**STATION, "kind": "oven"}, 422, "Kind must be one of: prep, bar, expo."),
        ({**STATION, "kind": "expo"}, 409, "There is already an expo station"),
        ({**STATION, "name": ""}, 422, "Station name is required."),
        ({**STATION, "name": "x" * 41}, 422, "Station name is 41 characters; the limit is 40."),
    ]
    for data, status, message in cases:
        response = await manager.post("/manage/kitchen/stations", data)
        assert response.status_code == status, (data, response.text)
        assert message in response.text
        assert response.headers.get("hx-retarget") == "#flash"

    assert [(s.name, s.yellow_after_s, s.red_after_s) for s in await stations(runtime)] == before


async def test_a_station_that_still_makes_food_cannot_be_archived(manager: Device, runtime: Any) -> None:
    grill = next(s for s in await stations(runtime) if s.name == "Grill")
    refused = await manager.post(f"/manage/kitchen/stations/{grill.id}/archive")
    assert refused.status_code == 409
    assert "Grill still makes" in refused.text

    await manager.post("/manage/kitchen/stations", STATION)
    wok = next(s for s in await stations(runtime) if s.name == "Wok")
    archived = await manager.post(f"/manage/kitchen/stations/{wok.id}/archive")
    assert archived.status_code == 200
    again = await manager.post(f"/manage/kitchen/stations/{wok.id}/archive")
    assert again.status_code == 404


async def test_a_manager_adds_a_printer_and_bad_printer_settings_are_refused(manager: Device, runtime: Any) -> None:
    before = len(await printers(runtime))
    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    cases = [
        ({**PRINTER, "uri": "http://printer"}, 422, "Address: unsupported printer uri"),
        ({**PRINTER, "uri": "tcp://host:99999"}, 422, "Address: bad port"),
        ({**PRINTER, "uri": "serial:///dev/ttyUSB0?baudrate=fast"}, 422, "baudrate must be a whole number"),
        ({**PRINTER, "codepage": "KLINGON"}, 422, "Profile: code page &#39;KLINGON&#39; has no known text encoding"),
        ({**PRINTER, "profile": "TM-NOPE"}, 422, "Profile: unknown python-escpos capability profile"),
        ({**PRINTER, "columns": "200"}, 422, "Columns must be at most 80."),
        ({**PRINTER, "name": "kitchen"}, 409, "There is already a printer called kitchen."),
        ({**PRINTER, "backup_printer_id": "9999"}, 422, "Backup printer: that printer does not exist"),
    ]
    for data, status, message in cases:
        response = await manager.post("/manage/kitchen/printers", data)
        assert response.status_code == status, (data, response.text)
        assert message in response.text, response.text
    assert len(await printers(runtime)) == before

    added = await manager.post("/manage/kitchen/printers", {**PRINTER, "backup_printer_id": str(kitchen.id)})
    assert added.status_code == 200
    assert "Printer Pass added." in added.text
    pass_printer = next(p for p in await printers(runtime) if p.name == "Pass")
    assert (pass_printer.uri, pass_printer.profile, pass_printer.backup_printer_id) == (
        "tcp://192.168.1.60:9100",
        "TM-T88V",
        kitchen.id,
    )
    own_backup = await manager.post(
        f"/manage/kitchen/printers/{pass_printer.id}", {**PRINTER, "backup_printer_id": str(pass_printer.id)}
    )
    assert own_backup.status_code == 422
    assert "A printer cannot be its own backup." in own_backup.text


async def test_a_printer_in_use_cannot_be_archived(manager: Device, runtime: Any) -> None:
    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    response = await manager.post(f"/manage/kitchen/printers/{kitchen.id}/archive")
    assert response.status_code == 409
    assert "still print on Kitchen" in response.text


async def test_the_routing_check_names_an_item_that_would_reach_no_station(manager: Device, runtime: Any) -> None:
    async with runtime.db.write() as session:
        desserts = (await session.exec(select(MenuCategory).where(MenuCategory.name == "Desserts"))).one()
        desserts.station_id = None
        session.add(desserts)

    page = await manager.get("/manage/kitchen")

    assert "Item Tiramisu (category Desserts) has no kitchen station: it cannot be sent to the kitchen." in page.text


async def test_the_status_page_shows_failed_jobs_and_alerts_a_manager_can_act_on(manager: Device, runtime: Any) -> None:
    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    async with runtime.db.write() as session:
        job = await printing.enqueue_print(
            session, printer_id=kitchen.id or 0, data=b"\x1b@hello\n", kind="test_page", reference="test:1"
        )
        job.state = PrintJobState.FAILED
        session.add(job)
        alert = await printing.raise_alert(session, kitchen.id or 0, AlertKind.PAPER_OUT, "Kitchen is out of paper")
        await printing.record_health(session, kitchen.id or 0, PrinterHealth.PAPER_OUT, "paper end")

    page = await manager.get("/manage/kitchen/printers")
    assert page.status_code == 200
    assert "Kitchen is out of paper" in page.text
    assert "test page test:1" in page.text
    assert "out of paper" in page.text

    badge = await manager.get("/kitchen/printer-badge", htmx=True)
    assert "Kitchen: out of paper" in badge.text

    retried = await manager.post(f"/manage/kitchen/jobs/{job.id}/retry")
    assert retried.status_code == 200
    assert "Sending test:1 again." in retried.text
    again = await manager.post(f"/manage/kitchen/jobs/{job.id}/retry")
    assert again.status_code == 409
    acknowledged = await manager.post(f"/manage/kitchen/alerts/{alert.id}/acknowledge")
    assert acknowledged.status_code == 200
    assert "No alerts." in acknowledged.text
    twice = await manager.post(f"/manage/kitchen/alerts/{alert.id}/acknowledge")
    assert twice.status_code == 409
    assert "already acknowledged" in twice.text
    async with runtime.db.read() as session:
        row = await session.get(PrintJob, job.id)
    assert row is not None
    assert row.state in (PrintJobState.PENDING, PrintJobState.PRINTING, PrintJobState.PRINTED)


async def test_the_status_page_lists_tickets_waiting_for_paper_as_a_page_and_a_fragment(
    manager: Device, runtime: Any
) -> None:
    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    async with runtime.db.write() as session:
        job = await printing.enqueue_print(
            session, printer_id=kitchen.id or 0, data=b"\x1b@hello\n", kind="kitchen_ticket", reference="ticket:9"
        )
        printing.hold_job(job, "printer 10.0.0.7:9100 is out of paper")
        session.add(job)
        await printing.record_health(session, kitchen.id or 0, PrinterHealth.PAPER_OUT, "paper end")

    for htmx in (False, True):
        page = await manager.get("/manage/kitchen/printers", htmx=htmx)
        assert page.status_code == 200
        assert "Waiting for the printer" in page.text
        assert "kitchen ticket ticket:9" in page.text
        assert "is out of paper" in page.text
        assert "1 held" in page.text
        assert "marked LATE" in page.text
        assert ("<html" in page.text) is not htmx

    stopped = await manager.post(f"/manage/kitchen/jobs/{job.id}/stop-waiting")
    assert stopped.status_code == 200
    assert "Stopped waiting for ticket:9" in stopped.text
    assert "Waiting for the printer" not in stopped.text
    again = await manager.post(f"/manage/kitchen/jobs/{job.id}/stop-waiting")
    assert again.status_code == 409
    assert "not waiting for its printer" in again.text
    missing = await manager.post("/manage/kitchen/jobs/999999/stop-waiting")
    assert missing.status_code == 404
    async with runtime.db.read() as session:
        row = await session.get(PrintJob, job.id)
        assert await printing.pending_jobs(session) == 0
    assert row is not None
    assert row.state is PrintJobState.FAILED


async def test_a_server_may_not_stop_a_ticket_waiting_for_paper(server: Device, runtime: Any) -> None:
    kitchen = next(p for p in await printers(runtime) if p.name == "Kitchen")
    async with runtime.db.write() as session:
        job = await printing.enqueue_print(
            session, printer_id=kitchen.id or 0, data=b"\x1b@hello\n", kind="kitchen_ticket", reference="ticket:9"
        )
        printing.hold_job(job, "Kitchen is out of paper")
        session.add(job)

    refused = await server.post(f"/manage/kitchen/jobs/{job.id}/stop-waiting")

    assert refused.status_code == 403
    async with runtime.db.read() as session:
        row = await session.get(PrintJob, job.id)
    assert row is not None
    assert row.state is PrintJobState.HELD


async def test_tablets_see_no_badge_while_every_printer_is_fine(server: Device) -> None:
    response = await server.get("/kitchen/printer-badge", htmx=True)
    assert response.status_code == 200
    assert "printer-badge" not in response.text


async def test_changing_the_kitchen_setup_needs_the_csrf_token(manager: Device, runtime: Any) -> None:
    before = len(await stations(runtime))
    response = await manager.client.post("/manage/kitchen/stations", data=STATION, headers={"hx-request": "true"})
    assert response.status_code == 403
    assert len(await stations(runtime)) == before
