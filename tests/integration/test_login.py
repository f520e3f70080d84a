"""PIN login on shared devices: throttling, lockout, manager unlock, session rotation, idle lock, audit."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from app.lib.audit import AuditEntry
from app.staff.models import StaffSession
from tests.conftest import log_in


async def _enter(device: Any, pin: str) -> Any:
    return await device.client.post("/login", data={"pin": pin, "_csrf_token": device.csrf}, follow_redirects=False)


async def test_the_right_pin_logs_a_server_in_and_sends_her_to_the_floor(device_factory: Any, demo: None) -> None:
    tablet = await device_factory()
    response = await _enter(tablet, "1111")
    assert response.status_code == 303
    assert response.headers["location"] == "/floor"
    assert "brigade_session" in tablet.client.cookies


async def test_a_cook_lands_on_the_kitchen_screens(device_factory: Any, demo: None) -> None:
    response = await _enter(await device_factory(), "3333")
    assert response.headers["location"] == "/kds"


async def test_five_wrong_pins_slow_the_device_down(device_factory: Any, demo: None) -> None:
    tablet = await device_factory()
    for _ in range(4):
        assert (await _enter(tablet, "0000")).status_code == 401
    fifth = await _enter(tablet, "0000")
    assert fifth.status_code == 429
    assert "Wait" in fifth.text
    refused = await _enter(tablet, "1111")
    assert refused.status_code == 429, "even the right PIN waits out the throttle"
    assert "Try again in" in refused.text
    assert "brigade_session" not in tablet.client.cookies


async def test_ten_wrong_pins_lock_the_device_until_a_manager_unlocks_it(
    device_factory: Any, demo: None, runtime: Any, settings: Any
) -> None:
    settings.pin_throttle_seconds = 0
    tablet = await device_factory()
    statuses = [(await _enter(tablet, "0000")).status_code for _ in range(10)]
    assert statuses[-1] == 423
    locked = await _enter(tablet, "1111")
    assert locked.status_code == 423
    assert "manager must unlock" in locked.text

    office = await log_in(await device_factory(), "9999")
    devices_page = await office.get("/manage/devices")
    assert "locked" in devices_page.text
    async with runtime.db.read() as session:
        from app.staff.models import Device

        device = (await session.exec(select(Device).where(Device.locked_at.is_not(None)))).one()  # type: ignore[union-attr]
    unlocked = await office.post(f"/manage/devices/{device.id}/unlock")
    assert unlocked.status_code == 200
    assert (await _enter(tablet, "1111")).status_code == 303


async def test_every_pin_attempt_is_audited(device_factory: Any, demo: None, runtime: Any) -> None:
    tablet = await device_factory()
    await _enter(tablet, "0000")
    await _enter(tablet, "1111")
    async with runtime.db.read() as session:
        actions = [
            e.action
            for e in (await session.exec(select(AuditEntry).where(AuditEntry.action.like("staff.login%")))).all()
        ]  # type: ignore[attr-defined]
    assert actions == ["staff.login_failed", "staff.login"]


async def test_logging_in_rotates_the_session_id(device_factory: Any, demo: None, runtime: Any) -> None:
    tablet = await device_factory()
    await _enter(tablet, "1111")
    first = tablet.client.cookies["brigade_session"]
    await _enter(tablet, "4444")
    second = tablet.client.cookies["brigade_session"]
    assert first != second
    async with runtime.db.read() as session:
        sessions = (await session.exec(select(StaffSession).order_by(StaffSession.id))).all()  # type: ignore[arg-type]
    assert [s.ended_at is not None for s in sessions] == [True, False], "the old session ends at the new login"


async def test_an_idle_tablet_locks_and_asks_for_the_pin_again(
    device_factory: Any, demo: None, runtime: Any, settings: Any
) -> None:
    tablet = await log_in(await device_factory(), "9999")
    assert (await tablet.get("/manage/staff")).status_code == 200
    async with runtime.db.write() as session:
        from datetime import timedelta

        row = (await session.exec(select(StaffSession))).one()
        row.last_seen_at = row.last_seen_at - timedelta(seconds=settings.idle_lock_seconds + 1)
        session.add(row)
    response = await tablet.get("/manage/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
