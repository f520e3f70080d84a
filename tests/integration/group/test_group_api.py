"""Head office's /api/v1: the group's checks, journal and stock moves across venues, followed by a change cursor."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from app.group import services
from app.group.protocol import ENROL_PATH, RECORDS_PATH
from app.staff.services import create_api_token

AT = dt.datetime(2026, 12, 5, 20, 30, tzinfo=dt.UTC).isoformat()


async def _venue(runtime: Any, api: httpx.AsyncClient, code: str) -> dict[str, str]:
    async with runtime.db.write() as session:
        added = await services.add_venue(
            session, code=code, name=f"Brigade {code.title()}", timezone="Europe/Amsterdam", currency="EUR"
        )
    response = await api.post(ENROL_PATH, json={"token": added.token})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['credential']}"}


async def _reader(runtime: Any) -> dict[str, str]:
    async with runtime.db.write() as session:
        token = await create_api_token(session, name="Group ERP", scopes="read")
    return {"Authorization": f"Bearer {token}"}


def _check(sequence: int, check_id: int) -> dict[str, Any]:
    payload = {
        "closing": {
            "check_id": check_id,
            "sequence": 1,
            "total_cents": 1100 * check_id,
            "paid_cents": 1100 * check_id,
            "tips_cents": 100,
            "closed_at": AT,
        },
        "check": {
            "id": check_id,
            "number": 100 + check_id,
            "kind": "dine_in",
            "status": "closed",
            "covers": 2,
            "tab_name": None,
            "opened_at": AT,
            "closed_at": AT,
        },
        "lines": [
            {
                "id": 7,
                "sku": "BURGER",
                "name": "Burger",
                "category_id": 1,
                "quantity_num": 1,
                "quantity_den": 1,
                "unit_price_cents": 1000,
                "modifiers_cents": 0,
                "tax_rate_bp": 1000,
                "seat": None,
                "course": "main",
                "state": "sent",
            }
        ],
        "modifiers": [],
        "payments": [
            {
                "id": 3,
                "tender_id": 1,
                "amount_cents": 1100,
                "tip_cents": 100,
                "change_cents": 0,
                "refunded_cents": 0,
                "card_brand": None,
                "taken_at": AT,
            }
        ],
    }
    return {
        "sequence": sequence,
        "kind": "check.closed",
        "key": f"check.closed:{check_id}:1",
        "occurred_at": AT,
        "payload": payload,
    }


async def _send(api: httpx.AsyncClient, venue: dict[str, str], *records: dict[str, Any]) -> None:
    response = await api.post(RECORDS_PATH, json={"records": list(records)}, headers=venue)
    assert response.status_code == 200, response.text


async def test_an_erp_follows_the_group_by_cursor_and_never_misses_or_rereads_a_check(
    runtime: Any, api: httpx.AsyncClient
) -> None:
    north, south = await _venue(runtime, api, "NORTH"), await _venue(runtime, api, "SOUTH")
    reader = await _reader(runtime)
    await _send(api, north, _check(1, 1), _check(2, 2))
    await _send(api, south, _check(1, 1))
    first = await api.get("/api/v1/checks", params={"limit": 2}, headers=reader)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [(c["venue"], c["id"]) for c in page["items"]] == [("NORTH", 1), ("NORTH", 2)]
    assert page["has_more"] is True
    assert page["items"][0]["total_cents"] == 1100
    assert page["items"][0]["lines"][0]["sku"] == "BURGER"
    # A batch arrives between two pages, and a resend of what was read changes nothing.
    await _send(api, north, _check(2, 2), _check(3, 3))
    seen = [(c["venue"], c["id"]) for c in page["items"]]
    cursor = page["next_cursor"]
    while True:
        response = await api.get("/api/v1/checks", params={"limit": 2, "after": cursor}, headers=reader)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [(c["venue"], c["id"]) for c in body["items"]]
        assert body["items"] or body["next_cursor"] == cursor
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == [("NORTH", 1), ("NORTH", 2), ("SOUTH", 1), ("NORTH", 3)]
    # Nothing new: the same cursor answers an empty page and stays where it is.
    idle = (await api.get("/api/v1/checks", params={"after": cursor}, headers=reader)).json()
    assert idle == {"items": [], "next_cursor": cursor, "has_more": False}
    await _send(api, south, _check(2, 9))
    later = (await api.get("/api/v1/checks", params={"after": cursor}, headers=reader)).json()
    assert [(c["venue"], c["id"]) for c in later["items"]] == [("SOUTH", 9)]


async def test_the_venue_filter_keeps_one_venue_and_an_unknown_venue_is_a_clear_400(
    runtime: Any, api: httpx.AsyncClient
) -> None:
    north, south = await _venue(runtime, api, "NORTH"), await _venue(runtime, api, "SOUTH")
    reader = await _reader(runtime)
    await _send(api, north, _check(1, 1))
    await _send(api, south, _check(1, 5))
    only_south = (await api.get("/api/v1/checks", params={"venue": "south"}, headers=reader)).json()
    assert [(c["venue"], c["id"]) for c in only_south["items"]] == [("SOUTH", 5)]
    for path in ("/api/v1/checks", "/api/v1/journal-entries", "/api/v1/stock/moves"):
        unknown = await api.get(path, params={"venue": "EAST"}, headers=reader)
        assert unknown.status_code == 400, unknown.text
        assert "no venue 'EAST'" in unknown.json()["message"]
        assert "NORTH, SOUTH" in unknown.json()["message"]


async def test_a_cursor_head_office_did_not_give_is_a_400(runtime: Any, api: httpx.AsyncClient) -> None:
    reader = await _reader(runtime)
    for bad in ("42", "not-a-cursor", "aG8xOi0x", "%%%"):
        response = await api.get("/api/v1/journal-entries", params={"after": bad}, headers=reader)
        assert response.status_code == 400, (bad, response.text)
        assert "not one head office gave" in response.json()["message"]


async def test_journal_entries_and_stock_moves_carry_their_venue(runtime: Any, api: httpx.AsyncClient) -> None:
    north = await _venue(runtime, api, "NORTH")
    reader = await _reader(runtime)
    entry = {
        "entry": {
            "id": 4,
            "date": "2026-12-05",
            "description": "Sales",
            "source_type": "check",
            "source_id": "1",
            "reverses_id": None,
            "posted_at": AT,
        },
        "lines": [
            {"entry_id": 4, "position": 1, "account_id": 2, "amount_cents": -1000, "memo": "", "dimensions": {}},
            {"entry_id": 4, "position": 0, "account_id": 1, "amount_cents": 1000, "memo": "", "dimensions": {}},
        ],
        "accounts": {"1": "1000", "2": "4000"},
    }
    move = {
        "move": {
            "id": 8,
            "operation_id": 3,
            "kind": "sale",
            "stock_item_id": 2,
            "location_id": 1,
            "quantity_milli": -150,
            "value_cents": -90,
            "created_at": AT,
        },
        "location": "Kitchen",
    }
    await _send(
        api,
        north,
        {"sequence": 1, "kind": "journal.entry", "key": "journal.entry:4", "occurred_at": AT, "payload": entry},
        {"sequence": 2, "kind": "stock.move", "key": "stock.move:8", "occurred_at": AT, "payload": move},
    )
    journal = (await api.get("/api/v1/journal-entries", headers=reader)).json()
    assert [(e["venue"], e["id"]) for e in journal["items"]] == [("NORTH", 4)]
    assert [(line["account_code"], line["amount_cents"]) for line in journal["items"][0]["lines"]] == [
        ("1000", 1000),
        ("4000", -1000),
    ]
    moves = (await api.get("/api/v1/stock/moves", params={"venue": "NORTH"}, headers=reader)).json()
    assert [(m["venue"], m["id"], m["location"], m["quantity_milli"]) for m in moves["items"]] == [
        ("NORTH", 8, "Kitchen", -150)
    ]
    assert (await api.get("/api/v1/stock/moves")).status_code == 401
