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


async def _audited(runtime: Any, action: str) -> list[AuditEntry]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(AuditEntry).where(AuditEntry.action == action))).all())


async def _device_named(runtime: Any, name: str) -> Any:
    from app.staff.models import Device

    async with runtime.db.read() as session:
        return (await session.exec(select(Device).where(Device.name == name))).one()


async def test_a_browser_nobody_enrolled_asks_for_a_managers_pin_and_takes_no_staff_pin(
    device_factory: Any, demo: None
) -> None:
    stranger = await device_factory(enrolled=False)
    page = await stranger.get("/login")
    assert "This device is not enrolled — a manager enters their PIN to enrol it" in page.text
    assert "Device name" in page.text
    response = await _enter(stranger, "1111")
    assert response.status_code == 403
    assert "not enrolled" in response.text
    assert "Wrong PIN" not in response.text, "no PIN is checked on a stranger's browser"
    assert "brigade_session" not in stranger.client.cookies


async def test_fresh_cookies_buy_no_pin_guesses(device_factory: Any, demo: None, runtime: Any) -> None:
    # Fourteen guesses, each from a browser with a fresh cookie, from one machine on the LAN.
    at_the_pad, at_enrolment = [], []
    for guess in range(14):
        browser = await device_factory(enrolled=False, address="10.9.9.9")
        at_the_pad.append((await _enter(browser, f"{9000 + guess}")).status_code)
        enrolment = await browser.client.post(
            "/login/enrol",
            data={"pin": f"{8000 + guess}", "name": "Mine", "_csrf_token": browser.csrf},
            follow_redirects=False,
        )
        at_enrolment.append((enrolment.status_code, enrolment.text))
    assert at_the_pad == [403] * 14, "staff PINs are not even checked on an unenrolled browser"
    assert [status for status, _ in at_enrolment] == [401] * 4 + [429] * 10, "the address is throttled at the fifth"
    assert "Wait 30 s before the next try" in at_enrolment[4][1]
    assert all("Try again in" in text for _, text in at_enrolment[5:])
    elsewhere = await device_factory(address="10.9.9.10", name="Bar tablet")
    assert (await _enter(elsewhere, "1111")).status_code == 303, "other addresses are not slowed down"


async def test_wrong_pins_on_several_tablets_at_one_address_lock_the_address_until_a_manager_lifts_it(
    device_factory: Any, demo: None, runtime: Any, settings: Any
) -> None:
    settings.pin_throttle_seconds = 0
    first = await device_factory(address="10.7.0.5", name="Host stand")
    second = await device_factory(address="10.7.0.5", name="Host stand spare")
    statuses = []
    for _ in range(5):
        statuses.append((await _enter(first, "0000")).status_code)
        statuses.append((await _enter(second, "0000")).status_code)
    assert statuses[:4] == [401] * 4
    assert statuses[-1] == 423, "ten wrong PINs from one address lock it, though no device had ten"
    refused = await _enter(first, "1111")
    assert refused.status_code == 423
    assert "A manager can lift the lock on the Devices page" in refused.text
    assert [entry.subject for entry in await _audited(runtime, "pin.address_lock")] == ["address:10.7.0.5"]

    office = await log_in(await device_factory(address="10.7.0.9", name="Office"), "9999")
    page = await office.get("/manage/devices")
    assert "Address 10.7.0.5" in page.text
    from app.staff.models import PinLockout

    async with runtime.db.read() as session:
        lockout = (await session.exec(select(PinLockout))).one()
    assert (await office.post(f"/manage/lockouts/{lockout.id}/lift")).status_code == 200
    assert (await _enter(first, "1111")).status_code == 303
    assert len(await _audited(runtime, "pin.lockout_lift")) == 1


