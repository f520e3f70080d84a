"""Head office enrols venues with one-time tokens and stores each (venue, sequence) exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from app.group import services
from app.group.models import Venue, VenueRecord
from app.group.protocol import ENROL_PATH, RECORDS_PATH, STATUS_PATH

AT = dt.datetime(2026, 12, 5, 20, 30, tzinfo=dt.UTC).isoformat()


async def _add(runtime: Any, code: str = "NORTH") -> str:
    async with runtime.db.write() as session:
        added = await services.add_venue(
            session, code=code, name=f"Brigade {code.title()}", timezone="Europe/Amsterdam", currency="EUR"
        )
    return added.token


async def _enrolled(runtime: Any, api: httpx.AsyncClient, code: str = "NORTH") -> dict[str, str]:
    token = await _add(runtime, code)
    response = await api.post(ENROL_PATH, json={"token": token})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['credential']}"}


def _batch(*sequences: int) -> dict[str, Any]:
    return {
        "records": [
            {"sequence": n, "kind": "check.closed", "key": f"close:{n}:1", "occurred_at": AT, "payload": {"n": n}}
            for n in sequences
        ]
    }


async def _held(runtime: Any) -> list[int]:
    async with runtime.db.read() as session:
        rows = await session.exec(select(VenueRecord.sequence).order_by(VenueRecord.sequence))
        return list(rows.all())


async def test_a_token_is_exchanged_once_for_a_credential_head_office_keeps_only_the_hash_of(
    runtime: Any, api: httpx.AsyncClient
) -> None:
    token = await _add(runtime)
    first = await api.post(ENROL_PATH, json={"token": token})
    assert first.status_code == 200
    body = first.json()
    assert body["venue"] == {
        "code": "NORTH",
        "name": "Brigade North",
        "timezone": "Europe/Amsterdam",
        "currency": "EUR",
    }
    credential = body["credential"]
    again = await api.post(ENROL_PATH, json={"token": token})
    assert again.status_code == 409
    assert "already used" in again.json()["message"]
    async with runtime.db.read() as session:
        venue = (await session.exec(select(Venue))).one()
    assert venue.status.value == "enrolled"
    assert credential not in (venue.credential_hash, venue.token_hash)
    assert venue.credential_hash == services.secret_hash(credential)


async def test_an_unknown_token_is_refused_and_enrols_nobody(runtime: Any, api: httpx.AsyncClient) -> None:
    await _add(runtime)
    response = await api.post(ENROL_PATH, json={"token": "brg_enrol_made-up"})
    assert response.status_code == 401
    assert "does not know this enrolment token" in response.json()["message"]
    async with runtime.db.read() as session:
        assert (await session.exec(select(Venue.status))).one().value == "pending"


async def test_records_need_the_venues_own_credential(runtime: Any, api: httpx.AsyncClient) -> None:
    await _enrolled(runtime, api)
    missing = await api.post(RECORDS_PATH, json=_batch(1))
    wrong = await api.post(RECORDS_PATH, json=_batch(1), headers={"authorization": "Bearer brg_venue_guessed"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert "does not recognise" in wrong.json()["message"]
    assert await _held(runtime) == []


async def test_a_staff_api_token_is_not_a_venue_credential(runtime: Any, api: httpx.AsyncClient) -> None:
    from app.staff.services import create_api_token

    async with runtime.db.write() as session:
        token = await create_api_token(session, name="ERP", scopes="read,write")
    response = await api.post(RECORDS_PATH, json=_batch(1), headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert await _held(runtime) == []


async def test_a_duplicate_batch_is_stored_once(runtime: Any, api: httpx.AsyncClient) -> None:
    venue = await _enrolled(runtime, api)
    first = await api.post(RECORDS_PATH, json=_batch(1, 2, 3), headers=venue)
    second = await api.post(RECORDS_PATH, json=_batch(1, 2, 3), headers=venue)
    assert first.json() == {"acked": 3, "stored": 3, "duplicates": 0}
    assert second.json() == {"acked": 3, "stored": 0, "duplicates": 3}
    assert await _held(runtime) == [1, 2, 3]


async def test_a_gap_holds_the_acknowledgement_until_it_is_filled(runtime: Any, api: httpx.AsyncClient) -> None:
    venue = await _enrolled(runtime, api)
    gapped = await api.post(RECORDS_PATH, json=_batch(1, 2, 4, 5), headers=venue)
    assert gapped.json()["acked"] == 2
    filled = await api.post(RECORDS_PATH, json=_batch(3), headers=venue)
    assert filled.json()["acked"] == 5
    assert await _held(runtime) == [1, 2, 3, 4, 5]
    status = await api.get(STATUS_PATH, headers=venue)
    assert status.json() == {"venue": "NORTH", "acked": 5, "highest": 5}


async def test_batches_out_of_order_count_each_record_once(runtime: Any, api: httpx.AsyncClient) -> None:
    venue = await _enrolled(runtime, api)
    assert (await api.post(RECORDS_PATH, json=_batch(4, 3), headers=venue)).json()["acked"] == 0
    assert (await api.post(RECORDS_PATH, json=_batch(2, 1), headers=venue)).json()["acked"] == 4
    assert await _held(runtime) == [1, 2, 3, 4]


async def test_a_resend_overlapping_what_arrived_adds_only_the_new_records(
    runtime: Any, api: httpx.AsyncClient
) -> None:
    venue = await _enrolled(runtime, api)
    await api.post(RECORDS_PATH, json=_batch(1, 2, 3), headers=venue)
    resent = await api.post(RECORDS_PATH, json=_batch(2, 3, 4, 5), headers=venue)
    assert resent.json() == {"acked": 5, "stored": 2, "duplicates": 2}
    async with runtime.db.read() as session:
        venue_row = (await session.exec(select(Venue))).one()
        count = (await session.exec(select(func.count()).select_from(VenueRecord))).one()
    assert (venue_row.records_received, count) == (5, 5)


async def test_two_venues_number_their_records_independently(runtime: Any, api: httpx.AsyncClient) -> None:
    north = await _enrolled(runtime, api, "NORTH")
    south = await _enrolled(runtime, api, "SOUTH")
    assert (await api.post(RECORDS_PATH, json=_batch(1, 2), headers=north)).json()["acked"] == 2
    assert (await api.post(RECORDS_PATH, json=_batch(1), headers=south)).json()["acked"] == 1
    assert await _held(runtime) == [1, 1, 2]


async def test_a_revoked_venue_is_refused_with_a_message_it_can_show(runtime: Any, api: httpx.AsyncClient) -> None:
    venue = await _enrolled(runtime, api)
    await api.post(RECORDS_PATH, json=_batch(1), headers=venue)
    async with runtime.db.write() as session:
        await services.revoke_venue(session, code="north")
    refused = await api.post(RECORDS_PATH, json=_batch(2), headers=venue)
    assert refused.status_code == 403
    assert "revoked venue NORTH" in refused.json()["message"]
    assert await _held(runtime) == [1]


async def test_a_revoked_venue_cannot_join_with_its_unused_token(runtime: Any, api: httpx.AsyncClient) -> None:
    token = await _add(runtime)
    async with runtime.db.write() as session:
        await services.revoke_venue(session, code="NORTH")
    response = await api.post(ENROL_PATH, json={"token": token})
    assert response.status_code == 403
    assert "revoked venue NORTH" in response.json()["message"]


async def test_a_malformed_batch_is_refused_whole(runtime: Any, api: httpx.AsyncClient) -> None:
    venue = await _enrolled(runtime, api)
    bad = _batch(1, 2)
    bad["records"][1]["sequence"] = 0
    response = await api.post(RECORDS_PATH, json=bad, headers=venue)
    assert response.status_code == 422
    assert "Record 2" in response.json()["message"]
    not_json = await api.post(RECORDS_PATH, content=b"{", headers={**venue, "content-type": "application/json"})
    assert not_json.status_code == 422
    assert await _held(runtime) == []


async def test_adding_a_venue_refuses_a_taken_code_and_a_made_up_time_zone(runtime: Any) -> None:
    import pytest

    from app.lib.errors import Conflict, InvalidInput

    await _add(runtime)
    async with runtime.db.write() as session:
        with pytest.raises(Conflict, match="already has a venue NORTH"):
            await services.add_venue(session, code="north", name="Again", timezone="Europe/Amsterdam", currency="EUR")
    async with runtime.db.write() as session:
        with pytest.raises(InvalidInput, match="not a time zone"):
            await services.add_venue(session, code="EAST", name="East", timezone="Mars/Olympus", currency="EUR")
