"""The guest sheet on the check page, the floor tile, a guest's page with their history, and erasing a guest."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import col, select

from app.checks.models import Payment, Tender
from app.cli import main
from app.guests.models import Guest
from app.guests.services import attach_guest_to_check, find_or_create_guest
from app.kitchen.models import KitchenTicket, PrintJob
from app.lib.audit import AuditEntry
from app.orders.models import Check, CheckKind, CheckLine, CheckStatus, LineState
from app.orders.seating import open_check as open_check_for
from app.staff.permissions import Role
from tests.conftest import Device, log_in
from tests.integration.guests.conftest import Front
from tests.integration.kitchen.support import Order, Scene, fire

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _verify_audit(settings: Any) -> Any:
    env = {"BRIGADE_DATABASE_URL": settings.resolved_database_url(), "BRIGADE_VAR_DIR": str(settings.var_dir)}
    return CliRunner().invoke(main, ["verify-audit"], env=env)


async def _audit_actions(front: Front) -> list[str]:
    async with front.db.read() as session:
        return [e.action for e in (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all()]


async def test_a_server_attaches_a_guest_with_allergies_from_the_check_page_once_per_tap(
    front: Front, server: Device, device_factory: Any
) -> None:
    check = await front.seat("12")
    host = await front.staff(Role.HOST)
    async with front.db.write() as session:
        await find_or_create_guest(session, actor=host, name="Ada Marsh", phone="06 1234 5678", allergies="Peanuts")

    page = await server.get(f"/checks/{check.id}")
    assert page.status_code == 200
    assert f'hx-get="/checks/{check.id}/guest"' in page.text
    sheet = await server.get(f"/checks/{check.id}/guest", htmx=True)
    assert sheet.status_code == 200
    assert "Find a guest" in sheet.text
    assert "<html" not in sheet.text
    assert (await server.get(f"/checks/{check.id}/guest")).text.count("<html") == 1

    found = await server.get(f"/checks/{check.id}/guest/search?q=1234%205678", htmx=True)
    assert "Attach Ada Marsh" in found.text
    assert 'value="Peanuts"' in found.text
    assert "Nobody on file matches" in (await server.get(f"/checks/{check.id}/guest/search?q=Zed", htmx=True)).text

    guest_id = int(re.search(r'name="guest_id" value="(\d+)"', found.text).group(1))  # type: ignore[union-attr]
    form = {
        "guest_id": str(guest_id),
        "allergies": "Peanuts, shellfish",
        "version": str(check.version),
        "idempotency_key": KEY.search(found.text).group(1),  # type: ignore[union-attr]
    }
    attached = await server.post(f"/checks/{check.id}/guest", form)
    assert attached.status_code == 200, attached.text
    assert attached.headers["hx-redirect"] == f"/checks/{check.id}"
    again = await server.post(f"/checks/{check.id}/guest", form)
    assert again.headers["hx-redirect"] == f"/checks/{check.id}"
    assert (await _audit_actions(front)).count("check.guest_attached") == 1

    now = await front.check(check.id or 0)
    assert (now.guest_id, now.guest_name, now.guest_allergies) == (guest_id, "Ada Marsh", "Peanuts, shellfish")
    page = await server.get(f"/checks/{check.id}")
    assert "ALLERGY: Peanuts, shellfish" in page.text
    assert "ALLERGY: Peanuts, shellfish" in (await server.get(f"/checks/{check.id}/panel", htmx=True)).text
    assert f'<a href="/guests/{guest_id}">Ada Marsh</a>' in page.text
    floor = await server.get("/floor")
    assert '<span class="table-guest">Ada Marsh</span>' in floor.text

    stale = await server.post(f"/checks/{check.id}/guest", {**form, "idempotency_key": "stale-1"})
    assert stale.status_code == 409
    assert "changed on another tablet" in stale.text

    detach_key = KEY.search((await server.get(f"/checks/{check.id}/guest", htmx=True)).text).group(1)  # type: ignore[union-attr]
    version = (await front.check(check.id or 0)).version
    detached = await server.post(
        f"/checks/{check.id}/guest/detach", {"version": str(version), "idempotency_key": detach_key}
    )
    assert detached.headers["hx-redirect"] == f"/checks/{check.id}"
    now = await front.check(check.id or 0)
    assert (now.guest_id, now.guest_name, now.guest_allergies) == (None, None, None)
    assert "ALLERGY" not in (await server.get(f"/checks/{check.id}/panel", htmx=True)).text

    cook = await log_in(await device_factory(), "3333")
    assert (await cook.get(f"/checks/{check.id}/guest")).status_code == 403
    refused = await cook.post(f"/checks/{check.id}/guest", {**form, "idempotency_key": "cook-1"})
    assert refused.status_code == 403


async def test_a_host_adds_a_new_guest_and_attaches_them_in_one_step_and_bad_details_change_nothing(
    front: Front, device_factory: Any
) -> None:
    check = await front.seat("12")
    host = await log_in(await device_factory(), "5555")
    details = {
        "name": "Noor Haddad",
        "phone": "+31 6 5555 0101",
        "email": "Noor@Example.com",
        "allergies": "Sesame",
        "marketing_consent": "1",
        "version": str(check.version),
    }
    bad = await host.post(f"/checks/{check.id}/guest", {**details, "phone": "call me", "idempotency_key": "h-1"})
    assert bad.status_code == 422
    assert "is not a phone number" in bad.text
    async with front.db.read() as session:
        assert (await session.exec(select(Guest))).all() == []
    floor_sheet = await host.get(f"/tables/{check.table_id}", htmx=True)
    assert f'href="/checks/{check.id}/guest">Add guest</a>' in floor_sheet.text
    sheet_page = await host.get(f"/checks/{check.id}/guest")
    assert sheet_page.status_code == 200
    assert 'href="/floor">← Back to the floor' in sheet_page.text
    added = await host.post(f"/checks/{check.id}/guest", {**details, "idempotency_key": "h-2"})
    assert added.status_code == 200, added.text
    assert added.headers["hx-redirect"] == "/floor"
    floor_sheet = await host.get(f"/tables/{check.table_id}", htmx=True)
    assert "Guest: Noor Haddad</a>" in floor_sheet.text
    async with front.db.read() as session:
        guest = (await session.exec(select(Guest))).one()
    assert (guest.email, guest.phone_digits, guest.marketing_consent) == ("noor@example.com", "655550101", True)
    assert (await front.check(check.id or 0)).guest_allergies == "Sesame"
    listed = await host.get("/guests?q=haddad")
    assert listed.status_code == 200
    assert 'href="/guests"' in listed.text
    assert "Noor Haddad" in listed.text
    assert "Sesame" in listed.text
    assert "Noor Haddad" in (await host.get("/guests?q=5555%200101", htmx=True)).text
    assert "Erase this guest" not in (await host.get(f"/guests/{guest.id}")).text
    assert (await host.get("/guests/999999")).status_code == 404

    walk_in = {"name": "Bram Visser", "email": "bram@example.com", "allergies": "", "idempotency_key": "g-1"}
    for _ in range(2):
        made = await host.post("/guests", walk_in, htmx=False, follow_redirects=False)
        assert made.status_code == 303
    async with front.db.read() as session:
        bram = (await session.exec(select(Guest).where(Guest.email == "bram@example.com"))).one()
    assert made.headers["location"] == f"/guests/{bram.id}"
    twin = await host.post("/guests", {**walk_in, "idempotency_key": "g-2"})
    assert twin.status_code == 409
    assert f"Bram Visser (guest {bram.id}) already has that phone number or email" in twin.text
    assert (await host.post(f"/guests/{guest.id}/erase", {"reason": "x", "confirm": "ERASE"})).status_code == 403


async def _closed_visit(front: Front, guest_id: int, items: list[tuple[str, int, int]], paid_cents: int) -> None:
    """A check of the guest's that was served and paid: lines (name, quantity, price) and one payment."""
    server = await front.staff(Role.SERVER)
    check = await front.seat("14")
    async with front.db.write() as session:
        row = await session.get(Check, check.id)
        assert row is not None
        source = await front_line_source(session)
        for name, quantity, price in items:
            session.add(
                CheckLine(
                    check_id=row.id or 0,
                    menu_item_id=source["menu_item_id"],
                    sku=source["sku"],
                    name=name,
                    category_id=source["category_id"],
                    unit_price_cents=price,
                    quantity_num=quantity,
                    tax_rate_id=source["tax_rate_id"],
                    tax_rate_bp=900,
                    state=LineState.SENT,
                    added_by=server.id or 0,
                )
            )
        tender = (await session.exec(select(Tender).order_by(col(Tender.id)))).first()
        assert tender is not None
        session.add(
            Payment(
                check_id=row.id or 0,
                tender_id=tender.id or 0,
                amount_cents=paid_cents,
                tip_cents=200,
                business_day=dt.date(2026, 12, 5),
                taken_by=server.id or 0,
            )
        )
        row.guest_id = guest_id
        row.status = CheckStatus.CLOSED
        row.closed_at = row.opened_at
        session.add(row)


