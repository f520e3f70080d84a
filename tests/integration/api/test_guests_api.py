"""Guests over the JSON API: search with paging, read, create and update, each write once per idempotency key."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from app.guests.services import erase_guest
from app.lib.idempotency import IdempotencyRecord
from app.staff.permissions import Role
from tests.integration.guests.conftest import Front


async def test_an_integration_creates_finds_and_updates_guests_once_per_key(
    api: httpx.AsyncClient,
    writer: dict[str, str],
    reader: dict[str, str],
    runtime: Any,
) -> None:
    front = Front(runtime)
    body = {"name": "Ines Okafor", "phone": "+31 6 4444 0001", "allergies": "Gluten", "marketing_consent": True}
    first = await api.post("/api/v1/guests", json=body, headers={**writer, "Idempotency-Key": "crm-1"})
    assert first.status_code == 201, first.text
    guest = first.json()
    assert guest["allergies"] == "Gluten"
    assert guest["phone"] == "+31 6 4444 0001"
    repeat = await api.post("/api/v1/guests", json=body, headers={**writer, "Idempotency-Key": "crm-1"})
    assert (repeat.status_code, repeat.json()) == (201, guest)
    changed = await api.post(
        "/api/v1/guests", json={**body, "name": "Other"}, headers={**writer, "Idempotency-Key": "crm-1"}
    )
    assert changed.status_code == 422
    assert changed.json()["error"] == "idempotency_mismatch"
    keyless = await api.post("/api/v1/guests", json={**body, "phone": "0611111111"}, headers=writer)
    assert keyless.status_code == 400
    duplicate = await api.post("/api/v1/guests", json=body, headers={**writer, "Idempotency-Key": "crm-2"})
    assert duplicate.status_code == 409
    assert duplicate.json()["guest_id"] == guest["id"]
    for n in range(3):
        made = await api.post(
            "/api/v1/guests",
            json={"name": f"Okafor {n}", "email": f"okafor{n}@example.com"},
            headers={**writer, "Idempotency-Key": f"crm-many-{n}"},
        )
        assert made.status_code == 201
    refused = await api.post("/api/v1/guests", json=body, headers={**reader, "Idempotency-Key": "crm-3"})
    assert refused.status_code == 403

    page = (await api.get("/api/v1/guests?q=okafor&limit=2", headers=reader)).json()
    assert (page["total"], page["next_offset"], len(page["items"])) == (4, 2, 2)
    rest = (await api.get("/api/v1/guests?q=okafor&limit=2&offset=2", headers=reader)).json()
    assert rest["next_offset"] is None
    assert {g["name"] for g in page["items"] + rest["items"]} == {"Ines Okafor", "Okafor 0", "Okafor 1", "Okafor 2"}
    assert [g["id"] for g in (await api.get("/api/v1/guests?q=4444 0001", headers=reader)).json()["items"]] == [
        guest["id"]
    ]
    assert (await api.get(f"/api/v1/guests/{guest['id']}", headers=reader)).json() == guest
    assert (await api.get("/api/v1/guests/999999", headers=reader)).status_code == 404

    patch = {"allergies": "Gluten, dairy", "email": "ines@example.com", "phone": None}
    updated = await api.patch(f"/api/v1/guests/{guest['id']}", json=patch, headers={**writer, "Idempotency-Key": "u-1"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["allergies"], updated.json()["email"], updated.json()["phone"]) == (
        "Gluten, dairy",
        "ines@example.com",
        None,
    )
    again = await api.patch(f"/api/v1/guests/{guest['id']}", json=patch, headers={**writer, "Idempotency-Key": "u-1"})
    assert again.json() == updated.json()
    bad = await api.patch(
        f"/api/v1/guests/{guest['id']}", json={"email": "nope"}, headers={**writer, "Idempotency-Key": "u-2"}
    )
    assert bad.status_code == 422
    assert "is not an email address" in bad.json()["message"]
    unknown = await api.patch(
        f"/api/v1/guests/{guest['id']}", json={"shoe_size": 9}, headers={**writer, "Idempotency-Key": "u-3"}
    )
    assert unknown.status_code == 400

    manager = await front.staff(Role.MANAGER)
    async with front.db.write() as session:
        await erase_guest(session, guest["id"], actor=manager, reason="Asked in person")
    async with front.db.read() as session:
        stored = [r.body for r in (await session.exec(select(IdempotencyRecord))).all()]
    assert not any("Okafor" in body and f'"id":{guest["id"]},' in body for body in stored)
    assert not any("Ines" in body for body in stored)
    gone = (await api.get(f"/api/v1/guests/{guest['id']}", headers=reader)).json()
    assert (gone["name"], gone["phone"], gone["email"], gone["allergies"]) == ("Erased guest", None, None, "")
    assert gone["erased_at"] is not None
    assert (
        await api.patch(f"/api/v1/guests/{guest['id']}", json=patch, headers={**writer, "Idempotency-Key": "u-4"})
    ).status_code == 409


async def test_the_guest_api_is_in_the_schema_with_the_bearer_scheme(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    operations = [schema["paths"]["/api/v1/guests"]["get"], schema["paths"]["/api/v1/guests"]["post"]]
    operations.append(schema["paths"]["/api/v1/guests/{guest_id}"]["patch"])
    assert all(op["security"] == [{"BearerToken": []}] for op in operations)
    post_headers = [p["name"] for p in schema["paths"]["/api/v1/guests"]["post"]["parameters"] if p["in"] == "header"]
    assert post_headers == ["Idempotency-Key"]
