"""Course pacing on a controlled clock: a held course fires by itself when its moment comes, once, also across a
restart of the app, and never after a server took it back; stations timed to finish together start later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlmodel import col, select

from app.floor.models import DiningTable
from app.kitchen import bumping
from app.kitchen.models import KitchenTicket, Station, StationPacing, TicketState
from app.lib.audit import AuditEntry
from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.main import create_app
from app.menu.models import Course, MenuItem
from app.orders import firing, pacing, queries, seating
from app.orders import lines as order_lines
from app.orders.models import CheckKind, CoursePacing, FireKind, KitchenFire, LineState, PacingState, PacingTrigger
from app.staff.models import Staff
from tests.integration.orders.conftest import Restaurant

START = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Any:
    """The wall clock, stopped at 19:00 on a Friday (18:00 UTC); `clock.shift(minutes)` moves it on."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


async def _staff(session: Any, name: str) -> Staff:
    return (await session.exec(select(Staff).where(Staff.name == name))).one()


async def _item(session: Any, sku: str) -> MenuItem:
    return (await session.exec(select(MenuItem).where(MenuItem.sku == sku))).one()


async def _table_with_starters_and_mains(runtime: Any, *, prep: dict[str, int] | None = None) -> int:
    """Table 12: a burrata and a soup to start, a carbonara and mashed potatoes to follow; prep minutes as given."""
    async with runtime.db.write() as session:
        for sku, minutes in (prep or {}).items():
            item = await _item(session, sku)
            item.prep_minutes = minutes
            session.add(item)
        server = await _staff(session, "Lena Brooks")
        table = (await session.exec(select(DiningTable).where(DiningTable.name == "12"))).one()
        check = await seating.open_check(session, table_id=table.id, covers=2, server=server, kind=CheckKind.TABLE)
        for sku in ("ST-BUR", "ST-SOU", "PA-CAR", "SI-MAS"):
            item = await _item(session, sku)
            request = order_lines.LineRequest(menu_item_id=item.id or 0)
            await order_lines.add_line(
                session, check_id=check.id or 0, request=request, actor=server, expected_version=None
            )
        return check.id or 0


async def _pace(
    runtime: Any, check_id: int, trigger: PacingTrigger, minutes: int = 0, *, course: Course = Course.MAINS
) -> CoursePacing:
    async with runtime.db.write() as session:
        server = await _staff(session, "Lena Brooks")
        return await pacing.pace_course(
            session,
            check_id=check_id,
            course=course,
            trigger=trigger,
            minutes=minutes,
            actor=server,
            expected_version=None,
        )


async def _push_back(runtime: Any, check_id: int, minutes: int) -> CoursePacing:
    async with runtime.db.write() as session:
        server = await _staff(session, "Lena Brooks")
        return await pacing.push_back(
            session, check_id=check_id, course=Course.MAINS, minutes=minutes, actor=server, expected_version=None
        )


async def _send(runtime: Any, check_id: int) -> None:
    async with runtime.db.write() as session:
        server = await _staff(session, "Lena Brooks")
        await firing.send(session, check_id=check_id, actor=server, expected_version=None)
    await runtime.dispatcher.drain()


async def _bump_course(runtime: Any, check_id: int, course: Course) -> None:
    """The stations bump their tickets of the course, then expo sends it out."""
    async with runtime.db.read() as session:
        tickets = (
            await session.exec(
                select(KitchenTicket).where(KitchenTicket.check_id == check_id, KitchenTicket.course == course)
            )
        ).all()
    for ticket in sorted(tickets, key=lambda t: t.is_expo):
        async with runtime.db.write() as session:
            await bumping.bump_ticket(session, ticket.id or 0, staff_id=None)


async def _fires(runtime: Any, check_id: int, course: Course) -> list[KitchenFire]:
    async with runtime.db.read() as session:
        query = select(KitchenFire).where(
            KitchenFire.check_id == check_id, KitchenFire.course == course, KitchenFire.kind == FireKind.NEW
        )
        return list((await session.exec(query)).all())


async def _rule(runtime: Any, rule_id: int) -> CoursePacing:
    async with runtime.db.read() as session:
        rule = await session.get(CoursePacing, rule_id)
    assert rule is not None
    return rule