async def test_many_wrong_pins_across_the_venue_pause_every_pin_login(
    device_factory: Any, demo: None, runtime: Any, settings: Any
) -> None:
    settings.pin_venue_failures = 6
    office = await log_in(await device_factory(name="Office"), "9999")
    tablets = [await device_factory(name=f"Tablet {n}") for n in range(7)]
    for tablet in tablets[:5]:
        assert (await _enter(tablet, "0000")).status_code == 401
    sixth = await _enter(tablets[5], "0000")
    assert sixth.status_code == 429
    assert "PIN login is paused" in sixth.text
    right_pin_elsewhere = await _enter(tablets[6], "1111")
    assert right_pin_elsewhere.status_code == 429, "even the right PIN on another tablet waits out the pause"
    assert int(right_pin_elsewhere.headers["retry-after"]) > 0
    pauses = await _audited(runtime, "pin.venue_pause")
    assert [entry.subject for entry in pauses] == ["venue"]

    from app.staff.models import PinLockout

    async with runtime.db.read() as session:
        pause = (await session.exec(select(PinLockout))).one()
    assert pause.address is None
    assert "Every device (venue-wide pause)" in (await office.get("/manage/devices")).text
    assert (await office.post(f"/manage/lockouts/{pause.id}/lift")).status_code == 200
    assert (await _enter(tablets[0], "0000")).status_code == 401, "a lifted pause counts afresh"
    assert (await _enter(tablets[6], "1111")).status_code == 303


async def test_a_manager_enrols_a_device_by_name_and_it_is_listed_with_who_when_and_where(
    device_factory: Any, demo: None, runtime: Any
) -> None:
    bar = await device_factory(enrolled=False, address="10.3.3.3")
    refused = await bar.client.post(
        "/login/enrol", data={"pin": "1111", "name": "Bar tablet", "_csrf_token": bar.csrf}, follow_redirects=False
    )
    assert refused.status_code == 401, "a server's PIN does not enrol a device"
    assert "That is not a manager" in refused.text
    unnamed = await bar.client.post(
        "/login/enrol", data={"pin": "9999", "name": " ", "_csrf_token": bar.csrf}, follow_redirects=False
    )
    assert unnamed.status_code == 422
    assert "Give the device a name" in unnamed.text
    enrolled = await bar.client.post(
        "/login/enrol", data={"pin": "9999", "name": "Bar tablet", "_csrf_token": bar.csrf}, follow_redirects=False
    )
    assert enrolled.status_code == 303
    assert "brigade_session" not in bar.client.cookies, "enrolling logs nobody in"
    pad = await bar.get("/login")
    assert "not enrolled" not in pad.text
    assert "Bar tablet" in pad.text
    assert (await _enter(bar, "2222")).status_code == 303

    [entry] = await _audited(runtime, "device.enrol")
    device = await _device_named(runtime, "Bar tablet")
    assert entry.subject == f"device:{device.id}"
    assert entry.after == {"name": "Bar tablet", "address": "10.3.3.3"}
    office = await log_in(await device_factory(name="Office"), "9999")
    page = (await office.get("/manage/devices")).text
    row = page.split("Bar tablet", 1)[1].split("</tr>", 1)[0]
    assert "Nora Vance" in row
    assert "10.3.3.3" in row


async def test_revoking_a_device_ends_its_sessions_and_its_pins_stop_working_until_it_is_enrolled_again(
    device_factory: Any, demo: None, runtime: Any
) -> None:
    patio = await log_in(await device_factory(name="Patio tablet"), "1111")
    assert (await patio.get("/floor")).status_code == 200
    office = await log_in(await device_factory(name="Office"), "9999")
    device = await _device_named(runtime, "Patio tablet")
    revoked = await office.post(f"/manage/devices/{device.id}/revoke")
    assert revoked.status_code == 200
    assert "revoked" in revoked.text
    assert [entry.subject for entry in await _audited(runtime, "device.revoke")] == [f"device:{device.id}"]

    sent_away = await patio.get("/floor", follow_redirects=False)
    assert sent_away.status_code == 303, "the revoked device's session ended"
    assert sent_away.headers["location"].startswith("/login")
    refused = await _enter(patio, "1111")
    assert refused.status_code == 403
    assert "revoked" in refused.text
    again = await patio.client.post(
        "/login/enrol", data={"pin": "9999", "name": "Patio tablet", "_csrf_token": patio.csrf}, follow_redirects=False
    )
    assert again.status_code == 303
    assert (await _enter(patio, "1111")).status_code == 303
    assert (await office.get("/floor")).status_code == 200, "other devices were never touched"


async def test_an_api_token_needs_no_enrolled_device(app: Any, runtime: Any, demo: None) -> None:
    import httpx

    async with runtime.db.write() as session:
        from app.staff import services

        token = await services.create_api_token(session, name="ERP", scopes="read")
    transport = httpx.ASGITransport(app=app, client=("10.66.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as erp:
        response = await erp.get("/api/v1/checks", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
