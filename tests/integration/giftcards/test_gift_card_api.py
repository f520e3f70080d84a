"""The gift-card API: a web shop sells a card paid elsewhere, an ERP looks up balances and pages through the cards."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select

from app.checks import tenders
from app.checks.models import Payment, TenderKind
from app.giftcards import calculations as calc
from app.giftcards.models import GiftCard
from app.staff.models import Staff
from tests.integration.checks.arrange import rows


async def _web_shop(runtime: Any) -> int:
    async with runtime.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        tender = await tenders.save_tender(
            session, actor=manager, name="Web shop", kind=TenderKind.OTHER, ledger_account_code="1040"
        )
        return tender.id or 0


async def test_a_web_shop_sells_a_card_once_per_key_and_an_erp_reads_its_balance(
    api: Any, reader: dict[str, str], writer: dict[str, str], runtime: Any
) -> None:
    shop = await _web_shop(runtime)
    body = {"amount_cents": 7500, "tender_id": shop}
    keyless = await api.post("/api/v1/gift-cards", json=body, headers=writer)
    assert keyless.status_code == 422
    assert "Idempotency-Key" in keyless.json()["message"]
    assert (await api.post("/api/v1/gift-cards", json=body, headers=reader)).status_code == 403
    key = {"Idempotency-Key": uuid.uuid4().hex}
    sold = await api.post("/api/v1/gift-cards", json=body, headers={**writer, **key})
    assert sold.status_code == 201, sold.text
    card = sold.json()
    assert (card["status"], card["balance_cents"], card["initial_cents"]) == ("active", 7500, 7500)
    assert calc.luhn_valid(card["number"])
    assert [m["kind"] for m in card["movements"]] == ["issue"]
    again = await api.post("/api/v1/gift-cards", json=body, headers={**writer, **key})
    assert again.status_code == 201
    assert again.json()["id"] == card["id"], "a retried sale answers the same card"
    assert len(await rows(runtime, GiftCard)) == 1
    assert [p.amount_cents for p in await rows(runtime, Payment)] == [7500], "and charges once"
    other = await api.post("/api/v1/gift-cards", json={**body, "amount_cents": 100}, headers={**writer, **key})
    assert other.status_code == 422, "the same key with another body is refused"

    cash = await api.post(
        "/api/v1/gift-cards",
        json={"amount_cents": 2000, "tender_id": 1},
        headers={**writer, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert cash.status_code == 422
    assert "cannot pay for a card sold online" in cash.json()["message"]
    second = await api.post(
        "/api/v1/gift-cards",
        json={"amount_cents": 2000, "tender_id": shop},
        headers={**writer, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert second.status_code == 201

    looked_up = await api.get(f"/api/v1/gift-cards/{calc.grouped(card['number'])}", headers=reader)
    assert looked_up.status_code == 200
    assert looked_up.json()["balance_cents"] == 7500
    wrong = await api.get("/api/v1/gift-cards/1234567812345678", headers=reader)
    assert wrong.status_code == 422
    first_page = (await api.get("/api/v1/gift-cards?limit=1", headers=reader)).json()
    assert first_page["outstanding_cents"] == 9500
    [listed] = first_page["items"]
    assert listed["last4"] == card["number"][-4:]
    assert listed["number"] is None, "a list never shows the numbers that spend the cards"
    rest = (await api.get(f"/api/v1/gift-cards?after_id={first_page['next_after_id']}", headers=reader)).json()
    assert [c["initial_cents"] for c in rest["items"]] == [2000]
    assert rest["next_after_id"] is None
    assert (await api.get("/api/v1/gift-cards?status=lost", headers=reader)).status_code == 422