async def test_mains_paced_on_the_bump_fire_once_when_expo_sends_the_starters(
    runtime: Any, demo: None, clock: Any
) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    rule = await _pace(runtime, check_id, PacingTrigger.BUMPED)
    assert rule.due_at is None, "nothing tells when yet: the starters have not even gone"
    await _send(runtime, check_id)
    assert await _fires(runtime, check_id, Course.MAINS) == []

    clock.shift(timedelta(minutes=12))
    await _bump_course(runtime, check_id, Course.STARTERS)
    await runtime.dispatcher.drain()

    fired = await _fires(runtime, check_id, Course.MAINS)
    assert len(fired) == 1
    assert fired[0].fired_at == START + timedelta(minutes=12)
    done = await _rule(runtime, rule.id or 0)
    assert (done.state, done.fire_id, done.outcome) == (PacingState.FIRED, fired[0].id, "fired by pacing")
    # the mains went to the kitchen and the check no longer waits on pacing
    async with runtime.db.read() as session:
        mains = await queries.check_view(session, check_id)
        tickets = (await session.exec(select(KitchenTicket).where(KitchenTicket.fire_id == fired[0].id))).all()
        audited = (
            await session.exec(select(AuditEntry.action).where(col(AuditEntry.subject) == f"check:{check_id}"))
        ).all()
    assert mains is not None
    assert not mains.check.paced
    assert {c.course: c.held for c in mains.courses}[Course.MAINS] == 0
    assert tickets, "the paced fire was routed to the stations"
    assert {"course.paced", "course.fired_by_pacing"} <= set(audited)

    # a second bump (expo recalls nothing; a repeat delivery) fires nothing more
    clock.shift(timedelta(minutes=5))
    await runtime.dispatcher.drain()
    assert len(await _fires(runtime, check_id, Course.MAINS)) == 1


async def test_a_course_held_again_is_never_fired_by_pacing(runtime: Any, demo: None, clock: Any) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    rule = await _pace(runtime, check_id, PacingTrigger.AFTER_FIRE, 10)
    await _send(runtime, check_id)
    assert (await _rule(runtime, rule.id or 0)).due_at == START + timedelta(minutes=10)

    async with runtime.db.write() as session:
        server = await _staff(session, "Lena Brooks")
        await firing.hold_course(session, check_id=check_id, course=Course.MAINS, actor=server, expected_version=None)
    clock.shift(timedelta(minutes=30))
    await runtime.dispatcher.drain()

    assert await _fires(runtime, check_id, Course.MAINS) == []
    cancelled = await _rule(runtime, rule.id or 0)
    assert cancelled.state is PacingState.CANCELLED
    assert cancelled.outcome == "held again by Lena Brooks"
    async with runtime.db.read() as session:
        lines = (await queries.check_view(session, check_id)).courses  # type: ignore[union-attr]
    assert {c.course: c.held for c in lines}[Course.MAINS] == 2


async def test_a_course_fired_by_hand_first_is_not_fired_again_when_its_time_comes(
    runtime: Any, demo: None, clock: Any
) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    rule = await _pace(runtime, check_id, PacingTrigger.AFTER_FIRE, 10)
    await _send(runtime, check_id)
    clock.shift(timedelta(minutes=4))
    async with runtime.db.write() as session:
        server = await _staff(session, "Lena Brooks")
        await firing.fire_course(session, check_id=check_id, course=Course.MAINS, actor=server, expected_version=None)
    clock.shift(timedelta(minutes=20))
    await runtime.dispatcher.drain()
    assert len(await _fires(runtime, check_id, Course.MAINS)) == 1
    done = await _rule(runtime, rule.id or 0)
    assert done.state is PacingState.FIRED
    assert done.outcome == "fired by Lena Brooks before its time"


async def test_pushing_back_moves_the_fire_and_the_old_timer_fires_nothing(
    runtime: Any, demo: None, clock: Any
) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    rule = await _pace(runtime, check_id, PacingTrigger.AFTER_FIRE, 10)
    await _send(runtime, check_id)
    pushed = await _push_back(runtime, check_id, 5)
    assert pushed.due_at == START + timedelta(minutes=15)

    clock.shift(timedelta(minutes=11))
    await runtime.dispatcher.drain()
    assert await _fires(runtime, check_id, Course.MAINS) == [], "the first timer was for the old time"
    clock.shift(timedelta(minutes=5))
    await runtime.dispatcher.drain()
    assert len(await _fires(runtime, check_id, Course.MAINS)) == 1
    assert (await _rule(runtime, rule.id or 0)).revision == pushed.revision