async def front_line_source(session: Any) -> dict[str, Any]:
    """A menu item's ids, to hang test lines on."""
    from app.menu.models import MenuCategory, MenuItem

    item = (await session.exec(select(MenuItem).where(MenuItem.sku == "SL-NIC"))).one()
    category = await session.get(MenuCategory, item.category_id)
    return {
        "menu_item_id": item.id,
        "sku": item.sku,
        "category_id": item.category_id,
        "tax_rate_id": category.tax_rate_id,
    }


async def test_a_guests_page_shows_visits_spend_and_favourites_and_a_manager_erases_them_leaving_checks_and_audit_whole(
    front: Front, manager: Device, runtime: Any, settings: Any
) -> None:
    host = await front.staff(Role.HOST)
    async with front.db.write() as session:
        guest = await find_or_create_guest(
            session,
            actor=host,
            name="Ysolde Prewitt",
            phone="0612345678",
            email="ysolde@example.com",
            allergies="Peanuts",
            preferences="Window table",
            marketing_consent=True,
        )
    await _closed_visit(front, guest.id or 0, [("Niçoise Salad", 2, 1450), ("Crème Brûlée", 1, 850)], 3750)
    await _closed_visit(front, guest.id or 0, [("Niçoise Salad", 1, 1450)], 1450)
    page = await manager.get(f"/guests/{guest.id}")
    assert page.status_code == 200
    stats = re.sub(r"\s+", " ", page.text)
    assert '<span class="stat-value">2</span><span class="stat-label">visits</span>' in stats
    assert "€52.00" in stats  # what was paid on the checks, tips aside
    assert "€26.00" in stats
    assert re.search(r"<li>Niçoise Salad <span class=\"muted\">\u00d7 3</span></li>\s*<li>Crème Brûlée", page.text)
    assert "ALLERGY: Peanuts" in page.text
    assert "Erase this guest" in page.text

    server = await front.staff(Role.SERVER)
    async with front.db.write() as session:
        # a bar tab opened under the guest's first name: the name is on the kitchen's tickets too
        open_check = await open_check_for(
            session, table_id=None, covers=1, server=server, kind=CheckKind.TAB, tab_name="Ysolde at the bar"
        )
        await attach_guest_to_check(session, open_check.id or 0, guest.id or 0, host)
    await fire(runtime, Scene(check_id=open_check.id or 0), [Order("SL-NIC")])
    printed: list[PrintJob] = []
    for _ in range(100):  # the app's own dispatcher may be the one routing the fire
        await runtime.dispatcher.drain()
        async with front.db.read() as session:
            printed = list((await session.exec(select(PrintJob))).all())
        if printed:
            break
        await asyncio.sleep(0.05)
    assert printed
    assert all(b"ALLERGY: PEANUTS" in job.data for job in printed)

    form = {
        "name": "Ysolde Prewitt",
        "phone": "0612345678",
        "email": "ysolde@example.com",
        "allergies": "Peanuts, mustard",
        "preferences": "Window table",
        "marketing_consent": "1",
        "idempotency_key": "edit-1",
    }
    saved = await manager.post(f"/guests/{guest.id}", form, htmx=False, follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/guests/{guest.id}")
    clash = await manager.post(f"/guests/{guest.id}", {**form, "email": "", "phone": "", "idempotency_key": "edit-2"})
    assert clash.status_code == 422
    assert "needs a phone number or an email" in clash.text
    async with front.db.read() as session:
        open_tickets = list(
            (await session.exec(select(KitchenTicket).where(KitchenTicket.check_id == open_check.id))).all()
        )
    assert (await front.check(open_check.id or 0)).guest_allergies == "Peanuts, mustard"
    assert open_tickets
    assert all(t.allergies == "Peanuts, mustard" for t in open_tickets)

    unconfirmed = await manager.post(
        f"/guests/{guest.id}/erase", {"reason": "Asked by email", "confirm": "", "idempotency_key": "e-0"}
    )
    assert unconfirmed.status_code == 422
    naming = await manager.post(
        f"/guests/{guest.id}/erase",
        {"reason": "Ysolde asked by email", "confirm": "ERASE", "idempotency_key": "e-n"},
    )
    assert naming.status_code == 422
    assert "name, phone and email out of the reason" in naming.text
    no_reason = await manager.post(
        f"/guests/{guest.id}/erase", {"reason": " ", "confirm": "ERASE", "idempotency_key": "e-1"}
    )
    assert no_reason.status_code == 422
    assert "Reason is required" in no_reason.text
    erased = await manager.post(
        f"/guests/{guest.id}/erase", {"reason": "Asked by email", "confirm": "erase", "idempotency_key": "e-2"}
    )
    assert erased.status_code == 200, erased.text

    async with front.db.read() as session:
        stored = await session.get(Guest, guest.id)
        checks = list((await session.exec(select(Check).where(Check.guest_id == guest.id))).all())
        tickets = list((await session.exec(select(KitchenTicket).where(KitchenTicket.check_id == open_check.id))).all())
        payments = list((await session.exec(select(Payment))).all())
        jobs = list((await session.exec(select(PrintJob))).all())
        entries = list((await session.exec(select(AuditEntry))).all())
        dump = (await session.exec(text("SELECT * FROM guest_check"))).all()  # type: ignore[call-overload]
    assert stored is not None
    assert stored.erased_at is not None
    assert (stored.name, stored.phone, stored.phone_digits, stored.email) == ("Erased guest", None, None, None)
    assert (stored.allergies, stored.preferences, stored.marketing_consent) == ("", "", False)
    assert len(checks) == 3
    assert all(c.guest_name is None and c.guest_allergies is None for c in checks)
    assert tickets
    assert all(t.allergies is None for t in tickets)
    assert len(jobs) == len(printed) * 2  # each ticket printed again when the allergies changed
    assert (await front.check(open_check.id or 0)).tab_name == "Erased guest"
    assert all(t.table_label == "Tab Erased guest" for t in tickets)
    assert not any(b"Ysolde" in job.data or "Ysolde" in repr(job.document) for job in jobs)
    assert not any(b"PEANUTS" in job.data or "Peanuts" in repr(job.document) for job in jobs)
    assert all("Niçoise Salad" in repr(job.document) for job in jobs)
    assert sorted(p.amount_cents for p in payments) == [1450, 3750]
    for secret in ("Ysolde", "Prewitt", "0612345678", "ysolde@example.com", "Peanuts", "Window"):
        assert secret not in repr(dump)
        assert [e.model_dump() for e in entries if secret in repr(e.model_dump())] == []
    assert [e.reason for e in entries if e.action == "guest.erased"] == ["Asked by email"]
    async with front.db.read() as session:
        from app.guests.queries import search_guests

        assert await search_guests(session, "0612345678") == []
    assert "were erased" in (await manager.get(f"/guests/{guest.id}")).text
    again = await manager.post(
        f"/guests/{guest.id}/erase", {"reason": "Asked by email", "confirm": "ERASE", "idempotency_key": "e-3"}
    )
    assert again.status_code == 409

    result = await asyncio.to_thread(_verify_audit, settings)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
