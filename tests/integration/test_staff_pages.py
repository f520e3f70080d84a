"""The staff page's hiring form and the PIN pad's forms, typed: a bad field is refused by its label and hires nobody."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.staff.models import PinAttempt, Staff


async def _people(runtime: Any) -> list[tuple[str, str]]:
    async with runtime.db.read() as session:
        return sorted((s.name, s.role.value) for s in (await session.exec(select(Staff))).all())


async def test_a_manager_hires_someone_from_the_staff_page(manager: Any, runtime: Any) -> None:
    response = await manager.post("/manage/staff", {"name": "  Noor  ", "role": "bartender", "pin": "4821"})
    assert response.status_code == 200, response.text
    assert "Added." in response.text
    assert ("Noor", "bartender") in await _people(runtime)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"name": ""}, 422, "Name is required."),
        ({"name": "n" * 81}, 422, "Name is 81 characters; the limit is 80."),
        ({"role": ""}, 422, "Role must be one of: "),
        ({"role": "owner"}, 422, "Role must be one of: "),
        ({"pin": ""}, 422, "PIN is required."),
        ({"pin": "12ab"}, 422, "A PIN is 4 to 8 digits."),
        ({"pin": "123"}, 422, "A PIN is 4 to 8 digits."),
        ({"pin": "9999"}, 409, "That PIN is already in use"),
    ],
)
async def test_a_bad_hiring_form_is_refused_and_hires_nobody(
    manager: Any, runtime: Any, fields: dict[str, str], status: int, message: str
) -> None:
    before = await _people(runtime)
    response = await manager.post("/manage/staff", {"name": "Noor", "role": "bartender", "pin": "4821", **fields})
    assert response.status_code == status, response.text
    assert message in response.text
    assert await _people(runtime) == before


async def test_a_blank_pin_at_the_pin_pad_is_a_wrong_pin_as_before(
    device_factory: Any, demo: None, runtime: Any
) -> None:
    tablet = await device_factory()
    response = await tablet.client.post("/login", data={"pin": "", "_csrf_token": tablet.csrf}, follow_redirects=False)
    assert response.status_code == 401
    assert "Wrong PIN." in response.text
    async with runtime.db.read() as session:
        attempts = (await session.exec(select(PinAttempt).where(PinAttempt.success == False))).all()  # noqa: E712
    assert len(attempts) == 1


async def test_enrolling_without_a_name_shows_the_pin_pad_with_the_reason(device_factory: Any, demo: None) -> None:
    stranger = await device_factory(enrolled=False)
    response = await stranger.client.post(
        "/login/enrol", data={"pin": "9999", "name": "", "_csrf_token": stranger.csrf}, follow_redirects=False
    )
    assert response.status_code == 422
    assert "Give the device a name" in response.text
    assert "brigade_device" not in stranger.client.cookies