async def test_mains_timed_to_be_ready_as_the_starters_are_cleared(runtime: Any, demo: None, clock: Any) -> None:
    # starters take 8 minutes, guests 20 minutes to eat them; the slowest main (the carbonara) takes 14 minutes
    prep = {"ST-BUR": 6, "ST-SOU": 8, "PA-CAR": 14, "SI-MAS": 4}
    check_id = await _table_with_starters_and_mains(runtime, prep=prep)
    rule = await _pace(runtime, check_id, PacingTrigger.TIMED, 20)
    await _send(runtime, check_id)
    assert (await _rule(runtime, rule.id or 0)).due_at == START + timedelta(minutes=8 + 20 - 14)

    # the starters came up late: ready at 19:11, so the mains go at 19:11 + 20 - 14
    clock.shift(timedelta(minutes=11))
    await _bump_course(runtime, check_id, Course.STARTERS)
    assert (await _rule(runtime, rule.id or 0)).due_at == START + timedelta(minutes=11 + 20 - 14)
    clock.shift(timedelta(minutes=5))
    await runtime.dispatcher.drain()
    assert await _fires(runtime, check_id, Course.MAINS) == []
    clock.shift(timedelta(minutes=1))
    await runtime.dispatcher.drain()
    assert len(await _fires(runtime, check_id, Course.MAINS)) == 1


@pytest.mark.parametrize("trigger", [PacingTrigger.BUMPED, PacingTrigger.AFTER_FIRE])
async def test_what_fell_due_while_the_app_was_down_fires_once_after_the_restart(
    settings: Settings, runtime: Any, demo: None, clock: Any, trigger: PacingTrigger
) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    rule = await _pace(runtime, check_id, trigger, 0 if trigger is PacingTrigger.BUMPED else 10)
    await _send(runtime, check_id)
    if trigger is PacingTrigger.BUMPED:
        clock.shift(timedelta(minutes=9))
        await _bump_course(runtime, check_id, Course.STARTERS)  # the app goes down before its timer is taken
    await runtime.db.dispose()  # the app stops; its timers are rows in the database

    clock.shift(timedelta(minutes=25))
    restarted = [create_app(settings), create_app(settings)]  # two processes come up on the same database
    try:
        for app in restarted:
            await app.state.runtime.dispatcher.drain()
        again = restarted[0].state.runtime
        await again.dispatcher.drain()
        assert len(await _fires(again, check_id, Course.MAINS)) == 1
        assert (await _rule(again, rule.id or 0)).state is PacingState.FIRED
    finally:
        for app in restarted:
            await app.state.runtime.channels.close_backend()
            await app.state.runtime.db.dispose()


async def test_pacing_refuses_what_cannot_be_paced_and_changes_nothing(runtime: Any, demo: None) -> None:
    check_id = await _table_with_starters_and_mains(runtime)
    refusals = [
        (Course.STARTERS, PacingTrigger.BUMPED, 0, "have no course before them"),
        (Course.MAINS, PacingTrigger.AFTER_FIRE, 0, "how many minutes after"),
        (Course.MAINS, PacingTrigger.TIMED, 0, "how many minutes the guests take"),
        (Course.MAINS, PacingTrigger.BUMPED, 500, "between 0 and 180"),
    ]
    for course, trigger, minutes, message in refusals:
        with pytest.raises(InvalidInput, match=message):
            await _pace(runtime, check_id, trigger, minutes, course=course)
    with pytest.raises(InvalidInput, match="not paced"):
        await _push_back(runtime, check_id, 5)
    async with runtime.db.read() as session:
        view = await queries.check_view(session, check_id)
        rules = (await session.exec(select(CoursePacing))).all()
    assert view is not None
    assert not view.check.paced
    assert rules == []
    assert all(line.line.state is LineState.PENDING for c in view.courses for line in c.lines)


