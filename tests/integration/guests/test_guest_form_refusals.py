"""A guest form with a malformed field is refused in one message format, naming the field, and changes nothing."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import select

from app.guests.models import Guest
from tests.conftest import log_in
from tests.integration.guests.conftest import Front


async def test_a_malformed_guest_or_version_on_the_guest_sheet_is_refused_and_attaches_nobody(
    front: Front, device_factory: Any
) -> None:
    check = await front.seat("12")
    host = await log_in(await device_factory(), "5555")
    for form, message in (
        ({"guest_id": "Ada", "version": str(check.version)}, "The guest must be a whole number."),
        ({"guest_id": "0", "version": str(check.version)}, "The guest must be at least 1."),
        ({"name": "Noor Haddad", "version": "latest"}, "The check's version must be a whole number."),
    ):
        refused = await host.post(f"/checks/{check.id}/guest", {**form, "idempotency_key": f"bad-{message}"})
        assert refused.status_code == 422, refused.text
        assert message in html.unescape(refused.text)
    detach = await host.post(f"/checks/{check.id}/guest/detach", {"version": "0", "idempotency_key": "bad-detach"})
    assert detach.status_code == 422
    assert "The check's version must be at least 1." in html.unescape(detach.text)
    async with front.db.read() as session:
        assert (await session.exec(select(Guest))).all() == []
    assert (await front.check(check.id or 0)).guest_id is None
