"""Manager forms decoded by the framework: one refusal format for a missing or malformed field, on every page."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.floor.models import Floor
from app.kitchen.models import Printer, Station
from tests.integration.manage.support import audit_total, count, refused, text

FLOOR = {"name": "Terrace", "sort_order": "3", "width": "1200", "height": "500"}
STATION = {"name": "Wok", "kind": "prep", "yellow_after_min": "6", "red_after_min": "12"}


async def test_a_missing_or_malformed_field_is_refused_in_one_format_and_changes_nothing(
    manager: Any, runtime: Any
) -> None:
    floors, stations, audits = await count(runtime, Floor), await count(runtime, Station), await audit_total(runtime)
    cases = [
        ("/manage/floors", {k: v for k, v in FLOOR.items() if k != "name"}, "Name is required."),
        ("/manage/floors", {**FLOOR, "name": "   "}, "Name is required."),
        ("/manage/floors", {**FLOOR, "width": "12.5"}, "Plan width must be a whole number."),
        (
            "/manage/kitchen/stations",
            {k: v for k, v in STATION.items() if k != "red_after_min"},
            "Red after (minutes) is required.",
        ),
        ("/manage/kitchen/stations", {**STATION, "kind": ""}, "Kind must be one of: prep, bar, expo."),
        ("/manage/kitchen/stations", {**STATION, "printer_id": "0"}, "Printer must be at least 1."),
        (
            "/manage/kitchen/stations",
            {**STATION, "red_after_min": "5"},
            "A ticket must turn red later than it turns yellow.",
        ),
        (
            "/manage/kitchen/printers",
            {"name": "Pass", "uri": "tcp://10.0.0.9:9100", "columns": "wide"},
            "Columns must be a whole number.",
        ),
    ]
    for url, form, message in cases:
        # htmx: a 422 flash in the page; a plain post: the app's error page with the same words.
        refused(await manager.post(url, form), 422, message)
        page = await manager.post(url, form, htmx=False)
        assert page.status_code == 422
        assert "<html" in page.text
        assert message in text(page)
    assert await count(runtime, Floor) == floors
    assert await count(runtime, Station) == stations
    assert await audit_total(runtime) == audits


async def test_blank_optional_fields_take_their_defaults_and_the_token_field_is_ignored(
    manager: Any, runtime: Any
) -> None:
    floor = await manager.post("/manage/floors", {**FLOOR, "sort_order": "", "width": " ", "_csrf_token": manager.csrf})
    assert floor.status_code == 200, floor.text
    assert "Added Terrace." in text(floor)
    station = await manager.post("/manage/kitchen/stations", {**STATION, "printer_id": "", "sort_order": ""})
    assert "Station Wok added." in text(station)
    printer = await manager.post(
        "/manage/kitchen/printers", {"name": " Pass ", "uri": "tcp://10.0.0.9:9100", "role": "", "codepage": "cp437"}
    )
    assert "Printer Pass added." in text(printer)
    async with runtime.db.read() as session:
        terrace = (await session.exec(select(Floor).where(Floor.name == "Terrace"))).one()
        wok = (await session.exec(select(Station).where(Station.name == "Wok"))).one()
        pass_ = (await session.exec(select(Printer).where(Printer.name == "Pass"))).one()
    assert (terrace.sort_order, terrace.width, terrace.height) == (0, 1000, 500)
    assert (wok.printer_id, wok.sort_order) == (None, 0)
    assert (pass_.role, pass_.profile, pass_.columns, pass_.codepage) == ("prep", "default", 42, "CP437")


async def test_a_typed_form_still_needs_the_csrf_token(manager: Any, runtime: Any) -> None:
    floors = await count(runtime, Floor)
    response = await manager.client.post("/manage/floors", data=FLOOR, headers={"hx-request": "true"})
    assert response.status_code == 403
    assert await count(runtime, Floor) == floors