async def test_stations_timed_to_finish_together_start_later_by_their_prep_time(
    runtime: Any, demo: None, clock: Any
) -> None:
    # the carbonara (14 min, on the grill) and mashed potatoes (4 min, at the fryer): the fryer starts 10 min later
    check_id = await _table_with_starters_and_mains(runtime, prep={"PA-CAR": 14, "SI-MAS": 4})
    async with runtime.db.write() as session:
        for station in (await session.exec(select(Station))).all():
            station.pacing = StationPacing.FINISH_TOGETHER
            session.add(station)
    await _send(runtime, check_id)
    async with runtime.db.read() as session:
        rows = (
            await session.exec(
                select(KitchenTicket, Station)
                .join(Station, col(Station.id) == KitchenTicket.station_id)
                .where(KitchenTicket.check_id == check_id, KitchenTicket.course == Course.MAINS)
            )
        ).all()
    by_station = {station.name: ticket for ticket, station in rows}
    assert by_station["Fry"].fire_at == START + timedelta(minutes=10)
    assert by_station["Grill"].fire_at is None
    assert by_station["Expo"].fire_at is None
    assert all(t.state is TicketState.OPEN for t, _s in rows)


async def test_a_server_paces_mains_from_the_check_and_sees_when_they_will_fire(
    server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    await restaurant.ring_in(server, check_id, "PA-CAR", seat=2)
    panel = (await server.get(f"/checks/{check_id}/panel")).text
    assert "Pace…" in panel, "a course after the first can be paced"

    refused = await restaurant.post(server, check_id, "courses/mains/pace", {"trigger": "whenever", "minutes": "5"})
    assert refused.status_code == 422
    assert "Choose when the course fires" in refused.text
    assert await restaurant.audit("course.paced") == []

    paced = await restaurant.post(server, check_id, "courses/mains/pace", {"trigger": "after_fire", "minutes": "10"})
    assert paced.status_code == 200, paced.text
    assert "Mains will fire 10 min after starters are fired." in paced.text
    assert "Fires 10 min after starters are fired" in paced.text
    assert "+5 min" in paced.text

    sent = await restaurant.post(server, check_id, "send")
    assert "Sent to the kitchen: Starters." in sent.text
    later = await restaurant.post(server, check_id, "courses/mains/later", {"minutes": "5"})
    assert later.status_code == 200, later.text
    assert "Mains pushed back 5 min." in later.text
    assert "(+5 min)" in later.text
    assert "Fires at " in later.text

    stopped = await restaurant.post(server, check_id, "courses/mains/hold")
    assert stopped.status_code == 200, stopped.text
    assert "Fires" not in stopped.text.split("check-lines", 1)[1].split("</header>", 1)[0]
    assert [line.state for line in await restaurant.lines(check_id)][-1] is LineState.HELD


async def test_a_manager_sets_prep_times_and_which_stations_finish_together(
    manager: Any, restaurant: Restaurant, runtime: Any
) -> None:
    item_id = await restaurant.item_id("PA-CAR")
    async with runtime.db.read() as session:
        item = await session.get(MenuItem, item_id)
        grill = (await session.exec(select(Station).where(Station.name == "Grill"))).one()
    assert item is not None
    form = {
        "sku": item.sku,
        "name": item.name,
        "price": "17.50",
        "category_id": str(item.category_id),
        "station_id": "",
        "description": item.description,
        "sort_order": str(item.sort_order),
        "group_ids": ["", ""],
    }
    refused = await manager.post(f"/manage/menu/items/{item_id}", {**form, "prep_minutes": "600"})
    assert refused.status_code == 422
    assert "Prep time (minutes)" in refused.text
    saved = await manager.post(f"/manage/menu/items/{item_id}", {**form, "prep_minutes": "12"})
    assert saved.status_code == 200, saved.text

    station = {
        "name": "Grill",
        "kind": "prep",
        "printer_id": str(grill.printer_id or ""),
        "yellow_after_min": "8",
        "red_after_min": "15",
        "sort_order": str(grill.sort_order),
    }
    wrong = await manager.post(f"/manage/kitchen/stations/{grill.id}", {**station, "pacing": "whenever"})
    assert wrong.status_code == 422
    assert "Timing must be one of" in wrong.text
    timed = await manager.post(f"/manage/kitchen/stations/{grill.id}", {**station, "pacing": "finish_together"})
    assert timed.status_code == 200, timed.text
    assert 'value="finish_together" selected' in timed.text
    async with runtime.db.read() as session:
        item = await session.get(MenuItem, item_id)
        grill = await session.get(Station, grill.id)
    assert item is not None
    assert item.prep_minutes == 12
    assert grill is not None
    assert grill.pacing is StationPacing.FINISH_TOGETHER
