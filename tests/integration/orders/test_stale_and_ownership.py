"""Two tablets on one check never overwrite each other; only the owner (or a manager) changes a check."""

from __future__ import annotations

from typing import Any

from app.orders.models import LineState
from tests.conftest import log_in
from tests.integration.orders.conftest import Restaurant, key


async def test_a_stale_tablet_gets_the_fresh_check_and_nothing_is_lost(
    server: Any, device_factory: Any, restaurant: Restaurant
) -> None:
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    seen_by_both = await restaurant.version(check_id)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1, version=seen_by_both)
    stale = await second_tablet.post(
        f"/checks/{check_id}/lines",
        {
            "menu_item_id": str(await restaurant.item_id("ST-SOU")),
            "version": str(seen_by_both),
            "idempotency_key": key(),
        },
    )
    assert stale.status_code == 409
    assert "was changed on another tablet" in stale.text
    assert stale.headers["hx-retarget"] == "#check-panel"
    assert "Burrata &amp; Tomatoes" in stale.text, "the fresh check comes with the message"
    assert f'data-version="{seen_by_both + 1}"' in stale.text
    assert [line.name for line in await restaurant.lines(check_id)] == ["Burrata & Tomatoes"]


async def test_a_stale_send_fires_nothing(server: Any, device_factory: Any, restaurant: Restaurant) -> None:
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    seen = await restaurant.version(check_id)
    await restaurant.ring_in(server, check_id, "ST-SOU", seat=2)
    stale = await second_tablet.post(f"/checks/{check_id}/send", {"version": str(seen), "idempotency_key": key()})
    assert stale.status_code == 409
    assert await restaurant.fires(check_id) == []
    assert {line.state for line in await restaurant.lines(check_id)} == {LineState.PENDING}


async def test_a_stale_void_of_a_line_sent_meanwhile_is_told_stale_before_asking_for_a_manager(
    server: Any, device_factory: Any, restaurant: Restaurant
) -> None:
    """The second tablet saw the burger unsent, then it was sent: the void is refused as stale, not sent to approval."""
    second_tablet = await log_in(await device_factory(), "1111")
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(server, check_id, "ST-BUR", seat=1)
    seen = await restaurant.version(check_id)
    [line] = await restaurant.lines(check_id)
    sent = await restaurant.post(server, check_id, "send")
    assert sent.status_code == 200, sent.text
    stale = await second_tablet.post(
        f"/checks/{check_id}/lines/{line.id}/void",
        {"reason": "Guest changed their mind", "version": str(seen), "idempotency_key": key()},
    )
    assert stale.status_code == 409, stale.text
    assert "was changed on another tablet" in stale.text
    assert "Manager approval" not in stale.text
    assert [(line.state, line.voided_at) for line in await restaurant.lines(check_id)] == [(LineState.SENT, None)]


async def test_another_server_cannot_change_the_check_without_a_manager(
    server: Any, second_server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await restaurant.ring_in(second_server, check_id, "ST-BUR", expect=403)
    assert "Table 12 (check #" in response.text
    assert "is Lena Brooks&#39;s" in response.text
    assert await restaurant.lines(check_id) == []
    page = await second_server.get(f"/checks/{check_id}")
    assert "changes need a manager's PIN" in page.text


async def test_a_manager_pin_lets_another_server_change_the_check_and_is_audited(
    server: Any, second_server: Any, restaurant: Restaurant
) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    response = await second_server.post(
        f"/checks/{check_id}/lines",
        {
            "menu_item_id": str(await restaurant.item_id("ST-BUR")),
            "version": str(await restaurant.version(check_id)),
            "idempotency_key": key(),
            "manager_pin": "9999",
        },
    )
    assert response.status_code == 200, response.text
    assert [line.name for line in await restaurant.lines(check_id)] == ["Burrata & Tomatoes"]
    overrides = await restaurant.audit("check.override")
    assert len(overrides) == 1
    assert overrides[0].approver_id is not None


async def test_a_manager_changes_any_check(server: Any, manager: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    await restaurant.ring_in(manager, check_id, "ST-BUR", seat=1)
    assert len(await restaurant.lines(check_id)) == 1


async def test_a_cook_cannot_reach_order_entry_or_the_floor(cook: Any, server: Any, restaurant: Restaurant) -> None:
    check_id = await restaurant.open_table(server, "12", 2)
    assert (await cook.get("/floor")).status_code == 403
    assert (await cook.get(f"/checks/{check_id}")).status_code == 403
    refused = await cook.post(
        f"/checks/{check_id}/send", {"version": str(await restaurant.version(check_id)), "idempotency_key": key()}
    )
    assert refused.status_code == 403
