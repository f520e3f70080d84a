"""The walk-in waitlist: a wait quoted from the floor's real turn times, a guest page behind an unguessable link,
"table ready", and seating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from litestar import Litestar
from sqlmodel import select

from app.floor.models import DiningTable
from app.lib.clock import utcnow
from app.orders.models import Check, CheckKind, CheckStatus
from app.orders.seating import open_check
from app.reservations import queries, waitlist
from app.reservations.models import WaitlistEntry, WaitStatus
from app.staff.permissions import Role
from tests.conftest import Device
from tests.integration.reservations.conftest import Host, key


async def _history(host_book: Host, covers: int, minutes: int, count: int) -> None:
    """Tables the floor turned lately: seated, paid and cleared `minutes` later."""
    server = await host_book.staff(Role.SERVER)
    async with host_book.db.write() as session:
        table_id = (await session.exec(select(DiningTable.id).where(DiningTable.name == "P1"))).one()
        for index in range(count):
            opened = utcnow() - timedelta(days=1, minutes=index * 200)
            session.add(
                Check(
                    number=9000 + index,
                    kind=CheckKind.TABLE,
                    status=CheckStatus.CLOSED,
                    table_id=table_id,
                    covers=covers,
                    server_id=server.id or 0,
                    opened_by=server.id or 0,
                    opened_at=opened,
                    closed_at=opened + timedelta(minutes=minutes - 5),
                    table_cleared_at=opened + timedelta(minutes=minutes),
                )
            )


async def test_the_quote_follows_real_turn_times_and_the_guest_page_says_when_the_table_is_ready(
    host_book: Host, host: Device, app: Litestar
) -> None:
    lena = await host_book.staff(Role.SERVER)
    nineteen = await host_book.table_id("19")
    await host_book.only_combinations(("19", "20"))
    async with host_book.db.write() as session:
        # Six guests sat down at 19 twenty minutes ago: only 19+20 seat a party of twelve.
        check = await open_check(session, table_id=nineteen, covers=6, server=lena, kind=CheckKind.TABLE)
        check.opened_at = utcnow() - timedelta(minutes=20)
        session.add(check)
    async with host_book.db.read() as session:
        assert await waitlist.quote(session, 12) == 100, "no history yet: the setting for six (120 min) rules"
    await _history(host_book, covers=6, minutes=62, count=5)
    async with host_book.db.read() as session:
        observed = dict(await queries.observed_turn_times(session))
        assert observed[6] == 62
        assert observed[2] == 90, "sizes without enough tables keep the setting"
        assert await waitlist.quote(session, 12) == 45, "62 minutes a turn, 20 of them gone: 42, rounded up to 5"
        assert await waitlist.quote(session, 2) == 0, "a free two-top is a table now"

    joined = await host.post(
        "/waitlist",
        {
            "idempotency_key": key(),
            "party_size": 12,
            "name": "Office Party",
            "phone": "020 555 0101",
            "allergies": "Shellfish",
        },
    )
    assert joined.status_code == 200
    assert joined.headers["hx-redirect"].startswith("/waitlist?joined=")
    second = await host.post("/waitlist", {"idempotency_key": key(), "party_size": 12, "name": "Second Group"})
    assert second.status_code == 200
    async with host_book.db.read() as session:
        first, behind = (await session.exec(select(WaitlistEntry).order_by(WaitlistEntry.id))).all()  # type: ignore[arg-type]
    assert first.quoted_minutes == 45
    assert behind.quoted_minutes == 45 + 150, "the party ahead takes the combination first, for its turn"
    assert len(first.token) >= 32
    assert first.token != behind.token

    page = await host.get("/waitlist")
    assert "about 45 min now" in page.text
    assert "about 195 min now" in page.text, "the second party waits behind the first"
    assert page.status_code == 200
    assert f"/w/{first.token}" in page.text
    assert "Office Party" in page.text
    refused = await host.post("/waitlist", {"idempotency_key": key(), "party_size": 30, "name": "Too Many"})
    assert refused.status_code == 422
    assert "seats a party of 30" in refused.text
    no_phone = await host.post(
        "/waitlist", {"idempotency_key": key(), "party_size": 2, "name": "A", "allergies": "Nuts"}
    )
    assert no_phone.status_code == 422
    assert "needs their phone number" in no_phone.text

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as phone:
        status = await phone.get(f"/w/{first.token}")
        assert status.status_code == 200
        assert "About 45 minutes" in status.text
        assert "number 1 in line" in status.text
        assert 'http-equiv="refresh"' in status.text
        assert "Shellfish" not in status.text
        assert "Office Party" in status.text
        assert (await phone.get("/w/" + "x" * 32)).status_code == 404

        ready = await host.post(f"/waitlist/{first.id}/ready", {"idempotency_key": key()})
        assert ready.status_code == 200
        status = await phone.get(f"/w/{first.token}")
        assert "Your table is ready!" in status.text

        twenty_one = await host_book.table_id("21")
        seat = {"idempotency_key": key(), "table_id": twenty_one, "server_id": lena.id}
        seated = await host.post(f"/waitlist/{first.id}/seat", seat)
        assert seated.status_code == 200, seated.text
        assert "Enjoy your meal" in (await phone.get(f"/w/{first.token}")).text
    async with host_book.db.read() as session:
        entry = await session.get(WaitlistEntry, first.id)
        assert entry is not None
        assert entry.status == WaitStatus.SEATED
        opened = await session.get(Check, entry.check_id)
    assert opened is not None
    assert (opened.table_id, opened.covers) == (twenty_one, 12)
    assert opened.guest_allergies == "Shellfish"

    left = await host.post(f"/waitlist/{behind.id}/leave", {"idempotency_key": key()})
    assert left.status_code == 200
    twice = await host.post(f"/waitlist/{behind.id}/leave", {"idempotency_key": key()})
    assert twice.status_code == 409
    assert "no longer waiting" in twice.text


async def test_seating_a_waiting_party_at_a_held_table_needs_confirming(host_book: Host, host: Device) -> None:
    lena = await host_book.staff(Role.SERVER)
    table = await host_book.table_id("8")
    await host_book.book(host_book.soon(2), party=4, name="Due Soon", table_ids=(table,))
    await host.post("/waitlist", {"idempotency_key": key(), "party_size": 2, "name": "Walk In"})
    async with host_book.db.read() as session:
        entry = (await session.exec(select(WaitlistEntry))).one()
    form: dict[str, Any] = {"idempotency_key": key(), "table_id": table, "server_id": lena.id}
    refused = await host.post(f"/waitlist/{entry.id}/seat", form)
    assert refused.status_code == 409
    assert "held for Due Soon" in refused.text
    seated = await host.post(f"/waitlist/{entry.id}/seat", {**form, "idempotency_key": key(), "confirm_hold": "1"})
    assert seated.status_code == 200
