"""The floor plan editor: add, place (move, resize, rotate), rename, reshape, archive and restore tables."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from app.floor.geometry import Geometry, free_spot, snap
from app.floor.models import DiningTable, Floor, TableShape
from app.floor.services import FloorPlanChanged, TableArchived, suggest_table_name
from app.orders.models import Check
from app.orders.seating import transfer_check
from app.staff.models import Staff
from tests.integration.manage.support import audit_entries, audit_total, count, find, get, refused, seat, text


async def _floor(runtime: Any, name: str) -> Floor:
    return await find(runtime, Floor, Floor.name == name)


async def _table(runtime: Any, floor: Floor, name: str) -> DiningTable:
    return await find(runtime, DiningTable, DiningTable.floor_id == floor.id, DiningTable.name == name)


def _place(table: DiningTable, **changes: Any) -> dict[str, str]:
    geometry = {"x": table.x, "y": table.y, "width": table.width, "height": table.height, "rotation": table.rotation}
    geometry.update(changes)
    return {key: str(value) for key, value in geometry.items()}


def test_positions_snap_to_the_nearest_ten() -> None:
    assert [snap(v) for v in (0, 4, 5, 14, 15, 123, 996)] == [0, 0, 10, 10, 20, 120, 1000]


def test_a_new_table_goes_to_the_first_free_spot_without_touching_another() -> None:
    taken = [Geometry(20, 20, 80, 80), Geometry(120, 20, 80, 80)]
    x, y = free_spot(80, 80, (1000, 700), taken)
    assert (x, y) == (220, 20)
    full = [Geometry(0, 0, 1000, 700)]
    assert free_spot(80, 80, (1000, 700), full) is None, "a full plan has no spot left, rather than an overlap"
    # A 100-unit table turned 45 degrees reaches 71 units from its centre (70, 190), out to x = 141.
    turned = [Geometry(0, 0, 400, 100), Geometry(20, 140, 100, 100, 45)]
    assert free_spot(80, 80, (400, 600), turned) == (160, 120), "clear of the turned table's corners"


@pytest.mark.parametrize(
    ("names", "suggestion"),
    [
        ([], "1"),
        (["1", "2", "3"], "4"),
        (["P1", "P2", "P10"], "P11"),
        (["B1", "B2", "H1"], "B3"),
        (["Window"], "1"),
        (["1", "2", "4", "3"], "5"),
    ],
)
def test_the_next_table_name_follows_the_floor_numbering(names: list[str], suggestion: str) -> None:
    assert suggest_table_name(names) == suggestion


async def test_the_editor_draws_the_floor_at_true_proportions_as_a_page_and_as_a_fragment(
    manager: Any, runtime: Any
) -> None:
    dining = await _floor(runtime, "Dining Room")
    page = await manager.get(f"/manage/floors/{dining.id}/editor")
    assert page.status_code == 200
    assert "<html" in page.text
    assert 'viewBox="0 0 1000 700"' in page.text
    assert "/static/js/floor-editor.js" in page.text
    assert page.text.count('class="ed-table') == 22
    assert 'value="23"' in page.text, "the next table name is suggested"
    fragment = await manager.get(f"/manage/floors/{dining.id}/editor", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="plan-editor"' in fragment.text
    seven = await _table(runtime, dining, "7")
    chosen = await manager.get(f"/manage/floors/{dining.id}/editor?table={seven.id}", htmx=True)
    assert "Table 7" in chosen.text
    assert f'data-selected="{seven.id}"' in chosen.text
    assert (await manager.get("/manage/floors/99999/editor")).status_code == 404


async def test_a_manager_adds_a_table_where_nothing_stands(manager: Any, runtime: Any) -> None:
    patio = await _floor(runtime, "Patio")
    seen: list[Any] = []

    async def listen(_session: Any, event: Any) -> None:
        seen.append(event)

    runtime.bus.subscribe(FloorPlanChanged, listen)
    response = await manager.post(
        f"/manage/floors/{patio.id}/tables", {"name": "P11", "shape": "rectangle", "seats": "6"}
    )
    assert response.status_code == 200
    assert "Added table P11." in text(response)
    table = await _table(runtime, patio, "P11")
    assert (table.shape, table.seats, table.width, table.height, table.rotation) == (
        TableShape.RECTANGLE,
        6,
        160,
        80,
        0,
    )
    others = [t for t in await _tables(runtime, patio) if t.id != table.id]
    for other in others:
        apart = (
            table.x + table.width <= other.x
            or other.x + other.width <= table.x
            or table.y + table.height <= other.y
            or other.y + other.height <= table.y
        )
        assert apart, f"P11 overlaps {other.name}"
    assert table.x + table.width <= patio.width
    assert table.y + table.height <= patio.height
    [entry] = await audit_entries(runtime, "floor.table.add")
    assert entry.after is not None
    assert entry.after["name"] == "P11"
    assert seen == [FloorPlanChanged(patio.id or 0)]
    assert f'data-selected="{table.id}"' in response.text, "the new table is selected for editing"


async def _tables(runtime: Any, floor: Floor) -> list[DiningTable]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(DiningTable).where(DiningTable.floor_id == floor.id))).all())


async def test_a_table_added_without_seats_gets_its_shapes_usual_seats(manager: Any, runtime: Any) -> None:
    bar = await _floor(runtime, "Bar")
    response = await manager.post(f"/manage/floors/{bar.id}/tables", {"name": "B11", "shape": "bar_seat", "seats": ""})
    assert response.status_code == 200
    seat = await _table(runtime, bar, "B11")
    assert (seat.seats, seat.width, seat.height) == (1, 50, 50)


BAD_TABLES = [
    ({"name": ""}, 422, "Table name is required."),
    ({"name": "T" * 21}, 422, "Table name is 21 characters; the limit is 20."),
    ({"name": "p1"}, 409, "Patio already has a table named “p1”."),
    ({"shape": "hexagon"}, 422, "Shape must be square, round, rectangle or bar seat."),
    ({"seats": "0"}, 422, "Seats must be at least 1."),
    ({"seats": "41"}, 422, "Seats must be at most 40."),
    ({"seats": "four"}, 422, "Seats must be a whole number."),
    ({"x": "990", "y": "10", "width": "80", "height": "80", "rotation": "0"}, 422, "would stand outside the plan"),
    ({"x": "10", "y": "10", "width": "10", "height": "80", "rotation": "0"}, 422, "Width must be between 20 and 1000"),
]


async def test_a_bad_new_table_is_refused_and_changes_nothing(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    patio = await _floor(runtime, "Patio")
    tables, audits = await count(runtime, DiningTable), await audit_total(runtime)
    for changes, status, message in BAD_TABLES:
        with subtests.test(msg=message):
            form = {"name": "P11", "shape": "round", "seats": "4", **changes}
            refused(await manager.post(f"/manage/floors/{patio.id}/tables", form), status, message)
            assert await count(runtime, DiningTable) == tables
    assert await audit_total(runtime) == audits


async def test_a_drag_saves_the_new_place_snapped_to_the_grid(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    # The free corner right of table 22, below table 18.
    response = await manager.post(
        f"/manage/floors/{dining.id}/tables/{table.id}/place",
        {"x": "893", "y": "516", "width": "104", "height": "96", "rotation": "45"},
    )
    assert response.status_code == 200
    placed = response.json()
    assert placed == {"id": table.id, "name": "7", "x": 890, "y": 520, "width": 100, "height": 100, "rotation": 45}
    stored = await get(runtime, DiningTable, table.id or 0)
    assert (stored.x, stored.y, stored.width, stored.height, stored.rotation) == (890, 520, 100, 100, 45)
    [entry] = await audit_entries(runtime, "floor.table.place")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["x"], entry.after["x"]) == (table.x, 890)
    again = await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/place", _place(stored))
    assert again.status_code == 200
    assert len(await audit_entries(runtime, "floor.table.place")) == 1, (
        "putting a table where it stands records nothing"
    )


BAD_PLACES = [
    ({"x": "-10"}, "would stand outside the plan (left or top edge)."),
    ({"x": "950"}, "would stand outside the plan (1000 by 700); move it in or make it smaller."),
    ({"y": "660"}, "would stand outside the plan"),
    ({"width": "10"}, "Width must be between 20 and 1000 plan units."),
    ({"height": "1001"}, "Height must be between 20 and 1000 plan units."),
    ({"rotation": "360"}, "Rotation must be between 0 and 359 degrees."),
    ({"rotation": "-15"}, "Rotation must be between 0 and 359 degrees."),
    ({"x": "12.5"}, "Left must be a whole number."),
    ({"rotation": ""}, "Rotation must be a whole number."),
]


async def test_a_place_outside_the_rules_is_refused_and_the_table_stays(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    for changes, message in BAD_PLACES:
        with subtests.test(msg=message):
            response = await manager.post(
                f"/manage/floors/{dining.id}/tables/{table.id}/place", _place(table, **changes)
            )
            refused(response, 422, message)
            stored = await get(runtime, DiningTable, table.id or 0)
            assert (stored.x, stored.y, stored.width, stored.height, stored.rotation) == (
                table.x,
                table.y,
                table.width,
                table.height,
                table.rotation,
            )
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/place", {}),
        422,
        "Say where the table goes",
    )
    assert await audit_entries(runtime, "floor.table.place") == []


async def test_a_table_is_placed_only_on_its_own_floor(manager: Any, runtime: Any) -> None:
    dining, patio = await _floor(runtime, "Dining Room"), await _floor(runtime, "Patio")
    table = await _table(runtime, dining, "7")
    refused(
        await manager.post(f"/manage/floors/{patio.id}/tables/{table.id}/place", _place(table, x=200)),
        404,
        "No such table on Patio.",
    )
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/99999/place", _place(table)),
        404,
        "No such table on Dining Room.",
    )


async def test_the_inspector_renames_reshapes_and_reseats_a_table(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    form = {"name": "7A", "shape": "square", "seats": "5", **_place(table, rotation=90)}
    response = await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}", form)
    assert response.status_code == 200
    assert "Saved table 7A." in text(response)
    stored = await get(runtime, DiningTable, table.id or 0)
    assert (stored.name, stored.shape, stored.seats, stored.rotation) == ("7A", TableShape.SQUARE, 5, 90)
    [entry] = await audit_entries(runtime, "floor.table.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["name"], entry.after["name"]) == ("7", "7A")
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}", {**form, "name": "8"}),
        409,
        "Dining Room already has a table named “8”.",
    )
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}", {**form, "seats": "0"}),
        422,
        "Seats must be at least 1.",
    )
    assert (await get(runtime, DiningTable, table.id or 0)).name == "7A"


async def test_archiving_a_table_frees_its_name_and_restoring_needs_it_back(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    archived_events: list[Any] = []

    async def listen(_session: Any, event: Any) -> None:
        archived_events.append(event)

    runtime.bus.subscribe(TableArchived, listen)
    response = await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/archive")
    assert response.status_code == 200
    assert "Archived table 7." in text(response)
    assert (await get(runtime, DiningTable, table.id or 0)).archived_at is not None
    assert archived_events == [TableArchived(table.id or 0, dining.id or 0)]
    assert f'id="ed-table-{table.id}"' not in response.text
    assert "Archived tables" in response.text
    floor_view = await manager.get(f"/manage/floors/{dining.id}/editor", htmx=True)
    assert floor_view.text.count('class="ed-table') == 21
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/place", _place(table, x=200)),
        409,
        "Table 7 is archived; restore it to place it.",
    )
    added = await manager.post(f"/manage/floors/{dining.id}/tables", {"name": "7", "shape": "round", "seats": "4"})
    assert added.status_code == 200, "an archived table's name is free again"
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/restore"),
        409,
        "Dining Room already has a table named “7”.",
    )
    newer = await find(
        runtime,
        DiningTable,
        DiningTable.floor_id == dining.id,
        DiningTable.name == "7",
        col(DiningTable.archived_at).is_(None),
    )
    assert (
        await manager.post(
            f"/manage/floors/{dining.id}/tables/{newer.id}", {"name": "7B", "shape": "round", "seats": "4"}
        )
    ).status_code == 200
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/restore"),
        409,
        "Table 7 stood where table 7B stands now; move it away, then restore table 7.",
    )
    assert (await get(runtime, DiningTable, table.id or 0)).archived_at is not None
    assert (
        await manager.post(f"/manage/floors/{dining.id}/tables/{newer.id}/place", _place(newer, x=890, y=520))
    ).status_code == 200
    restored = await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/restore")
    assert restored.status_code == 200
    assert (await get(runtime, DiningTable, table.id or 0)).archived_at is None
    assert len(await audit_entries(runtime, "floor.table.archive")) == 1
    assert len(await audit_entries(runtime, "floor.table.restore")) == 1


async def test_a_server_may_not_edit_the_plan(server: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    assert (await server.get(f"/manage/floors/{dining.id}/editor")).status_code == 403
    assert (
        await server.post(f"/manage/floors/{dining.id}/tables", {"name": "99", "shape": "round"})
    ).status_code == 403
    assert (
        await server.post(f"/manage/floors/{dining.id}/tables/{table.id}/place", _place(table, x=300))
    ).status_code == 403
    assert (
        await server.post(f"/manage/floors/{dining.id}/tables/{table.id}", {"name": "Mine", "shape": "round"})
    ).status_code == 403
    assert (await server.post(f"/manage/floors/{dining.id}/tables/{table.id}/archive")).status_code == 403
    stored = await get(runtime, DiningTable, table.id or 0)
    assert (stored.name, stored.x, stored.archived_at) == ("7", table.x, None)


async def test_a_drag_without_the_csrf_header_is_refused(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    response = await manager.client.post(
        f"/manage/floors/{dining.id}/tables/{table.id}/place", data=_place(table, x=300), headers={"hx-request": "true"}
    )
    assert response.status_code == 403
    assert (await get(runtime, DiningTable, table.id or 0)).x == table.x


async def test_a_table_with_an_open_check_cannot_be_archived_until_the_check_moves(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    table = await _table(runtime, dining, "7")
    other = await _table(runtime, dining, "8")
    check = await seat(runtime, table.id or 0)
    audited = await audit_total(runtime)
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/archive"),
        409,
        f"Table 7 has an open check #{check.number} (Lena Brooks); close it or move it to another table "
        "before archiving the table.",
    )
    assert (await get(runtime, DiningTable, table.id or 0)).archived_at is None
    assert await audit_total(runtime) == audited, "a refusal records nothing"
    editor = await manager.get(f"/manage/floors/{dining.id}/editor", htmx=True)
    assert f'id="ed-table-{table.id}"' in editor.text, "the table is still on the plan"

    async with runtime.db.write() as session:
        lena = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        await transfer_check(session, check_id=check.id or 0, actor=lena, expected_version=None, to_table_id=other.id)
    response = await manager.post(f"/manage/floors/{dining.id}/tables/{table.id}/archive")
    assert response.status_code == 200
    assert "Archived table 7." in text(response)
    assert (await get(runtime, Check, check.id or 0)).table_id == other.id
    refused(
        await manager.post(f"/manage/floors/{dining.id}/tables/{other.id}/archive"),
        409,
        f"Table 8 has an open check #{check.number} (Lena Brooks)",
    )


async def _placed_at(runtime: Any, table: DiningTable) -> tuple[int, int, int, int, int]:
    stored = await get(runtime, DiningTable, table.id or 0)
    return stored.x, stored.y, stored.width, stored.height, stored.rotation


OVERLAPS = [
    ("a drop onto table 8", "7", {"x": 200, "y": 200}, "Table 7 would overlap table 8; move it to a free spot."),
    (
        "a drop across three tables",
        "14",
        {"x": 110, "y": 280, "width": 200},
        "Table 14 would overlap tables 7, 8 and 13;",
    ),
    ("a resize into table 8", "7", {"width": 170}, "Table 7 would overlap table 8;"),
    ("a rotation into table 13", "19", {"y": 470, "rotation": 90}, "Table 19 would overlap table 13;"),
]


async def test_a_table_placed_or_resized_over_another_is_refused_and_nothing_changes(
    manager: Any, runtime: Any, subtests: pytest.Subtests
) -> None:
    dining = await _floor(runtime, "Dining Room")
    seen: list[Any] = []

    async def listen(_session: Any, event: Any) -> None:
        seen.append(event)

    runtime.bus.subscribe(FloorPlanChanged, listen)
    audits = await audit_total(runtime)
    for what, name, changes, message in OVERLAPS:
        with subtests.test(msg=what):
            table = await _table(runtime, dining, name)
            before = await _placed_at(runtime, table)
            response = await manager.post(
                f"/manage/floors/{dining.id}/tables/{table.id}/place", _place(table, **changes)
            )
            refused(response, 409, message)
            assert await _placed_at(runtime, table) == before
    assert await audit_total(runtime) == audits, "a refused place records nothing"
    assert seen == [], "and redraws no tablet"


async def test_the_unrotated_box_alone_neither_refuses_nor_allows_a_place(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    nineteen = await _table(runtime, dining, "19")
    lowered = await manager.post(f"/manage/floors/{dining.id}/tables/{nineteen.id}/place", _place(nineteen, y=470))
    assert lowered.status_code == 200, "its unrotated box stands clear of table 13"
    turned = await manager.post(
        f"/manage/floors/{dining.id}/tables/{nineteen.id}/place", _place(nineteen, y=470, rotation=90)
    )
    refused(turned, 409, "Table 19 would overlap table 13;")
    assert (await _placed_at(runtime, nineteen))[4] == 0
    # Round 7 beside round 8, corner to corner: their boxes overlap, the tables themselves do not.
    seven = await _table(runtime, dining, "7")
    beside = await manager.post(f"/manage/floors/{dining.id}/tables/{seven.id}/place", _place(seven, x=130, y=270))
    assert beside.status_code == 200, beside.text[:300]
    # Square 1 pushed against square 2, edge on edge: touching is allowed.
    one = await _table(runtime, dining, "1")
    touching = await manager.post(f"/manage/floors/{dining.id}/tables/{one.id}/place", _place(one, x=110))
    assert touching.status_code == 200, touching.text[:300]
    assert (await _placed_at(runtime, one))[0] == 110


async def test_a_new_reshaped_or_restored_table_may_not_stand_on_another(manager: Any, runtime: Any) -> None:
    dining = await _floor(runtime, "Dining Room")
    tables = await count(runtime, DiningTable)
    eight = await _table(runtime, dining, "8")
    refused(
        await manager.post(
            f"/manage/floors/{dining.id}/tables",
            {"name": "23", "shape": "square", "seats": "4", **_place(eight, x=eight.x + 20)},
        ),
        409,
        "Table 23 would overlap table 8; move it to a free spot.",
    )
    assert await count(runtime, DiningTable) == tables
    # Round 7 sits diagonally beside round 8; made square, its corner would stand on 8.
    seven = await _table(runtime, dining, "7")
    assert (
        await manager.post(f"/manage/floors/{dining.id}/tables/{seven.id}/place", _place(seven, x=130, y=270))
    ).status_code == 200
    refused(
        await manager.post(
            f"/manage/floors/{dining.id}/tables/{seven.id}",
            {"name": "7", "shape": "square", "seats": "4"},
        ),
        409,
        "Table 7 would overlap table 8;",
    )
    assert (await get(runtime, DiningTable, seven.id or 0)).shape is TableShape.ROUND
    renamed = await manager.post(
        f"/manage/floors/{dining.id}/tables/{seven.id}", {"name": "7", "shape": "round", "seats": "5"}
    )
    assert renamed.status_code == 200, "a change that does not move the table is not held up"


async def test_a_full_plan_refuses_a_new_table_instead_of_stacking_it_in_the_corner(manager: Any, runtime: Any) -> None:
    created = await manager.post("/manage/floors", {"name": "Snug", "width": "200", "height": "200"})
    assert created.status_code == 200
    snug = await _floor(runtime, "Snug")
    form = {"name": "S1", "shape": "square", "seats": "8", "x": "0", "y": "0", "width": "200", "height": "200"}
    assert (await manager.post(f"/manage/floors/{snug.id}/tables", {**form, "rotation": "0"})).status_code == 200
    refused(
        await manager.post(f"/manage/floors/{snug.id}/tables", {"name": "S2", "shape": "square", "seats": "2"}),
        409,
        "Snug has no free spot left for a 80 by 80 table; make room on the plan or make the plan larger.",
    )
    assert [t.name for t in await _tables(runtime, snug)] == ["S1"]
