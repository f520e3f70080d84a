"""A guest on file: taken down once, found again by phone or name, attached to a check with their allergies."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.checks.splits import split_by_seat
from app.guests.models import Guest
from app.guests.queries import guest_history
from app.guests.services import attach_guest_to_check, find_or_create_guest, search_guests
from app.lib.errors import InvalidInput, PermissionDenied
from app.menu.models import MenuItem
from app.orders.lines import LineRequest, add_line
from app.orders.models import Check, CheckStatus
from app.staff.permissions import Role
from tests.integration.guests.conftest import Front


async def test_a_guest_is_found_again_by_phone_however_typed_and_attached_with_allergies(front: Front) -> None:
    host = await front.staff(Role.HOST)
    check = await front.seat("12")
    async with front.db.write() as session:
        guest = await find_or_create_guest(
            session, actor=host, name="Ada Marsh", phone="+44 20 7946 0018", allergies="Peanuts, tree nuts"
        )
    async with front.db.write() as session:
        again = await find_or_create_guest(session, actor=host, name="A. Marsh", phone="020-7946-0018")
        assert again.id == guest.id
        assert again.name == "Ada Marsh"
    async with front.db.read() as session:
        assert [g.id for g in await search_guests(session, "7946 0018")] == [guest.id]
        assert [g.id for g in await search_guests(session, "marsh")] == [guest.id]
        assert await search_guests(session, "nobody") == []
    async with front.db.write() as session:
        await attach_guest_to_check(
            session, check.id or 0, guest.id or 0, host, allergies="Peanuts, tree nuts, shellfish"
        )
    attached = await front.check(check.id or 0)
    assert (attached.guest_id, attached.guest_name) == (guest.id, "Ada Marsh")
    assert attached.guest_allergies == "Peanuts, tree nuts, shellfish"
    assert attached.version == check.version + 1
    async with front.db.read() as session:
        stored = await session.get(Guest, guest.id)
        assert stored is not None
        assert stored.allergies == "Peanuts, tree nuts, shellfish"


async def test_bad_guest_details_are_refused_with_a_reason_and_change_nothing(front: Front) -> None:
    host = await front.staff(Role.HOST)
    cook = await front.staff(Role.COOK)
    for details, message in [
        ({"name": "", "phone": "0123456789"}, "Name is required"),
        ({"name": "Ada", "phone": "call me"}, "is not a phone number"),
        ({"name": "Ada", "email": "ada@"}, "is not an email address"),
        ({"name": "Ada"}, "needs a phone number or an email"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            async with front.db.write() as session:
                await find_or_create_guest(session, actor=host, **details)
    with pytest.raises(PermissionDenied):
        async with front.db.write() as session:
            await find_or_create_guest(session, actor=cook, name="Ada", phone="0123456789")
    async with front.db.read() as session:
        assert await search_guests(session, "") == []


async def test_a_split_check_keeps_the_guest_and_their_allergies_and_counts_as_one_visit(front: Front) -> None:
    server = await front.staff(Role.SERVER)
    check = await front.seat("12", covers=2)
    async with front.db.write() as session:
        salad = (await session.exec(select(MenuItem.id).where(MenuItem.sku == "SL-NIC"))).one()
        guest = await find_or_create_guest(session, actor=server, name="Ada Marsh", phone="0611112222")
        await attach_guest_to_check(session, check.id or 0, guest.id or 0, server, allergies="Shellfish")
        for seat in (1, 2):
            await add_line(
                session,
                check_id=check.id or 0,
                request=LineRequest(menu_item_id=salad, seat=seat),
                actor=server,
                expected_version=None,
            )
    async with front.db.write() as session:
        parts = await split_by_seat(session, check_id=check.id or 0, actor=server)
    assert len(parts) == 2
    for part in parts:
        stored = await front.check(part.id or 0)
        assert (stored.guest_id, stored.guest_name, stored.guest_allergies) == (guest.id, "Ada Marsh", "Shellfish")
    async with front.db.write() as session:
        for part in parts:
            row = await session.get(Check, part.id)
            assert row is not None
            row.status = CheckStatus.CLOSED
            session.add(row)
    async with front.db.read() as session:
        history = await guest_history(session, guest.id or 0)
    assert history.visits == 1
    assert [(f.name, f.quantity_label) for f in history.favourites] == [("Niçoise Salad", "2")]
